// The NPU's vocabulary of actions, the module each belongs to, and the per-layer counts each
// module keeps (energy = counts x the per-action energies of an EnergyTable, at report time).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace bsnpu::arch {

enum class Action : int {
  PeAddSub,              // MacArray: one +-x of an activation by a weight bit
  PeMultiply,            // MacArray (bit-parallel): an act_bits x 8-bit multiply
  AdderTreeAdd,          // MacArray: a column's additions (tree, or systolic chain)
  PeWeightRegisterBits,  // MacArray: weight bits written into PE registers
  ArrayPipelineRegisterBits,  // MacArray (systolic): activation and partial-sum register bits
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
  // Busy from start to done; `busy` cycles of it when a transfer was split (default: all).
  void record(uint64_t start, uint64_t done, uint64_t busy = UINT64_MAX) {
    busy_cycles += busy == UINT64_MAX ? done - start : busy;
    if (start < first_cycle) first_cycle = start;
    if (done > last_cycle) last_cycle = done;
  }
  void add(Action action, uint64_t count) { actions[static_cast<int>(action)] += count; }
  uint64_t count(Action action) const { return actions[static_cast<int>(action)]; }
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

}  // namespace bsnpu::arch
