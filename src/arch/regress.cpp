#include "arch/regress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu::arch {
namespace {

constexpr double kMaxTolerance = 1e6;

const GateMetric* find_metric(const std::string& name) {
  for (const GateMetric& metric : gate_metrics()) {
    if (name == metric.name) return &metric;
  }
  return nullptr;
}

std::string metric_names() {
  std::string out;
  for (const GateMetric& metric : gate_metrics())
    out += (out.empty() ? "" : ", ") + std::string(metric.name);
  return out;
}

// Every metric of `reader`'s object is optional; `k` 0 for every k.
void read_metrics(FieldReader reader, int k, Tolerances& tolerances) {
  for (const GateMetric& metric : gate_metrics()) {
    const double high = metric.points ? 100 : kMaxTolerance;
    const double value =
        reader.number_in(metric.name, -1, 0, high, metric.points ? "0..100" : "0..1000000");
    if (value >= 0) tolerances.set(metric.name, k, value);
  }
  reader.finish();
}

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

std::string value_text(const GateCheck& check, double value) {
  if (check.metric == "accuracy") return format("%.2f %%", value);
  if (check.metric == "cycles") return format("%.0f", value);
  if (check.metric == "energy") return format("%.6g uJ", value);
  return format("%.6g", value);
}

std::string delta_text(const GateCheck& check, double delta) {
  return format("%+.2f", delta) + (check.points ? " points" : " %");
}

std::string tolerance_text(const GateCheck& check) {
  return format("%.2f", check.tolerance) + (check.points ? " points" : " %");
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

const std::vector<GateMetric>& gate_metrics() {
  static const std::vector<GateMetric> metrics = {{"accuracy", true, 0.5},
                                                  {"cycles", false, 1},
                                                  {"energy", false, 1},
                                                  {"accuracy_per_mcycle", false, 1},
                                                  {"accuracy_per_uj", false, 1}};
  return metrics;
}

Tolerances::Tolerances() {
  for (const GateMetric& metric : gate_metrics()) all_bits_[metric.name] = metric.default_tolerance;
}

void Tolerances::set(const std::string& metric, int k, double value) {
  if (k == 0) {
    all_bits_[metric] = value;
    for (auto it = per_bits_.begin(); it != per_bits_.end();) {
      it = it->first.first == metric ? per_bits_.erase(it) : std::next(it);
    }
  } else {
    per_bits_[{metric, k}] = value;
  }
}

Tolerances Tolerances::parse(const std::string& json_text, const std::string& file) {
  const nlohmann::json document = parse_json(json_text, file);
  FieldReader top(document, file, "");
  top.header("bsnpu-tolerances", 1);
  Tolerances tolerances;
  read_metrics(top.object("default"), 0, tolerances);
  FieldReader bits = top.object("bits");
  for (auto it = bits.raw().begin(); it != bits.raw().end(); ++it) {
    const std::string& key = it.key();
    if (key.size() != 1 || key[0] < '1' || key[0] > '8') bits.fail(key, "must be a k in 1..8");
    read_metrics(bits.object(key), key[0] - '0', tolerances);
  }
  bits.finish();
  top.finish();
  return tolerances;
}

Tolerances Tolerances::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "a tolerances file"), path);
}

