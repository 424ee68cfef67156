// safetensors reader: 8-byte little-endian header length, JSON header, packed tensor data.
// Every malformed file (not a regular file, truncated, oversized, overlapping or gapped data, bad
// header, a shape whose element count overflows) is a one-line bsnpu::Error naming the file and
// the tensor. The header is read and checked against the file size before the data is read.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/files.h"  // read_file

namespace bsnpu {

struct TensorView {
  std::string dtype;           // "U8", "I32", ...
  std::vector<int64_t> shape;  // empty for a scalar
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  // The product of the dims; bsnpu::Error if a dim is negative or the product overflows int64
  // (never for a view of a loaded file: the loader checked it against the data).
  int64_t elements() const;
};

// Size in bytes of one element of a safetensors dtype name; 0 if unknown.
size_t dtype_size(const std::string& dtype);

class SafetensorsFile {
 public:
  static SafetensorsFile load(const std::string& path);
  // The same checks on a whole file already in memory; `path` names it in errors.
  static SafetensorsFile parse(std::vector<uint8_t> bytes, const std::string& path);
  // Views point into the owned bytes: movable (a vector's move keeps its buffer), not copyable.
  SafetensorsFile(SafetensorsFile&&) = default;
  SafetensorsFile& operator=(SafetensorsFile&&) = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  // The tensor, checked to have this dtype (and element count, when expected_elements >= 0).
  const TensorView& get(const std::string& name, const std::string& dtype,
                        int64_t expected_elements = -1) const;
  // Copies of the tensor's elements (checked dtype); T must match the dtype's width.
  template <typename T>
  std::vector<T> copy(const std::string& name, const std::string& dtype,
                      int64_t expected_elements = -1) const;
  const std::vector<uint8_t>& raw() const { return blob_; }

 private:
  SafetensorsFile() = default;
  struct Entry;
  // Checks the header (the `header_length` bytes after the length prefix, already in blob_)
  // against a data section of `data_bytes` bytes; returns the tensors it lists.
  std::vector<Entry> check_header(uint64_t header_length, uint64_t data_bytes) const;
  void index(const std::vector<Entry>& entries, uint64_t header_length);
  std::string path_;
  std::vector<uint8_t> blob_;
  std::map<std::string, TensorView> tensors_;
};

}  // namespace bsnpu

template <typename T>
std::vector<T> bsnpu::SafetensorsFile::copy(const std::string& name, const std::string& dtype,
                                            int64_t expected_elements) const {
  const TensorView& view = get(name, dtype, expected_elements);
  std::vector<T> values(static_cast<size_t>(view.elements()));
  if (sizeof(T) != dtype_size(dtype)) throw std::logic_error("SafetensorsFile::copy: type width");
  if (!values.empty()) std::memcpy(values.data(), view.data, view.bytes);  // little-endian host
  return values;
}
