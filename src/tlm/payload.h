// What travels in the TLM-2.0 generic payload between the NPU modules: an extension naming the
// command, the layer it belongs to, its size, and its timing in cycles; and the action counts
// each module keeps per layer (energy = counts x the energy table, at report time).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <systemc>
#include <tlm>
#include <vector>

#include "core/engine.h"

namespace bsnpu::tlm {

enum class Command {
  DramRead,         // Dram: bits from DRAM
  DramWrite,        // Dram: bits to DRAM
  WeightFill,       // WeightMemory: plane tile from DRAM into the SRAM
  WeightRead,       // WeightMemory: plane tile from the SRAM into the PE shadow registers
  Compute,          // MacArray: one pass (a pixel tile through one plane tile)
  Accumulate,       // Accumulator: the pass's column sums; post-processing on a tile's last pass
  ActivationRead,   // ActivationBuffer
  ActivationWrite,  // ActivationBuffer
  InputLoad,        // ActivationBuffer: the image from DRAM
  Reserve,          // ActivationBuffer: a layer needs `bits` of live feature maps; the excess
                    // over the capacity spills to DRAM and comes back
  Functional,       // MacArray: run a batch of images through the bit-exact datapath
};

// The real data of a batch of images: their pixels in, their logits and predictions out.
struct FunctionalBatch {
  const Network* network = nullptr;  // the core's bit-exact network, prepared for the k in force
  int threads = 1;
  const uint8_t* pixels = nullptr;  // images x 3 x 32 x 32, channel-major
  size_t images = 0;
  Classification result;
};

struct NpuPayload : ::tlm::tlm_extension<NpuPayload> {
  Command command = Command::DramRead;
  int layer = 0;
  uint64_t bits = 0;
  uint64_t start_cycle = 0;          // in: earliest start, cycles since the job began
  uint64_t done_cycle = 0;           // out: completion
  uint64_t postproc_done_cycle = 0;  // out (Compute): when the Accumulator's post-processing ends
  // Compute / Accumulate
  int plane = 1;
  int rows_used = 0;
  int cols_used = 0;
  uint64_t pixels = 0;
  bool first_plane = false;  // first plane of a row tile: the column register starts from 0
  bool last_plane = false;   // last plane of a row tile: the column register joins the partial sum
  bool finalize = false;     // last pass of a (pixel tile, column tile): post-process its outputs
  bool first_row_tile = false;
  // Post-processing of the finalized outputs (set on finalize)
  uint64_t residual_adds = 0;      // fused add
  uint64_t shortcut_rescales = 0;  // fused add with an identity shortcut
  uint64_t pool_adds = 0;          // fused average pool
  uint64_t operand_read_bits = 0;  // residual operands read from the activation buffer
  uint64_t result_write_bits = 0;  // results written to the activation buffer
  // Functional
  FunctionalBatch* batch = nullptr;

  ::tlm::tlm_extension_base* clone() const override { return new NpuPayload(*this); }
  void copy_from(const ::tlm::tlm_extension_base& other) override {
    *this = static_cast<const NpuPayload&>(other);
  }
};

enum class Action : int {
  PeAddSub,              // MacArray: one +-x of an activation by a weight bit
  AdderTreeAdd,          // MacArray: column adder-tree additions
  PeWeightRegisterBits,  // MacArray: weight-plane bits written into PE registers
  ShiftAccumulate,       // Accumulator: r <- 2r + S
  PartialSumAdd,         // Accumulator: partial sum += r, once per row tile
  PartialSumBits,        // Accumulator: partial-sum register bits read + written
  Requantize,            // Accumulator: multiply-add-shift, clamp/ReLU, one per output
  ResidualAdd,           // Accumulator: fused add
  ShortcutRescale,       // Accumulator: identity-shortcut multiply-shift
  PoolAdd,               // Accumulator: fused average-pool additions
  WeightSramReadBits,
  WeightSramWriteBits,
  ActivationSramReadBits,
  ActivationSramWriteBits,
  DramReadBits,
  DramWriteBits,
  Count
};
constexpr int kActionCount = static_cast<int>(Action::Count);
const char* action_name(Action action);

enum class Module : int { MacArray, Accumulator, WeightMemory, ActivationBuffer, Dram, Count };
constexpr int kModuleCount = static_cast<int>(Module::Count);
const char* module_name(Module module);
Module module_of(Action action);

using ActionCounts = std::array<uint64_t, kActionCount>;

// Activity of one module during one layer: its actions, and its busy span for the trace.
struct ModuleLayerStats {
  ActionCounts actions{};
  uint64_t busy_cycles = 0;
  uint64_t first_cycle = UINT64_MAX;
  uint64_t last_cycle = 0;
  void record(uint64_t start, uint64_t done) {
    busy_cycles += done - start;
    if (start < first_cycle) first_cycle = start;
    if (done > last_cycle) last_cycle = done;
  }
  void add(Action action, uint64_t count) { actions[static_cast<int>(action)] += count; }
};

// Per-layer statistics of one module for the current job.
class ModuleStats {
 public:
  void reset(size_t layers) { per_layer_.assign(layers, ModuleLayerStats{}); }
  ModuleLayerStats& layer(int index) { return per_layer_.at(static_cast<size_t>(index)); }
  const std::vector<ModuleLayerStats>& layers() const { return per_layer_; }

 private:
  std::vector<ModuleLayerStats> per_layer_;
};

// Cycles <-> SystemC time for one job: cycle c of the job is origin + c x period.
struct Timebase {
  sc_core::sc_time period = sc_core::sc_time(2, sc_core::SC_NS);
  sc_core::sc_time origin = sc_core::SC_ZERO_TIME;
  sc_core::sc_time at(uint64_t cycle) const { return origin + period * static_cast<double>(cycle); }
  // The delay a target annotates for completion at `cycle`, relative to the current time.
  sc_core::sc_time delay_until(uint64_t cycle) const {
    const sc_core::sc_time when = at(cycle);
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    return when > now ? when - now : sc_core::SC_ZERO_TIME;
  }
};

// Fetches the extension or marks the payload as an error; targets return on nullptr.
NpuPayload* payload_of(::tlm::tlm_generic_payload& transaction);

// Blocking transport of `payload` through an initiator socket, the delay annotated from its
// start cycle; throws bsnpu::Error if the target answers with an error.
void check_response(const ::tlm::tlm_generic_payload& transaction, const char* initiator);
template <typename Socket>
void transport(Socket& socket, NpuPayload& payload, const Timebase& timebase) {
  ::tlm::tlm_generic_payload transaction;
  transaction.set_command(::tlm::TLM_IGNORE_COMMAND);
  transaction.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
  transaction.set_extension(&payload);
  sc_core::sc_time delay = timebase.delay_until(payload.start_cycle);
  socket->b_transport(transaction, delay);
  transaction.clear_extension(&payload);
  check_response(transaction, socket.name());
}

}  // namespace bsnpu::tlm
