#include "cli/output.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace bsnpu::cli {

void require_writable_directory(const std::string& path, const std::string& option) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  if (!std::filesystem::is_directory(directory) || access(directory.c_str(), W_OK) != 0) {
    throw Error(option + ": " + path + ": directory " + directory.string() + " is not writable");
  }
}

void write_json(const std::string& path, const nlohmann::ordered_json& document) {
  std::ofstream out(path, std::ios::binary);
  out << document.dump(1) << "\n";
  if (!out) throw Error(path + ": cannot write");
}

}  // namespace bsnpu::cli
