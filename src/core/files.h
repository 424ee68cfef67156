// Bounded reads of input files. Only regular files are read (a directory, /dev/zero or a FIFO
// fails at once, before anything is allocated), sizes are checked against a limit before a byte
// is read, and every failure is a one-line bsnpu::Error that starts with the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bsnpu {

// Limits of what the loaders read into memory.
constexpr uint64_t kMaxJsonFileBytes = uint64_t{16} << 20;  // config, energy table, manifest
constexpr uint64_t kMaxDataFileBytes = uint64_t{4} << 30;   // safetensors files, raw reads

// A regular file open for reading. The constructor throws bsnpu::Error:
//   "PATH: no such file" (or "PATH: " + `missing` when given, e.g. with a hint),
//   "PATH: is a directory, not a file",
//   "PATH: not a regular file (a device, FIFO or socket)",
//   "PATH: cannot open file (<reason>)".
class InputFile {
 public:
  explicit InputFile(const std::string& path, const std::string& missing = "");
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  // The size fstat reported when the file was opened.
  uint64_t size() const { return size_; }
  // Throws "PATH: N bytes, more than the LIMIT-byte limit of WHAT" if size() > max_bytes.
  void check_size(uint64_t max_bytes, const std::string& what) const;
  // Reads exactly `bytes` bytes at `offset`; a short read (the file shrank since it was opened)
  // throws "PATH: truncated while reading (...)".
  void read(uint64_t offset, void* out, size_t bytes) const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole of a regular file of at most `max_bytes` bytes (`what` names the kind of file in the
// size error, e.g. "a JSON file").
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes = kMaxDataFileBytes,
                               const std::string& what = "a data file");
// The same as text; `missing` as for InputFile.
std::string read_text_file(const std::string& path, uint64_t max_bytes = kMaxJsonFileBytes,
                           const std::string& what = "a JSON file",
                           const std::string& missing = "");

}  // namespace bsnpu
