// bsnpu run: the SystemC TLM-2.0 model of the bit-serial NPU. Per k (or for one per-layer
// precision): accuracy of the images
// through the simulated modules, cycles and latency of one inference, energy per image and its
// breakdown, area per module; writes the versioned JSON report and, on request, a Chrome/Perfetto
// timeline.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "arch/area.h"
#include "arch/config.h"
#include "arch/energy.h"
#include "arch/report.h"
#include "arch/schedule.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/error.h"
#include "core/paths.h"
#include "tlm/npu.h"

namespace bsnpu::cli {
namespace {

using Clock = std::chrono::steady_clock;

void print_table(const arch::NpuConfig& config, const arch::EnergyTable& table,
                 const arch::ReportContext& context, const std::vector<arch::RunSummary>& rows,
                 size_t images) {
  std::printf("config %s (%s), %d x %d PEs at %g MHz; model %s; %s\n",
              arch::file_name(config.file).c_str(), config.name.c_str(), config.mac_array.rows,
              config.mac_array.cols, config.clock_mhz, context.model_manifest.c_str(),
              context.timing_only ? "timing only, no images"
                                  : (std::to_string(images) + " images").c_str());
  // k, or the per-layer k joined by "-" (as Precision::label spells them).
  const auto label = [](const arch::RunSummary& row) {
    if (row.precision.is_number()) return row.precision.dump();
    std::string text;
    for (const auto& k : row.precision) text += (text.empty() ? "" : "-") + k.dump();
    return text;
  };
  int width = 2;
  for (const arch::RunSummary& row : rows)
    width = std::max(width, static_cast<int>(label(row).size()));
  std::printf("%*s %8s %9s %10s %8s %11s %10s %9s %13s %10s\n", width, "k", "avg_bits", "accuracy",
              "cycles", "stall%", "latency_ms", "energy_uJ", "acc/Mcyc", "weight_Mbits",
              "img/s/mm2");
  for (const arch::RunSummary& row : rows) {
    char accuracy[16] = "-", per_mcycle[16] = "-";
    if (!context.timing_only) {
      std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * row.accuracy);
      std::snprintf(per_mcycle, sizeof per_mcycle, "%.3f", row.accuracy_per_mcycle);
    }
    std::printf("%*s %8.3f %9s %10llu %7.1f%% %11.4f %10.3f %9s %13.3f %10.1f\n", width,
                label(row).c_str(), row.average_bits, accuracy,
                static_cast<unsigned long long>(row.cycles),
                100.0 * static_cast<double>(row.stall_cycles) / static_cast<double>(row.cycles),
                1e3 * row.latency_s, 1e6 * row.energy_j, per_mcycle,
                static_cast<double>(row.weight_bits_read) / 1e6, row.images_per_s_per_mm2);
  }
  std::printf("energy breakdown per image (uJ):\n%*s", width, "k");
  for (int module = 0; module < arch::kModuleCount; ++module) {
    std::printf(" %17s", arch::module_name(static_cast<arch::Module>(module)));
  }
  std::printf(" %10s\n", "leakage");
  for (const arch::RunSummary& row : rows) {
    std::printf("%*s", width, label(row).c_str());
    for (double joules : row.energy.joules) std::printf(" %17.3f", 1e6 * joules);
    std::printf(" %10.3f\n", 1e6 * row.energy.leakage);
  }
  const arch::AreaBreakdown area = arch::report_area(context);
  std::printf(
      "area (mm^2): mac_array %.3f (pes %.3f, column_reduction %.3f), accumulator %.3f "
      "(partial_sums %.3f, postproc_lanes %.3f), weight_memory %.3f, activation_buffer %.3f; "
      "total %.3f\n",
      area.module(arch::Module::MacArray), area.pes, area.column_reduction,
      area.module(arch::Module::Accumulator), area.partial_sums, area.postproc_lanes,
      area.weight_memory, area.activation_buffer, area.total());
  std::printf("energy and area table: %s\n", table.name.c_str());
  for (const std::string& line : table.provenance) std::printf("  %s\n", line.c_str());
  const arch::DramTechnology& dram = config.dram.technology;
  if (dram.pj_per_bit >= 0) {
    std::printf("dram: %s preset, %.3g pJ/bit in place of the table's (docs/configuration.md)\n",
                dram.name.c_str(), dram.pj_per_bit);
  }
}

}  // namespace

