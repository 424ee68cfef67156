// libFuzzer target: reading a run report back (arch::read_report, what bsnpu compare and bsnpu
// regress parse) on arbitrary bytes, then comparing and gating the report against itself.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/compare.h"
#include "arch/regress.h"
#include "core/json_fields.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const arch::ReportFigures report =
        arch::read_report(parse_json(text, "fuzz.json"), "fuzz.json");
    const arch::Comparison comparison = arch::compare_reports({report, report});
    (void)arch::render_text(comparison);
    (void)arch::render_json(comparison).dump();
    // A report gated against itself passes.
    const arch::GateResult result = arch::regress(report, report, arch::Tolerances());
    if (!result.passed()) fuzz::finding("a report regresses against itself");
    (void)arch::junit_xml(result);
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
