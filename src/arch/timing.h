// The result of simulating one inference at k planes: per layer, its timing and every module's
// actions. Plain data: the energy model, the report and the tests read it.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "arch/actions.h"

namespace bsnpu::arch {

struct LayerTiming {
  uint64_t start_cycle = 0;
  uint64_t end_cycle = 0;
  uint64_t cycles = 0;          // end - start: layers follow each other, so rows sum to the total
  uint64_t compute_cycles = 0;  // cycles the array streams pixels
  uint64_t stall_cycles = 0;    // cycles - compute_cycles: waiting on weights, activations, drain
  uint64_t passes = 0;
};

struct TimingResult {
  int k = 8;
  bool weights_resident = false;
  uint64_t cycles = 0;
  std::vector<LayerTiming> layers;
  std::array<std::vector<ModuleLayerStats>, kModuleCount> modules;  // [module][layer]
};

}  // namespace bsnpu::arch
