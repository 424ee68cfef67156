// The whole NPU: the modules of docs/architecture.md bound together, and the two things a run
// asks of it. SystemC elaborates once per process, so build one Npu per process and reuse it.
#pragma once

#include <functional>
#include <systemc>
#include <vector>

#include "arch/config.h"
#include "arch/schedule.h"
#include "arch/timing.h"
#include "arch/workload.h"
#include "core/engine.h"
#include "core/model.h"
#include "core/worker_pool.h"
#include "tlm/accumulator.h"
#include "tlm/activation_buffer.h"
#include "tlm/controller.h"
#include "tlm/dram.h"
#include "tlm/mac_array.h"
#include "tlm/weight_memory.h"

namespace bsnpu::tlm {

class Npu : public sc_core::sc_module {
 public:
  // `threads` worker threads carry the functional datapath of the MacArray and Accumulator.
  Npu(sc_core::sc_module_name name, const arch::NpuConfig& config, const Model& model, int threads);

  const arch::Workload& workload() const { return workload_; }
  // Simulates the timing of one inference (data-independent) with each layer's weight planes
  // (first, last] (arch::build_schedule), or every layer at k.
  arch::TimingResult simulate_timing(const std::vector<PlaneRange>& planes);
  arch::TimingResult simulate_timing(int k);
  // Simulates one run of a frame of a stream (docs/dynamic-precision.md): an escalation's
  // schedule (the first conv over planes (conv1_from, k], every other layer (0, k]) with r
  // restored from DRAM before the first conv, and r saved to DRAM after it when kept.
  arch::TimingResult simulate_run(const FrameRun& run);
  // The share of the network's MACs in the layers that read the image (the first conv): the
  // part of a run an escalation reuses.
  double image_mac_share() const;
  // Runs the images (consecutive 3x32x32 uint8) through the modules, each layer at its k of
  // `precision`, in batches of kBatchImages per worker thread; `progress`, when set, gets the
  // number of images done after each batch.
  Classification classify(const uint8_t* pixels, size_t images, const Precision& precision,
                          const std::function<void(size_t)>& progress = nullptr);
  Classification classify(const uint8_t* pixels, size_t images, int k,
                          const std::function<void(size_t)>& progress = nullptr);
  // Runs a stream of frames under a dynamic-precision policy (Controller, StreamJob): the
  // job's results are filled in.
  void stream(StreamJob& job);

 private:
  void run_job();
  arch::TimingResult simulate(const arch::Schedule& schedule, bool restore_sums, bool save_sums);

  arch::NpuConfig config_;
  const Model& model_;
  arch::Workload workload_;
  Timebase timebase_;
  WorkerPool workers_;

 public:
  Dram dram;
  WeightMemory weight_memory;
  ActivationBuffer activation_buffer;
  MacArray mac_array;
  Accumulator accumulator;
  Controller controller;
};

}  // namespace bsnpu::tlm
