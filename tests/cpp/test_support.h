// Where the tests find the model, golden vectors and data (same defaults as the CLI), and the
// message of the bsnpu::Error an action throws.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"
#include "core/paths.h"

namespace bsnpu::test {

inline std::string source_dir() { return BSNPU_SOURCE_DIR; }
inline std::string model_prefix() { return bsnpu::model_prefix(""); }
inline std::string data_dir() { return bsnpu::data_dir(""); }
inline std::string golden_dir() { return source_dir() + "/tests/golden"; }

// what() of the bsnpu::Error `action` throws, "(no error)" when it throws none.
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace bsnpu::test
