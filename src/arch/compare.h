// `bsnpu compare`: NPU configs or run reports side by side (docs/ci-regression.md). Configs: a
// semantic diff of the resolved configs (every default filled in, units shown), only the fields
// and derived figures that differ. Reports: every metric per k. The first file is the reference:
// the others get a delta and a ratio against it. Rendered as text, Markdown or JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arch/config.h"
#include "arch/report_metrics.h"

namespace bsnpu::arch {

enum class DocumentKind { Config, Report };
// By the document's "format": "bsnpu-config" or "bsnpu-report"; throws "FILE: format: ..." for
// anything else.
DocumentKind document_kind(const nlohmann::json& document, const std::string& file);

struct CompareRow {
  std::string name;
  std::string unit;  // "" when the value has none
  std::vector<nlohmann::ordered_json>
      values;  // one per file, in `unit`; null where a file has none
};
struct CompareSection {
  std::string heading;  // "fields", "derived", "k=4"
  std::vector<CompareRow> rows;
};
struct Comparison {
  DocumentKind kind = DocumentKind::Config;
  std::vector<std::string> files;  // as given; the first is the reference
  std::vector<std::string> names;  // each config's name
  std::vector<std::string> notes;  // what makes the files less comparable than they look
  std::vector<CompareSection> sections;
};

// A config's derived figures need its energy table (the area) and the model's activation width.
struct ConfigInput {
  const NpuConfig* config = nullptr;
  const EnergyTable* table = nullptr;
};
Comparison compare_configs(const std::vector<ConfigInput>& configs, int act_bits);
// `metrics`: the rows to keep (names as in report_metrics.h, "energy.*" and "stall.*" for a whole
// breakdown); empty keeps every metric. Throws bsnpu::Error on a name no report has.
Comparison compare_reports(const std::vector<ReportFigures>& reports,
                           const std::vector<std::string>& metrics = {});

// Other file minus the reference, other / reference; null unless both are numbers (and, for the
// ratio, the reference is not 0).
nlohmann::ordered_json row_delta(const CompareRow& row, size_t file);
nlohmann::ordered_json row_ratio(const CompareRow& row, size_t file);

std::string render_text(const Comparison& comparison);
std::string render_markdown(const Comparison& comparison);
nlohmann::ordered_json render_json(const Comparison& comparison);

}  // namespace bsnpu::arch
