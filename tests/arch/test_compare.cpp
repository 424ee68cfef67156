// bsnpu compare and bsnpu regress, the logic: resolved configs (NpuConfig::to_json), the config
// diff, reading reports back, the per-k comparison, the gate and its tolerances, JUnit and
// Markdown. Reports are the crafted ones of tests/arch/data/reports/ (base.json and variants of
// it, see the README there).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "arch/compare.h"
#include "arch/regress.h"
#include "core/error.h"
#include "core/json_fields.h"
#include "test_support.h"

namespace bsnpu::arch {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";
const std::string kReports = BSNPU_SOURCE_DIR "/tests/arch/data/reports/";

using test::error_of;

nlohmann::json report_json(const std::string& name) {
  return parse_json(read_text_file(kReports + name), name);
}

ReportFigures report(const std::string& name) { return read_report(report_json(name), name); }

NpuConfig minimal_config(const std::string& extra = "") {
  return NpuConfig::parse(R"({"format": "bsnpu-config", "version": 1, "name": "m")" + extra + "}",
                          kConfigs + "m.json");
}

const CompareRow* find_row(const Comparison& comparison, const std::string& section,
                           const std::string& name) {
  for (const CompareSection& candidate : comparison.sections) {
    if (candidate.heading != section) continue;
    for (const CompareRow& row : candidate.rows) {
      if (row.name == name) return &row;
    }
  }
  return nullptr;
}

std::vector<std::string> failing(const GateResult& result) {
  std::vector<std::string> out;
  for (const GateCheck& check : result.checks) {
    if (!check.passed) out.push_back(check.metric + "@" + std::to_string(check.bits));
  }
  return out;
}

TEST(ResolvedConfig, FillsEveryDefault) {
  const nlohmann::ordered_json resolved = minimal_config().to_json();
  EXPECT_EQ(resolved["mac_array"]["rows"], 64);
  EXPECT_EQ(resolved["mac_array"]["organisation"], "adder_tree");
  EXPECT_EQ(resolved["accumulator"]["banks"], 64);      // mac_array.cols
  EXPECT_EQ(resolved["accumulator"]["port_bits"], 64);  // 2 x bits
  EXPECT_EQ(resolved["weight_memory"]["capacity_kib"], 512);
  EXPECT_EQ(resolved["activation_buffer"]["capacity_kib"], 256);
  EXPECT_EQ(resolved["dram"]["technology"], "ideal");
  EXPECT_EQ(resolved["dram"]["bandwidth_gbytes_per_s"], 16.0);
  EXPECT_EQ(resolved["energy_table"], "energy/45nm_horowitz.json");
}

TEST(ResolvedConfig, ParsesBackToItself) {
  for (const char* name : {"default.json", "edge.json", "large.json", "scalesim_ws64.json"}) {
    const nlohmann::ordered_json resolved = NpuConfig::load(kConfigs + name).to_json();
    EXPECT_EQ(NpuConfig::parse(resolved.dump(), name).to_json(), resolved) << name;
  }
  const NpuConfig unlimited = minimal_config(
      R"(, "weight_memory": {"port_bits": "unlimited"}, "accumulator": {"port_bits": "unlimited"},
         "dram": {"technology": "hbm2", "bandwidth_gbytes_per_s": "unlimited"})");
  const nlohmann::ordered_json resolved = unlimited.to_json();
  EXPECT_EQ(resolved["weight_memory"]["port_bits"], "unlimited");
  EXPECT_EQ(resolved["accumulator"]["port_bits"], "unlimited");
  EXPECT_EQ(resolved["dram"]["bandwidth_gbytes_per_s"], "unlimited");
  EXPECT_EQ(resolved["dram"]["latency_ns"], 33.0);  // the hbm2 preset's
  EXPECT_EQ(NpuConfig::parse(resolved.dump(), "u.json").to_json(), resolved);
}

TEST(CompareConfigs, DefaultsWrittenOutAreNoDifference) {
  const NpuConfig a = minimal_config();
  const NpuConfig b = minimal_config(R"(, "mac_array": {"rows": 64, "cols": 64},
      "accumulator": {"banks": 64}, "dram": {"technology": "ideal", "latency_ns": 100})");
  const EnergyTable table = EnergyTable::load(a.energy_table_path());
  const Comparison comparison = compare_configs({{&a, &table}, {&b, &table}}, 8);
  EXPECT_TRUE(comparison.sections.empty());
  EXPECT_NE(render_text(comparison).find("no differences"), std::string::npos);
}

TEST(CompareConfigs, ShowsOnlyWhatDiffersWithUnitsAndDerivedFigures) {
  const NpuConfig a = minimal_config();
  const NpuConfig b = minimal_config(R"(, "mac_array": {"rows": 32})");
  const EnergyTable table = EnergyTable::load(a.energy_table_path());
  const Comparison comparison = compare_configs({{&a, &table}, {&b, &table}}, 8);
  ASSERT_EQ(comparison.sections.size(), 2u);
  ASSERT_EQ(comparison.sections[0].rows.size(), 1u);
  const CompareRow& rows = comparison.sections[0].rows[0];
  EXPECT_EQ(rows.name, "mac_array.rows");
  EXPECT_EQ(rows.unit, "PEs");
  EXPECT_EQ(row_delta(rows, 1), -32.0);
  EXPECT_EQ(row_ratio(rows, 1), 0.5);
  const CompareRow* pes = find_row(comparison, "derived", "pes");
  ASSERT_NE(pes, nullptr);
  EXPECT_EQ(pes->values[1], 2048.0);
  const CompareRow* peak = find_row(comparison, "derived", "peak_macs_per_s_k8");
  ASSERT_NE(peak, nullptr);
  EXPECT_DOUBLE_EQ(peak->values[0].get<double>(), 4096 * 500e6 / 8 / 1e9);
  const CompareRow* area = find_row(comparison, "derived", "area_mm2.mac_array");
  ASSERT_NE(area, nullptr);
  EXPECT_LT(area->values[1].get<double>(), area->values[0].get<double>());
  // Unchanged derived figures (the SRAM, the DRAM) are not shown.
  EXPECT_EQ(find_row(comparison, "derived", "sram_kib"), nullptr);
  EXPECT_EQ(find_row(comparison, "derived", "area_mm2.weight_memory"), nullptr);
}

TEST(CompareConfigs, StringsHaveNoDelta) {
  const NpuConfig a = minimal_config();
  const NpuConfig b = minimal_config(R"(, "dram": {"technology": "ddr4"})");
  const EnergyTable table = EnergyTable::load(a.energy_table_path());
  const Comparison comparison = compare_configs({{&a, &table}, {&b, &table}}, 8);
  const CompareRow* technology = find_row(comparison, "fields", "dram.technology");
  ASSERT_NE(technology, nullptr);
  EXPECT_TRUE(row_delta(*technology, 1).is_null());
  // The preset's peak and latency replace the defaults: resolved, they differ too.
  EXPECT_NE(find_row(comparison, "fields", "dram.bandwidth_gbytes_per_s"), nullptr);
  EXPECT_NE(find_row(comparison, "fields", "dram.latency_ns"), nullptr);
}

TEST(DocumentKind, ByFormat) {
  EXPECT_EQ(document_kind(report_json("base.json"), "r.json"), DocumentKind::Report);
  EXPECT_EQ(document_kind(nlohmann::json::parse(R"({"format": "bsnpu-config"})"), "c.json"),
            DocumentKind::Config);
  EXPECT_EQ(error_of([] { document_kind(nlohmann::json::parse(R"({"a": 1})"), "x.json"); }),
            "x.json: format: neither an NPU config (\"bsnpu-config\") nor a run report "
            "(\"bsnpu-report\")");
  EXPECT_NE(error_of([] { document_kind(nlohmann::json::parse("[1]"), "x.json"); }), "(no error)");
}

TEST(ReadReport, Figures) {
  const ReportFigures base = report("base.json");
  EXPECT_EQ(base.bits(), (std::vector<int>{1, 8}));
  EXPECT_EQ(base.config_name, "default");
  const BitsFigures& k8 = base.results[1];
  EXPECT_EQ(k8.images, 1000u);
  EXPECT_DOUBLE_EQ(k8.get("accuracy"), 0.937);
  EXPECT_DOUBLE_EQ(k8.get("accuracy_per_uj"), 0.937 / (k8.get("energy") * 1e6));
  EXPECT_DOUBLE_EQ(k8.get("area"), base.area_mm2);
  double modules = 0;
  for (const auto& [name, value] : k8.metrics) {
    if (name.rfind("energy.", 0) == 0) modules += value;
  }
  EXPECT_NEAR(modules, k8.get("energy"), 1e-12);
}

TEST(ReadReport, ErrorsNameFileAndField) {
  const auto error = [](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json document = report_json("base.json");
    change(document);
    return error_of([&] { read_report(document, "r.json"); });
  };
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"][1].erase("cycles"); }),
            "r.json: results[1].cycles: missing");
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"][0]["energy_j"] = -1; }),
            "r.json: results[0].energy_j: must be a number >= 0");
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"][0]["accuracy"] = 1.5; }),
            "r.json: results[0].accuracy: must be a number in 0..1");
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"][1]["bits"] = 1; }),
            "r.json: results: entries must be in increasing k, each k once");
  EXPECT_EQ(error([](nlohmann::json& d) { d["version"] = 2; }),
            "r.json: version: must be the integer 1");
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"] = nlohmann::json::array(); }),
            "r.json: results: must be a non-empty array of objects");
  EXPECT_EQ(error([](nlohmann::json& d) { d["results"][0]["stall_breakdown"]["dram"] = "x"; }),
            "r.json: results[0].stall_breakdown.dram: must be a number >= 0");
}

