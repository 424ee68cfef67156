// The --bits option shared by `bsnpu eval` and `bsnpu run`.
#pragma once

#include <string>
#include <vector>

namespace bsnpu::cli {

// "1-8", "1,2,8", "4", "1-3,8" -> sorted distinct k in 1..8; throws bsnpu::Error otherwise.
std::vector<int> parse_bits(const std::string& text);

}  // namespace bsnpu::cli
