#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace bsnpu {

InputFile::InputFile(const std::string& path, const std::string& missing) : path_(path) {
  if (path.find('\0') != std::string::npos) throw Error(path + ": file name holds a NUL byte");
  // O_NONBLOCK: opening a FIFO without a writer must not hang before fstat can reject it.
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      throw Error(path + ": " + (missing.empty() ? std::string("no such file") : missing));
    }
    throw Error(path + ": cannot open file (" + std::strerror(error) + ")");
  }
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int error = errno;
    ::close(fd_);
    throw Error(path + ": cannot open file (" + std::strerror(error) + ")");
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd_);
    throw Error(path + (S_ISDIR(info.st_mode) ? ": is a directory, not a file"
                                              : ": not a regular file (a device, FIFO or socket)"));
  }
  // Back to blocking reads (regular files ignore the flag, but leave nothing surprising).
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  size_ = static_cast<uint64_t>(info.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::check_size(uint64_t max_bytes, const std::string& what) const {
  if (size_ > max_bytes) {
    throw Error(path_ + ": " + std::to_string(size_) + " bytes, more than the " +
                std::to_string(max_bytes) + "-byte limit of " + what);
  }
}

void InputFile::read(uint64_t offset, void* out, size_t bytes) const {
  auto* target = static_cast<char*>(out);
  size_t done = 0;
  while (done < bytes) {
    const ssize_t got =
        ::pread(fd_, target + done, bytes - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      throw Error(path_ + ": cannot read (" + std::strerror(errno) + ")");
    }
    if (got == 0) {
      throw Error(path_ + ": truncated while reading (byte " + std::to_string(offset + done) +
                  " of the " + std::to_string(size_) + " the file had when opened)");
    }
    done += static_cast<size_t>(got);
  }
}

std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes,
                               const std::string& what) {
  const InputFile file(path);
  file.check_size(max_bytes, what);
  std::vector<uint8_t> bytes(static_cast<size_t>(file.size()));
  file.read(0, bytes.data(), bytes.size());
  return bytes;
}

std::string read_text_file(const std::string& path, uint64_t max_bytes, const std::string& what,
                           const std::string& missing) {
  const InputFile file(path, missing);
  file.check_size(max_bytes, what);
  std::string text(static_cast<size_t>(file.size()), '\0');
  file.read(0, text.data(), text.size());
  return text;
}

}  // namespace bsnpu
