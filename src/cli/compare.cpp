// bsnpu compare: NPU configs (a semantic diff, defaults resolved) or run reports (metrics per k
// side by side), as text, Markdown or JSON (src/arch/compare.h).
#include "arch/compare.h"

#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/error.h"
#include "core/json_fields.h"

namespace bsnpu::cli {
namespace {

struct Document {
  std::string path, text;
  nlohmann::json json;
  arch::DocumentKind kind;
};

const char* kind_name(arch::DocumentKind kind) {
  return kind == arch::DocumentKind::Config ? "an NPU config" : "a run report";
}

// Comma-separated names; empty items are refused.
std::vector<std::string> split_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    items.push_back(text.substr(begin, comma - begin));
    if (items.back().empty()) throw Error(option + ": '" + text + "' has an empty item");
    begin = comma + 1;
  }
  return items;
}

}  // namespace

int compare_command(int argc, char** argv) {
  std::string format = "text", out_path, metrics;
  int act_bits = 8;
  boost::program_options::options_description options(
      "usage: bsnpu compare A.json B.json [C.json ...] [options]\n"
      "NPU configs: the fields that differ once defaults are resolved, and derived figures\n"
      "(peak MAC/s, SRAM, area); run reports: every metric per k. The first file is the\n"
      "reference: the others get a delta and a ratio against it");
  options.add_options()("help,h", "show this help")(
      "format", boost::program_options::value(&format)->default_value(format),
      "text, markdown or json")("out", boost::program_options::value(&out_path),
                                "write here instead of standard output")(
      "metrics", boost::program_options::value(&metrics),
      "reports: only these metrics, e.g. accuracy,cycles,energy.* (default all)")(
      "act-bits", boost::program_options::value(&act_bits)->default_value(act_bits),
      "configs: activation bits the area assumes (the model's act_bits)");
  boost::program_options::variables_map values;
  std::vector<std::string> paths;
  if (!parse_command_line(argc, argv, options, "compare", values, &paths)) return 0;
  if (format != "text" && format != "markdown" && format != "json") {
    throw Error("--format: '" + format + "' is not text, markdown or json");
  }
  if (act_bits < 1 || act_bits > 8) throw Error("--act-bits: must be in 1..8");
  if (paths.size() < 2) {
    throw Error("expected two or more files, the first the reference (see bsnpu compare --help)");
  }
  Outputs outputs;
  if (values.count("out")) outputs.add("--out", out_path);

  std::vector<Document> documents;
  for (const std::string& path : paths) {
    Document document;
    document.path = path;
    document.text = read_text_file(path, kMaxJsonFileBytes, "a config or report");
    document.json = parse_json(document.text, path);
    document.kind = arch::document_kind(document.json, path);
    if (!documents.empty() && document.kind != documents.front().kind) {
      throw Error(path + ": " + kind_name(document.kind) + ", but " + documents.front().path +
                  " is " + kind_name(documents.front().kind) + ": compare files of one kind");
    }
    documents.push_back(std::move(document));
  }
  arch::Comparison comparison;
  if (documents.front().kind == arch::DocumentKind::Config) {
    if (values.count("metrics")) throw Error("--metrics: only for run reports");
    // Reserved: the inputs point into these vectors.
    std::vector<arch::NpuConfig> configs;
    std::vector<arch::EnergyTable> tables;
    configs.reserve(documents.size());
    tables.reserve(documents.size());
    std::vector<arch::ConfigInput> inputs;
    for (const Document& document : documents) {
      configs.push_back(arch::NpuConfig::parse(document.text, document.path));
      tables.push_back(arch::EnergyTable::load(configs.back().energy_table_path()));
      inputs.push_back({&configs.back(), &tables.back()});
    }
    comparison = arch::compare_configs(inputs, act_bits);
  } else {
    std::vector<arch::ReportFigures> reports;
    for (const Document& document : documents) {
      reports.push_back(arch::read_report(document.json, document.path));
    }
    comparison =
        arch::compare_reports(reports, values.count("metrics") ? split_list(metrics, "--metrics")
                                                               : std::vector<std::string>{});
  }
  std::string text;
  if (format == "json") {
    text = arch::render_json(comparison)
               .dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
           "\n";
  } else {
    text = format == "markdown" ? arch::render_markdown(comparison) : arch::render_text(comparison);
  }
  if (values.count("out")) {
    outputs.stage_text("--out", text);
    outputs.commit();
  } else {
    std::fputs(text.c_str(), stdout);
  }
  return 0;
}

}  // namespace bsnpu::cli
