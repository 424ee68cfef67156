#include "tlm/npu.h"

#include <algorithm>

#include "arch/schedule.h"
#include "core/arith.h"
#include "core/error.h"
#include "core/layer_ops.h"

namespace bsnpu::tlm {

Npu::Npu(sc_core::sc_module_name name, const arch::NpuConfig& config, const Model& model,
         int threads)
    : sc_module(name),
      config_(config),
      model_(model),
      workload_(arch::Workload::from_model(model)),
      timebase_{sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS), sc_core::SC_ZERO_TIME},
      workers_(threads),
      dram("dram", config_.dram, model_, timebase_),
      weight_memory("weight_memory", config_.weight_memory, model_, timebase_),
      activation_buffer("activation_buffer", config_.activation_buffer, model_, timebase_),
      mac_array("mac_array", config_.mac_array, model_, workers_, timebase_),
      accumulator("accumulator", config_.accumulator, model_, workload_, workers_, timebase_),
      controller("controller", config_, workload_, timebase_) {
  if (workload_.accumulator_bits > config_.accumulator.bits) {
    throw Error(config_.file + ": accumulator.bits: the model needs " +
                std::to_string(workload_.accumulator_bits) + " bits");
  }
  tlm_utils::tlm_quantumkeeper::set_global_quantum(
      sc_core::sc_time(config_.quantum_ns, sc_core::SC_NS));
  controller.weight_port.bind(weight_memory.target);
  controller.array_port.bind(mac_array.target);
  controller.accumulator_port.bind(accumulator.control_port);
  controller.activation_port.bind(activation_buffer.control_port);
  weight_memory.dram_port.bind(dram.weight_port);
  activation_buffer.dram_port.bind(dram.activation_port);
  mac_array.weight_port.bind(weight_memory.array_port);
  mac_array.activation_port.bind(activation_buffer.array_port);
  mac_array.accumulator_port.bind(accumulator.array_port);
  accumulator.activation_port.bind(activation_buffer.accumulator_port);
}

void Npu::run_job() {
  sc_core::sc_start();
  controller.check();
}

arch::TimingResult Npu::simulate_timing(int k) {
  return simulate_timing(arch::uniform_planes(workload_, k));
}

arch::TimingResult Npu::simulate_timing(const std::vector<PlaneRange>& planes) {
  return simulate(arch::build_schedule(workload_, config_, planes), false, false);
}

arch::TimingResult Npu::simulate_run(const FrameRun& run) {
  std::vector<PlaneRange> planes = arch::uniform_planes(workload_, run.k);
  for (size_t layer = 0; layer < workload_.layers.size(); ++layer) {
    if (workload_.reads_image(layer)) planes[layer].first = run.conv1_from;
  }
  return simulate(arch::build_schedule(workload_, config_, planes), run.conv1_from > 0,
                  run.keep_sums);
}

double Npu::image_mac_share() const {
  uint64_t image = 0;
  for (size_t layer = 0; layer < workload_.layers.size(); ++layer) {
    if (workload_.reads_image(layer)) image += workload_.layers[layer].macs();
  }
  return static_cast<double>(image) / static_cast<double>(workload_.total_macs());
}

arch::TimingResult Npu::simulate(const arch::Schedule& schedule, bool restore_sums,
                                 bool save_sums) {
  const size_t layers = workload_.layers.size();
  dram.reset(layers);
  weight_memory.reset(layers);
  activation_buffer.reset(layers);
  mac_array.reset(layers);
  accumulator.reset(layers);
  arch::TimingResult result;
  result.k = schedule.k;
  result.planes = schedule.planes;
  result.weights_resident = schedule.weights_resident;
  controller.post_timing(&schedule, &result.layers, restore_sums, save_sums);
  run_job();
  for (const arch::LayerTiming& layer : result.layers) result.cycles += layer.cycles;
  auto& modules = result.modules;
  modules[static_cast<int>(arch::Module::MacArray)] = mac_array.stats.layers();
  modules[static_cast<int>(arch::Module::Accumulator)] = accumulator.stats.layers();
  modules[static_cast<int>(arch::Module::WeightMemory)] = weight_memory.stats.layers();
  modules[static_cast<int>(arch::Module::ActivationBuffer)] = activation_buffer.stats.layers();
  modules[static_cast<int>(arch::Module::Dram)] = dram.stats.layers();
  const std::array<const arch::ModuleStats*, arch::kModuleCount> stats = {
      &mac_array.stats, &accumulator.stats, &weight_memory.stats, &activation_buffer.stats,
      &dram.stats};
  for (int module = 0; module < arch::kModuleCount; ++module) {
    for (int track = 0; track < arch::kTracksPerModule; ++track) {
      result.timelines[static_cast<size_t>(module)][static_cast<size_t>(track)] =
          stats[static_cast<size_t>(module)]->timeline(track);
    }
  }
  result.prefetch_queue = dram.prefetch_queue();
  return result;
}

Classification Npu::classify(const uint8_t* pixels, size_t images, int k,
                             const std::function<void(size_t)>& progress) {
  return classify(pixels, images, Precision::uniform(model_, k), progress);
}

Classification Npu::classify(const uint8_t* pixels, size_t images, const Precision& precision,
                             const std::function<void(size_t)>& progress) {
  const std::vector<Requant> requant = requantization(model_, precision);
  const size_t classes = static_cast<size_t>(model_.num_classes());
  Classification result;
  result.logits.reserve(images * classes);
  // The engine's per-worker batch for each worker: the same cache footprint per core.
  const size_t batch = static_cast<size_t>(kBatchImages * workers_.threads());
  for (size_t first = 0; first < images; first += batch) {
    FunctionalJob job;
    job.pixels = pixels + first * kImageBytes;
    job.images = static_cast<int>(std::min(batch, images - first));
    job.precision = &precision;
    job.requant = &requant;
    controller.post_functional(&job);
    run_job();
    result.logits.insert(result.logits.end(), job.logits.begin(), job.logits.end());
    if (progress) progress(first + static_cast<size_t>(job.images));
  }
  for (size_t image = 0; image < images; ++image) {
    result.predictions.push_back(
        argmax(result.logits.data() + image * classes, static_cast<int>(classes)));
  }
  return result;
}

void Npu::stream(StreamJob& job) {
  if (!job.policy || !job.render) throw Error("stream: a policy and frames are needed");
  for (int k = 1; k <= job.policy->config().max_k(); ++k) {
    if (!model_.has_bits(k)) {
      throw Error(model_.manifest_path() + ": no parameters for k=" + std::to_string(k));
    }
  }
  job.precisions.clear();
  job.requants.clear();
  for (int k = 1; k <= job.policy->config().max_k(); ++k) {
    job.precisions.push_back(Precision::uniform(model_, k));
    job.requants.push_back(requantization(model_, job.precisions.back()));
  }
  if (job.memo && job.memo->size() != job.frames * 8) {
    throw Error("stream: the memo must hold 8 entries per frame");
  }
  controller.post_stream(&job);
  run_job();
}

}  // namespace bsnpu::tlm
