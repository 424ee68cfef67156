// bsnpu eval: accuracy of the bit-exact integer network at every requested k, or at one per-layer
// precision, on the fast path.
#include <algorithm>
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
  const Precision* precision;
  double average_bits;
  size_t images, correct;
  double seconds;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int eval_command(int argc, char** argv) {
  CommonOptions common;
  std::string json_path, logits_path;
  boost::program_options::options_description options(
      "usage: bsnpu eval [options]\n"
      "Top-1 accuracy of the bit-exact integer ResNet-18 on CIFAR-10 test images, per weight\n"
      "bit-width k or per-layer precision (fast kernels; identical to the NumPy reference)");
  add_common_options(options, common, "all");
  options.add_options()("json", boost::program_options::value(&json_path),
                        "also write the results as JSON to this file")(
      "logits", boost::program_options::value(&logits_path),
      "also write every image's integer logits as JSON to this file");
  boost::program_options::variables_map values;
  if (!parse_command_line(argc, argv, options, "eval", values)) return 0;
  Outputs outputs;
  if (values.count("json")) outputs.add("--json", json_path);
  if (values.count("logits")) outputs.add("--logits", logits_path);
  const Inputs inputs = load_inputs(common, values);
  const CifarSet& images = inputs.images;

  std::vector<Row> rows;
  nlohmann::ordered_json logits = nlohmann::ordered_json::array();
  const auto sweep_start = Clock::now();
  for (const Precision& precision : inputs.precisions) {
    const auto start = Clock::now();
    const Network network(inputs.model, precision);
    const ProgressBar bar("k=" + precision.label(), images.size());
    const Classification result = classify(network, images.pixels.data(), images.size(),
                                           inputs.threads, [&](size_t done) { bar.update(done); });
    bar.finish();
    size_t correct = 0;
    for (size_t i = 0; i < images.size(); ++i) correct += result.predictions[i] == images.labels[i];
    rows.push_back({&precision, precision.mean_planes(inputs.model), images.size(), correct,
                    seconds_since(start)});
    if (values.count("logits")) {
      const size_t classes = static_cast<size_t>(network.num_classes());
      nlohmann::ordered_json row = nlohmann::ordered_json::array();
      for (size_t i = 0; i < images.size(); ++i) {
        row.push_back(
            std::vector<int32_t>(result.logits.begin() + static_cast<long>(i * classes),
                                 result.logits.begin() + static_cast<long>((i + 1) * classes)));
      }
      logits.push_back({{"precision", precision.to_json()}, {"logits", std::move(row)}});
    }
  }
  const double total_seconds = seconds_since(sweep_start);

  int width = 3;
  for (const Row& row : rows)
    width = std::max(width, static_cast<int>(row.precision->label().size()));
  std::printf("%*s %8s %8s %9s %8s %10s\n", width, "k", "images", "correct", "accuracy", "avg_bits",
              "images/s");
  for (const Row& row : rows) {
    std::printf("%*s %8zu %8zu %8.2f%% %8.3f %10.1f\n", width, row.precision->label().c_str(),
                row.images, row.correct,
                100.0 * static_cast<double>(row.correct) / static_cast<double>(row.images),
                row.average_bits, static_cast<double>(row.images) / row.seconds);
  }
  std::printf("%zu images x %zu precision(s) in %.1f s on %d thread(s)\n", images.size(),
              rows.size(), total_seconds, inputs.threads);

  if (values.count("json")) {
    nlohmann::ordered_json report;
    report["model"] = inputs.model.manifest_path();
    report["model_tensors_sha256"] = inputs.model.tensors_sha256();
    report["data"] = inputs.data_dir;
    report["images"] = images.size();
    report["threads"] = inputs.threads;
    report["seconds"] = total_seconds;
    for (const Row& row : rows) {
      nlohmann::ordered_json entry = {
          {"precision", row.precision->to_json()},
          {"average_bits", row.average_bits},
          {"images", row.images},
          {"correct", row.correct},
          {"accuracy", static_cast<double>(row.correct) / static_cast<double>(row.images)},
          {"seconds", row.seconds},
          {"images_per_second", static_cast<double>(row.images) / row.seconds}};
      // --bits rows by k; a --precision row by its label ("8" when uniform).
      report["per_bits"][row.precision->label()] = std::move(entry);
    }
    outputs.stage("--json", report);
  }
  if (values.count("logits")) {
    outputs.stage("--logits",
                  nlohmann::ordered_json{{"format", "bsnpu-logits"},
                                         {"version", 1},
                                         {"model_tensors_sha256", inputs.model.tensors_sha256()},
                                         {"images", images.size()},
                                         {"rows", std::move(logits)}});
  }
  outputs.commit();
  return 0;
}

}  // namespace bsnpu::cli
