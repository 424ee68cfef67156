// Walks the graph layer by layer, tile by tile, plane by plane (MSB first up to the k in force)
// and issues the transactions; owns the schedule. One SC_THREAD serves jobs posted between
// sc_start calls (SystemC elaborates once per process):
//  - a timing job simulates one inference at k: weight refills run ahead of the array as far as
//    the weight SRAM allows (double buffering), so a pass waits only when bandwidth or space is
//    short; the thread's local time runs ahead of SystemC time under a tlm_quantumkeeper;
//  - a functional job sends a batch of images (their real pixels; logits come back) through the
//    MacArray's bit-exact datapath.
// A per-input (dynamic) precision policy would post one job per input with its own k.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <exception>
#include <systemc>
#include <vector>

#include "tlm/config.h"
#include "tlm/payload.h"
#include "tlm/schedule.h"
#include "tlm/workload.h"

namespace bsnpu::tlm {

struct LayerTiming {
  uint64_t start_cycle = 0;
  uint64_t end_cycle = 0;
  uint64_t cycles = 0;          // end - start: layers follow each other, so rows sum to the total
  uint64_t compute_cycles = 0;  // cycles the array streams pixels
  uint64_t stall_cycles = 0;    // cycles - compute_cycles: waiting on weights, activations, drain
  uint64_t passes = 0;
};

class Controller : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Controller> weight_port;
  tlm_utils::simple_initiator_socket<Controller> array_port;
  tlm_utils::simple_initiator_socket<Controller> accumulator_port;
  tlm_utils::simple_initiator_socket<Controller> activation_port;

  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, const NpuConfig& config, const Workload& workload,
             Timebase& timebase);

  // Post a job; the caller then runs sc_start() until the thread waits for the next one.
  void post_timing(const Schedule* schedule, std::vector<LayerTiming>* layers);
  void post_functional(FunctionalBatch* batch);
  // Rethrows what the last job threw.
  void check();

 private:
  void serve();
  void run_timing(const Schedule& schedule, std::vector<LayerTiming>& layers);
  void run_functional(FunctionalBatch& batch);
  void issue_fetches(const Schedule& schedule, uint64_t when);
  void advance_to(uint64_t cycle);

  const NpuConfig& config_;
  const Workload& workload_;
  Timebase& timebase_;
  tlm_utils::tlm_quantumkeeper keeper_;
  sc_core::sc_event job_posted_;
  const Schedule* schedule_ = nullptr;
  std::vector<LayerTiming>* layers_ = nullptr;
  FunctionalBatch* batch_ = nullptr;
  std::exception_ptr failure_;
  // Weight refill state of the running timing job.
  uint64_t free_weight_bits_ = 0;
  size_t next_fetch_ = 0;
  std::vector<uint64_t> fetch_done_;
};

}  // namespace bsnpu::tlm
