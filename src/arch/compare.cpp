#include "arch/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "arch/area.h"
#include "core/error.h"

namespace bsnpu::arch {
namespace {

using nlohmann::ordered_json;
using json = nlohmann::ordered_json;

// The unit of a resolved config field, from its name (docs/configuration.md).
std::string field_unit(const std::string& path) {
  const std::string key = path.substr(path.find_last_of('.') + 1);
  const auto ends_with = [&](const std::string& suffix) {
    return key.size() >= suffix.size() &&
           key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("_mhz")) return "MHz";
  if (ends_with("_ns")) return "ns";
  if (ends_with("_kib")) return "KiB";
  if (ends_with("_cycles")) return "cycles";
  if (ends_with("_gbytes_per_s")) return "GB/s";
  if (key == "port_bits") return "bits/cycle/bank";
  if (key == "bits" || key == "weight_bits") return "bits";
  if (key == "rows" || key == "cols") return "PEs";
  if (key == "depth") return "entries";
  if (key == "buffers") return "tiles";
  if (key == "postproc_lanes") return "outputs/cycle";
  if (key == "prefetch_queue") return "requests";
  return "";
}

// Leaves of a resolved config as dotted paths, in document order.
void flatten(const ordered_json& value, const std::string& path,
             std::vector<std::pair<std::string, json>>& out) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      flatten(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    }
  } else {
    out.emplace_back(path, json(value));
  }
}

bool all_equal(const CompareRow& row) {
  return std::all_of(row.values.begin(), row.values.end(),
                     [&](const json& value) { return value == row.values.front(); });
}

// Figures worth seeing that no field states: PEs, peak throughput, SRAM, DRAM in cycles, area.
std::vector<std::pair<std::string, std::pair<std::string, json>>> derived(const ConfigInput& input,
                                                                          int act_bits) {
  const NpuConfig& config = *input.config;
  const double pes = static_cast<double>(config.mac_array.rows) * config.mac_array.cols;
  const double partial_sum_kib =
      static_cast<double>(config.accumulator.capacity_bits(config.mac_array.cols)) / 8192;
  const double sram_kib = static_cast<double>(config.weight_memory.capacity_bits +
                                              config.activation_buffer.capacity_bits) /
                              8192 +
                          partial_sum_kib;
  const AreaBreakdown area = estimate_area(config, *input.table, act_bits);
  // A bit-serial PE adds one weight plane of one MAC per cycle: k cycles per MAC at k planes.
  const auto peak_gmacs = [&](int k) {
    return pes * config.clock_mhz * 1e6 / config.mac_array.passes_per_tile(k) / 1e9;
  };
  std::vector<std::pair<std::string, std::pair<std::string, json>>> out = {
      {"pes", {"PEs", pes}},
      {"peak_macs_per_s_k1", {"GMAC/s", peak_gmacs(1)}},
      {"peak_macs_per_s_k8", {"GMAC/s", peak_gmacs(8)}},
      {"sram_kib", {"KiB", sram_kib}},
      {"partial_sum_sram_kib", {"KiB", partial_sum_kib}},
      {"dram_bits_per_cycle",
       {"bits/cycle", config.dram.bandwidth.unlimited
                          ? json("unlimited")
                          : json(config.dram.bandwidth.bits_per_cycle)}},
      {"dram_latency_cycles", {"cycles", config.dram.latency_cycles}},
      {"area_mm2", {"mm2", area.total()}}};
  for (int module = 0; module < kModuleCount; ++module) {
    if (static_cast<Module>(module) == Module::Dram) continue;  // off chip
    out.push_back({std::string("area_mm2.") + module_name(static_cast<Module>(module)),
                   {"mm2", area.module(static_cast<Module>(module))}});
  }
  out.push_back({"energy_table.name", {"", input.table->name}});
  return out;
}

std::string format_number(double value) {
  char text[64];
  if (std::fabs(value) < 1e15 && value == std::floor(value)) {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
  } else {
    std::snprintf(text, sizeof text, "%.6g", value);
  }
  return text;
}

std::string format_value(const json& value) {
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return format_number(value.get<double>());
  return value.dump();
}

std::string format_delta(const json& delta) {
  if (delta.is_null()) return "";
  const std::string text = format_number(delta.get<double>());
  return delta.get<double>() > 0 ? "+" + text : text;
}

std::string format_ratio(const json& ratio) {
  if (ratio.is_null()) return "";
  char text[64];
  std::snprintf(text, sizeof text, "%.4gx", ratio.get<double>());
  return text;
}

std::string letter(size_t file) { return std::string(1, static_cast<char>('A' + file % 26)); }

// The cells of a section: header, then one line per row.
std::vector<std::vector<std::string>> cells(const Comparison& comparison,
                                            const CompareSection& section) {
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {comparison.kind == DocumentKind::Config ? "field" : "metric",
                                     "unit"};
  for (size_t file = 0; file < comparison.files.size(); ++file) {
    header.push_back(letter(file));
    if (file > 0) {
      header.push_back(letter(file) + "-A");
      header.push_back(letter(file) + "/A");
    }
  }
  lines.push_back(header);
  for (const CompareRow& row : section.rows) {
    std::vector<std::string> line = {row.name, row.unit};
    for (size_t file = 0; file < row.values.size(); ++file) {
      line.push_back(format_value(row.values[file]));
      if (file > 0) {
        line.push_back(format_delta(row_delta(row, file)));
        line.push_back(format_ratio(row_ratio(row, file)));
      }
    }
    lines.push_back(line);
  }
  return lines;
}

