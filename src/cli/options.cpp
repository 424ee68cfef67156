#include "cli/options.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/paths.h"
#include "core/sha256.h"

namespace bsnpu::cli {

namespace po = boost::program_options;

const char* const kModelHelp =
    "model prefix (PREFIX.json + tensors; default $BSNPU_MODEL, else "
    "<repo>/models/resnet18_cifar10)";
const char* const kDataHelp =
    "cifar-10-batches-bin directory (default $BSNPU_DATA, else "
    "<repo>/../shared/datasets/cifar10/cifar-10-batches-bin)";

// "all" -> 0 (every image); else a positive count.
size_t parse_images(const std::string& text, const std::string& option) {
  if (text == "all") return 0;
  size_t used = 0;
  long long count = 0;
  try {
    count = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size() || count <= 0) {
    throw Error(option + ": '" + text + "' is neither a positive count nor 'all'");
  }
  return static_cast<size_t>(count);
}

void add_common_options(po::options_description& options, CommonOptions& common,
                        const std::string& images) {
  common.images = images;
  common.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.add_options()("help,h", "show this help")(
      "bits", po::value(&common.bits)->default_value(common.bits), "k to run: 1-8, 1,2,8 or 4")(
      "precision", po::value(&common.precision),
      "a JSON file holding per-layer bit-widths: k, [k per conv/fc] or {\"default\": k, "
      "\"layers\": {name: k}} (docs/arithmetic.md); instead of --bits")(
      "images", po::value(&common.images)->default_value(images), "first N test images, or all")(
      "threads", po::value(&common.threads)->default_value(common.threads), "worker threads")(
      "model", po::value(&common.model), kModelHelp)("data", po::value(&common.data), kDataHelp);
}

bool parse_command_line(int argc, char** argv, const po::options_description& options,
                        const std::string& command, po::variables_map& values,
                        std::vector<std::string>* positionals) {
  // Positional arguments are collected, and refused by name unless the command takes them.
  std::vector<std::string> stray;
  po::options_description all(options);
  all.add_options()("stray-argument", po::value(&stray));
  po::positional_options_description positional;
  positional.add("stray-argument", -1);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
              values);
    po::notify(values);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see bsnpu " + command + " --help)");
  }
  if (positionals) {
    *positionals = stray;
  } else if (!stray.empty()) {
    throw Error("unexpected argument '" + stray.front() + "' (see bsnpu " + command + " --help)");
  }
  if (values.count("help")) {
    std::cout << options << "\n";
    return false;
  }
  // An empty path or list given on purpose is a mistake, never a request for the default.
  for (const auto& [name, value] : values) {
    const auto* text = boost::any_cast<std::string>(&value.value());
    if (name == "stray-argument") continue;
    if (text && text->empty() && !value.defaulted()) {
      throw Error("--" + name + ": '' is empty (see bsnpu " + command + " --help)");
    }
  }
  return true;
}

std::vector<int> parse_bits(const std::string& text) {
  auto fail = [&]() -> int {
    throw Error("--bits: '" + text + "' is not a list of k in 1..8 (e.g. 1-8, 1,2,8 or 4)");
  };
  auto number = [&](const std::string& item) {
    if (item.size() != 1 || item[0] < '1' || item[0] > '8') fail();
    return item[0] - '0';
  };
  std::set<int> bits;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, comma - begin);
    const size_t dash = item.find('-');
    if (dash == std::string::npos) {
      bits.insert(number(item));
    } else {
      const int first = number(item.substr(0, dash)), last = number(item.substr(dash + 1));
      if (first > last) fail();
      for (int k = first; k <= last; ++k) bits.insert(k);
    }
    begin = comma + 1;
  }
  return {bits.begin(), bits.end()};
}

Inputs load_inputs(const CommonOptions& common, const po::variables_map& values, bool with_images) {
  Inputs inputs;
  const bool per_layer = values.count("precision") > 0;
  if (per_layer && !values["bits"].defaulted()) {
    throw Error("--precision: give either --bits or --precision, not both");
  }
  const std::vector<int> bits = parse_bits(common.bits);
  if (common.threads < 1 || common.threads > 1024) throw Error("--threads: must be in 1..1024");
  inputs.threads = common.threads;
  const size_t limit = parse_images(common.images, "--images");
  inputs.model = Model::load(model_prefix(common.model));
  if (per_layer) {
    inputs.precisions.push_back(Precision::load(common.precision, inputs.model));
  } else {
    for (int k : bits) {
      if (!inputs.model.has_bits(k)) {
        throw Error(inputs.model.manifest_path() +
                    ": bits: no parameters for k=" + std::to_string(k));
      }
      inputs.precisions.push_back(Precision::uniform(inputs.model, k));
    }
  }
  if (!with_images) return inputs;
  inputs.data_dir = data_dir(common.data);
  inputs.images = load_cifar_test(inputs.data_dir, limit);
  if (limit > inputs.images.size()) {
    throw Error("--images: " + std::to_string(limit) + " requested, the test set has " +
                std::to_string(inputs.images.size()));
  }
  return inputs;
}

std::string images_sha256(const CifarSet& images) {
  std::vector<uint8_t> bytes(images.labels);
  bytes.insert(bytes.end(), images.pixels.begin(), images.pixels.end());
  return sha256_hex(bytes.data(), bytes.size());
}

ProgressBar::ProgressBar(const std::string& label, size_t total, bool eta, size_t already_done)
    : enabled_(isatty(STDERR_FILENO) != 0),
      label_(label),
      total_(total),
      eta_(eta),
      already_done_(already_done),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(size_t done) const {
  if (!enabled_) return;
  constexpr int kWidth = 40;
  const int filled = static_cast<int>(kWidth * done / std::max<size_t>(total_, 1));
  std::string eta;
  if (eta_ && done > already_done_ && done < total_) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double left =
        elapsed / static_cast<double>(done - already_done_) * static_cast<double>(total_ - done);
    const long seconds = std::lround(left);
    char text[48];
    std::snprintf(text, sizeof text, " ETA %ldm%02lds", seconds / 60, seconds % 60);
    eta = text;
  }
  std::fprintf(stderr, "\r%s [%s%s] %zu/%zu%s\033[K", label_.c_str(),
               std::string(static_cast<size_t>(filled), '#').c_str(),
               std::string(static_cast<size_t>(kWidth - filled), '.').c_str(), done, total_,
               eta.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() const {
  if (enabled_) std::fputs("\r\033[K", stderr);
}

}  // namespace bsnpu::cli
