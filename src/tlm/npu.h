// The whole NPU: the modules of docs/architecture.md bound together, and the two things a run
// asks of it. SystemC elaborates once per process, so build one Npu per process and reuse it.
#pragma once

#include <array>
#include <systemc>
#include <vector>

#include "tlm/accumulator.h"
#include "tlm/activation_buffer.h"
#include "tlm/config.h"
#include "tlm/controller.h"
#include "tlm/dram.h"
#include "tlm/mac_array.h"
#include "tlm/weight_memory.h"
#include "tlm/workload.h"

namespace bsnpu::tlm {

// One inference at k: per layer, its timing and every module's actions.
struct TimingResult {
  int k = 8;
  bool weights_resident = false;
  uint64_t cycles = 0;
  std::vector<LayerTiming> layers;
  // modules[module][layer]
  std::array<std::vector<ModuleLayerStats>, kModuleCount> modules;
};

class Npu : public sc_core::sc_module {
 public:
  Npu(sc_core::sc_module_name name, const NpuConfig& config, const Workload& workload);

  // Simulates the timing of one inference at k planes (data-independent).
  TimingResult simulate_timing(int k);
  // Runs the images (consecutive 3x32x32 uint8) through the datapath at the network's k; the
  // predicted class of each (first index of the maximum logit).
  std::vector<int> classify(const Network& network, const uint8_t* pixels, size_t images,
                            int threads);

 private:
  void run_job();

  NpuConfig config_;
  Workload workload_;
  Timebase timebase_;

 public:
  Dram dram;
  WeightMemory weight_memory;
  ActivationBuffer activation_buffer;
  MacArray mac_array;
  Accumulator accumulator;
  Controller controller;
};

}  // namespace bsnpu::tlm
