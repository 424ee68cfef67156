// bsnpu frontier: a greedy search for the accuracy-energy frontier over per-layer precisions.
// Sensitivity: the accuracy on a slice of the CIFAR-10 TRAINING images with one conv/fc lowered
// to k (the others at 8), for every layer and k. Path: from all-8, repeatedly lower by one plane
// the layer whose sensitivity step costs the least accuracy per joule saved (the energy of one
// inference from the timing model of --config, re-simulated for every candidate), down to all-1.
// Every point of the path is then measured on the first --eval-images TEST images. Writes
// PREFIX.json and PREFIX.csv (docs/report-format.md, "bsnpu frontier").
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arch/config.h"
#include "arch/energy.h"
#include "arch/report.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/cifar.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/paths.h"
#include "core/precision.h"
#include "core/sha256.h"
#include "tlm/npu.h"

namespace bsnpu::cli {
namespace {

// The training batch the sensitivity slice comes from (its first --train-images records).
constexpr const char* kTrainingBatch = "data_batch_1.bin";

size_t correct_count(const Model& model, const Precision& precision, const CifarSet& images,
                     int threads) {
  const Classification result =
      classify(Network(model, precision), images.pixels.data(), images.size(), threads);
  size_t correct = 0;
  for (size_t i = 0; i < images.size(); ++i) correct += result.predictions[i] == images.labels[i];
  return correct;
}

std::string sha256_of(const CifarSet& images) {
  std::vector<uint8_t> bytes(images.labels);
  bytes.insert(bytes.end(), images.pixels.begin(), images.pixels.end());
  return sha256_hex(bytes.data(), bytes.size());
}

struct Point {
  std::vector<int> k;  // by weighted layer, graph order
  std::string lowered;
  double energy_j = 0;
  uint64_t cycles = 0;
  double latency_s = 0;
  Precision precision;
  size_t eval_correct = 0;
};

}  // namespace

int frontier_command(int argc, char** argv) {
  std::string config_path, model_option, data_option, out_prefix, train_text = "1000",
                                                                  eval_text = "1000";
  int threads = 1;
  namespace po = boost::program_options;
  po::options_description options(
      "usage: bsnpu frontier --out PREFIX [options]\n"
      "Greedy per-layer precision search: per-layer sensitivity on CIFAR-10 training images,\n"
      "then from all-8 to all-1 lowering one layer's k at a time at the least accuracy lost per\n"
      "joule saved (energy from the timing model of --config); each point's accuracy on the\n"
      "first --eval-images test images. Writes PREFIX.json and PREFIX.csv");
  options.add_options()("help,h", "show this help")(
      "out", po::value(&out_prefix), "output prefix: PREFIX.json and PREFIX.csv (required)")(
      "config", po::value(&config_path), "NPU config JSON (default <repo>/configs/default.json)")(
      "train-images", po::value(&train_text)->default_value(train_text),
      "first N images of data_batch_1.bin for the sensitivities, or all")(
      "eval-images", po::value(&eval_text)->default_value(eval_text),
      "first N test images to measure each point of the path on, or all")(
      "threads", po::value(&threads)->default_value(threads), "worker threads")(
      "model", po::value(&model_option), kModelHelp)("data", po::value(&data_option), kDataHelp);
  po::variables_map values;
  if (!parse_command_line(argc, argv, options, "frontier", values)) return 0;
  if (out_prefix.empty()) throw Error("--out: required (see bsnpu frontier --help)");
  if (threads < 1 || threads > 1024) throw Error("--threads: must be in 1..1024");
  const size_t train_limit = parse_images(train_text, "--train-images");
  const size_t eval_limit = parse_images(eval_text, "--eval-images");
  Outputs outputs;
  outputs.add("--out (json)", out_prefix + ".json");
  outputs.add("--out (csv)", out_prefix + ".csv");
  if (config_path.empty()) config_path = repo_root() + "/configs/default.json";
  const arch::NpuConfig config = arch::NpuConfig::load(config_path);
  if (config.mac_array.bit_parallel()) {
    throw Error(config.file +
                ": mac_array.weight_bits: a bit-parallel array's energy does not depend on k; "
                "the frontier needs a bit-serial one");
  }
  const arch::EnergyTable table = arch::EnergyTable::load(config.energy_table_path());
  const Model model = Model::load(model_prefix(model_option));
  const std::string data = data_dir(data_option);
  const CifarSet train = load_cifar_file(data + "/" + kTrainingBatch, train_limit);
  const CifarSet test = load_cifar_test(data, eval_limit);
  for (const auto& [limit, set, option] : {std::make_tuple(train_limit, &train, "--train-images"),
                                           std::make_tuple(eval_limit, &test, "--eval-images")}) {
    if (limit > set->size()) {
      throw Error(std::string(option) + ": " + std::to_string(limit) + " requested, the file has " +
                  std::to_string(set->size()));
    }
  }

  std::vector<size_t> layers;  // op indices of the weighted ops
  for (size_t i = 0; i < model.ops().size(); ++i) {
    if (model.ops()[i].kind == OpKind::Conv || model.ops()[i].kind == OpKind::Fc) {
      layers.push_back(i);
    }
  }
  const auto precision_of = [&](const std::vector<int>& k) {
    return Precision::parse(nlohmann::json(k), model, "frontier");
  };

  tlm::Npu npu("npu", config, model, threads);
  const arch::EnergyModel energy(table, config, npu.workload().act_bits);
  arch::ReportContext context;
  context.config = &config;
  context.energy = &energy;
  context.workload = &npu.workload();
  std::map<std::vector<int>, arch::RunSummary> simulated;
  const auto timing_of = [&](const std::vector<int>& k) -> const arch::RunSummary& {
    auto found = simulated.find(k);
    if (found == simulated.end()) {
      arch::BitsResult result;
      result.timing = npu.simulate_timing(precision_of(k).plane_ranges());
      found = simulated.emplace(k, arch::summarize(context, result)).first;
    }
    return found->second;
  };

  // Sensitivities: accuracy on the training slice with layer i at k, the others at 8.
  const std::vector<int> all8(layers.size(), 8);
  const size_t base_correct = correct_count(model, precision_of(all8), train, threads);
  std::vector<std::vector<size_t>> sensitivity(layers.size(), std::vector<size_t>(9, 0));
  {
    const ProgressBar bar("sensitivity", layers.size() * 7);
    size_t done = 0;
    for (size_t layer = 0; layer < layers.size(); ++layer) {
      sensitivity[layer][8] = base_correct;
      for (int k = 1; k <= 7; ++k) {
        std::vector<int> vector = all8;
        vector[layer] = k;
        sensitivity[layer][static_cast<size_t>(k)] =
            correct_count(model, precision_of(vector), train, threads);
        bar.update(++done);
      }
    }
    bar.finish();
  }

  // The greedy path.
  std::vector<Point> path;
  path.push_back(Point{all8, "", 0, 0, 0, precision_of(all8), 0});
  for (;;) {
    const std::vector<int>& current = path.back().k;
    const double current_energy = timing_of(current).energy_j;
    int best = -1;
    double best_score = 0, best_saved = 0;
    for (size_t layer = 0; layer < layers.size(); ++layer) {
      const int k = current[layer];
      if (k == 1) continue;
      std::vector<int> lowered = current;
      lowered[layer] = k - 1;
      const double saved = current_energy - timing_of(lowered).energy_j;
      if (!(saved > 0)) {
        throw Error(config.file + ": lowering " + model.ops()[layers[layer]].name +
                    " saves no energy: the frontier needs energy that falls with k");
      }
      const double lost = (static_cast<double>(sensitivity[layer][static_cast<size_t>(k)]) -
                           static_cast<double>(sensitivity[layer][static_cast<size_t>(k - 1)])) /
                          static_cast<double>(train.size());
      const double score = lost / saved;
      if (best < 0 || score < best_score || (score == best_score && saved > best_saved)) {
        best = static_cast<int>(layer);
        best_score = score;
        best_saved = saved;
      }
    }
    if (best < 0) break;
    std::vector<int> next = current;
    --next[static_cast<size_t>(best)];
    path.push_back(Point{next, model.ops()[layers[static_cast<size_t>(best)]].name, 0, 0, 0,
                         precision_of(next), 0});
  }

  // Each point: its timing and its accuracy on the evaluation images.
  {
    const ProgressBar bar("evaluation", path.size());
    for (size_t i = 0; i < path.size(); ++i) {
      Point& point = path[i];
      const arch::RunSummary& summary = timing_of(point.k);
      point.energy_j = summary.energy_j;
      point.cycles = summary.cycles;
      point.latency_s = summary.latency_s;
      point.eval_correct = correct_count(model, point.precision, test, threads);
      bar.update(i + 1);
    }
    bar.finish();
  }

  nlohmann::ordered_json sensitivities = nlohmann::ordered_json::object();
  for (size_t layer = 0; layer < layers.size(); ++layer) {
    nlohmann::ordered_json accuracy = nlohmann::ordered_json::array();
    for (int k = 1; k <= 8; ++k) {
      accuracy.push_back(static_cast<double>(sensitivity[layer][static_cast<size_t>(k)]) /
                         static_cast<double>(train.size()));
    }
    sensitivities[model.ops()[layers[layer]].name] = std::move(accuracy);
  }
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  std::string csv = "step,precision,lowered,average_bits,energy_j,cycles,latency_s,eval_accuracy\n";
  for (size_t i = 0; i < path.size(); ++i) {
    const Point& point = path[i];
    const double average_bits = point.precision.mean_planes(model);
    const double accuracy =
        static_cast<double>(point.eval_correct) / static_cast<double>(test.size());
    points.push_back({{"step", i},
                      {"precision", point.precision.to_json()},
                      {"lowered", point.lowered.empty() ? nlohmann::ordered_json(nullptr)
                                                        : nlohmann::ordered_json(point.lowered)},
                      {"average_bits", average_bits},
                      {"energy_j", point.energy_j},
                      {"cycles", point.cycles},
                      {"latency_s", point.latency_s},
                      {"eval_correct", point.eval_correct},
                      {"eval_accuracy", accuracy}});
    char line[256];
    std::snprintf(line, sizeof line, ",%s,%.6f,%.9g,%llu,%.9g,%.6f\n", point.lowered.c_str(),
                  average_bits, point.energy_j, static_cast<unsigned long long>(point.cycles),
                  point.latency_s, accuracy);
    csv += std::to_string(i) + "," + point.precision.label() + line;
  }
  nlohmann::ordered_json report;
  report["format"] = "bsnpu-frontier";
  report["version"] = 1;
  report["method"] =
      "greedy: from all-8, lower by one plane the conv/fc with the least sensitivity accuracy "
      "lost per joule of inference energy saved, until all-1; sensitivities are single-layer "
      "(that layer at k, the others at 8) on the training slice; energies from the timing model "
      "of the config; each point measured on the evaluation images";
  report["config"] = {{"file", arch::file_name(config.file)},
                      {"name", config.name},
                      {"sha256", sha256_hex(config.source_text.data(), config.source_text.size())}};
  report["model"] = {{"manifest", arch::file_name(model.manifest_path())},
                     {"tensors_sha256", model.tensors_sha256()}};
  report["sensitivity"] = {{"data", kTrainingBatch},
                           {"images", train.size()},
                           {"sha256", sha256_of(train)},
                           {"accuracy_by_layer_and_k", std::move(sensitivities)}};
  report["evaluation"] = {
      {"data", "test_batch.bin"}, {"images", test.size()}, {"sha256", sha256_of(test)}};
  report["path"] = std::move(points);
  outputs.stage("--out (json)", report);
  outputs.stage_text("--out (csv)", csv);
  outputs.commit();

  std::printf("%5s %-44s %9s %11s %9s  %s\n", "step", "precision", "avg_bits", "energy_uJ",
              "accuracy", "lowered");
  for (size_t i = 0; i < path.size(); ++i) {
    const Point& point = path[i];
    std::printf("%5zu %-44s %9.3f %11.3f %8.2f%%  %s\n", i, point.precision.label().c_str(),
                point.precision.mean_planes(model), 1e6 * point.energy_j,
                100.0 * static_cast<double>(point.eval_correct) / static_cast<double>(test.size()),
                point.lowered.c_str());
  }
  std::printf("sensitivity on the first %zu images of %s; accuracy on the first %zu test images\n",
              train.size(), kTrainingBatch, test.size());
  return 0;
}

}  // namespace bsnpu::cli
