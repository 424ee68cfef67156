// On-chip weight SRAM, bit-plane-major: a plane tile (rows x cols weight bits of one plane) is
// the unit of refill and of transfer into the PE array, so a k-plane pass moves k/8 of the bits
// of an 8-plane one. Refilled from Dram when the model does not fit (see Controller). Separate
// read and write ports of banks x port_bits per cycle.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "tlm/config.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class WeightMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<WeightMemory> target;        // from Controller
  tlm_utils::simple_initiator_socket<WeightMemory> dram_port;  // to Dram

  WeightMemory(sc_core::sc_module_name name, const MemoryConfig& config, const Timebase& timebase);

  void reset(size_t layers);
  ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);

  MemoryConfig config_;
  const Timebase& timebase_;
  uint64_t read_port_free_ = 0;
  uint64_t write_port_free_ = 0;
};

}  // namespace bsnpu::tlm
