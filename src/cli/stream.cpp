// bsnpu stream: a trace of frames (docs/trace-format.md) through the SystemC NPU under a
// dynamic-precision policy (docs/dynamic-precision.md). Per frame: the final k, the planes
// processed (escalations included), the prediction and label, the margin, cycles and energy;
// totals: accuracy, average bits, energy per frame, latency. --sweep runs the policy at each
// value of its sweep field and prints the frontier.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "arch/config.h"
#include "arch/energy.h"
#include "arch/policy.h"
#include "arch/report.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/cifar.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/paths.h"
#include "core/trace.h"
#include "tlm/npu.h"

namespace bsnpu::cli {
namespace {

using nlohmann::ordered_json;

// The real value of one logit LSB, from the model's manifest (docs/model-format.md).
double logit_scale(const Model& model) {
  const std::string& path = model.manifest_path();
  const nlohmann::json manifest = parse_json(read_text_file(path), path);
  FieldReader reader(manifest, path, "");
  reader.require("logit_scale");
  return reader.number_in("logit_scale", 0, 1e-30, 1e30, "1e-30..1e30");
}

// What one run of a frame costs, from the timing simulation of its schedule.
struct RunCost {
  uint64_t cycles = 0;
  double energy_j = 0;
  double planes = 0;  // MAC-weighted weight planes processed
};

struct FrameRow {
  int final_k = 0;
  std::vector<tlm::FrameRun> runs;
  double planes = 0;
  int prediction = -1, label = -1;
  bool carried = false;
  double margin = 0;
  uint64_t cycles = 0;
  double energy_j = 0;
};

struct Totals {
  size_t frames = 0, correct = 0, escalations = 0, carried = 0;
  double accuracy = 0, average_bits = 0, mean_final_k = 0;
  double energy_per_frame_j = 0, mean_latency_s = 0, max_latency_s = 0;
  uint64_t cycles = 0;
  double energy_j = 0;
};

struct Point {
  arch::PolicyConfig policy;
  double sweep_value = 0;
  std::vector<FrameRow> frames;
  Totals totals;
  bool bits_frontier = false, energy_frontier = false;
};

Totals total(const std::vector<FrameRow>& frames, double cycle_seconds) {
  Totals totals;
  totals.frames = frames.size();
  double planes = 0, final_k = 0;
  uint64_t max_cycles = 0;
  for (const FrameRow& row : frames) {
    totals.correct += row.prediction == row.label;
    totals.escalations += row.runs.size() - 1;
    totals.carried += row.carried;
    planes += row.planes;
    final_k += row.final_k;
    totals.cycles += row.cycles;
    totals.energy_j += row.energy_j;
    max_cycles = std::max(max_cycles, row.cycles);
  }
  const double count = static_cast<double>(std::max<size_t>(frames.size(), 1));
  totals.accuracy = static_cast<double>(totals.correct) / count;
  totals.average_bits = planes / count;
  totals.mean_final_k = final_k / count;
  totals.energy_per_frame_j = totals.energy_j / count;
  totals.mean_latency_s = static_cast<double>(totals.cycles) * cycle_seconds / count;
  totals.max_latency_s = static_cast<double>(max_cycles) * cycle_seconds;
  return totals;
}

ordered_json totals_json(const Totals& totals) {
  ordered_json out;
  out["frames"] = totals.frames;
  out["correct"] = totals.correct;
  out["accuracy"] = totals.accuracy;
  out["average_bits"] = totals.average_bits;
  out["mean_final_k"] = totals.mean_final_k;
  out["escalations"] = totals.escalations;
  out["carried"] = totals.carried;
  out["cycles"] = totals.cycles;
  out["energy_j"] = totals.energy_j;
  out["energy_per_frame_j"] = totals.energy_per_frame_j;
  out["mean_latency_s"] = totals.mean_latency_s;
  out["max_latency_s"] = totals.max_latency_s;
  return out;
}

// Marks the points no other point beats: at least the accuracy for at most the bits (energy),
// strictly better in one of the two.
void mark_frontiers(std::vector<Point>& points) {
  for (Point& point : points) {
    point.bits_frontier = point.energy_frontier = true;
    for (const Point& other : points) {
      const Totals &a = point.totals, &b = other.totals;
      const bool more_accurate = b.accuracy >= a.accuracy;
      if (more_accurate && b.average_bits <= a.average_bits &&
          (b.accuracy > a.accuracy || b.average_bits < a.average_bits)) {
        point.bits_frontier = false;
      }
      if (more_accurate && b.energy_per_frame_j <= a.energy_per_frame_j &&
          (b.accuracy > a.accuracy || b.energy_per_frame_j < a.energy_per_frame_j)) {
        point.energy_frontier = false;
      }
    }
  }
}

std::string frames_csv(const std::vector<FrameRow>& frames) {
  std::ostringstream csv;
  csv << "frame,final_k,runs,planes,prediction,label,correct,carried,margin,cycles,energy_j\n";
  char line[256];
  for (size_t t = 0; t < frames.size(); ++t) {
    const FrameRow& row = frames[t];
    std::snprintf(line, sizeof line, "%zu,%d,%zu,%.6f,%d,%d,%d,%d,%.6f,%llu,%.9g\n", t, row.final_k,
                  row.runs.size(), row.planes, row.prediction, row.label,
                  row.prediction == row.label ? 1 : 0, row.carried ? 1 : 0, row.margin,
                  static_cast<unsigned long long>(row.cycles), row.energy_j);
    csv << line;
  }
  return csv.str();
}

std::string points_csv(const std::vector<Point>& points, const std::string& field) {
  std::ostringstream csv;
  csv << field
      << ",accuracy,average_bits,mean_final_k,energy_per_frame_j,mean_latency_s,escalations,"
         "carried,bits_frontier,energy_frontier\n";
  char line[320];
  for (const Point& point : points) {
    const Totals& t = point.totals;
    std::snprintf(line, sizeof line, "%.9g,%.6f,%.6f,%.6f,%.9g,%.9g,%zu,%zu,%d,%d\n",
                  point.sweep_value, t.accuracy, t.average_bits, t.mean_final_k,
                  t.energy_per_frame_j, t.mean_latency_s, t.escalations, t.carried,
                  point.bits_frontier ? 1 : 0, point.energy_frontier ? 1 : 0);
    csv << line;
  }
  return csv.str();
}

}  // namespace

int stream_command(int argc, char** argv) {
  namespace po = boost::program_options;
  std::string trace_path, config_path, policy_path, out_path, csv_path, model, data;
  int threads = 1;
  po::options_description options(
      "usage: bsnpu stream --trace T.json --policy P.json [options]\n"
      "Runs a trace's frames one at a time through the SystemC NPU under a dynamic-precision\n"
      "policy (docs/dynamic-precision.md): per frame the final k, planes processed, prediction,\n"
      "margin, cycles and energy; totals: accuracy, average bits, energy per frame, latency");
  options.add_options()("help,h", "show this help")("trace", po::value(&trace_path)->required(),
                                                    "trace descriptor (docs/trace-format.md)")(
      "policy", po::value(&policy_path)->required(),
      "policy file (configs/policies/*.json, docs/dynamic-precision.md)")(
      "config", po::value(&config_path), "NPU config JSON (default <repo>/configs/default.json)")(
      "out", po::value(&out_path), "write the JSON result here")(
      "csv", po::value(&csv_path),
      "write a CSV here: one row per frame, or per sweep point with --sweep")(
      "sweep", po::bool_switch(),
      "run the policy at every value of its \"sweep\" field and print the frontier")(
      "threads", po::value(&threads)->default_value(1),
      "worker threads (a frame is a batch of one: 1 is usually fastest)")(
      "model", po::value(&model), kModelHelp)("data", po::value(&data), kDataHelp);
  po::variables_map values;
  if (!parse_command_line(argc, argv, options, "stream", values)) return 0;
  if (threads < 1 || threads > 1024) throw Error("--threads: must be in 1..1024");
  if (config_path.empty()) config_path = repo_root() + "/configs/default.json";
  const bool sweep = values["sweep"].as<bool>();
  Outputs outputs;
  if (values.count("out")) outputs.add("--out", out_path);
  if (values.count("csv")) outputs.add("--csv", csv_path);

  // Every input is checked before anything runs.
  const arch::PolicyConfig policy = arch::PolicyConfig::load(policy_path);
  if (sweep && policy.sweep_field.empty()) {
    throw Error(policy_path + ": sweep: missing (--sweep needs the values to run)");
  }
  std::vector<arch::PolicyConfig> policies;
  if (sweep) {
    for (size_t i = 0; i < policy.sweep_values.size(); ++i)
      policies.push_back(policy.sweep_point(i));
  } else {
    policies.push_back(policy);
  }
  const Trace trace = Trace::load(trace_path);
  const arch::NpuConfig config = arch::NpuConfig::load(config_path);
  const arch::EnergyTable table = arch::EnergyTable::load(config.energy_table_path());
  const Model network = Model::load(model_prefix(model));
  const double scale = logit_scale(network);
  for (const arch::PolicyConfig& point : policies) {
    for (int k = 1; k <= point.max_k(); ++k) {
      if (!network.has_bits(k)) {
        throw Error(network.manifest_path() + ": bits: no parameters for k=" + std::to_string(k) +
                    " (" + policy_path + " needs it)");
      }
    }
  }
  const CifarSet test = load_cifar_test(data_dir(data));
  trace.check_images(test);

  tlm::Npu npu("npu", config, network, threads);
  arch::check_schedule_size(npu.workload(), config, 8);
  const arch::EnergyModel energy(table, config, npu.workload().act_bits);
  const double conv1_share = npu.image_mac_share();
  // Few distinct runs occur (fresh k, escalations k_a -> k_b, with or without keeping r): each
  // is simulated once.
  std::map<tlm::FrameRun, RunCost> costs;
  const auto cost_of = [&](const tlm::FrameRun& run) -> const RunCost& {
    auto found = costs.find(run);
    if (found != costs.end()) return found->second;
    const arch::TimingResult timing = npu.simulate_run(run);
    RunCost cost;
    cost.cycles = timing.cycles;
    for (size_t layer = 0; layer < timing.layers.size(); ++layer)
      cost.energy_j += energy.layer_energy(timing, layer).total();
    cost.planes = arch::run_planes(run.k, run.conv1_from, conv1_share);
    return costs.emplace(run, cost).first->second;
  };

  std::vector<std::vector<int32_t>> memo;
  if (sweep) memo.resize(trace.frames() * 8);
  std::vector<Point> points;
  for (const arch::PolicyConfig& point_policy : policies) {
    arch::Policy running(point_policy, scale, network.num_classes());
    tlm::StreamJob job;
    job.frames = trace.frames();
    job.render = [&](size_t t, uint8_t* out) { trace.render(t, test, out); };
    job.policy = &running;
    job.memo = sweep ? &memo : nullptr;
    std::string label = point_policy.name;
    if (sweep) {
      std::ostringstream value;
      value << point_policy.sweep_field << "=" << policy.sweep_values[points.size()];
      label = value.str();
    }
    const ProgressBar bar(label, job.frames);
    job.progress = [&](size_t done) {
      if (done % 64 == 0 || done == job.frames) bar.update(done);
    };
    npu.stream(job);
    bar.finish();

    Point point;
    point.policy = point_policy;
    if (sweep) point.sweep_value = policy.sweep_values[points.size()];
    for (size_t t = 0; t < job.results.size(); ++t) {
      const tlm::FrameResult& result = job.results[t];
      FrameRow row;
      row.final_k = result.runs.back().k;
      row.runs = result.runs;
      for (const tlm::FrameRun& run : result.runs) {
        const RunCost& cost = cost_of(run);
        row.cycles += cost.cycles;
        row.energy_j += cost.energy_j;
        row.planes += cost.planes;
      }
      row.prediction = result.prediction;
      row.label = trace.label(t, test);
      row.carried = result.carried;
      row.margin = result.margin;
      point.frames.push_back(row);
    }
    point.totals = total(point.frames, config.cycle_seconds());
    points.push_back(std::move(point));
  }
  mark_frontiers(points);

  std::printf("trace %s: %zu frames; config %s; policy %s (%s)\n", trace.name().c_str(),
              trace.frames(), config.name.c_str(), policy.name.c_str(), policy.kind_name());
  std::printf("%12s %9s %9s %8s %11s %11s %9s %8s  %s\n", sweep ? policy.sweep_field.c_str() : "",
              "accuracy", "avg_bits", "final_k", "energy_uJ", "latency_ms", "escalate", "carried",
              sweep ? "frontier" : "");
  for (const Point& point : points) {
    const Totals& t = point.totals;
    std::string frontier;
    if (sweep && point.bits_frontier) frontier += "bits ";
    if (sweep && point.energy_frontier) frontier += "energy";
    char value[32] = "-";
    if (sweep) std::snprintf(value, sizeof value, "%g", point.sweep_value);
    std::printf("%12s %8.2f%% %9.3f %8.3f %11.3f %11.4f %9zu %8zu  %s\n", value, 100 * t.accuracy,
                t.average_bits, t.mean_final_k, 1e6 * t.energy_per_frame_j, 1e3 * t.mean_latency_s,
                t.escalations, t.carried, frontier.c_str());
  }
  std::printf("distinct runs simulated for timing: %zu; first conv's share of the MACs %.4f\n",
              costs.size(), conv1_share);

  if (values.count("out")) {
    ordered_json document;
    document["format"] = "bsnpu-stream";
    document["version"] = 1;
    document["trace"] = {{"file", arch::file_name(trace.path())},
                         {"name", trace.name()},
                         {"frames", trace.frames()},
                         {"scenes", trace.scenes().size()}};
    document["config"] = config.name;
    document["model_manifest"] = arch::file_name(network.manifest_path());
    document["model_tensors_sha256"] = network.tensors_sha256();
    document["logit_scale"] = scale;
    document["conv1_mac_share"] = conv1_share;
    ordered_json runs = ordered_json::array();
    for (const auto& [run, cost] : costs) {
      runs.push_back({{"conv1_from", run.conv1_from},
                      {"k", run.k},
                      {"keep_sums", run.keep_sums},
                      {"cycles", cost.cycles},
                      {"energy_j", cost.energy_j},
                      {"planes", cost.planes}});
    }
    document["runs"] = std::move(runs);
    if (sweep) {
      document["sweep_field"] = policy.sweep_field;
      ordered_json list = ordered_json::array();
      for (const Point& point : points) {
        ordered_json entry;
        entry["value"] = point.sweep_value;
        entry["policy"] = point.policy.describe();
        entry["totals"] = totals_json(point.totals);
        entry["bits_frontier"] = point.bits_frontier;
        entry["energy_frontier"] = point.energy_frontier;
        list.push_back(std::move(entry));
      }
      document["points"] = std::move(list);
    } else {
      const Point& point = points.front();
      document["policy"] = point.policy.describe();
      document["totals"] = totals_json(point.totals);
      ordered_json frames = ordered_json::array();
      for (const FrameRow& row : point.frames) {
        ordered_json runs_taken = ordered_json::array();
        for (const tlm::FrameRun& run : row.runs)
          runs_taken.push_back({run.conv1_from, run.k, run.keep_sums ? 1 : 0});
        frames.push_back({{"final_k", row.final_k},
                          {"runs", std::move(runs_taken)},
                          {"planes", row.planes},
                          {"prediction", row.prediction},
                          {"label", row.label},
                          {"carried", row.carried},
                          {"margin", row.margin},
                          {"cycles", row.cycles},
                          {"energy_j", row.energy_j}});
      }
      document["frames"] = std::move(frames);
    }
    outputs.stage("--out", document);
  }
  if (values.count("csv")) {
    const std::string csv =
        sweep ? points_csv(points, policy.sweep_field) : frames_csv(points.front().frames);
    outputs.stage_bytes("--csv", csv.data(), csv.size());
  }
  outputs.commit();
  return 0;
}

}  // namespace bsnpu::cli
