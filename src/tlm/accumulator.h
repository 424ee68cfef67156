// Per-column MSB-first shift-accumulate (r <- 2r + S for each plane, depth entries per column),
// partial sums across row tiles, then the integer post-processing of each finished output tile:
// requantization with the BN set of the k in force, ReLU/clamp, and the fused residual add and
// average pool. postproc_lanes outputs per cycle, overlapping the array's next pass.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "tlm/config.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class Accumulator : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Accumulator> array_port;          // from MacArray
  tlm_utils::simple_target_socket<Accumulator> control_port;        // from Controller
  tlm_utils::simple_initiator_socket<Accumulator> activation_port;  // to ActivationBuffer

  Accumulator(sc_core::sc_module_name name, const AccumulatorConfig& config,
              const Timebase& timebase);

  void reset(size_t layers);
  ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  uint64_t post_process(NpuPayload& payload, ModuleLayerStats& layer);

  AccumulatorConfig config_;
  const Timebase& timebase_;
  uint64_t postproc_free_ = 0;
};

}  // namespace bsnpu::tlm
