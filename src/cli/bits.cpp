#include "cli/bits.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace bsnpu::cli {

std::vector<int> parse_bits(const std::string& text) {
  auto fail = [&]() -> int {
    throw Error("--bits: '" + text + "' is not a list of k in 1..8 (e.g. 1-8, 1,2,8 or 4)");
  };
  auto number = [&](const std::string& item) {
    if (item.size() != 1 || item[0] < '1' || item[0] > '8') fail();
    return item[0] - '0';
  };
  std::set<int> bits;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, comma - begin);
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      bits.insert(number(item));
    } else {
      const int first = number(item.substr(0, dash)), last = number(item.substr(dash + 1));
      if (first > last) fail();
      for (int k = first; k <= last; ++k) bits.insert(k);
    }
    begin = comma + 1;
  }
  return {bits.begin(), bits.end()};
}

}  // namespace bsnpu::cli
