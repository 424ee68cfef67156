// The record of one finished sweep point (one line of DIR/points.jsonl) and the outputs built from
// a sweep's records: points.csv, points.json, pareto.csv, pareto.json (docs/sweeps.md). The
// outputs depend on the records' content only, sorted by point index, so an interrupted and
// resumed sweep, a sharded and merged one and an uninterrupted one write the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "sweep/space.h"

namespace bsnpu::sweep {

// One k of a point: the worker's timing and energy, the cached accuracy, and whether the
// post-run constraints hold.
struct BitsRecord {
  int bits = 8;
  size_t images = 0, correct = 0;
  uint64_t cycles = 0, stall_cycles = 0, weight_bits_read = 0, dram_bits = 0;
  double latency_s = 0, energy_j = 0, utilization = 0;
  bool weights_resident = false;
  std::array<double, arch::kModuleCount> energy_breakdown_j{};
  bool feasible = true;
  double accuracy() const;
};

enum class Status {
  Ok,        // simulated: `results` holds every k
  Filtered,  // a pre-run constraint excluded it (`reason` names it); not simulated
  Invalid,   // its config is rejected (`reason`), recorded only with "skip_invalid": true
};
const char* status_name(Status status);

struct Record {
  size_t index = 0;
  std::string id;
  Json axes = Json::object();
  Status status = Status::Ok;
  std::string reason;  // Filtered, Invalid
  double area_mm2 = 0;
  std::vector<BitsRecord> results;  // Ok: one per k, increasing
};

// The value of a pre-run metric for a point's config and area.
double pre_run_value(Metric metric, const arch::NpuConfig& config, double area_mm2);
// The value of a post-run metric (or of area_mm2) for one k of an Ok record.
double post_run_value(Metric metric, const Record& record, const BitsRecord& bits);
// The first pre-run constraint of `space` the point breaks, empty when none.
std::string broken_pre_run_constraint(const Space& space, const arch::NpuConfig& config,
                                      double area_mm2);
// Whether every post-run constraint of `space` holds for this k.
bool feasible(const Space& space, const Record& record, const BitsRecord& bits);

// One line of JSON (no newline); parse_record reads it back exactly (doubles round-trip) and
// throws bsnpu::Error "WHERE: FIELD: why" on anything else.
std::string record_line(const Record& record);
Record parse_record(const std::string& line, const std::string& where);

// Pareto front over the feasible (point, k) rows of Ok records: a row is on it unless another
// row has no more energy, latency and area and no less accuracy, and is better in one of them.
// Returns, per record, one flag per k.
std::vector<std::vector<bool>> pareto_front(const std::vector<Record>& records);

struct SweepOutputs {
  std::string points_csv, pareto_csv;
  Json points_json, pareto_json;
};
// The outputs of a whole sweep (or shard): `records` in any order, at most one per index.
SweepOutputs build_outputs(const Space& space, std::vector<Record> records);

}  // namespace bsnpu::sweep
