#include "arch/report.h"

#include <algorithm>

#include "core/sha256.h"

namespace bsnpu::arch {
namespace {

using nlohmann::ordered_json;

const char* op_name(OpKind kind) {
  switch (kind) {
    case OpKind::Input:
      return "input";
    case OpKind::Conv:
      return "conv";
    case OpKind::Add:
      return "add";
    case OpKind::AvgPool:
      return "avgpool";
    case OpKind::Fc:
      return "fc";
  }
  return "?";
}

uint64_t action_total(const TimingResult& timing, Action action, size_t layer) {
  return timing.modules[static_cast<size_t>(module_of(action))][layer]
      .actions[static_cast<size_t>(action)];
}

ordered_json module_breakdown(const LayerEnergy& energy) {
  ordered_json out = ordered_json::object();
  for (int module = 0; module < kModuleCount; ++module) {
    out[module_name(static_cast<Module>(module))] = energy.joules[static_cast<size_t>(module)];
  }
  return out;
}

double ratio(double numerator, double denominator) {
  return denominator > 0 ? numerator / denominator : 0;
}

// The planes of every weighted layer as the report spells them (RunSummary::precision).
ordered_json precision_json(const Workload& workload, const std::vector<PlaneRange>& planes) {
  std::vector<PlaneRange> weighted;
  for (size_t i = 0; i < workload.layers.size(); ++i) {
    if (workload.layers[i].weighted()) weighted.push_back(planes.at(i));
  }
  const bool from_zero = std::all_of(weighted.begin(), weighted.end(),
                                     [](const PlaneRange& range) { return range.first == 0; });
  const bool uniform = std::all_of(weighted.begin(), weighted.end(), [&](const PlaneRange& r) {
    return r.last == weighted.front().last;
  });
  if (from_zero && uniform && !weighted.empty()) return weighted.front().last;
  ordered_json out = ordered_json::array();
  for (const PlaneRange& range : weighted) {
    out.push_back(from_zero ? ordered_json(range.last) : ordered_json{range.first, range.last});
  }
  return out;
}

}  // namespace

std::string file_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

AreaBreakdown report_area(const ReportContext& context) {
  return estimate_area(*context.config, context.energy->table(), context.workload->act_bits);
}

ordered_json area_report(const AreaBreakdown& area) {
  ordered_json modules = ordered_json::object();
  for (int module = 0; module < kModuleCount; ++module) {
    if (static_cast<Module>(module) == Module::Dram) continue;  // off chip
    modules[module_name(static_cast<Module>(module))] = area.module(static_cast<Module>(module));
  }
  ordered_json components = ordered_json::object();
  components["pes"] = area.pes;
  components["column_reduction"] = area.column_reduction;
  components["partial_sums"] = area.partial_sums;
  components["postproc_lanes"] = area.postproc_lanes;
  components["weight_memory"] = area.weight_memory;
  components["activation_buffer"] = area.activation_buffer;
  ordered_json out;
  out["total"] = area.total();
  out["modules"] = std::move(modules);
  out["components"] = std::move(components);
  return out;
}

RunSummary summarize(const ReportContext& context, const BitsResult& result) {
  const TimingResult& timing = result.timing;
  const NpuConfig& config = *context.config;
  const double pes = static_cast<double>(config.mac_array.rows) * config.mac_array.cols;
  RunSummary summary;
  summary.bits = timing.k;
  summary.precision = precision_json(*context.workload, timing.planes);
  std::vector<int> passes;
  double macs = 0, planes = 0;
  for (size_t i = 0; i < context.workload->layers.size(); ++i) {
    const Layer& layer = context.workload->layers[i];
    passes.push_back(config.mac_array.passes_per_tile(timing.planes.at(i).planes()));
    if (!layer.weighted()) continue;
    macs += static_cast<double>(layer.macs());
    planes += static_cast<double>(layer.macs()) * timing.planes[i].planes();
  }
  summary.average_bits = ratio(planes, macs);
  summary.images = result.images;
  summary.correct = result.correct;
  summary.accuracy = ratio(static_cast<double>(result.correct), static_cast<double>(result.images));
  summary.cycles = timing.cycles;
  summary.ideal_cycles =
      context.workload->ideal_cycles(passes, config.mac_array.rows, config.mac_array.cols);
  summary.latency_s = static_cast<double>(timing.cycles) * config.cycle_seconds();
  summary.weights_resident = timing.weights_resident;
  for (size_t index = 0; index < timing.layers.size(); ++index) {
    const LayerTiming& row = timing.layers[index];
    LayerSummary layer;
    layer.energy = context.energy->layer_energy(timing, index);
    for (int module = 0; module < kModuleCount; ++module) {
      summary.energy.joules[static_cast<size_t>(module)] +=
          layer.energy.joules[static_cast<size_t>(module)];
      const ActionCounts& counts = timing.modules[static_cast<size_t>(module)][index].actions;
      for (int action = 0; action < kActionCount; ++action)
        summary.actions[static_cast<size_t>(action)] += counts[static_cast<size_t>(action)];
    }
    summary.energy.leakage += layer.energy.leakage;
    summary.compute_cycles += row.compute_cycles;
    summary.stall_cycles += row.stall_cycles;
    for (size_t reason = 0; reason < row.stalls.size(); ++reason)
      summary.stalls[reason] += row.stalls[reason];
    layer.utilization = ratio(static_cast<double>(action_total(timing, Action::PeAddSub, index) +
                                                  action_total(timing, Action::PeMultiply, index)),
                              pes * static_cast<double>(row.cycles));
    layer.weight_bits_read = action_total(timing, Action::WeightSramReadBits, index);
    layer.dram_bits = action_total(timing, Action::DramReadBits, index) +
                      action_total(timing, Action::DramWriteBits, index);
    summary.layers.push_back(layer);
  }
  const auto total = [&](Action action) { return summary.actions[static_cast<size_t>(action)]; };
  summary.utilization =
      ratio(static_cast<double>(total(Action::PeAddSub) + total(Action::PeMultiply)),
            pes * static_cast<double>(timing.cycles));
  summary.energy_j = summary.energy.total();
  summary.accuracy_per_mcycle = ratio(summary.accuracy, static_cast<double>(timing.cycles) / 1e6);
  const double area_mm2 = report_area(context).total();
  summary.images_per_s_per_mm2 = ratio(1.0, summary.latency_s * area_mm2);
  summary.accuracy_per_mcycle_per_mm2 = ratio(summary.accuracy_per_mcycle, area_mm2);
  summary.weight_bits_read = total(Action::WeightSramReadBits);
  summary.dram_bits = total(Action::DramReadBits) + total(Action::DramWriteBits);
  return summary;
}

ordered_json stall_breakdown(const std::array<uint64_t, kStallCount>& stalls) {
  ordered_json out = ordered_json::object();
  for (int reason = 0; reason < kStallCount; ++reason)
    out[stall_name(static_cast<Stall>(reason))] = stalls[static_cast<size_t>(reason)];
  return out;
}

ordered_json bits_report(const ReportContext& context, const BitsResult& result) {
  const RunSummary summary = summarize(context, result);
  const TimingResult& timing = result.timing;
  ordered_json layers = ordered_json::array();
  for (size_t index = 0; index < timing.layers.size(); ++index) {
    const Layer& layer = context.workload->layers[index];
    const LayerTiming& row = timing.layers[index];
    const LayerSummary& figures = summary.layers[index];
    ordered_json entry;
    entry["name"] = layer.name;
    entry["op"] = op_name(layer.kind);
    if (layer.fused_into >= 0)
      entry["fused_into"] = context.workload->layers[static_cast<size_t>(layer.fused_into)].name;
    entry["cycles"] = row.cycles;
    entry["compute_cycles"] = row.compute_cycles;
    entry["stall_cycles"] = row.stall_cycles;
    entry["stall_breakdown"] = stall_breakdown(row.stalls);
    entry["utilization"] = figures.utilization;
    entry["passes"] = row.passes;
    entry["macs"] = layer.macs();
    entry["weight_bits_read"] = figures.weight_bits_read;
    entry["dram_bits"] = figures.dram_bits;
    entry["energy_j"] = figures.energy.total();
    entry["energy_breakdown_j"] = module_breakdown(figures.energy);
    layers.push_back(std::move(entry));
  }
  ordered_json out;
  out["bits"] = summary.bits;
  out["precision"] = summary.precision;
  out["average_bits"] = summary.average_bits;
  if (!context.timing_only) {
    out["images"] = summary.images;
    out["correct"] = summary.correct;
    out["accuracy"] = summary.accuracy;
  }
  out["cycles"] = summary.cycles;
  out["compute_cycles"] = summary.compute_cycles;
  out["stall_cycles"] = summary.stall_cycles;
  out["stall_breakdown"] = stall_breakdown(summary.stalls);
  out["ideal_cycles"] = summary.ideal_cycles;
  out["utilization"] = summary.utilization;
  out["latency_s"] = summary.latency_s;
  out["energy_j"] = summary.energy_j;
  out["leakage_j"] = summary.energy.leakage;
  if (!context.timing_only) out["accuracy_per_mcycle"] = summary.accuracy_per_mcycle;
  out["images_per_s_per_mm2"] = summary.images_per_s_per_mm2;
  if (!context.timing_only)
    out["accuracy_per_mcycle_per_mm2"] = summary.accuracy_per_mcycle_per_mm2;
  out["weights_resident"] = summary.weights_resident;
  out["weight_bits_read"] = summary.weight_bits_read;
  out["dram_bits"] = summary.dram_bits;
  out["energy_breakdown_j"] = module_breakdown(summary.energy);
  ordered_json counts = ordered_json::object();
  for (int action = 0; action < kActionCount; ++action) {
    counts[module_name(module_of(static_cast<Action>(action)))]
          [action_name(static_cast<Action>(action))] = summary.actions[static_cast<size_t>(action)];
  }
  out["actions"] = counts;
  out["layers"] = std::move(layers);
  return out;
}

ordered_json build_report(const ReportContext& context, const std::vector<BitsResult>& results) {
  const NpuConfig& config = *context.config;
  const EnergyTable& table = context.energy->table();
  ordered_json report;
  report["format"] = "bsnpu-report";
  report["version"] = kReportVersion;
  report["config"] = {{"file", file_name(config.file)},
                      {"name", config.name},
                      {"sha256", sha256_hex(config.source_text.data(), config.source_text.size())},
                      {"content", ordered_json::parse(config.source_text)}};
  ordered_json energy = {{"file", file_name(table.file)},
                         {"name", table.name},
                         {"sha256", sha256_hex(table.source_text.data(), table.source_text.size())},
                         {"provenance", table.provenance},
                         {"scaling_rules", table.scaling_rules}};
  const ordered_json per_action = context.energy->describe();
  for (auto it = per_action.begin(); it != per_action.end(); ++it) energy[it.key()] = it.value();
  report["energy_table"] = std::move(energy);
  report["area_mm2"] = area_report(report_area(context));
  report["model"] = {{"manifest", context.model_manifest},
                     {"tensors_sha256", context.model_tensors_sha256},
                     {"act_bits", context.workload->act_bits},
                     {"accumulator_bits", context.workload->accumulator_bits},
                     {"weights", context.workload->total_weights()},
                     {"macs", context.workload->total_macs()}};
  const char* timing_scope =
      "Timing and energy are simulated once per (config, k) for one inference: they do not depend "
      "on the data (no zero skipping). Accuracy runs every image through the SystemC datapath "
      "(the core's bit-exact kernels). Energy and latency are per image.";
  if (context.timing_only) {
    report["data"] = nullptr;
    timing_scope =
        "Timing and energy only (--timing-only): simulated once per (config, k) for one "
        "inference, independent of the data; no image ran through the datapath, so there is no "
        "accuracy. Energy and latency are per image.";
  } else {
    report["data"] = {{"file", context.data_file}, {"sha256", context.data_sha256}};
  }
  report["timing_scope"] = timing_scope;
  ordered_json rows = ordered_json::array();
  for (const BitsResult& result : results) rows.push_back(bits_report(context, result));
  report["results"] = std::move(rows);
  return report;
}

namespace {

// Cycles of `timeline` inside [begin, end), and the first and last of them.
struct Window {
  uint64_t busy = 0, first = UINT64_MAX, last = 0;
};
Window busy_within(const Timeline& timeline, uint64_t begin, uint64_t end) {
  Window window;
  auto it =
      std::lower_bound(timeline.begin(), timeline.end(), std::pair<uint64_t, uint64_t>{begin, 0},
                       [](const auto& a, const auto& b) { return a.second <= b.first; });
  for (; it != timeline.end() && it->first < end; ++it) {
    const uint64_t from = std::max(it->first, begin), to = std::min(it->second, end);
    if (to <= from) continue;
    window.busy += to - from;
    window.first = std::min(window.first, from);
    window.last = std::max(window.last, to);
  }
  return window;
}

}  // namespace

ordered_json build_trace(const ReportContext& context, const std::vector<BitsResult>& results) {
  const double us_per_cycle = context.config->cycle_seconds() * 1e6;
  const auto us = [&](uint64_t cycle) { return static_cast<double>(cycle) * us_per_cycle; };
  ordered_json events = ordered_json::array();
  auto name_thread = [&](int pid, int tid, const std::string& name) {
    events.push_back({{"name", "thread_name"},
                      {"ph", "M"},
                      {"pid", pid},
                      {"tid", tid},
                      {"args", {{"name", name}}}});
  };
  // One thread per resource: the controller's layers (tid 0), then each module's tracks.
  const auto track_tid = [](int module, int track) {
    return 1 + module * kTracksPerModule + track;
  };
  for (const BitsResult& result : results) {
    const TimingResult& timing = result.timing;
    const int pid = timing.k;
    const ordered_json precision = precision_json(*context.workload, timing.planes);
    events.push_back(
        {{"name", "process_name"},
         {"ph", "M"},
         {"pid", pid},
         {"tid", 0},
         {"args", {{"name", (precision.is_number() ? "k=" : "planes ") + precision.dump()}}}});
    name_thread(pid, 0, "controller: layers");
    for (int module = 0; module < kModuleCount; ++module) {
      for (int track = 0; track < kTracksPerModule; ++track) {
        if (const char* name = track_name(static_cast<Module>(module), track)) {
          name_thread(pid, track_tid(module, track),
                      std::string(module_name(static_cast<Module>(module))) + ": " + name);
        }
      }
    }
    const auto counter = [&](const char* name, uint64_t cycle, double value) {
      events.push_back({{"name", name},
                        {"ph", "C"},
                        {"pid", pid},
                        {"ts", us(cycle)},
                        {"args", {{"value", value}}}});
    };
    for (size_t index = 0; index < timing.layers.size(); ++index) {
      const LayerTiming& row = timing.layers[index];
      if (row.cycles == 0) continue;
      const std::string& name = context.workload->layers[index].name;
      const uint64_t begin = row.start_cycle, end = row.end_cycle;
      events.push_back({{"name", name},
                        {"cat", "layer"},
                        {"ph", "X"},
                        {"pid", pid},
                        {"tid", 0},
                        {"ts", us(begin)},
                        {"dur", us(end) - us(begin)},
                        {"args",
                         {{"cycles", row.cycles},
                          {"compute_cycles", row.compute_cycles},
                          {"stall_cycles", row.stall_cycles},
                          {"stalls", stall_breakdown(row.stalls)}}}});
      // Each resource within the layer's window, by time: spans never overlap on a track, and
      // busy <= span.
      for (int module = 0; module < kModuleCount; ++module) {
        for (int track = 0; track < kTracksPerModule; ++track) {
          if (!track_name(static_cast<Module>(module), track)) continue;
          const Window window =
              busy_within(timing.timelines[static_cast<size_t>(module)][static_cast<size_t>(track)],
                          begin, end);
          if (window.busy == 0) continue;
          events.push_back({{"name", name},
                            {"cat", module_name(static_cast<Module>(module))},
                            {"ph", "X"},
                            {"pid", pid},
                            {"tid", track_tid(module, track)},
                            {"ts", us(window.first)},
                            {"dur", us(window.last) - us(window.first)},
                            {"args",
                             {{"busy_cycles", window.busy},
                              {"utilization", static_cast<double>(window.busy) /
                                                  static_cast<double>(end - begin)}}}});
        }
      }
      // Counters, one value per layer: the array's share of cycles streaming pixels, the DRAM
      // channel's busy share, and the mean number of weight prefetches queued or in flight.
      const double cycles = static_cast<double>(end - begin);
      counter("array utilization", begin, static_cast<double>(row.compute_cycles) / cycles);
      const auto& dram = timing.timelines[static_cast<int>(Module::Dram)];
      counter("dram busy", begin,
              static_cast<double>(busy_within(dram[0], begin, end).busy +
                                  busy_within(dram[1], begin, end).busy) /
                  cycles);
      uint64_t queued = 0;
      for (const auto& [issued, done] : timing.prefetch_queue) {
        const uint64_t from = std::max(issued, begin), to = std::min(done, end);
        if (to > from) queued += to - from;
      }
      counter("weight prefetch queue", begin, static_cast<double>(queued) / cycles);
    }
  }
  return {{"traceEvents", std::move(events)}, {"displayTimeUnit", "ns"}};
}

}  // namespace bsnpu::arch
