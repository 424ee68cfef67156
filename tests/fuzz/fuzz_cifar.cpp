// libFuzzer target: the CIFAR-10 batch parser (parse_cifar, the checks of load_cifar_file on bytes
// in memory). The first byte picks the record limit (0 = all), the rest is the batch.
#include <cstddef>
#include <cstdint>

#include "core/cifar.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  if (size == 0) return 0;
  const size_t limit = data[0] % 4;
  try {
    const CifarSet set = parse_cifar(data + 1, size - 1, "fuzz.bin", limit);
    const size_t records = (size - 1) / kCifarRecordBytes;
    if (set.size() != (limit > 0 && limit < records ? limit : records) ||
        set.pixels.size() != set.size() * kImageBytes) {
      fuzz::finding("wrong number of images");
    }
    for (uint8_t label : set.labels) {
      if (label > 9) fuzz::finding("label outside 0..9 accepted");
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.bin: ");
  }
  return 0;
}