TEST(CompareReports, MetricsPerKWithDeltasAndRatios) {
  const Comparison comparison = compare_reports({report("base.json"), report("slower_k8.json")});
  ASSERT_EQ(comparison.sections.size(), 2u);
  EXPECT_EQ(comparison.sections[1].heading, "k=8");
  const CompareRow* accuracy = find_row(comparison, "k=8", "accuracy");
  ASSERT_NE(accuracy, nullptr);
  EXPECT_EQ(accuracy->unit, "%");
  EXPECT_DOUBLE_EQ(accuracy->values[0].get<double>(), 93.7);
  EXPECT_EQ(row_delta(*accuracy, 1), 0.0);
  const CompareRow* cycles = find_row(comparison, "k=8", "cycles");
  ASSERT_NE(cycles, nullptr);
  EXPECT_NEAR(row_ratio(*cycles, 1).get<double>(), 1.05, 1e-6);
  EXPECT_EQ(row_ratio(*find_row(comparison, "k=1", "cycles"), 1), 1.0);
  for (const char* name : {"latency", "energy", "energy.dram", "stall.dram", "accuracy_per_uj",
                           "accuracy_per_mcycle", "area", "images_per_s_per_mm2"}) {
    EXPECT_NE(find_row(comparison, "k=1", name), nullptr) << name;
  }
  EXPECT_TRUE(comparison.notes.empty());
}

