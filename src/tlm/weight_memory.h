// On-chip weight SRAM, bit-plane-major: a plane tile (rows x cols weight bits of one plane) is
// the unit of refill and of transfer into the PE array, so a k-plane pass moves k/8 of the bits
// of an 8-plane one. Separate read and write ports of banks x port_bits per cycle.
//  - Timing: WeightFill queues a weight tile's refill from Dram as a prefetch (when the model does
//    not fit, see the Controller) and WeightFillWait answers when it is in the SRAM (the write
//    port taking the DRAM stream as it arrives); WeightRead moves a tile into the PE registers.
//  - Functional: ServePlanes hands the MacArray planes (from, to] of a layer in the array's
//    layout, reading the layer's codes from Dram's model image on first use.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <deque>
#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/port.h"
#include "core/fast_conv.h"
#include "core/model.h"
#include "tlm/dram.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class WeightMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<WeightMemory> target;        // from Controller
  tlm_utils::simple_target_socket<WeightMemory> array_port;    // from MacArray
  tlm_utils::simple_initiator_socket<WeightMemory> dram_port;  // to Dram

  WeightMemory(sc_core::sc_module_name name, const arch::MemoryConfig& config, const Model& model,
               const Timebase& timebase);

  void reset(size_t layers);
  arch::ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  const ConvWeights& serve_planes(int layer, int from_plane, int to_plane);

  const Model& model_;
  const Timebase& timebase_;
  std::vector<uint64_t> addresses_;              // of each layer's codes in Dram
  std::vector<std::vector<uint8_t>> codes_;      // by layer, once read from Dram
  std::vector<std::deque<ConvWeights>> served_;  // by layer: the plane ranges in the array layout
  arch::Port read_port_, write_port_;
  struct Fill {
    int layer = 0;
    uint64_t bits = 0;
    uint64_t done = UINT64_MAX;  // in the SRAM; UINT64_MAX until waited for
  };
  std::vector<Fill> fills_;  // by ticket, for the current job
};

}  // namespace bsnpu::tlm
