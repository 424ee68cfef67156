// The versioned JSON report of `bsnpu run` (docs/report-format.md) and the Chrome/Perfetto
// trace-event timeline. Deterministic: no timestamps, no absolute paths, fixed key order, so
// two runs give byte-identical files and reports from many processes merge by concatenation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tlm/config.h"
#include "tlm/energy.h"
#include "tlm/npu.h"
#include "tlm/workload.h"

namespace bsnpu::tlm {

constexpr int kReportVersion = 1;

// One k of a run: the timing of one inference and the accuracy over the images.
struct BitsResult {
  TimingResult timing;
  size_t images = 0;
  size_t correct = 0;
};

struct ReportContext {
  const NpuConfig* config = nullptr;
  const EnergyModel* energy = nullptr;
  const Workload* workload = nullptr;
  std::string model_manifest;  // file name, no folder
  std::string model_tensors_sha256;
  std::string data_file;    // file name, no folder
  std::string data_sha256;  // of the images' labels and pixels used
};

std::string file_name(const std::string& path);

// The per-k object of the report ("results" entries).
nlohmann::ordered_json bits_report(const ReportContext& context, const BitsResult& result);
nlohmann::ordered_json build_report(const ReportContext& context,
                                    const std::vector<BitsResult>& results);
nlohmann::ordered_json build_trace(const ReportContext& context,
                                   const std::vector<BitsResult>& results);

}  // namespace bsnpu::tlm
