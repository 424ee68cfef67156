// The NPU's vocabulary of actions, the module each belongs to, and the per-layer counts each
// module keeps (energy = counts x the per-action energies of an EnergyTable, at report time).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>
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
  PartialSumBits,        // Accumulator: partial-sum SRAM bits read + written
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

// The resources of each module that serve one request at a time, one trace track each
// (track_name): MacArray passes; Accumulator partial sums and post-processing; the SRAMs' read
// and write ports; the DRAM channel's demand and prefetch transfers.
constexpr int kTracksPerModule = 2;
const char* track_name(Module module, int track);  // nullptr: the module has no such track

// Activity of one module during one layer: the counts of its actions.
struct ModuleLayerStats {
  ActionCounts actions{};
  void add(Action action, uint64_t count) { actions[static_cast<int>(action)] += count; }
  uint64_t count(Action action) const { return actions[static_cast<int>(action)]; }
};

// Per-layer statistics of one module for the current job.
// Busy intervals [start, end) of one resource, in cycles.
using Timeline = std::vector<std::pair<uint64_t, uint64_t>>;
// Sorts and merges overlapping or adjacent intervals.
Timeline merged(Timeline intervals);

class ModuleStats {
 public:
  void reset(size_t layers) {
    per_layer_.assign(layers, ModuleLayerStats{});
    for (Timeline& timeline : timelines_) timeline.clear();
  }
  ModuleLayerStats& layer(int index) { return per_layer_.at(static_cast<size_t>(index)); }
  const std::vector<ModuleLayerStats>& layers() const { return per_layer_; }
  // Resource `track` busy from start to done, on its timeline (the trace draws that by time).
  void record(uint64_t start, uint64_t done, int track = 0) {
    if (done > start) timelines_.at(static_cast<size_t>(track)).push_back({start, done});
  }
  Timeline timeline(int track) const { return merged(timelines_.at(static_cast<size_t>(track))); }

 private:
  std::vector<ModuleLayerStats> per_layer_;
  std::array<Timeline, kTracksPerModule> timelines_;
};

}  // namespace bsnpu::arch
