#include "sweep/records.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/json_fields.h"

namespace bsnpu::sweep {
namespace {

constexpr int kOutputVersion = 1;

const char* const kStatusNames[] = {"ok", "filtered", "invalid"};

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

// Fixed float formatting of the CSV files: nine significant digits.
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string axis_text(const Json& value) {
  return csv_field(value.is_string() ? value.get<std::string>() : value.dump());
}

std::string csv_header(const Space& space) {
  std::string header = "index,id";
  for (const std::string& field : space.fields()) header += "," + csv_field(field);
  header +=
      ",bits,images,correct,accuracy,cycles,stall_cycles,latency_s,energy_j,area_mm2,"
      "accuracy_per_mcycle,accuracy_per_uj,utilization,weight_bits_read,dram_bits,"
      "weights_resident";
  for (int module = 0; module < arch::kModuleCount; ++module) {
    header += std::string(",energy_") + arch::module_name(static_cast<arch::Module>(module)) + "_j";
  }
  return header + ",feasible,pareto\n";
}

std::string csv_row(const Space& space, const Record& record, const BitsRecord& bits,
                    bool pareto) {
  std::string row = std::to_string(record.index) + "," + record.id;
  for (const std::string& field : space.fields()) row += "," + axis_text(record.axes.at(field));
  row += "," + std::to_string(bits.bits) + "," + std::to_string(bits.images) + "," +
         std::to_string(bits.correct) + "," + number(bits.accuracy()) + "," +
         std::to_string(bits.cycles) + "," + std::to_string(bits.stall_cycles) + "," +
         number(bits.latency_s) + "," + number(bits.energy_j) + "," + number(record.area_mm2) +
         "," + number(post_run_value(Metric::AccuracyPerMcycle, record, bits)) + "," +
         number(post_run_value(Metric::AccuracyPerUj, record, bits)) + "," +
         number(bits.utilization) + "," + std::to_string(bits.weight_bits_read) + "," +
         std::to_string(bits.dram_bits) + "," + (bits.weights_resident ? "1" : "0");
  for (double joules : bits.energy_breakdown_j) row += "," + number(joules);
  return row + "," + (bits.feasible ? "1" : "0") + "," + (pareto ? "1" : "0") + "\n";
}

Json bits_json(const BitsRecord& bits) {
  Json out;
  out["bits"] = bits.bits;
  out["images"] = bits.images;
  out["correct"] = bits.correct;
  out["cycles"] = bits.cycles;
  out["stall_cycles"] = bits.stall_cycles;
  out["latency_s"] = bits.latency_s;
  out["energy_j"] = bits.energy_j;
  out["utilization"] = bits.utilization;
  out["weight_bits_read"] = bits.weight_bits_read;
  out["dram_bits"] = bits.dram_bits;
  out["weights_resident"] = bits.weights_resident;
  Json breakdown = Json::object();
  for (int module = 0; module < arch::kModuleCount; ++module) {
    breakdown[arch::module_name(static_cast<arch::Module>(module))] =
        bits.energy_breakdown_j[static_cast<size_t>(module)];
  }
  out["energy_breakdown_j"] = std::move(breakdown);
  out["feasible"] = bits.feasible;
  return out;
}

Json record_json(const Record& record) {
  Json out;
  out["index"] = record.index;
  out["id"] = record.id;
  out["axes"] = record.axes;
  out["status"] = status_name(record.status);
  if (record.status != Status::Ok) {
    out["reason"] = record.reason;
    return out;
  }
  out["area_mm2"] = record.area_mm2;
  Json results = Json::array();
  for (const BitsRecord& bits : record.results) results.push_back(bits_json(bits));
  out["results"] = std::move(results);
  return out;
}

}  // namespace

double BitsRecord::accuracy() const {
  return ratio(static_cast<double>(correct), static_cast<double>(images));
}

const char* status_name(Status status) { return kStatusNames[static_cast<int>(status)]; }

double pre_run_value(Metric metric, const arch::NpuConfig& config, double area_mm2) {
  switch (metric) {
    case Metric::AreaMm2:
      return area_mm2;
    case Metric::Pes:
      return static_cast<double>(config.mac_array.rows) * config.mac_array.cols;
    case Metric::SramKib:
      return static_cast<double>(config.weight_memory.capacity_bits +
                                 config.activation_buffer.capacity_bits) /
             8192;
    default:
      throw Error(std::string(metric_name(metric)) + ": not known before a point runs");
  }
}

double post_run_value(Metric metric, const Record& record, const BitsRecord& bits) {
  switch (metric) {
    case Metric::AreaMm2:
      return record.area_mm2;
    case Metric::Cycles:
      return static_cast<double>(bits.cycles);
    case Metric::LatencyS:
      return bits.latency_s;
    case Metric::EnergyJ:
      return bits.energy_j;
    case Metric::Accuracy:
      return bits.accuracy();
    case Metric::AccuracyPerMcycle:
      return ratio(bits.accuracy(), static_cast<double>(bits.cycles) / 1e6);
    case Metric::AccuracyPerUj:
      return ratio(bits.accuracy(), bits.energy_j * 1e6);
    default:
      throw Error(std::string(metric_name(metric)) + ": a pre-run metric");
  }
}

std::string broken_pre_run_constraint(const Space& space, const arch::NpuConfig& config,
                                      double area_mm2) {
  for (const Constraint& constraint : space.constraints()) {
    if (is_pre_run(constraint.metric) &&
        !constraint.holds(pre_run_value(constraint.metric, config, area_mm2))) {
      return constraint.text;
    }
  }
  return "";
}

bool feasible(const Space& space, const Record& record, const BitsRecord& bits) {
  for (const Constraint& constraint : space.constraints()) {
    if (!is_pre_run(constraint.metric) &&
        !constraint.holds(post_run_value(constraint.metric, record, bits))) {
      return false;
    }
  }
  return true;
}

std::string record_line(const Record& record) {
  return record_json(record).dump(-1, ' ', false, Json::error_handler_t::replace);
}

Record parse_record(const std::string& line, const std::string& where) {
  const nlohmann::json document = parse_json(line, where);
  FieldReader top(document, where, "");
  Record record;
  record.index = static_cast<size_t>(top.integer_in("index", 0, static_cast<int64_t>(kMaxPoints)));
  record.id = top.get<std::string>("id");
  const nlohmann::json& axes = top.require("axes");
  if (!axes.is_object()) top.fail("axes", "must be an object");
  // ordered_json keeps the record's key order: the space's field order.
  record.axes = Json::parse(line).at("axes");
  const std::string status = top.get<std::string>("status");
  const auto* name = std::find(std::begin(kStatusNames), std::end(kStatusNames), status);
  if (name == std::end(kStatusNames)) top.fail("status", "must be ok, filtered or invalid");
  record.status = static_cast<Status>(name - std::begin(kStatusNames));
  if (record.status != Status::Ok) {
    record.reason = top.get<std::string>("reason");
    top.finish();
    return record;
  }
  record.area_mm2 = top.number_in("area_mm2", 0, 0, 1e12, "0..1e12");
  for (FieldReader& row : top.objects("results", 1, "must be a non-empty array")) {
    BitsRecord bits;
    bits.bits = row.int_in("bits", 1, 8);
    bits.images = static_cast<size_t>(row.integer_in("images", 1, INT64_MAX));
    bits.correct = static_cast<size_t>(row.integer_in("correct", 0, static_cast<int64_t>(bits.images)));
    bits.cycles = static_cast<uint64_t>(row.integer_in("cycles", 0, INT64_MAX));
    bits.stall_cycles = static_cast<uint64_t>(row.integer_in("stall_cycles", 0, INT64_MAX));
    bits.latency_s = row.number_in("latency_s", 0, 0, 1e12, "0..1e12");
    bits.energy_j = row.number_in("energy_j", 0, 0, 1e12, "0..1e12");
    bits.utilization = row.number_in("utilization", 0, 0, 1, "0..1");
    bits.weight_bits_read = static_cast<uint64_t>(row.integer_in("weight_bits_read", 0, INT64_MAX));
    bits.dram_bits = static_cast<uint64_t>(row.integer_in("dram_bits", 0, INT64_MAX));
    bits.weights_resident = row.get<bool>("weights_resident");
    FieldReader breakdown = row.required_object("energy_breakdown_j");
    for (int module = 0; module < arch::kModuleCount; ++module) {
      bits.energy_breakdown_j[static_cast<size_t>(module)] = breakdown.number_in(
          arch::module_name(static_cast<arch::Module>(module)), 0, 0, 1e12, "0..1e12");
    }
    breakdown.finish();
    bits.feasible = row.get<bool>("feasible");
    row.finish();
    record.results.push_back(bits);
  }
  top.finish();
  return record;
}

std::vector<std::vector<bool>> pareto_front(const std::vector<Record>& records) {
  struct Candidate {
    double energy, latency, area, accuracy;
    size_t record, bits;
  };
  std::vector<Candidate> candidates;
  std::vector<std::vector<bool>> front(records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    front[r].assign(records[r].results.size(), false);
    if (records[r].status != Status::Ok) continue;
    for (size_t b = 0; b < records[r].results.size(); ++b) {
      const BitsRecord& bits = records[r].results[b];
      if (bits.feasible) {
        candidates.push_back({bits.energy_j, bits.latency_s, records[r].area_mm2,
                              bits.accuracy(), r, b});
      }
    }
  }
  // Sorted by energy, a row can only be dominated by rows before it or with equal energy.
  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return candidates[a].energy < candidates[b].energy;
  });
  std::vector<size_t> kept;
  for (size_t position = 0; position < order.size(); ++position) {
    const Candidate& c = candidates[order[position]];
    bool dominated = false;
    for (size_t other = 0; other < order.size() && !dominated; ++other) {
      const Candidate& d = candidates[order[other]];
      if (d.energy > c.energy) break;
      const bool no_worse = d.energy <= c.energy && d.latency <= c.latency && d.area <= c.area &&
                            d.accuracy >= c.accuracy;
      const bool better = d.energy < c.energy || d.latency < c.latency || d.area < c.area ||
                          d.accuracy > c.accuracy;
      dominated = no_worse && better;
    }
    if (!dominated) front[c.record][c.bits] = true;
  }
  return front;
}

