// On-chip feature-map SRAM: the array's input activations (broadcast along the rows), the
// post-processed outputs, the residual operands. Separate read and write ports of
// banks x port_bits per cycle, streamed (the access latency is drained once per layer). When a
// layer's live feature maps exceed the capacity, the excess spills to DRAM and comes back.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "tlm/config.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class ActivationBuffer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<ActivationBuffer> control_port;      // from Controller
  tlm_utils::simple_target_socket<ActivationBuffer> array_port;        // from MacArray
  tlm_utils::simple_target_socket<ActivationBuffer> accumulator_port;  // from Accumulator
  tlm_utils::simple_initiator_socket<ActivationBuffer> dram_port;      // to Dram

  ActivationBuffer(sc_core::sc_module_name name, const MemoryConfig& config,
                   const Timebase& timebase);

  void reset(size_t layers);
  ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  uint64_t read(ModuleLayerStats& layer, uint64_t start, uint64_t bits);
  uint64_t write(ModuleLayerStats& layer, uint64_t start, uint64_t bits);
  uint64_t dram(NpuPayload& payload, Command command, uint64_t start, uint64_t bits);

  MemoryConfig config_;
  const Timebase& timebase_;
  uint64_t read_port_free_ = 0;
  uint64_t write_port_free_ = 0;
};

}  // namespace bsnpu::tlm
