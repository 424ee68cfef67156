// On-chip feature-map SRAM: the array's input activations (broadcast along the rows), the
// post-processed outputs, the residual operands.
//  - Timing: separate read and write ports of banks x port_bits per cycle, streamed (the access
//    latency is drained once per layer); the input image arrives from Dram; when a layer's live
//    feature maps exceed the capacity, the excess spills to Dram and comes back; the first
//    conv's accumulator r, kept for an escalation, goes to Dram and back through its port.
//  - Functional: it holds the feature maps of a batch of images, one per op output, quantizes
//    the input images into the first, and hands each module the map it reads or writes. Every
//    map is kept for the whole batch; what the capacity allows is the timing model's concern.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/port.h"
#include "core/layer_ops.h"
#include "core/model.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class ActivationBuffer : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<ActivationBuffer> control_port;      // from Controller
  tlm_utils::simple_target_socket<ActivationBuffer> array_port;        // from MacArray
  tlm_utils::simple_target_socket<ActivationBuffer> accumulator_port;  // from Accumulator
  tlm_utils::simple_initiator_socket<ActivationBuffer> dram_port;      // to Dram

  ActivationBuffer(sc_core::sc_module_name name, const arch::MemoryConfig& config,
                   const Model& model, const Timebase& timebase);

  void reset(size_t layers);
  arch::ModuleStats stats;
  // The feature maps of the batch last run, by op index (for inspection: tests, debugging).
  const OpMaps& maps() const { return maps_; }

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  uint64_t read(int layer, uint64_t ready, uint64_t bits);
  uint64_t write(int layer, uint64_t ready, uint64_t bits);
  uint64_t dram(const NpuPayload& payload, Command command, uint64_t ready, uint64_t bits);
  void load_images(const NpuPayload& payload);
  void map_access(NpuPayload& payload);

  arch::MemoryConfig config_;
  const Model& model_;
  const Timebase& timebase_;
  arch::Port read_port_, write_port_;
  OpMaps maps_;  // the batch's feature maps, by op index
};

}  // namespace bsnpu::tlm
