#include "core/paths.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace bsnpu {

namespace {

bool is_repo_root(const std::string& dir) {
  struct stat info {};
  return stat((dir + "/docs/arithmetic.md").c_str(), &info) == 0;
}

std::string parent(const std::string& dir) {
  const size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return dir.substr(0, slash);
}

std::string search_upwards(std::string dir) {
  while (!dir.empty()) {
    if (is_repo_root(dir)) return dir;
    if (dir == "/") break;
    dir = parent(dir);
  }
  return "";
}

std::string executable_dir() {
  char buffer[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (length <= 0) return "";
  return parent(std::string(buffer, static_cast<size_t>(length)));
}

std::string current_dir() {
  char buffer[PATH_MAX];
  return getcwd(buffer, sizeof(buffer)) ? std::string(buffer) : std::string();
}

std::string from_environment(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? std::string(value) : std::string();
}

}  // namespace

std::string repo_root() {
  for (const std::string& start : {executable_dir(), current_dir()}) {
    if (start.empty()) continue;
    std::string found = search_upwards(start);
    if (!found.empty()) return found;
  }
  return BSNPU_SOURCE_DIR;
}

std::string data_dir(const std::string& option) {
  if (!option.empty()) return option;
  std::string value = from_environment("BSNPU_DATA");
  if (!value.empty()) return value;
  return parent(repo_root()) + "/shared/datasets/cifar10/cifar-10-batches-bin";
}

std::string model_prefix(const std::string& option) {
  std::string prefix = option.empty() ? from_environment("BSNPU_MODEL") : option;
  if (prefix.empty()) return repo_root() + "/models/resnet18_cifar10";
  // Accept the manifest or tensors file name for the prefix.
  for (const std::string suffix : {".json", ".safetensors"}) {
    if (prefix.size() > suffix.size() &&
        prefix.compare(prefix.size() - suffix.size(), suffix.size(), suffix) == 0) {
      prefix.resize(prefix.size() - suffix.size());
    }
  }
  return prefix;
}

}  // namespace bsnpu