TEST(CompareReports, ThreeFilesMissingKAndNotes) {
  const Comparison comparison =
      compare_reports({report("base.json"), report("other_bits.json"), report("other_images.json")},
                      {"accuracy", "energy.*"});
  ASSERT_EQ(comparison.sections.size(), 3u);  // k = 1, 4, 8
  const CompareRow* k4 = find_row(comparison, "k=4", "accuracy");
  ASSERT_NE(k4, nullptr);
  EXPECT_TRUE(k4->values[0].is_null());
  EXPECT_FALSE(k4->values[1].is_null());
  EXPECT_TRUE(row_delta(*k4, 1).is_null());
  EXPECT_EQ(comparison.sections[0].rows.size(), 1u + 5u);  // accuracy and the 5 modules
  EXPECT_EQ(find_row(comparison, "k=1", "energy"), nullptr);
  ASSERT_EQ(comparison.notes.size(), 2u);
  EXPECT_EQ(comparison.notes[0], "other_bits.json: results: k = 1,4, base.json has k = 1,8");
  EXPECT_EQ(comparison.notes[1],
            "other_images.json: data.sha256: other images than base.json: accuracy is not over "
            "the same images");
  const std::string markdown = render_markdown(comparison);
  EXPECT_NE(markdown.find("| metric | unit | A | B | B-A | B/A | C | C-A | C/A |"),
            std::string::npos);
  EXPECT_NE(markdown.find("#### k=4"), std::string::npos);
  const nlohmann::ordered_json json = render_json(comparison);
  EXPECT_EQ(json["kind"], "report");
  EXPECT_EQ(json["files"].size(), 3u);
  EXPECT_EQ(json["sections"][0]["rows"][0]["deltas"].size(), 2u);
}