void Tolerances::apply_flag(const std::string& text) {
  const auto fail = [&](const std::string& why) -> void {
    throw Error("--tol: '" + printable(text) + "': " + why);
  };
  const size_t equals = text.find('=');
  if (equals == std::string::npos) fail("expected METRIC=VALUE or METRIC@K=VALUE");
  std::string metric = text.substr(0, equals);
  int k = 0;
  const size_t at = metric.find('@');
  if (at != std::string::npos) {
    const std::string bits = metric.substr(at + 1);
    if (bits.size() != 1 || bits[0] < '1' || bits[0] > '8') fail("K must be in 1..8");
    k = bits[0] - '0';
    metric.resize(at);
  }
  const GateMetric* gate = find_metric(metric);
  if (!gate) fail("unknown metric '" + printable(metric) + "' (metrics: " + metric_names() + ")");
  const std::string number = text.substr(equals + 1);
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(number, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const double high = gate->points ? 100 : kMaxTolerance;
  if (number.empty() || used != number.size() || !(value >= 0 && value <= high)) {
    fail(std::string("VALUE must be a number in ") +
         (gate->points ? "0..100 (points)" : "0..1000000 (%)"));
  }
  set(metric, k, value);
}

void Tolerances::apply_flags(const std::vector<std::string>& flags) {
  for (const bool per_k : {false, true}) {
    for (const std::string& flag : flags) {
      const size_t equals = flag.find('=');
      if ((flag.substr(0, equals).find('@') != std::string::npos) == per_k) apply_flag(flag);
    }
  }
}

double Tolerances::get(const std::string& metric, int k) const {
  const auto it = per_bits_.find({metric, k});
  return it != per_bits_.end() ? it->second : all_bits_.at(metric);
}

bool GateResult::passed() const { return failures() == 0; }

size_t GateResult::failures() const {
  return static_cast<size_t>(std::count_if(checks.begin(), checks.end(),
                                           [](const GateCheck& check) { return !check.passed; }));
}

void check_comparable(const ReportFigures& baseline, const ReportFigures& report) {
  const std::string against = " (baseline " + baseline.file + ")";
  if (report.bits() != baseline.bits()) {
    throw Error(report.file + ": results: k = " + bits_list(report.bits()) +
                ", the baseline has k = " + bits_list(baseline.bits()) + against);
  }
  if (report.model_macs != baseline.model_macs || report.model_weights != baseline.model_weights) {
    throw Error(report.file + ": model: another network (" + std::to_string(report.model_macs) +
                " MACs, " + std::to_string(report.model_weights) + " weights; the baseline has " +
                std::to_string(baseline.model_macs) + " MACs, " +
                std::to_string(baseline.model_weights) + " weights)" + against);
  }
  for (size_t index = 0; index < report.results.size(); ++index) {
    if (report.results[index].images != baseline.results[index].images) {
      throw Error(report.file + ": results[" + std::to_string(index) + "].images: " +
                  std::to_string(report.results[index].images) + " images, the baseline has " +
                  std::to_string(baseline.results[index].images) + against);
    }
  }
  if (report.data_sha256 != baseline.data_sha256) {
    throw Error(report.file + ": data.sha256: other images than the baseline's" + against);
  }
}

GateResult regress(const ReportFigures& baseline, const ReportFigures& report,
                   const Tolerances& tolerances) {
  check_comparable(baseline, report);
  GateResult result;
  result.baseline_file = baseline.file;
  result.report_file = report.file;
  for (size_t index = 0; index < report.results.size(); ++index) {
    const BitsFigures& before = baseline.results[index];
    const BitsFigures& after = report.results[index];
    for (const GateMetric& metric : gate_metrics()) {
      GateCheck check;
      check.bits = after.bits;
      check.metric = metric.name;
      check.points = metric.points;
      const double scale = metric_info(metric.name).scale;
      check.baseline = before.get(metric.name) * scale;
      check.current = after.get(metric.name) * scale;
      check.tolerance = tolerances.get(metric.name, after.bits);
      if (metric.points) {
        check.delta = check.current - check.baseline;
      } else if (check.baseline > 0) {
        check.delta = 100 * (check.current - check.baseline) / check.baseline;
      } else {
        check.delta = check.current > 0 ? std::numeric_limits<double>::infinity() : 0;
      }
      // The change in the bad direction must stay within the tolerance.
      const double worse =
          metric_info(metric.name).better == Better::Higher ? -check.delta : check.delta;
      check.passed = worse <= check.tolerance;
      result.checks.push_back(check);
    }
  }
  return result;
}

std::string describe(const GateCheck& check) {
  return "k=" + std::to_string(check.bits) + " " + check.metric + ": baseline " +
         value_text(check, check.baseline) + ", new " + value_text(check, check.current) +
         ", delta " + delta_text(check, check.delta) + ", tolerance " + tolerance_text(check);
}

std::string junit_xml(const GateResult& result) {
  std::string cases;
  for (const GateCheck& check : result.checks) {
    cases += "    <testcase classname=\"bsnpu.regress.k" + std::to_string(check.bits) +
             "\" name=\"" + check.metric + "\" time=\"0\">";
    if (check.passed) {
      cases += "<system-out>" + xml_escape(describe(check)) + "</system-out></testcase>\n";
    } else {
      cases += "\n      <failure message=\"" + xml_escape(describe(check)) +
               "\" type=\"regression\">" + xml_escape(describe(check)) +
               "</failure>\n    </testcase>\n";
    }
  }
  const std::string counts = "tests=\"" + std::to_string(result.checks.size()) + "\" failures=\"" +
                             std::to_string(result.failures()) + "\" errors=\"0\"";
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"bsnpu regress\" " +
         counts + ">\n  <testsuite name=\"bsnpu regress: " + xml_escape(result.report_file) +
         " against " + xml_escape(result.baseline_file) + "\" " + counts + " skipped=\"0\">\n" +
         cases + "  </testsuite>\n</testsuites>\n";
}

std::string markdown_summary(const GateResult& result) {
  const auto code = [](const std::string& text) {
    std::string out;
    for (const char c : text) out += c == '`' || c == '|' ? '_' : c;
    return "`" + out + "`";
  };
  std::string out =
      "### bsnpu regress: " + std::string(result.passed() ? "pass" : "**REGRESSION**") + "\n\n" +
      code(result.report_file) + " against the baseline " + code(result.baseline_file) + ": " +
      std::to_string(result.checks.size()) + " checks, " + std::to_string(result.failures()) +
      " failed.\n\n" +
      "| k | metric | baseline | new | delta | tolerance | |\n"
      "|---:|---|---:|---:|---:|---:|---|\n";
  for (const GateCheck& check : result.checks) {
    out += "| " + std::to_string(check.bits) + " | " + check.metric + " | " +
           value_text(check, check.baseline) + " | " + value_text(check, check.current) + " | " +
           delta_text(check, check.delta) + " | " + tolerance_text(check) + " | " +
           (check.passed ? "pass" : "**FAIL**") + " |\n";
  }
  return out;
}

}  // namespace bsnpu::arch
