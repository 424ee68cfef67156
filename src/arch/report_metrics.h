// `bsnpu run` reports read back (docs/report-format.md): the figures per k that `bsnpu compare`
// puts side by side and `bsnpu regress` gates on. Keys the reader does not use are tolerated (a
// later report may add some); every figure it uses must be present and a finite number >= 0,
// else one line naming the file and the field, e.g. "new.json: results[2].cycles: missing".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace bsnpu::arch {

enum class Better { Higher, Lower };

// How a metric is shown: display value = stored value x scale, in `unit`.
struct MetricInfo {
  std::string unit;
  double scale = 1;
  Better better = Better::Lower;
};
// By name: the metrics below, "energy.<module>" (uJ) and "stall.<reason>" (cycles).
MetricInfo metric_info(const std::string& name);

// One entry of "results": the figures in SI units as the report stores them (accuracy 0..1, J,
// s), in a fixed order:
//   accuracy, cycles, latency (s), energy (J), energy.<module> for each module of
//   energy_breakdown_j, leakage (J), accuracy_per_mcycle, accuracy_per_uj (derived: accuracy /
//   energy in uJ), images_per_s_per_mm2, area (mm^2, the report's area_mm2.total), utilization,
//   stall_cycles, stall.<reason> for each reason of stall_breakdown, weight_bits_read, dram_bits.
struct BitsFigures {
  int bits = 0;
  uint64_t images = 0;
  std::vector<std::pair<std::string, double>> metrics;
  const double* find(const std::string& name) const;  // nullptr when absent
  double get(const std::string& name) const;          // throws bsnpu::Error when absent
};

struct ReportFigures {
  std::string file;
  std::string config_name;
  std::string model_manifest, model_tensors_sha256;
  int act_bits = 0;
  uint64_t model_weights = 0, model_macs = 0;
  std::string data_sha256;
  double area_mm2 = 0;
  std::vector<BitsFigures> results;  // increasing k, each k once

  // The entry of k, or nullptr.
  const BitsFigures* find(int bits) const;
  std::vector<int> bits() const;
};

// Checks the header ("bsnpu-report", version 1) and reads the figures.
ReportFigures read_report(const nlohmann::json& document, const std::string& file);

// "1-3,8" for {1, 2, 3, 8}.
std::string bits_list(const std::vector<int>& bits);

}  // namespace bsnpu::arch
