// libFuzzer target: the safetensors parser (SafetensorsFile::parse, the checks of
// SafetensorsFile::load on bytes in memory). Every accepted view must lie inside the file.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/safetensors.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  try {
    const SafetensorsFile file =
        SafetensorsFile::parse(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
    const uint8_t* begin = file.raw().data();
    const uint8_t* end = begin + file.raw().size();
    for (const auto& [name, view] : file.tensors()) {
      if (view.data < begin || view.data + view.bytes > end ||
          static_cast<uint64_t>(view.elements()) * dtype_size(view.dtype) != view.bytes) {
        fuzz::finding("tensor view outside the file or of the wrong size");
      }
      // Touch every byte (ASan checks the bounds), as the loaders' copies do.
      if (view.dtype == "U8") (void)file.copy<uint8_t>(name, "U8");
      if (view.dtype == "I64") (void)file.copy<int64_t>(name, "I64");
      if (view.dtype == "F32") (void)file.copy<float>(name, "F32");
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.safetensors: ");
  }
  return 0;
}
