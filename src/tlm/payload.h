// What travels in the TLM-2.0 generic payload between the NPU modules: an extension naming the
// command and its operands. Two kinds of command, as gem5 splits accessTiming/accessFunctional:
//  - timing commands model one inference at k: the initiator annotates the b_transport delay
//    with the moment the request is ready and the target returns it as the moment it is done
//    (the only timing channel; targets never wait());
//  - functional commands move and compute the real data of a batch of images, layer by layer,
//    and take no simulated time (the timing does not depend on the data: no zero skipping).
#pragma once

#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "core/error.h"
#include "core/fast_conv.h"
#include "core/feature_map.h"
#include "tlm/timebase.h"

namespace bsnpu::tlm {

enum class Command {
  // Timing (bits and geometry of one inference)
  DramRead,          // Dram: demand bits from DRAM, placed at once
  DramWrite,         // Dram: demand bits to DRAM, placed at once
  DramPrefetch,      // Dram: queue a weight prefetch of `bits` (out: ticket); takes no time
  DramPrefetchWait,  // Dram: place prefetch `ticket` behind the demand so far; done when it is
  WeightFill,        // WeightMemory: queue a weight tile's fill from DRAM (out: ticket)
  WeightFillWait,    // WeightMemory: done when fill `ticket` is in the SRAM
  WeightRead,        // WeightMemory: plane tile from the SRAM into the PE shadow registers
  Compute,           // MacArray: one pass (a pixel tile through one plane tile)
  Accumulate,        // Accumulator: the pass's column sums; post-processing on a tile's last pass
  Drain,             // Accumulator: done when every post-processing issued so far has finished
  ActivationRead,    // ActivationBuffer
  ActivationWrite,   // ActivationBuffer
  InputLoad,         // ActivationBuffer: the image from DRAM
  Reserve,           // ActivationBuffer: a layer needs `bits` of live feature maps; the excess
                     // over the capacity spills to DRAM and comes back
  SumsSave,          // ActivationBuffer: `bits` of the first conv's accumulator r out to DRAM,
                     // kept for a possible escalation (dynamic precision)
  SumsRestore,       // ActivationBuffer: those bits back from DRAM before an escalation
  // Functional (a batch of real images)
  LoadImages,        // ActivationBuffer: quantize `pixels` into the input feature map
  MapAccess,         // ActivationBuffer: the feature map of op `layer`'s output (bytes or words)
  ServePlanes,       // WeightMemory: planes (first_plane, last_plane] of `layer` (fills from Dram)
  ComputePlanes,     // MacArray: partial sums of those planes over the batch, to the Accumulator
  PartialSumTarget,  // Accumulator: where the MacArray writes those partial sums (out: sums): r
                     // itself from the first plane, a staging map otherwise
  AccumulatePlanes,  // Accumulator: r <- 2^n r + S (r <- S from the first plane: already there)
  PostProcess,       // Accumulator: output stage of `layer` at k, fused add and pool, results
                     // written to the ActivationBuffer
};

struct NpuPayload : ::tlm::tlm_extension<NpuPayload> {
  Command command = Command::DramRead;
  int layer = 0;  // op index in the model
  // Timing
  uint64_t bits = 0;
  int rows_used = 0;
  int cols_used = 0;
  uint64_t pixels = 0;
  bool first_plane = false;  // first plane of a row tile
  bool last_plane = false;   // last plane of a row tile: the column register joins the partial sum
  bool finalize = false;     // last pass of a (pixel tile, column tile): post-process its outputs
  bool first_row_tile = false;
  // Post-processing of the finalized outputs (set on finalize)
  uint64_t residual_adds = 0;      // fused add
  uint64_t shortcut_rescales = 0;  // fused add with an identity shortcut
  uint64_t pool_adds = 0;          // fused average pool
  uint64_t operand_read_bits = 0;  // residual operands read from the activation buffer
  uint64_t result_write_bits = 0;  // results written to the activation buffer
  size_t ticket = 0;               // prefetch and fill tickets (see the commands)
  // Compute, out: the pass's cycles beyond its pixels, by cause (systolic skew and drain, a
  // narrow activation port, the Accumulator).
  uint64_t fill_cycles = 0, port_cycles = 0, accumulator_cycles = 0;
  uint64_t transfer_start = 0;  // DramPrefetchWait: out, the prefetch's first channel cycle
  // Functional
  int images = 0;                    // the batch
  int from_plane = 0, to_plane = 0;  // planes from_plane + 1 .. to_plane
  int k = 8;                         // PostProcess: the planes r must hold (the layer's k)
  const std::vector<Requant>* requant = nullptr;  // PostProcess: each op's, by op index
                                                  // (core/precision.h requantization)
  const uint8_t* image_pixels = nullptr;          // LoadImages: images x 3 x 32 x 32
  const ConvWeights* weights = nullptr;           // ServePlanes: out
  ByteMap* bytes = nullptr;                       // MapAccess: out (unsigned outputs)
  WordMap* words = nullptr;                       // MapAccess: out (signed outputs)
  WordMap* sums = nullptr;                        // PartialSumTarget: out

  ::tlm::tlm_extension_base* clone() const override { return new NpuPayload(*this); }
  void copy_from(const ::tlm::tlm_extension_base& other) override {
    *this = static_cast<const NpuPayload&>(other);
  }
};

// Fetches the extension or marks the payload as an error; targets return on nullptr.
inline NpuPayload* payload_of(::tlm::tlm_generic_payload& transaction) {
  NpuPayload* payload = nullptr;
  transaction.get_extension(payload);
  transaction.set_response_status(payload ? ::tlm::TLM_OK_RESPONSE
                                          : ::tlm::TLM_GENERIC_ERROR_RESPONSE);
  return payload;
}

// Blocking transport of `payload`; the delay carries the time. The request is ready at
// `ready_cycle`, which must not lie before the initiator's current time; the cycle the target
// completes it is returned. Functional commands are sent at the current time and answered
// without adding any.
template <typename Socket>
uint64_t transport(Socket& socket, NpuPayload& payload, const Timebase& timebase,
                   uint64_t ready_cycle = 0) {
  // The generic payload deletes the extensions it still holds when it is destroyed: take ours
  // back on every way out, an exception from the target included.
  struct Transaction : ::tlm::tlm_generic_payload {
    NpuPayload* extension;
    explicit Transaction(NpuPayload* own) : extension(own) { set_extension(own); }
    ~Transaction() override { clear_extension(extension); }
  } transaction(&payload);
  transaction.set_command(::tlm::TLM_IGNORE_COMMAND);
  transaction.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = timebase.delay_until(ready_cycle);
  socket->b_transport(transaction, delay);
  if (transaction.is_response_error()) {
    throw Error(std::string(socket.name()) + ": " + transaction.get_response_string());
  }
  return timebase.start_cycle(delay);
}

}  // namespace bsnpu::tlm
