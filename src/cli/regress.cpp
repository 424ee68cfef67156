// bsnpu regress: gates a run report against a baseline report per k (src/arch/regress.h). Exit 0
// when every check passes, 1 on a regression (each failing check on one line), 2 when the gate
// cannot be evaluated (main maps every error of this command to 2). Writes JUnit XML and a
// Markdown summary on request, both or neither.
#include "arch/regress.h"

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu::cli {
namespace {

arch::ReportFigures load_report(const std::string& path) {
  return arch::read_report(
      parse_json(read_text_file(path, kMaxJsonFileBytes, "a run report"), path), path);
}

}  // namespace

int regress_command(int argc, char** argv) {
  std::string baseline_path, report_path, tolerances_path, junit_path, markdown_path;
  std::vector<std::string> flags;
  std::string defaults;
  for (const arch::GateMetric& metric : arch::gate_metrics()) {
    char text[96];
    std::snprintf(text, sizeof text, "%s%s %g%s", defaults.empty() ? "" : ", ", metric.name,
                  metric.default_tolerance, metric.points ? " points" : " %");
    defaults += text;
  }
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bsnpu regress --baseline BASE.json --report NEW.json [options]\n"
      "Gates a bsnpu run report against a baseline, per k, on accuracy (absolute points) and\n"
      "on cycles, energy, accuracy per Mcycle and accuracy per uJ (relative). Exit status: 0\n"
      "pass, 1 regression, 2 bad input (docs/ci-regression.md)");
  options.add_options()("help,h", "show this help")("baseline", po::value(&baseline_path),
                                                    "the baseline report")(
      "report", po::value(&report_path), "the report to gate")(
      "tolerances", po::value(&tolerances_path),
      "tolerances file (bsnpu-tolerances JSON, docs/ci-regression.md)")(
      "tol", po::value(&flags)->composing(),
      ("METRIC=VALUE or METRIC@K=VALUE, over the file; repeatable. Defaults: " + defaults).c_str())(
      "junit", po::value(&junit_path), "write a JUnit XML report here")(
      "markdown", po::value(&markdown_path), "write a Markdown summary here");
  po::variables_map values;
  if (!parse_command_line(argc, argv, options, "regress", values)) return 0;
  for (const char* option : {"baseline", "report"}) {
    if (!values.count(option)) {
      throw Error(std::string("--") + option + ": missing (see bsnpu regress --help)");
    }
  }
  Outputs outputs;
  if (values.count("junit")) outputs.add("--junit", junit_path);
  if (values.count("markdown")) outputs.add("--markdown", markdown_path);

  arch::Tolerances tolerances;
  if (values.count("tolerances")) tolerances = arch::Tolerances::load(tolerances_path);
  tolerances.apply_flags(flags);
  const arch::ReportFigures baseline = load_report(baseline_path);
  const arch::ReportFigures report = load_report(report_path);
  const arch::GateResult result = arch::regress(baseline, report, tolerances);

  if (values.count("junit")) outputs.stage_text("--junit", arch::junit_xml(result));
  if (values.count("markdown")) outputs.stage_text("--markdown", arch::markdown_summary(result));
  outputs.commit();
  std::printf("bsnpu regress: %s against the baseline %s\n", report_path.c_str(),
              baseline_path.c_str());
  for (const arch::GateCheck& check : result.checks) {
    std::printf("%-4s %s\n", check.passed ? "ok" : "FAIL", arch::describe(check).c_str());
  }
  if (result.passed()) {
    std::printf("bsnpu regress: pass: %zu checks\n", result.checks.size());
    return 0;
  }
  std::printf("bsnpu regress: REGRESSION: %zu of %zu checks failed\n", result.failures(),
              result.checks.size());
  return 1;
}

}  // namespace bsnpu::cli