TEST(CompareReports, UnknownMetricIsAnError) {
  EXPECT_EQ(error_of([] {
              compare_reports({report("base.json"), report("base.json")}, {"cyc"});
            }).rfind("--metrics: no metric 'cyc' (metrics: accuracy, cycles, ", 0),
            0u);
}

TEST(Regress, SameReportPasses) {
  const GateResult result = regress(report("base.json"), report("base.json"), Tolerances());
  EXPECT_TRUE(result.passed());
  EXPECT_EQ(result.checks.size(), 2u * gate_metrics().size());
}

TEST(Regress, ImprovementsPass) {
  EXPECT_TRUE(regress(report("base.json"), report("better.json"), Tolerances()).passed());
  // ... and the base is a regression against them.
  EXPECT_EQ(failing(regress(report("better.json"), report("base.json"), Tolerances())),
            (std::vector<std::string>{"cycles@1", "energy@1", "accuracy_per_mcycle@1",
                                      "accuracy_per_uj@1", "cycles@8", "energy@8",
                                      "accuracy_per_mcycle@8", "accuracy_per_uj@8"}));
}

TEST(Regress, InjectedCycleRegressionNamesTheMetric) {
  const GateResult result = regress(report("base.json"), report("slower_k8.json"), Tolerances());
  EXPECT_FALSE(result.passed());
  EXPECT_EQ(failing(result), (std::vector<std::string>{"cycles@8", "accuracy_per_mcycle@8"}));
  const GateCheck& cycles = result.checks[gate_metrics().size() + 1];
  EXPECT_EQ(describe(cycles),
            "k=8 cycles: baseline 1097785, new 1152674, delta +5.00 %, tolerance 1.00 %");
  // Within a wider tolerance, for k = 8 only.
  Tolerances tolerances;
  tolerances.apply_flags({"cycles@8=6", "accuracy_per_mcycle=5"});
  EXPECT_TRUE(regress(report("base.json"), report("slower_k8.json"), tolerances).passed());
}

TEST(Regress, AccuracyInPoints) {
  const GateResult result =
      regress(report("base.json"), report("less_accurate_k1.json"), Tolerances());
  EXPECT_EQ(failing(result),
            (std::vector<std::string>{"accuracy@1", "accuracy_per_mcycle@1", "accuracy_per_uj@1"}));
  EXPECT_EQ(describe(result.checks[0]),
            "k=1 accuracy: baseline 75.00 %, new 74.20 %, delta -0.80 points, tolerance 0.50 "
            "points");
  Tolerances tolerances;
  tolerances.apply_flags({"accuracy=0.8", "accuracy_per_mcycle=1.1", "accuracy_per_uj=1.1"});
  EXPECT_TRUE(regress(report("base.json"), report("less_accurate_k1.json"), tolerances).passed());
}

TEST(Regress, IncomparableReportsAreErrors) {
  const ReportFigures base = report("base.json");
  EXPECT_EQ(error_of([&] { regress(base, report("other_bits.json"), Tolerances()); }),
            "other_bits.json: results: k = 1,4, the baseline has k = 1,8 (baseline base.json)");
  EXPECT_EQ(error_of([&] { regress(base, report("other_images.json"), Tolerances()); }),
            "other_images.json: data.sha256: other images than the baseline's (baseline "
            "base.json)");
  EXPECT_EQ(error_of([&] {
              regress(base, report("other_model.json"), Tolerances());
            }).rfind("other_model.json: model: another network (", 0),
            0u);
  nlohmann::json fewer = report_json("base.json");
  fewer["results"][1]["images"] = 100;
  EXPECT_EQ(error_of([&] { regress(base, read_report(fewer, "f.json"), Tolerances()); }),
            "f.json: results[1].images: 100 images, the baseline has 1000 (baseline base.json)");
}

TEST(Tolerances, DefaultsFileAndFlags) {
  const Tolerances defaults;
  EXPECT_EQ(defaults.get("accuracy", 3), 0.5);
  EXPECT_EQ(defaults.get("cycles", 3), 1.0);
  Tolerances tolerances = Tolerances::parse(
      R"({"format": "bsnpu-tolerances", "version": 1, "default": {"cycles": 2, "energy": 3},
          "bits": {"1": {"accuracy": 4}, "8": {"cycles": 0}}})",
      "t.json");
  EXPECT_EQ(tolerances.get("cycles", 1), 2.0);
  EXPECT_EQ(tolerances.get("cycles", 8), 0.0);
  EXPECT_EQ(tolerances.get("energy", 5), 3.0);
  EXPECT_EQ(tolerances.get("accuracy", 1), 4.0);
  EXPECT_EQ(tolerances.get("accuracy", 2), 0.5);
  EXPECT_EQ(tolerances.get("accuracy_per_uj", 2), 1.0);
  // Every-k flags override the file, per-k ones, whatever their order, override those.
  tolerances.apply_flags({"cycles@1=7", "cycles=5"});
  EXPECT_EQ(tolerances.get("cycles", 8), 5.0);
  EXPECT_EQ(tolerances.get("cycles", 1), 7.0);
}

