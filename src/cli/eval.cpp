// bsnpu eval: accuracy of the bit-exact integer network at every requested k, on the fast path.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/engine.h"

namespace bsnpu::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct Row {
  int k;
  size_t images, correct;
  double seconds;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int eval_command(int argc, char** argv) {
  CommonOptions common;
  std::string json_path;
  boost::program_options::options_description options(
      "usage: bsnpu eval [options]\n"
      "Top-1 accuracy of the bit-exact integer ResNet-18 on CIFAR-10 test images, per weight\n"
      "bit-width k (fast kernels; identical to the NumPy reference)");
  add_common_options(options, common, "all");
  options.add_options()("json", boost::program_options::value(&json_path),
                        "also write the results as JSON to this file");
  boost::program_options::variables_map values;
  if (!parse_command_line(argc, argv, options, "eval", values)) return 0;
  Outputs outputs;
  if (values.count("json")) outputs.add("--json", json_path);
  const Inputs inputs = load_inputs(common);
  const CifarSet& images = inputs.images;

  std::vector<Row> rows;
  const auto sweep_start = Clock::now();
  for (int k : inputs.bits) {
    const auto start = Clock::now();
    const Network network(inputs.model, k);
    const ProgressBar bar("k=" + std::to_string(k), images.size());
    const Classification result = classify(network, images.pixels.data(), images.size(),
                                           inputs.threads, [&](size_t done) { bar.update(done); });
    bar.finish();
    size_t correct = 0;
    for (size_t i = 0; i < images.size(); ++i) correct += result.predictions[i] == images.labels[i];
    rows.push_back({k, images.size(), correct, seconds_since(start)});
  }
  const double total_seconds = seconds_since(sweep_start);

  std::printf("%3s %8s %8s %9s %10s\n", "k", "images", "correct", "accuracy", "images/s");
  for (const Row& row : rows) {
    std::printf("%3d %8zu %8zu %8.2f%% %10.1f\n", row.k, row.images, row.correct,
                100.0 * static_cast<double>(row.correct) / static_cast<double>(row.images),
                static_cast<double>(row.images) / row.seconds);
  }
  std::printf("%zu images x %zu k in %.1f s on %d thread(s)\n", images.size(), rows.size(),
              total_seconds, inputs.threads);

  if (values.count("json")) {
    nlohmann::ordered_json report;
    report["model"] = inputs.model.manifest_path();
    report["model_tensors_sha256"] = inputs.model.tensors_sha256();
    report["data"] = inputs.data_dir;
    report["images"] = images.size();
    report["threads"] = inputs.threads;
    report["seconds"] = total_seconds;
    for (const Row& row : rows) {
      report["per_bits"][std::to_string(row.k)] = {
          {"images", row.images},
          {"correct", row.correct},
          {"accuracy", static_cast<double>(row.correct) / static_cast<double>(row.images)},
          {"seconds", row.seconds},
          {"images_per_second", static_cast<double>(row.images) / row.seconds}};
    }
    outputs.stage("--json", report);
    outputs.commit();
  }
  return 0;
}

}  // namespace bsnpu::cli
