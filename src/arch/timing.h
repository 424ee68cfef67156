// The result of simulating one inference at k planes: per layer, its timing and every module's
// actions. Plain data: the energy model, the report and the tests read it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "arch/actions.h"
#include "core/precision.h"

namespace bsnpu::arch {

// Why the array was not streaming pixels (docs/architecture.md, "Stall reasons").
enum class Stall : int {
  Dram,            // waiting for weights still on their way from DRAM (or the input image)
  WeightSramRoom,  // their fetch could only be issued once the weight SRAM had room
  WeightLoad,      // moving a weight tile into the PEs: SRAM port, systolic shift-in, no shadow
  ActivationPort,  // the activation SRAM port narrower than a pass's operands
  Accumulator,     // the partial-sum SRAM: its port, or no free buffer (back-pressure)
  Spill,           // the layer's activation spill to DRAM and back outlasted its passes
  Drain,           // pipelines, systolic skew, post-processing of the last tiles
  Count
};
constexpr int kStallCount = static_cast<int>(Stall::Count);
inline const char* stall_name(Stall stall) {
  switch (stall) {
    case Stall::Dram:
      return "dram";
    case Stall::WeightSramRoom:
      return "weight_sram_room";
    case Stall::WeightLoad:
      return "weight_load";
    case Stall::ActivationPort:
      return "activation_port";
    case Stall::Accumulator:
      return "accumulator";
    case Stall::Spill:
      return "spill";
    case Stall::Drain:
      return "drain";
    case Stall::Count:
      break;
  }
  return "?";
}

struct LayerTiming {
  uint64_t start_cycle = 0;
  uint64_t end_cycle = 0;
  uint64_t cycles = 0;          // end - start: layers follow each other, so rows sum to the total
  uint64_t compute_cycles = 0;  // cycles the array streams pixels
  uint64_t stall_cycles = 0;    // cycles - compute_cycles, = the sum of `stalls`
  std::array<uint64_t, kStallCount> stalls{};  // by Stall
  uint64_t passes = 0;
  void stall(Stall reason, uint64_t cycles_lost) {
    stalls[static_cast<size_t>(reason)] += cycles_lost;
  }
};

struct TimingResult {
  int k = 8;                       // the largest last plane of any layer
  std::vector<PlaneRange> planes;  // by layer: the weight planes (first, last] simulated
  bool weights_resident = false;
  uint64_t cycles = 0;
  std::vector<LayerTiming> layers;
  std::array<std::vector<ModuleLayerStats>, kModuleCount> modules;  // [module][layer]
  // Each resource's busy intervals by time (the trace), [module][track]; the weight prefetches'
  // time in the memory controller's queue, issue to end of transfer (the queue-depth counter).
  std::array<std::array<Timeline, kTracksPerModule>, kModuleCount> timelines;
  Timeline prefetch_queue;
};

}  // namespace bsnpu::arch
