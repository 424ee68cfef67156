// Off-chip DRAM: one channel of fixed bandwidth shared by the weight refills and the activation
// traffic (input image, spills), with a fixed access latency that pipelined requests overlap.
#pragma once

#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "tlm/config.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Dram> weight_port;      // from WeightMemory
  tlm_utils::simple_target_socket<Dram> activation_port;  // from ActivationBuffer

  Dram(sc_core::sc_module_name name, const DramConfig& config, const Timebase& timebase);

  void reset(size_t layers);
  ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);

  DramConfig config_;
  const Timebase& timebase_;
  uint64_t channel_free_ = 0;
};

}  // namespace bsnpu::tlm
