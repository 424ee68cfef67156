// Off-chip DRAM. Functionally it holds the model image: the BWB codes of every conv and fc, one
// layer after another (weight_addresses), read with plain TLM_READ_COMMAND transactions. For
// timing it is one channel (arch::DramChannel, with the technology's bursts, row cycles,
// refresh and turnaround) shared by demand traffic from the ActivationBuffer (input image,
// spills: DramRead, DramWrite, placed at once) and weight prefetches from the WeightMemory
// (DramPrefetch queues one, DramPrefetchWait places it behind the demand issued so far).
#pragma once

#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/dram_channel.h"
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
  arch::Timeline prefetch_queue() const { return channel_.prefetch_queue(); }

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  void read_image(::tlm::tlm_generic_payload& transaction);

  // Counts the prefetches placed up to `ticket` against the layers that issued them.
  void record_prefetches(size_t ticket);

  const Model& model_;
  const Timebase& timebase_;
  std::vector<uint8_t> image_;  // the model image, from the first read on
  arch::DramChannel channel_;
  std::vector<int> prefetch_layers_;  // by ticket
  std::vector<uint64_t> prefetch_bits_;
  size_t prefetches_recorded_ = 0;
};

}  // namespace bsnpu::tlm
