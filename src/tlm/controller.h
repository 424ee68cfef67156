// Walks the graph layer by layer and issues the transactions. One SC_THREAD serves jobs posted
// between sc_start calls (SystemC elaborates once per process):
//  - a timing job simulates one inference at k from its schedule (layer -> pixel tile -> column
//    tile -> row tile -> plane, MSB first): weight refills run ahead of the array as far as the
//    weight SRAM allows (double buffering), so a pass waits only when bandwidth or space is
//    short; the thread's local time runs ahead of SystemC time under a tlm_quantumkeeper;
//  - a functional job runs a batch of real images: the ActivationBuffer loads them, then for
//    each conv and fc the MacArray computes planes 1..k of that layer's k and the Accumulator
//    post-processes with the requantization the precision gives it (the BN set of its k,
//    re-targeted for a mixed vector); the logits come back from the ActivationBuffer.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <exception>
#include <systemc>
#include <vector>

#include "arch/config.h"
#include "arch/schedule.h"
#include "arch/timing.h"
#include "arch/workload.h"
#include "core/precision.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

// A batch of real images through the NPU at a precision (both pointers outlive the job).
struct FunctionalJob {
  const uint8_t* pixels = nullptr;  // images x 3 x 32 x 32, channel-major
  int images = 0;
  const Precision* precision = nullptr;
  const std::vector<Requant>* requant = nullptr;  // requantization(model, *precision)
  std::vector<int32_t> logits;                    // out: [images][classes]
};

class Controller : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Controller> weight_port;
  tlm_utils::simple_initiator_socket<Controller> array_port;
  tlm_utils::simple_initiator_socket<Controller> accumulator_port;
  tlm_utils::simple_initiator_socket<Controller> activation_port;

  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, const arch::NpuConfig& config,
             const arch::Workload& workload, Timebase& timebase);

  // Post a job; the caller then runs sc_start() until the thread waits for the next one.
  void post_timing(const arch::Schedule* schedule, std::vector<arch::LayerTiming>* layers);
  void post_functional(FunctionalJob* job);
  // Rethrows what the last job threw.
  void check();

 private:
  void serve();
  void run_timing(const arch::Schedule& schedule, std::vector<arch::LayerTiming>& layers);
  void run_functional(FunctionalJob& job);
  void issue_fetches(const arch::Schedule& schedule, uint64_t when);
  // When fetch `fetch` is in the weight SRAM (placing its DRAM transfer on first use).
  uint64_t fetch_done(size_t fetch);
  void advance_to(uint64_t cycle);

  const arch::NpuConfig& config_;
  const arch::Workload& workload_;
  Timebase& timebase_;
  tlm_utils::tlm_quantumkeeper keeper_;
  sc_core::sc_event job_posted_;
  const arch::Schedule* schedule_ = nullptr;
  std::vector<arch::LayerTiming>* layers_ = nullptr;
  FunctionalJob* job_ = nullptr;
  std::exception_ptr failure_;
  // Weight refill state of the running timing job.
  uint64_t free_weight_bits_ = 0;
  size_t next_fetch_ = 0;
  std::vector<uint64_t> fetch_done_;    // UINT64_MAX until waited for
  std::vector<size_t> fill_tickets_;  // the WeightMemory's ticket of each issued fetch
  std::vector<uint64_t> fetch_issued_;  // when each fetch was issued (room in the SRAM)
};

}  // namespace bsnpu::tlm
