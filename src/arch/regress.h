// `bsnpu regress`: a run report gated against a baseline report, per k, on accuracy, cycles,
// energy, accuracy per Mcycle and accuracy per uJ (docs/ci-regression.md). A metric regresses
// when it moves the bad way by more than its tolerance: accuracy in absolute percentage points,
// the others relative, in percent of the baseline. Improvements never fail.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "arch/report_metrics.h"

namespace bsnpu::arch {

struct GateMetric {
  const char* name;          // as in report_metrics.h
  bool points;               // tolerance in absolute percentage points (accuracy), else percent
  double default_tolerance;  // points or percent
};
// accuracy 0.5 points; cycles, energy, accuracy_per_mcycle, accuracy_per_uj 1 %.
const std::vector<GateMetric>& gate_metrics();

// Tolerance per (metric, k): the defaults above, then a tolerances file, then --tol flags.
class Tolerances {
 public:
  Tolerances();
  // The tolerances file (docs/ci-regression.md):
  //   {"format": "bsnpu-tolerances", "version": 1,
  //    "default": {"accuracy": 0.5, "cycles": 2, ...},      every metric optional
  //    "bits": {"1": {"accuracy": 3}, ...}}                 per k, over "default"
  // Values are numbers in 0..1000000 (accuracy: 0..100). Errors name the file and the field.
  static Tolerances parse(const std::string& json_text, const std::string& file);
  static Tolerances load(const std::string& path);
  // One --tol flag, "METRIC=VALUE" (every k, over anything the file says) or "METRIC@K=VALUE"
  // (that k only). Apply every-k flags before per-k ones (apply_flags does).
  void apply_flag(const std::string& text);
  void apply_flags(const std::vector<std::string>& flags);
  // k 0: every k, replacing the per-k values set before; else that k only.
  void set(const std::string& metric, int k, double value);
  double get(const std::string& metric, int k) const;

 private:
  std::map<std::string, double> all_bits_;
  std::map<std::pair<std::string, int>, double> per_bits_;
};

struct GateCheck {
  int bits = 0;
  std::string metric;
  double baseline = 0, current = 0;  // in the metric's display unit (accuracy in %)
  double delta = 0;                  // points (accuracy) or percent of the baseline
  double tolerance = 0;              // the same unit as delta
  bool points = false;
  bool passed = true;
};
struct GateResult {
  std::string baseline_file, report_file;
  std::vector<GateCheck> checks;  // by k, then in gate_metrics() order
  bool passed() const;
  size_t failures() const;
};

// Throws bsnpu::Error naming the report's file and field when the two cannot be gated: other k,
// other images (data.sha256, images per k) or another network (model.macs, model.weights).
void check_comparable(const ReportFigures& baseline, const ReportFigures& report);
GateResult regress(const ReportFigures& baseline, const ReportFigures& report,
                   const Tolerances& tolerances);

// "k=4 cycles: baseline 1000, new 1100, delta +10.00 %, tolerance 1.00 %"
std::string describe(const GateCheck& check);
// One <testcase> per k x metric (classname "bsnpu.regress.k<K>", name the metric).
std::string junit_xml(const GateResult& result);
std::string markdown_summary(const GateResult& result);

}  // namespace bsnpu::arch
