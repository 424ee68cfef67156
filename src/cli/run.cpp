// bsnpu run: the SystemC TLM-2.0 model of the bit-serial NPU. Per k: accuracy of the images
// through the simulated datapath, cycles and latency of one inference, energy per image and its
// breakdown; writes the versioned JSON report and, on request, a Chrome/Perfetto timeline.
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
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
#include "core/sha256.h"
#include "tlm/config.h"
#include "tlm/energy.h"
#include "tlm/npu.h"
#include "tlm/report.h"
#include "tlm/workload.h"

namespace bsnpu::cli {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

int run(int argc, char** argv) {
  std::string config_path, model_option, data_option, bits_text, out_path, trace_path;
  int images_count = 1000;
  int threads = 0;
  po::options_description options(
      "usage: bsnpu run [options]\n"
      "SystemC TLM-2.0 simulation of the bit-serial NPU on CIFAR-10 test images: per weight\n"
      "bit-width k, accuracy through the simulated datapath, cycles, latency and energy");
  options.add_options()("help,h", "show this help")(
      "config", po::value(&config_path), "NPU config JSON (default <repo>/configs/default.json)")(
      "model", po::value(&model_option),
      "model prefix (default $BSNPU_MODEL, else <repo>/models/resnet18_cifar10)")(
      "data", po::value(&data_option),
      "cifar-10-batches-bin directory (default $BSNPU_DATA, else "
      "<repo>/../shared/datasets/cifar10/cifar-10-batches-bin)")(
      "bits", po::value(&bits_text)->default_value("1-8"), "k to run: 1-8, 1,2,8 or 4")(
      "images", po::value(&images_count)->default_value(1000), "first N test images")(
      "threads",
      po::value(&threads)->default_value(
          static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      "worker threads of the functional datapath")(
      "out", po::value(&out_path), "write the JSON report here (docs/report-format.md)")(
      "trace", po::value(&trace_path), "write a Chrome/Perfetto trace-event timeline here");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), values);
    po::notify(values);
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + " (see bsnpu run --help)");
  }
  if (values.count("help")) {
    std::cout << options << "\n";
    return 0;
  }
  if (images_count < 1) throw Error("--images: must be a positive count");
  if (threads < 1 || threads > 1024) throw Error("--threads: must be in 1..1024");
  if (config_path.empty()) config_path = repo_root() + "/configs/default.json";
  const std::vector<int> bits = parse_bits(bits_text);
  if (!out_path.empty()) require_writable_directory(out_path, "--out");
  if (!trace_path.empty()) require_writable_directory(trace_path, "--trace");

  const tlm::NpuConfig config = tlm::NpuConfig::load(config_path);
  const tlm::EnergyTable table = tlm::EnergyTable::load(config.energy_table_path());
  const Model model = Model::load(model_prefix(model_option));
  for (int k : bits) {
    if (!model.has_bits(k))
      throw Error(model.manifest_path() + ": bits: no parameters for k=" + std::to_string(k));
  }
  const std::string data = data_dir(data_option);
  const CifarSet images = load_cifar_test(data, static_cast<size_t>(images_count));
  if (images.size() < static_cast<size_t>(images_count)) {
    throw Error("--images: " + std::to_string(images_count) + " requested, the test set has " +
                std::to_string(images.size()));
  }
  std::vector<uint8_t> data_bytes(images.labels);
  data_bytes.insert(data_bytes.end(), images.pixels.begin(), images.pixels.end());

  const tlm::Workload workload = tlm::Workload::from_model(model);
  const tlm::EnergyModel energy(table, config, workload.act_bits);
  tlm::Npu npu("npu", config, workload);

  std::vector<tlm::BitsResult> results;
  double timing_seconds = 0, functional_seconds = 0;
  for (int k : bits) {
    tlm::BitsResult result;
    const auto timing_start = Clock::now();
    result.timing = npu.simulate_timing(k);
    const auto functional_start = Clock::now();
    timing_seconds += std::chrono::duration<double>(functional_start - timing_start).count();
    const Network network(model, k);
    const std::vector<int> predictions =
        npu.classify(network, images.pixels.data(), images.size(), threads);
    for (size_t i = 0; i < images.size(); ++i) result.correct += predictions[i] == images.labels[i];
    functional_seconds += std::chrono::duration<double>(Clock::now() - functional_start).count();
    result.images = images.size();
    results.push_back(std::move(result));
  }

  tlm::ReportContext context;
  context.config = &config;
  context.energy = &energy;
  context.workload = &workload;
  context.model_manifest = tlm::file_name(model.manifest_path());
  context.model_tensors_sha256 = model.tensors_sha256();
  context.data_file = "test_batch.bin";
  context.data_sha256 = sha256_hex(data_bytes.data(), data_bytes.size());
  const nlohmann::ordered_json report = tlm::build_report(context, results);

  std::printf("config %s (%s), %d x %d PEs at %g MHz; model %s; %zu images\n",
              tlm::file_name(config.file).c_str(), config.name.c_str(), config.mac_array.rows,
              config.mac_array.cols, config.clock_mhz, context.model_manifest.c_str(),
              images.size());
  std::printf("%2s %9s %10s %8s %11s %10s %9s %13s\n", "k", "accuracy", "cycles", "stall%",
              "latency_ms", "energy_uJ", "acc/Mcyc", "weight_Mbits");
  for (const nlohmann::ordered_json& row : report["results"]) {
    std::printf("%2d %8.2f%% %10llu %7.1f%% %11.4f %10.3f %9.3f %13.3f\n", row["bits"].get<int>(),
                100 * row["accuracy"].get<double>(), row["cycles"].get<unsigned long long>(),
                100.0 * row["stall_cycles"].get<double>() / row["cycles"].get<double>(),
                1e3 * row["latency_s"].get<double>(), 1e6 * row["energy_j"].get<double>(),
                row["accuracy_per_mcycle"].get<double>(),
                row["weight_bits_read"].get<double>() / 1e6);
  }
  std::printf("energy breakdown per image (uJ):\n%2s", "k");
  for (int module = 0; module < tlm::kModuleCount; ++module) {
    std::printf(" %17s", tlm::module_name(static_cast<tlm::Module>(module)));
  }
  std::printf(" %10s\n", "leakage");
  for (const nlohmann::ordered_json& row : report["results"]) {
    std::printf("%2d", row["bits"].get<int>());
    for (const auto& [module, joules] : row["energy_breakdown_j"].items()) {
      std::printf(" %17.3f", 1e6 * joules.get<double>());
    }
    std::printf(" %10.3f\n", 1e6 * row["leakage_j"].get<double>());
  }
  std::printf("energy table: %s\n", table.name.c_str());
  for (const std::string& line : table.provenance) std::printf("  %s\n", line.c_str());
  std::printf("timing simulation %.3f s for %zu k; functional datapath %.1f s (%d thread(s))\n",
              timing_seconds, bits.size(), functional_seconds, threads);

  if (!out_path.empty()) write_json(out_path, report);
  if (!trace_path.empty()) write_json(trace_path, tlm::build_trace(context, results));
  return 0;
}

}  // namespace

int run_command(int argc, char** argv) { return run(argc, argv); }

}  // namespace bsnpu::cli

// libsystemc's own main() calls sc_main; bsnpu has its own main(), so this only satisfies the
// shared library's reference and is never called.
int sc_main(int, char**) { return 2; }
