// Output files shared by `bsnpu eval` and `bsnpu run`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bsnpu::cli {

// Throws bsnpu::Error naming `option` unless `path`'s directory exists and is writable: checked
// before a long sweep, so a bad path fails at once rather than after the work.
void require_writable_directory(const std::string& path, const std::string& option);

// Writes `document` (one-space indent, trailing newline); throws bsnpu::Error on failure.
void write_json(const std::string& path, const nlohmann::ordered_json& document);

}  // namespace bsnpu::cli
