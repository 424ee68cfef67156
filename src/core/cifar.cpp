#include "core/cifar.h"

#include <sys/stat.h>

#include <algorithm>

#include "core/error.h"
#include "core/files.h"

namespace bsnpu {

const char* const kCifarHint =
    "get the official CIFAR-10 binary release (cifar-10-binary.tar.gz, 'CIFAR-10 binary version' "
    "on https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and pass its "
    "cifar-10-batches-bin directory with --data DIR or BSNPU_DATA";

namespace {

// How many records a file of `size` bytes holds; throws unless that is a whole number in
// 1..kMaxCifarRecords.
size_t record_count(uint64_t size, const std::string& name) {
  if (size == 0) throw Error(name + ": empty file, not a CIFAR-10 binary batch");
  if (size % kCifarRecordBytes != 0) {
    const uint64_t record = size / kCifarRecordBytes;
    throw Error(name + ": truncated: record " + std::to_string(record) + " has only " +
                std::to_string(size % kCifarRecordBytes) + " of its " +
                std::to_string(kCifarRecordBytes) +
                " bytes (the file is not a whole number of CIFAR-10 records)");
  }
  if (size / kCifarRecordBytes > kMaxCifarRecords) {
    throw Error(name + ": " + std::to_string(size / kCifarRecordBytes) +
                " records, more than the " + std::to_string(kMaxCifarRecords) +
                " of a CIFAR-10 binary batch");
  }
  return static_cast<size_t>(size / kCifarRecordBytes);
}

// `count` whole records into a set; labels must be 0..9.
CifarSet decode_records(const uint8_t* records, size_t count, const std::string& name) {
  CifarSet set;
  set.labels.resize(count);
  set.pixels.resize(count * kImageBytes);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* record = records + i * kCifarRecordBytes;
    if (record[0] > 9) {
      throw Error(name + ": record " + std::to_string(i) + " has label " +
                  std::to_string(record[0]) + ", outside 0..9 (corrupt file)");
    }
    set.labels[i] = record[0];
    std::copy(record + 1, record + kCifarRecordBytes,
              set.pixels.begin() + static_cast<long>(i * kImageBytes));
  }
  return set;
}

size_t records_wanted(size_t count, size_t limit) {
  return limit > 0 && limit < count ? limit : count;
}

}  // namespace

CifarSet load_cifar_file(const std::string& path, size_t limit) {
  const InputFile file(path);
  const size_t count = records_wanted(record_count(file.size(), path), limit);
  std::vector<uint8_t> bytes(count * kCifarRecordBytes);
  file.read(0, bytes.data(), bytes.size());
  return decode_records(bytes.data(), count, path);
}

CifarSet parse_cifar(const uint8_t* bytes, size_t size, const std::string& name, size_t limit) {
  return decode_records(bytes, records_wanted(record_count(size, name), limit), name);
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
