#include "tlm/npu.h"

#include <algorithm>

#include "core/error.h"

namespace bsnpu::tlm {

Npu::Npu(sc_core::sc_module_name name, const NpuConfig& config, const Workload& workload)
    : sc_module(name),
      config_(config),
      workload_(workload),
      timebase_{sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS), sc_core::SC_ZERO_TIME},
      dram("dram", config_.dram, timebase_),
      weight_memory("weight_memory", config_.weight_memory, timebase_),
      activation_buffer("activation_buffer", config_.activation_buffer, timebase_),
      mac_array("mac_array", config_.mac_array, workload_.act_bits, timebase_),
      accumulator("accumulator", config_.accumulator, timebase_),
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
  mac_array.activation_port.bind(activation_buffer.array_port);
  mac_array.accumulator_port.bind(accumulator.array_port);
  accumulator.activation_port.bind(activation_buffer.accumulator_port);
}

void Npu::run_job() {
  sc_core::sc_start();
  controller.check();
}

TimingResult Npu::simulate_timing(int k) {
  const Schedule schedule = build_schedule(workload_, config_, k);
  const size_t layers = workload_.layers.size();
  dram.reset(layers);
  weight_memory.reset(layers);
  activation_buffer.reset(layers);
  mac_array.reset(layers);
  accumulator.reset(layers);
  TimingResult result;
  result.k = k;
  result.weights_resident = schedule.weights_resident;
  controller.post_timing(&schedule, &result.layers);
  run_job();
  for (const LayerTiming& layer : result.layers) result.cycles += layer.cycles;
  result.modules[static_cast<int>(Module::MacArray)] = mac_array.stats.layers();
  result.modules[static_cast<int>(Module::Accumulator)] = accumulator.stats.layers();
  result.modules[static_cast<int>(Module::WeightMemory)] = weight_memory.stats.layers();
  result.modules[static_cast<int>(Module::ActivationBuffer)] = activation_buffer.stats.layers();
  result.modules[static_cast<int>(Module::Dram)] = dram.stats.layers();
  return result;
}

std::vector<int> Npu::classify(const Network& network, const uint8_t* pixels, size_t images,
                               int threads) {
  FunctionalBatch batch;
  batch.network = &network;
  batch.threads = threads;
  batch.pixels = pixels;
  batch.images = images;
  controller.post_functional(&batch);
  run_job();
  return batch.result.predictions;
}

}  // namespace bsnpu::tlm
