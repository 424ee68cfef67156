// bsnpu eval: accuracy of the bit-exact integer network at every requested k, on the fast path.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/bits.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "core/cifar.h"
#include "core/engine.h"
#include "core/error.h"
#include "core/model.h"
#include "core/paths.h"

namespace bsnpu::cli {

namespace {

namespace po = boost::program_options;

// "all" -> 0 (every image); else a positive count.
size_t parse_images(const std::string& text) {
  if (text == "all") return 0;
  size_t used = 0;
  long long count = 0;
  try {
    count = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || count <= 0) {
    throw Error("--images: '" + text + "' is neither a positive count nor 'all'");
  }
  return static_cast<size_t>(count);
}

class ProgressBar {
 public:
  ProgressBar(bool enabled, int k, size_t total) : enabled_(enabled), k_(k), total_(total) {}
  void update(size_t done) const {
    if (!enabled_) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(kWidth * done / std::max<size_t>(total_, 1));
    std::fprintf(stderr, "\rk=%d [%s%s] %zu/%zu", k_,
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), done, total_);
    std::fflush(stderr);
  }
  void finish() const {
    if (enabled_) std::fputs("\r\033[K", stderr);
  }

 private:
  bool enabled_;
  int k_;
  size_t total_;
};

struct Row {
  int k;
  size_t images, correct;
  double seconds;
};

int run_eval(int argc, char** argv) {
  std::string bits_text, images_text, model_option, data_option, json_path;
  int threads = 0;
  po::options_description options(
      "usage: bsnpu eval [options]\n"
      "Top-1 accuracy of the bit-exact integer ResNet-18 on CIFAR-10 test images, per weight\n"
      "bit-width k (fast kernels; identical to the NumPy reference)");
  options.add_options()("help,h", "show this help")(
      "bits", po::value(&bits_text)->default_value("1-8"), "k to evaluate: 1-8, 1,2,8 or 4")(
      "images", po::value(&images_text)->default_value("all"), "first N test images, or all")(
      "threads",
      po::value(&threads)->default_value(
          static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      "worker threads")("model", po::value(&model_option),
                        "model prefix (PREFIX.json + tensors; default $BSNPU_MODEL, else "
                        "<repo>/models/resnet18_cifar10)")(
      "data", po::value(&data_option),
      "cifar-10-batches-bin directory (default $BSNPU_DATA, else "
      "<repo>/../shared/datasets/cifar10/cifar-10-batches-bin)")(
      "json", po::value(&json_path), "also write the results as JSON to this file");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see bsnpu eval --help)");
  }
  if (values.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (threads < 1 || threads > 1024) throw Error("--threads: must be in 1..1024");
  const std::vector<int> bits = parse_bits(bits_text);
  if (!json_path.empty()) require_writable_directory(json_path, "--json");
  const size_t limit = parse_images(images_text);

  const Model model = Model::load(model_prefix(model_option));
  for (int k : bits) {
    if (!model.has_bits(k)) {
      throw Error(model.manifest_path() + ": bits: no parameters for k=" + std::to_string(k));
    }
  }
  const std::string data = data_dir(data_option);
  const CifarSet images = load_cifar_test(data, limit);
  if (limit > images.size()) {
    throw Error("--images: " + std::to_string(limit) + " requested, the test set has " +
                std::to_string(images.size()));
  }
  const bool terminal = isatty(STDERR_FILENO) != 0;

  std::vector<Row> rows;
  const auto sweep_start = std::chrono::steady_clock::now();
  for (int k : bits) {
    const auto start = std::chrono::steady_clock::now();
    const Network network(model, k);
    const ProgressBar bar(terminal, k, images.size());
    const Classification result = classify(network, images.pixels.data(), images.size(), threads,
                                           [&](size_t done) { bar.update(done); });
    bar.finish();
    size_t correct = 0;
    for (size_t i = 0; i < images.size(); ++i) correct += result.predictions[i] == images.labels[i];
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rows.push_back({k, images.size(), correct, seconds});
  }
  const double total_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sweep_start).count();

  std::printf("%3s %8s %8s %9s %10s\n", "k", "images", "correct", "accuracy", "images/s");
  for (const Row& row : rows) {
    std::printf("%3d %8zu %8zu %8.2f%% %10.1f\n", row.k, row.images, row.correct,
                100.0 * static_cast<double>(row.correct) / static_cast<double>(row.images),
                static_cast<double>(row.images) / row.seconds);
  }
  std::printf("%zu images x %zu k in %.1f s on %d thread(s)\n", images.size(), rows.size(),
              total_seconds, threads);

  if (!json_path.empty()) {
    nlohmann::ordered_json report;
    report["model"] = model.manifest_path();
    report["model_tensors_sha256"] = model.tensors_sha256();
    report["data"] = data;
    report["images"] = images.size();
    report["threads"] = threads;
    report["seconds"] = total_seconds;
    for (const Row& row : rows) {
      report["per_bits"][std::to_string(row.k)] = {
          {"images", row.images},
          {"correct", row.correct},
          {"accuracy", static_cast<double>(row.correct) / static_cast<double>(row.images)},
          {"seconds", row.seconds},
          {"images_per_second", static_cast<double>(row.images) / row.seconds}};
    }
    write_json(json_path, report);
  }
  return 0;
}

}  // namespace

int eval_command(int argc, char** argv) { return run_eval(argc, argv); }

}  // namespace bsnpu::cli
