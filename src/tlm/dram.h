// Off-chip DRAM. Functionally it holds the model image: the BWB codes of every conv and fc, one
// layer after another (weight_addresses), read with plain TLM_READ_COMMAND transactions. For
// timing it is one channel of fixed bandwidth shared by the weight refills and the activation
// traffic (input image, spills), with an access latency that pipelined requests overlap.
#pragma once

#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/port.h"
#include "core/model.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

// Byte address of each op's codes in the model image (0 and no bytes for ops without weights),
// plus the image's size as the last entry.
std::vector<uint64_t> weight_addresses(const Model& model);

class Dram : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Dram> weight_port;      // from WeightMemory
  tlm_utils::simple_target_socket<Dram> activation_port;  // from ActivationBuffer

  Dram(sc_core::sc_module_name name, const arch::DramConfig& config, const Model& model,
       const Timebase& timebase);

  void reset(size_t layers);
  arch::ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  void read_image(::tlm::tlm_generic_payload& transaction);

  const Timebase& timebase_;
  std::vector<uint8_t> image_;
  arch::Port channel_;
};

}  // namespace bsnpu::tlm