std::string title(const Comparison& comparison) {
  return comparison.kind == DocumentKind::Config ? "NPU configs" : "run reports";
}

// Markdown table cells: a '|' would end the cell.
std::string markdown_cell(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

DocumentKind document_kind(const nlohmann::json& document, const std::string& file) {
  const auto is = [&](const char* format) {
    return document.is_object() && document.contains("format") && document["format"] == format;
  };
  if (is("bsnpu-config")) return DocumentKind::Config;
  if (is("bsnpu-report")) return DocumentKind::Report;
  throw Error(file +
              ": format: neither an NPU config (\"bsnpu-config\") nor a run report "
              "(\"bsnpu-report\")");
}

json row_delta(const CompareRow& row, size_t file) {
  const json& reference = row.values.front();
  const json& value = row.values[file];
  if (!reference.is_number() || !value.is_number()) return nullptr;
  return value.get<double>() - reference.get<double>();
}

json row_ratio(const CompareRow& row, size_t file) {
  const json& reference = row.values.front();
  const json& value = row.values[file];
  if (!reference.is_number() || !value.is_number() || reference.get<double>() == 0) {
    return nullptr;
  }
  return value.get<double>() / reference.get<double>();
}

Comparison compare_configs(const std::vector<ConfigInput>& configs, int act_bits) {
  Comparison comparison;
  comparison.kind = DocumentKind::Config;
  std::vector<std::vector<std::pair<std::string, json>>> fields;
  std::vector<std::vector<std::pair<std::string, std::pair<std::string, json>>>> figures;
  for (const ConfigInput& input : configs) {
    comparison.files.push_back(input.config->file);
    comparison.names.push_back(input.config->name);
    fields.emplace_back();
    flatten(input.config->to_json(), "", fields.back());
    figures.push_back(derived(input, act_bits));
  }
  // Every config has the same fields, in the same order (to_json writes them all).
  CompareSection field_section{"fields", {}};
  for (size_t index = 0; index < fields.front().size(); ++index) {
    const std::string& path = fields.front()[index].first;
    // Free text: the names head the comparison; descriptions are prose.
    if (path == "name" || path == "description") continue;
    CompareRow row{path, field_unit(path), {}};
    for (const auto& config : fields) row.values.push_back(config[index].second);
    if (!all_equal(row)) field_section.rows.push_back(std::move(row));
  }
  CompareSection derived_section{"derived", {}};
  for (size_t index = 0; index < figures.front().size(); ++index) {
    const auto& [name, figure] = figures.front()[index];
    CompareRow row{name, figure.first, {}};
    for (const auto& config : figures) row.values.push_back(config[index].second.second);
    if (!all_equal(row)) derived_section.rows.push_back(std::move(row));
  }
  for (CompareSection* section : {&field_section, &derived_section}) {
    if (!section->rows.empty()) comparison.sections.push_back(std::move(*section));
  }
  return comparison;
}

Comparison compare_reports(const std::vector<ReportFigures>& reports,
                           const std::vector<std::string>& metrics) {
  Comparison comparison;
  comparison.kind = DocumentKind::Report;
  const ReportFigures& reference = reports.front();
  std::vector<int> all_bits;
  std::vector<std::string> names;
  for (const ReportFigures& report : reports) {
    comparison.files.push_back(report.file);
    comparison.names.push_back(report.config_name);
    for (const BitsFigures& entry : report.results) {
      all_bits.push_back(entry.bits);
      for (const auto& metric : entry.metrics) {
        if (std::find(names.begin(), names.end(), metric.first) == names.end()) {
          names.push_back(metric.first);
        }
      }
    }
  }
  std::sort(all_bits.begin(), all_bits.end());
  all_bits.erase(std::unique(all_bits.begin(), all_bits.end()), all_bits.end());
  const auto matches = [](const std::string& pattern, const std::string& name) {
    const bool prefix = pattern.size() > 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0;
    return prefix ? name.rfind(pattern.substr(0, pattern.size() - 1), 0) == 0 : name == pattern;
  };
  for (const std::string& pattern : metrics) {
    if (std::none_of(names.begin(), names.end(),
                     [&](const std::string& name) { return matches(pattern, name); })) {
      std::string known;
      for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
      throw Error("--metrics: no metric '" + pattern + "' (metrics: " + known + ")");
    }
  }
  const auto wanted = [&](const std::string& name) {
    return metrics.empty() ||
           std::any_of(metrics.begin(), metrics.end(),
                       [&](const std::string& pattern) { return matches(pattern, name); });
  };
  // A report's value of `name` at k in display units; null when it has none.
  const auto value = [](const ReportFigures& report, int k, const std::string& name) {
    const BitsFigures* entry = report.find(k);
    const double* figure = entry ? entry->find(name) : nullptr;
    return figure ? json(*figure * metric_info(name).scale) : json(nullptr);
  };
  for (const int k : all_bits) {
    CompareSection section{"k=" + std::to_string(k), {}};
    for (const std::string& name : names) {
      if (!wanted(name)) continue;
      CompareRow row{name, metric_info(name).unit, {}};
      for (const ReportFigures& report : reports) row.values.push_back(value(report, k, name));
      section.rows.push_back(std::move(row));
    }
    comparison.sections.push_back(std::move(section));
  }
  for (size_t file = 1; file < reports.size(); ++file) {
    const ReportFigures& report = reports[file];
    const std::string against = " than " + reference.file;
    if (report.data_sha256 != reference.data_sha256) {
      comparison.notes.push_back(report.file + ": data.sha256: other images" + against +
                                 ": accuracy is not over the same images");
    }
    if (report.model_tensors_sha256 != reference.model_tensors_sha256) {
      comparison.notes.push_back(report.file + ": model.tensors_sha256: other weights" + against);
    }
    if (report.bits() != reference.bits()) {
      comparison.notes.push_back(report.file + ": results: k = " + bits_list(report.bits()) + ", " +
                                 reference.file + " has k = " + bits_list(reference.bits()));
    }
  }
  return comparison;
}

std::string render_text(const Comparison& comparison) {
  std::string out = "bsnpu compare: " + title(comparison) + "\n";
  for (size_t file = 0; file < comparison.files.size(); ++file) {
    out += "  " + letter(file) + ": " + comparison.files[file] + " (" + comparison.names[file] +
           ")" + (file == 0 ? ", the reference" : "") + "\n";
  }
  for (const std::string& note : comparison.notes) out += "note: " + note + "\n";
  if (comparison.sections.empty()) out += "no differences\n";
  for (const CompareSection& section : comparison.sections) {
    out += "\n" + section.heading + "\n";
    const auto lines = cells(comparison, section);
    std::vector<size_t> widths(lines.front().size(), 0);
    for (const auto& line : lines) {
      for (size_t column = 0; column < line.size(); ++column) {
        widths[column] = std::max(widths[column], line[column].size());
      }
    }
    for (const auto& line : lines) {
      std::string text;
      for (size_t column = 0; column < line.size(); ++column) {
        const std::string& cell = line[column];
        const std::string pad(widths[column] - cell.size(), ' ');
        // Names and units to the left, figures to the right.
        text += (column == 0 ? "" : "  ") + (column < 2 ? cell + pad : pad + cell);
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + "\n";
    }
  }
  return out;
}

std::string render_markdown(const Comparison& comparison) {
  std::string out = "### bsnpu compare: " + title(comparison) + "\n\n";
  for (size_t file = 0; file < comparison.files.size(); ++file) {
    out += "- **" + letter(file) + "**: `" + comparison.files[file] + "` (" +
           markdown_cell(comparison.names[file]) + ")" + (file == 0 ? ", the reference" : "") +
           "\n";
  }
  for (const std::string& note : comparison.notes) out += "\n> **Note:** " + note + "\n";
  if (comparison.sections.empty()) out += "\nNo differences.\n";
  for (const CompareSection& section : comparison.sections) {
    out += "\n#### " + section.heading + "\n\n";
    const auto lines = cells(comparison, section);
    for (size_t index = 0; index < lines.size(); ++index) {
      std::string text = "|";
      for (const std::string& cell : lines[index]) text += " " + markdown_cell(cell) + " |";
      out += text + "\n";
      if (index == 0) {
        text = "|---|---|";
        for (size_t column = 2; column < lines[index].size(); ++column) text += "---:|";
        out += text + "\n";
      }
    }
  }
  return out;
}

ordered_json render_json(const Comparison& comparison) {
  ordered_json out;
  out["format"] = "bsnpu-compare";
  out["version"] = 1;
  out["kind"] = comparison.kind == DocumentKind::Config ? "config" : "report";
  ordered_json files = ordered_json::array();
  for (size_t file = 0; file < comparison.files.size(); ++file) {
    files.push_back({{"file", comparison.files[file]}, {"name", comparison.names[file]}});
  }
  out["files"] = std::move(files);
  out["notes"] = comparison.notes;
  ordered_json sections = ordered_json::array();
  for (const CompareSection& section : comparison.sections) {
    ordered_json rows = ordered_json::array();
    for (const CompareRow& row : section.rows) {
      ordered_json deltas = ordered_json::array(), ratios = ordered_json::array();
      for (size_t file = 1; file < row.values.size(); ++file) {
        deltas.push_back(row_delta(row, file));
        ratios.push_back(row_ratio(row, file));
      }
      rows.push_back({{"name", row.name},
                      {"unit", row.unit},
                      {"values", row.values},
                      {"deltas", std::move(deltas)},
                      {"ratios", std::move(ratios)}});
    }
    sections.push_back({{"name", section.heading}, {"rows", std::move(rows)}});
  }
  out["sections"] = std::move(sections);
  return out;
}

}  // namespace bsnpu::arch
