// The one exception type of bsnpu: a one-line message that names the file and field at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace bsnpu {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace bsnpu
