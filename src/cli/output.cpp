#include "cli/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace bsnpu::cli {
namespace {

std::string directory_of(const std::string& path) {
  const std::string directory = std::filesystem::path(path).parent_path().string();
  return directory.empty() ? "." : directory;
}

[[noreturn]] void fail(const std::string& option, const std::string& path, const std::string& why) {
  throw Error(option + ": " + path + ": " + why);
}

// Writes all `size` bytes to `fd`; false (errno set) on a short or failed write.
bool write_all(int fd, const char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t written = ::write(fd, data + done, size - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(written);
  }
  return true;
}

}  // namespace

Outputs::~Outputs() {
  for (const File& file : files_) {
    if (!file.temporary.empty()) ::unlink(file.temporary.c_str());
  }
}

void Outputs::add(const std::string& option, const std::string& path) {
  if (path.empty()) throw Error(option + ": '' is empty");
  struct stat target {};
  const bool exists = ::stat(path.c_str(), &target) == 0;
  if (exists && S_ISDIR(target.st_mode)) fail(option, path, "is a directory");
  if (exists && !S_ISREG(target.st_mode)) fail(option, path, "is not a regular file");
  const std::string directory = directory_of(path);
  struct stat folder {};
  if (::stat(directory.c_str(), &folder) != 0 || !S_ISDIR(folder.st_mode) ||
      ::access(directory.c_str(), W_OK) != 0) {
    fail(option, path, "directory " + directory + " is not writable");
  }
  std::error_code error;
  const std::filesystem::path canonical = std::filesystem::weakly_canonical(path, error);
  for (const File& other : files_) {
    if (!error && std::filesystem::weakly_canonical(other.path, error) == canonical) {
      fail(option, path, "is also the file of " + other.option);
    }
  }
  files_.push_back({option, path, ""});
}

Outputs::File& Outputs::find(const std::string& option) {
  for (File& file : files_) {
    if (file.option == option) return file;
  }
  throw Error(option + ": no such output registered");
}

void Outputs::stage(const std::string& option, const nlohmann::ordered_json& document) {
  const std::string text =
      document.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  stage_bytes(option, text.data(), text.size());
}

void Outputs::stage_bytes(const std::string& option, const void* data, size_t size) {
  File& file = find(option);
  std::string pattern = directory_of(file.path) + "/." +
                        std::filesystem::path(file.path).filename().string() + ".XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0)
    fail(option, file.path, std::string("cannot create a file beside it: ") + std::strerror(errno));
  file.temporary = pattern;
  const bool written = write_all(fd, static_cast<const char*>(data), size) && ::fsync(fd) == 0;
  const int write_error = errno;
  if (::close(fd) != 0 || !written) {
    fail(option, file.path,
         std::string("write failed: ") + std::strerror(written ? errno : write_error));
  }
  // mkstemp makes the file 0600; give it the mode a plain create would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::chmod(file.temporary.c_str(), 0666 & ~mask);
}

void Outputs::commit() {
  for (File& file : files_) {
    if (file.temporary.empty()) continue;
    if (::rename(file.temporary.c_str(), file.path.c_str()) != 0) {
      fail(file.option, file.path, std::string("cannot replace: ") + std::strerror(errno));
    }
    file.temporary.clear();
  }
}

}  // namespace bsnpu::cli
