// Shared by the libFuzzer targets: a bsnpu::Error is the one expected way to refuse an input, and
// it must be one line that starts with the input's name ("nothing silent"). Anything else that
// escapes (another exception, a crash, a leak, undefined behaviour) is a finding.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace bsnpu::fuzz {

inline void check_error(const Error& error, const std::string& name_prefix) {
  const std::string what = error.what();
  if (what.rfind(name_prefix, 0) != 0 || what.find('\n') != std::string::npos ||
      what.find('\r') != std::string::npos) {
    std::fprintf(stderr, "error message not one line naming '%s': %s\n", name_prefix.c_str(),
                 what.c_str());
    std::abort();
  }
}

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "finding: %s\n", what.c_str());
  std::abort();
}

}  // namespace bsnpu::fuzz
