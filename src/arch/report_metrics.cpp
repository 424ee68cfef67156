#include "arch/report_metrics.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/json_fields.h"

namespace bsnpu::arch {
namespace {

double figure(FieldReader& reader, const std::string& key) {
  const nlohmann::json& value = reader.require(key);
  if (!value.is_number() || !(value.get<double>() >= 0) || !std::isfinite(value.get<double>())) {
    reader.fail(key, "must be a number >= 0");
  }
  return value.get<double>();
}

// Every entry of the object at `key` (module -> J, reason -> cycles), in the report's order.
void breakdown(FieldReader& reader, const std::string& key, const std::string& prefix,
               std::vector<std::pair<std::string, double>>& metrics) {
  FieldReader object = reader.required_object(key);
  for (auto it = object.raw().begin(); it != object.raw().end(); ++it) {
    metrics.emplace_back(prefix + it.key(), figure(object, it.key()));
  }
}

BitsFigures read_bits(FieldReader& entry, double area_mm2) {
  BitsFigures bits;
  bits.bits = entry.int_in("bits", 1, 8);
  bits.images = static_cast<uint64_t>(entry.integer_in("images", 1, int64_t{1} << 40));
  auto& metrics = bits.metrics;
  const double accuracy = entry.number_in("accuracy", -1, 0, 1, "0..1");
  if (accuracy < 0) entry.fail("accuracy", "missing");
  const double energy_j = figure(entry, "energy_j");
  metrics.emplace_back("accuracy", accuracy);
  metrics.emplace_back("cycles", figure(entry, "cycles"));
  metrics.emplace_back("latency", figure(entry, "latency_s"));
  metrics.emplace_back("energy", energy_j);
  breakdown(entry, "energy_breakdown_j", "energy.", metrics);
  metrics.emplace_back("leakage", figure(entry, "leakage_j"));
  metrics.emplace_back("accuracy_per_mcycle", figure(entry, "accuracy_per_mcycle"));
  metrics.emplace_back("accuracy_per_uj", energy_j > 0 ? accuracy / (energy_j * 1e6) : 0);
  metrics.emplace_back("images_per_s_per_mm2", figure(entry, "images_per_s_per_mm2"));
  metrics.emplace_back("area", area_mm2);
  metrics.emplace_back("utilization", figure(entry, "utilization"));
  metrics.emplace_back("stall_cycles", figure(entry, "stall_cycles"));
  breakdown(entry, "stall_breakdown", "stall.", metrics);
  metrics.emplace_back("weight_bits_read", figure(entry, "weight_bits_read"));
  metrics.emplace_back("dram_bits", figure(entry, "dram_bits"));
  return bits;
}

}  // namespace

MetricInfo metric_info(const std::string& name) {
  if (name == "accuracy" || name == "utilization") return {"%", 100, Better::Higher};
  if (name == "latency") return {"ms", 1e3, Better::Lower};
  if (name == "energy" || name == "leakage" || name.rfind("energy.", 0) == 0) {
    return {"uJ", 1e6, Better::Lower};
  }
  if (name == "accuracy_per_mcycle") return {"1/Mcycle", 1, Better::Higher};
  if (name == "accuracy_per_uj") return {"1/uJ", 1, Better::Higher};
  if (name == "images_per_s_per_mm2") return {"1/(s mm2)", 1, Better::Higher};
  if (name == "area") return {"mm2", 1, Better::Lower};
  if (name == "weight_bits_read" || name == "dram_bits") return {"Mbit", 1e-6, Better::Lower};
  return {"cycles", 1, Better::Lower};  // cycles, stall_cycles, stall.<reason>
}

const double* BitsFigures::find(const std::string& name) const {
  for (const auto& [metric, value] : metrics) {
    if (metric == name) return &value;
  }
  return nullptr;
}

double BitsFigures::get(const std::string& name) const {
  if (const double* value = find(name)) return *value;
  throw Error("k=" + std::to_string(bits) + ": no metric " + name);
}

const BitsFigures* ReportFigures::find(int k) const {
  for (const BitsFigures& entry : results) {
    if (entry.bits == k) return &entry;
  }
  return nullptr;
}

std::vector<int> ReportFigures::bits() const {
  std::vector<int> out;
  for (const BitsFigures& entry : results) out.push_back(entry.bits);
  return out;
}

ReportFigures read_report(const nlohmann::json& document, const std::string& file) {
  FieldReader top(document, file, "");
  top.header("bsnpu-report", 1);
  ReportFigures report;
  report.file = file;
  FieldReader config = top.required_object("config");
  report.config_name = config.string("name", "", true);
  FieldReader model = top.required_object("model");
  report.model_manifest = model.string("manifest", "", true);
  report.model_tensors_sha256 = model.string("tensors_sha256", "", true);
  report.act_bits = model.int_in("act_bits", 1, 8);
  report.model_weights = static_cast<uint64_t>(model.integer_in("weights", 0, int64_t{1} << 50));
  report.model_macs = static_cast<uint64_t>(model.integer_in("macs", 0, int64_t{1} << 50));
  report.data_sha256 = top.required_object("data").string("sha256", "", true);
  FieldReader area = top.required_object("area_mm2");
  report.area_mm2 = figure(area, "total");
  for (FieldReader& entry : top.objects("results", 1, "must be a non-empty array of objects")) {
    BitsFigures bits = read_bits(entry, report.area_mm2);
    if (!report.results.empty() && bits.bits <= report.results.back().bits) {
      top.fail("results", "entries must be in increasing k, each k once");
    }
    report.results.push_back(std::move(bits));
  }
  return report;
}

std::string bits_list(const std::vector<int>& bits) {
  std::string out;
  for (size_t i = 0; i < bits.size();) {
    size_t j = i;
    while (j + 1 < bits.size() && bits[j + 1] == bits[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(bits[i]);
    if (j > i) out += "-" + std::to_string(bits[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace bsnpu::arch
