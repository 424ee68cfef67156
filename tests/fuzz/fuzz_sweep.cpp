// libFuzzer target: the sweep-file parser (sweep::Space::parse) on arbitrary bytes, then what the
// driver does with an accepted space before anything runs: enumerate points, resolve their
// configs against a base and parse those.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/config.h"
#include "fuzz_support.h"
#include "sweep/space.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  sweep::Space space;
  try {
    space = sweep::Space::parse(text, "fuzz.json");
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
    return 0;
  }
  if (space.size() == 0 || space.size() > sweep::kMaxPoints || space.bits().empty()) {
    fuzz::finding("accepted space with no points, too many, or no k");
  }
  const sweep::Json base = sweep::Json::parse(
      R"({"format": "bsnpu-config", "version": 1, "name": "b", "mac_array": {"rows": 8}})");
  // The first points and the last: every group's first and last rows.
  for (size_t step = 0; step < 16 && step < space.size(); ++step) {
    const size_t index = step < 8 ? step : space.size() - 16 + step;
    if (index >= space.size()) continue;
    const sweep::Point point = space.point(index);
    if (point.index != index || point.axes.size() != space.fields().size()) {
      fuzz::finding("a point without a value for every field");
    }
    try {
      const std::string config = space.resolve(base, "base.json", point).dump();
      arch::NpuConfig::parse(config, "fuzz.json point");
    } catch (const Error& error) {
      fuzz::check_error(error, "fuzz.json");
    }
  }
  return 0;
}
