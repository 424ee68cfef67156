// rows x cols bit-serial PEs. Each holds one +-1 weight bit of the plane in force (and a shadow
// bit for the next plane tile, loaded while the current pass runs) and adds or subtracts the
// act_bits activation broadcast on its row; an adder tree per column sums the rows.
//  - Timing: one Compute pass streams a pixel tile (one output pixel per cycle) through one
//    plane tile; the column sums go to the Accumulator.
//  - Functional: ComputePlanes takes a layer's planes (from, to] from the WeightMemory and its
//    input feature map from the ActivationBuffer, computes the exact partial sums
//    S = sum_j level_j x_j of every output of the batch (the core's fast kernel, proven equal to
//    the plane-serial one, split between the worker threads) into the map the Accumulator names,
//    and tells the Accumulator to accumulate them.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "core/fast_conv.h"
#include "core/model.h"
#include "core/worker_pool.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class MacArray : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<MacArray> target;               // from Controller
  tlm_utils::simple_initiator_socket<MacArray> weight_port;       // to WeightMemory
  tlm_utils::simple_initiator_socket<MacArray> activation_port;   // to ActivationBuffer
  tlm_utils::simple_initiator_socket<MacArray> accumulator_port;  // to Accumulator

  MacArray(sc_core::sc_module_name name, const arch::MacArrayConfig& config, const Model& model,
           WorkerPool& workers, const Timebase& timebase);

  void reset(size_t layers);
  arch::ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  void compute_planes(const NpuPayload& request);

  arch::MacArrayConfig config_;
  const Model& model_;
  WorkerPool& workers_;
  const Timebase& timebase_;
  std::vector<ConvScratch> scratch_;  // one per worker
};

}  // namespace bsnpu::tlm