SweepOutputs build_outputs(const Space& space, std::vector<Record> records) {
  std::sort(records.begin(), records.end(),
            [](const Record& a, const Record& b) { return a.index < b.index; });
  const std::vector<std::vector<bool>> front = pareto_front(records);
  SweepOutputs out;
  out.points_csv = out.pareto_csv = csv_header(space);
  Json points = Json::array(), pareto = Json::array();
  std::map<std::string, size_t> counts;
  for (size_t r = 0; r < records.size(); ++r) {
    const Record& record = records[r];
    ++counts[status_name(record.status)];
    Json entry = record_json(record);
    for (size_t b = 0; b < record.results.size(); ++b) {
      const BitsRecord& bits = record.results[b];
      const bool on_front = front[r][b];
      out.points_csv += csv_row(space, record, bits, on_front);
      Json& row = entry["results"][b];
      row["accuracy"] = bits.accuracy();
      row["accuracy_per_mcycle"] = post_run_value(Metric::AccuracyPerMcycle, record, bits);
      row["accuracy_per_uj"] = post_run_value(Metric::AccuracyPerUj, record, bits);
      row["pareto"] = on_front;
      if (on_front) {
        out.pareto_csv += csv_row(space, record, bits, true);
        Json member;
        member["index"] = record.index;
        member["id"] = record.id;
        member["axes"] = record.axes;
        member["area_mm2"] = record.area_mm2;
        member["result"] = row;
        pareto.push_back(std::move(member));
      }
    }
    points.push_back(std::move(entry));
  }
  auto header = [&](const char* format) {
    Json document;
    document["format"] = format;
    document["version"] = kOutputVersion;
    document["space"] = {{"name", space.name()}, {"sha256", space.sha256()}};
    document["fields"] = space.fields();
    document["bits"] = space.bits();
    Json constraints = Json::array();
    for (const Constraint& constraint : space.constraints()) constraints.push_back(constraint.text);
    document["constraints"] = std::move(constraints);
    return document;
  };
  out.points_json = header("bsnpu-sweep-points");
  out.points_json["counts"] = {{"ok", counts["ok"]},
                               {"filtered", counts["filtered"]},
                               {"invalid", counts["invalid"]}};
  out.points_json["points"] = std::move(points);
  out.pareto_json = header("bsnpu-sweep-pareto");
  out.pareto_json["objectives"] = {"energy_j: minimize", "latency_s: minimize",
                                   "accuracy: maximize", "area_mm2: minimize"};
  out.pareto_json["front"] = std::move(pareto);
  return out;
}

}  // namespace bsnpu::sweep
