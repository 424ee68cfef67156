// The versioned JSON report of `bsnpu run` (docs/report-format.md) and the Chrome/Perfetto
// trace-event timeline. Deterministic: no timestamps, no absolute paths, fixed key order, so
// two runs give byte-identical files and reports from many processes merge by concatenation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arch/area.h"
#include "arch/config.h"
#include "arch/energy.h"
#include "arch/timing.h"
#include "arch/workload.h"

namespace bsnpu::arch {

constexpr int kReportVersion = 1;

// One precision of a run: the timing of one inference and the accuracy over the images.
struct BitsResult {
  TimingResult timing;
  size_t images = 0;
  size_t correct = 0;
};

// The figures of one k that the JSON report, the console table and the tests all read.
struct LayerSummary {
  LayerEnergy energy;
  double utilization = 0;
  uint64_t weight_bits_read = 0;
  uint64_t dram_bits = 0;
};
struct RunSummary {
  int bits = 8;  // the largest k of any layer
  // The per-layer planes simulated (docs/report-format.md): k when uniform, the array of k per
  // weighted layer, or [first, last] pairs when some layer's planes do not start at 0.
  nlohmann::ordered_json precision;
  double average_bits = 0;  // MAC-weighted mean planes per weighted layer
  size_t images = 0, correct = 0;
  double accuracy = 0;
  uint64_t cycles = 0, compute_cycles = 0, stall_cycles = 0, ideal_cycles = 0;
  std::array<uint64_t, kStallCount> stalls{};  // by Stall, summed over layers
  double utilization = 0;
  double latency_s = 0;
  LayerEnergy energy;  // summed over layers, per module
  double energy_j = 0;
  double accuracy_per_mcycle = 0;
  // Per mm^2 of the chip (docs/architecture.md, "Area model"): inferences run one at a time, so
  // images/s = 1 / latency.
  double images_per_s_per_mm2 = 0;
  double accuracy_per_mcycle_per_mm2 = 0;
  bool weights_resident = false;
  uint64_t weight_bits_read = 0, dram_bits = 0;
  ActionCounts actions{};
  std::vector<LayerSummary> layers;
};

struct ReportContext {
  const NpuConfig* config = nullptr;
  const EnergyModel* energy = nullptr;
  const Workload* workload = nullptr;
  std::string model_manifest;  // file name, no folder
  std::string model_tensors_sha256;
  std::string data_file;    // file name, no folder
  std::string data_sha256;  // of the images' labels and pixels used
  // Timing and energy only (bsnpu run --timing-only): no images ran, so the report has no data
  // and no accuracy figures.
  bool timing_only = false;
};

std::string file_name(const std::string& path);

AreaBreakdown report_area(const ReportContext& context);
// {"total": mm^2, "modules": {module: mm^2}, "components": {component: mm^2}}
nlohmann::ordered_json area_report(const AreaBreakdown& area);

RunSummary summarize(const ReportContext& context, const BitsResult& result);
// The per-k object of the report ("results" entries).
nlohmann::ordered_json bits_report(const ReportContext& context, const BitsResult& result);
nlohmann::ordered_json build_report(const ReportContext& context,
                                    const std::vector<BitsResult>& results);
nlohmann::ordered_json build_trace(const ReportContext& context,
                                   const std::vector<BitsResult>& results);

}  // namespace bsnpu::arch