TEST(Tolerances, ErrorsNameFileAndField) {
  const auto error = [](const std::string& body) {
    return error_of([&] {
      Tolerances::parse(R"({"format": "bsnpu-tolerances", "version": 1)" + body + "}", "t.json");
    });
  };
  EXPECT_EQ(error(R"(, "default": {"cycle": 1})"), "t.json: default.cycle: unknown key");
  EXPECT_EQ(error(R"(, "default": {"accuracy": 101})"),
            "t.json: default.accuracy: must be a number in 0..100");
  EXPECT_EQ(error(R"(, "default": {"energy": -1})"),
            "t.json: default.energy: must be a number in 0..1000000");
  EXPECT_EQ(error(R"(, "bits": {"9": {}})"), "t.json: bits.9: must be a k in 1..8");
  EXPECT_EQ(error(R"(, "bits": {"1": 2})"), "t.json: bits.1: must be an object");
  EXPECT_EQ(error(R"(, "extra": 1)"), "t.json: extra: unknown key");
  EXPECT_EQ(error_of([] { Tolerances::parse("{", "t.json"); }).rfind("t.json: invalid JSON", 0),
            0u);
  Tolerances tolerances;
  EXPECT_EQ(error_of([&] { tolerances.apply_flag("cycles"); }),
            "--tol: 'cycles': expected METRIC=VALUE or METRIC@K=VALUE");
  EXPECT_EQ(error_of([&] { tolerances.apply_flag("cycle=1"); }),
            "--tol: 'cycle=1': unknown metric 'cycle' (metrics: accuracy, cycles, energy, "
            "accuracy_per_mcycle, accuracy_per_uj)");
  EXPECT_EQ(error_of([&] { tolerances.apply_flag("cycles@0=1"); }),
            "--tol: 'cycles@0=1': K must be in 1..8");
  EXPECT_EQ(error_of([&] { tolerances.apply_flag("accuracy=x"); }),
            "--tol: 'accuracy=x': VALUE must be a number in 0..100 (points)");
  EXPECT_EQ(error_of([&] { tolerances.apply_flag("energy=1%"); }),
            "--tol: 'energy=1%': VALUE must be a number in 0..1000000 (%)");
}

TEST(RegressOutputs, JunitHasOneTestcasePerKAndMetric) {
  ReportFigures slower = report("slower_k8.json");
  slower.file = "a&b<c>.json";
  const std::string xml = junit_xml(regress(report("base.json"), slower, Tolerances()));
  size_t testcases = 0, failures = 0;
  for (size_t at = xml.find("<testcase "); at != std::string::npos;
       at = xml.find("<testcase ", at + 1)) {
    ++testcases;
  }
  for (size_t at = xml.find("<failure "); at != std::string::npos;
       at = xml.find("<failure ", at + 1)) {
    ++failures;
  }
  EXPECT_EQ(testcases, 10u);
  EXPECT_EQ(failures, 2u);
  EXPECT_NE(xml.find("tests=\"10\" failures=\"2\""), std::string::npos);
  EXPECT_NE(xml.find("<testcase classname=\"bsnpu.regress.k8\" name=\"cycles\""),
            std::string::npos);
  EXPECT_NE(xml.find("a&amp;b&lt;c&gt;.json"), std::string::npos);
  EXPECT_EQ(xml.find("a&b"), std::string::npos);
  const std::string markdown =
      markdown_summary(regress(report("base.json"), report("slower_k8.json"), Tolerances()));
  EXPECT_EQ(markdown.rfind("### bsnpu regress: **REGRESSION**", 0), 0u);
  EXPECT_NE(markdown.find("| 8 | cycles | 1097785 | 1152674 | +5.00 % | 1.00 % | **FAIL** |"),
            std::string::npos);
}

}  // namespace
}  // namespace bsnpu::arch
