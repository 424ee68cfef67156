// libFuzzer target: the tolerances file of bsnpu regress (arch::Tolerances::parse) on arbitrary
// bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/regress.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const arch::Tolerances tolerances = arch::Tolerances::parse(text, "fuzz.json");
    // An accepted file gives every metric at every k a tolerance in range.
    for (const arch::GateMetric& metric : arch::gate_metrics()) {
      for (int k = 1; k <= 8; ++k) {
        const double tolerance = tolerances.get(metric.name, k);
        if (!(tolerance >= 0 && tolerance <= (metric.points ? 100 : 1e6))) {
          fuzz::finding("accepted tolerances file with a tolerance out of range");
        }
      }
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
