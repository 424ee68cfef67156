// Output files of the bsnpu subcommands, written so that nothing is lost or harmed:
// every path is checked before the work starts, each file is written in full to a temporary
// file beside its target (checked writes, fsync, checked close) and renamed over the target only
// when every output of the run has been written. A failed run leaves pre-existing files
// byte-identical and no temporary file behind.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bsnpu::cli {

class Outputs {
 public:
  Outputs() = default;
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;
  ~Outputs();  // removes what was staged and not committed

  // Registers the output of `option` (e.g. "--out") at `path`; throws bsnpu::Error naming the
  // option unless the path is non-empty, not a directory, in an existing writable directory, and
  // not the same file as another output's.
  void add(const std::string& option, const std::string& path);
  // Writes `document` (one-space indent, trailing newline; invalid UTF-8 in strings replaced by
  // U+FFFD) to the temporary file of `option`'s output; throws naming the option and the path.
  void stage(const std::string& option, const nlohmann::ordered_json& document);
  // Writes `size` bytes (a binary file, CSV text, ...) the same way.
  void stage_bytes(const std::string& option, const void* data, size_t size);
  // Writes `text` as it is (CSV, JSON Lines).
  void stage_text(const std::string& option, const std::string& text) {
    stage_bytes(option, text.data(), text.size());
  }
  // Renames every staged file over its target.
  void commit();

 private:
  struct File {
    std::string option, path, temporary;
  };
  File& find(const std::string& option);
  std::vector<File> files_;
};

}  // namespace bsnpu::cli
