#include "core/cifar.h"

#include <sys/stat.h>

#include "core/error.h"
#include "core/safetensors.h"

namespace bsnpu {

const char* const kCifarHint =
    "get the official CIFAR-10 binary release (cifar-10-binary.tar.gz, 'CIFAR-10 binary version' "
    "on https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and pass its "
    "cifar-10-batches-bin directory with --data DIR or BSNPU_DATA";

CifarSet load_cifar_file(const std::string& path, size_t limit) {
  std::vector<uint8_t> bytes = read_file(path);
  if (bytes.empty() || bytes.size() % kCifarRecordBytes != 0) {
    throw Error(path + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                std::to_string(kCifarRecordBytes) +
                "-byte CIFAR-10 records (truncated or not a CIFAR-10 binary batch)");
  }
  size_t count = bytes.size() / kCifarRecordBytes;
  if (limit > 0 && limit < count) count = limit;
  CifarSet set;
  set.labels.resize(count);
  set.pixels.resize(count * kImageBytes);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* record = bytes.data() + i * kCifarRecordBytes;
    if (record[0] > 9) {
      throw Error(path + ": record " + std::to_string(i) + " has label " +
                  std::to_string(record[0]) + ", outside 0..9 (corrupt file)");
    }
    set.labels[i] = record[0];
    std::copy(record + 1, record + kCifarRecordBytes,
              set.pixels.begin() + static_cast<long>(i * kImageBytes));
  }
  return set;
}

CifarSet load_cifar_test(const std::string& data_dir, size_t limit) {
  struct stat info {};
  if (stat(data_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    throw Error(data_dir + ": CIFAR-10 directory not found; " + kCifarHint);
  }
  const std::string path = data_dir + "/test_batch.bin";
  if (stat(path.c_str(), &info) != 0) throw Error(path + ": no such file; " + kCifarHint);
  return load_cifar_file(path, limit);
}

}  // namespace bsnpu
