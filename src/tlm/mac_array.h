// rows x cols bit-serial PEs. Each holds one +-1 weight bit of the plane in force (and a shadow
// bit for the next plane tile, loaded while the current pass runs) and adds or subtracts the
// act_bits activation broadcast on its row; an adder tree per column sums the rows. One pass
// streams a pixel tile (one output pixel per cycle) through one plane tile; the column sums go
// to the Accumulator. Functionally it runs a batch of images through the core's bit-exact engine
// (the same code as `bsnpu eval`), spread over the batch's threads inside one b_transport.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "tlm/config.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class MacArray : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<MacArray> target;               // from Controller
  tlm_utils::simple_initiator_socket<MacArray> activation_port;   // to ActivationBuffer
  tlm_utils::simple_initiator_socket<MacArray> accumulator_port;  // to Accumulator

  MacArray(sc_core::sc_module_name name, const MacArrayConfig& config, int act_bits,
           const Timebase& timebase);

  void reset(size_t layers);
  ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);

  MacArrayConfig config_;
  int act_bits_;
  const Timebase& timebase_;
};

}  // namespace bsnpu::tlm
