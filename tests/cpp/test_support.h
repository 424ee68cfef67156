// Where the tests find the model, golden vectors and data (same defaults as the CLI).
#pragma once

#include <string>

#include "core/paths.h"

namespace bsnpu::test {

inline std::string source_dir() { return BSNPU_SOURCE_DIR; }
inline std::string model_prefix() { return bsnpu::model_prefix(""); }
inline std::string data_dir() { return bsnpu::data_dir(""); }
inline std::string golden_dir() { return source_dir() + "/tests/golden"; }

}  // namespace bsnpu::test