int run_command(int argc, char** argv) {
  CommonOptions common;
  std::string config_path, out_path, trace_path;
  bool timing_only = false;
  boost::program_options::options_description options(
      "usage: bsnpu run [options]\n"
      "SystemC TLM-2.0 simulation of the bit-serial NPU on CIFAR-10 test images: per weight\n"
      "bit-width k (or one per-layer precision), accuracy through the simulated modules, cycles,\n"
      "latency and energy");
  add_common_options(options, common, "1000");
  options.add_options()("config", boost::program_options::value(&config_path),
                        "NPU config JSON (default <repo>/configs/default.json)")(
      "out", boost::program_options::value(&out_path),
      "write the JSON report here (docs/report-format.md)")(
      "trace", boost::program_options::value(&trace_path),
      "write a Chrome/Perfetto trace-event timeline here")(
      "timing-only", boost::program_options::bool_switch(&timing_only),
      "simulate timing and energy only: no image runs through the datapath, no accuracy "
      "(what bsnpu sweep runs per hardware point)");
  boost::program_options::variables_map values;
  if (!parse_command_line(argc, argv, options, "run", values)) return 0;
  if (timing_only && (!values["images"].defaulted() || values.count("data"))) {
    throw Error(std::string("--timing-only: runs no images, so --") +
                (values.count("data") ? "data" : "images") + " has no use (see bsnpu run --help)");
  }
  if (config_path.empty()) config_path = repo_root() + "/configs/default.json";
  Outputs outputs;
  if (values.count("out")) outputs.add("--out", out_path);
  if (values.count("trace")) outputs.add("--trace", trace_path);

  const arch::NpuConfig config = arch::NpuConfig::load(config_path);
  const arch::EnergyTable table = arch::EnergyTable::load(config.energy_table_path());
  const Inputs inputs = load_inputs(common, values, !timing_only);
  const CifarSet& images = inputs.images;

  tlm::Npu npu("npu", config, inputs.model, inputs.threads);
  // An oversized schedule fails here, before anything is simulated.
  for (const Precision& precision : inputs.precisions) {
    arch::check_schedule_size(npu.workload(), config, precision.plane_ranges());
  }
  const std::string clock_warning = arch::clock_warning(config, table, npu.workload().act_bits);
  if (!clock_warning.empty()) std::fprintf(stderr, "bsnpu: warning: %s\n", clock_warning.c_str());
  const arch::EnergyModel energy(table, config, npu.workload().act_bits);
  std::vector<arch::BitsResult> results;
  double timing_seconds = 0, functional_seconds = 0;
  for (const Precision& precision : inputs.precisions) {
    arch::BitsResult result;
    const auto timing_start = Clock::now();
    result.timing = npu.simulate_timing(precision.plane_ranges());
    const auto functional_start = Clock::now();
    timing_seconds += std::chrono::duration<double>(functional_start - timing_start).count();
    if (timing_only) {
      results.push_back(std::move(result));
      continue;
    }
    const ProgressBar bar("k=" + precision.label(), images.size());
    const Classification classified = npu.classify(images.pixels.data(), images.size(), precision,
                                                   [&](size_t done) { bar.update(done); });
    bar.finish();
    for (size_t i = 0; i < images.size(); ++i)
      result.correct += classified.predictions[i] == images.labels[i];
    functional_seconds += std::chrono::duration<double>(Clock::now() - functional_start).count();
    result.images = images.size();
    results.push_back(std::move(result));
  }

  arch::ReportContext context;
  context.config = &config;
  context.energy = &energy;
  context.workload = &npu.workload();
  context.model_manifest = arch::file_name(inputs.model.manifest_path());
  context.model_tensors_sha256 = inputs.model.tensors_sha256();
  context.timing_only = timing_only;
  if (!timing_only) {
    context.data_file = "test_batch.bin";
    context.data_sha256 = images_sha256(images);
  }
  std::vector<arch::RunSummary> rows;
  for (const arch::BitsResult& result : results) rows.push_back(arch::summarize(context, result));
  print_table(config, table, context, rows, images.size());
  std::printf("timing simulation %.3f s for %zu precision(s)", timing_seconds,
              inputs.precisions.size());
  if (!timing_only) {
    std::printf("; functional datapath %.1f s (%d thread(s))", functional_seconds, inputs.threads);
  }
  std::printf("\n");

  // Both files are written before either replaces anything.
  if (values.count("out")) outputs.stage("--out", arch::build_report(context, results));
  if (values.count("trace")) outputs.stage("--trace", arch::build_trace(context, results));
  outputs.commit();
  return 0;
}

}  // namespace bsnpu::cli
