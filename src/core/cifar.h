// CIFAR-10 binary batches: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/arith.h"

namespace bsnpu {

constexpr size_t kCifarRecordBytes = 1 + kImageBytes;

struct CifarSet {
  std::vector<uint8_t> pixels;  // [N][3][32][32]
  std::vector<uint8_t> labels;  // [N], 0..9
  size_t size() const { return labels.size(); }
  const uint8_t* image(size_t index) const { return pixels.data() + index * kImageBytes; }
};

// How to get the data, appended to "not found" errors.
extern const char* const kCifarHint;

// A batch file holds at most this many records (CIFAR-10 has 60,000 images in all).
constexpr size_t kMaxCifarRecords = 100000;

// One batch file (a regular file); `limit` > 0 keeps only the first `limit` records, and only
// those are read. Empty or truncated files (not a whole number of records), files of more than
// kMaxCifarRecords records and labels outside 0..9 are one-line bsnpu::Errors naming the file
// (and the record).
CifarSet load_cifar_file(const std::string& path, size_t limit = 0);
// The same checks on a batch already in memory (`size` bytes); `name` names it in errors.
CifarSet parse_cifar(const uint8_t* bytes, size_t size, const std::string& name, size_t limit = 0);
// test_batch.bin of a cifar-10-batches-bin directory.
CifarSet load_cifar_test(const std::string& data_dir, size_t limit = 0);

}  // namespace bsnpu
