// The one exception type of bsnpu: a one-line message that names the file and field at fault.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace bsnpu {

// `text` made safe to quote in a one-line message: control characters become \xNN escapes and
// anything past `max_chars` is cut to "...". Names that come from input files (JSON keys, tensor
// names) go through this before they reach an Error.
inline std::string printable(const std::string& text, size_t max_chars = 80) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (out.size() >= max_chars) {
      out += "...";
      break;
    }
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

class Error : public std::runtime_error {
 public:
  // Whatever the message holds, what() is one line of at most a few kilobytes.
  explicit Error(const std::string& message) : std::runtime_error(printable(message, 4000)) {}
};

}  // namespace bsnpu
