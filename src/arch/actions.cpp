#include "arch/actions.h"

#include <algorithm>

namespace bsnpu::arch {

const char* action_name(Action action) {
  switch (action) {
    case Action::PeAddSub:
      return "pe_addsub";
    case Action::PeMultiply:
      return "pe_multiplies";
    case Action::AdderTreeAdd:
      return "adder_tree_adds";
    case Action::PeWeightRegisterBits:
      return "pe_weight_register_bits";
    case Action::ArrayPipelineRegisterBits:
      return "array_pipeline_register_bits";
    case Action::ShiftAccumulate:
      return "shift_accumulates";
    case Action::PartialSumAdd:
      return "partial_sum_adds";
    case Action::PartialSumBits:
      return "partial_sum_sram_bits";
    case Action::Requantize:
      return "requantizations";
    case Action::ResidualAdd:
      return "residual_adds";
    case Action::ShortcutRescale:
      return "shortcut_rescales";
    case Action::PoolAdd:
      return "pool_adds";
    case Action::WeightSramReadBits:
      return "sram_read_bits";
    case Action::WeightSramWriteBits:
      return "sram_write_bits";
    case Action::ActivationSramReadBits:
      return "sram_read_bits";
    case Action::ActivationSramWriteBits:
      return "sram_write_bits";
    case Action::DramReadBits:
      return "dram_read_bits";
    case Action::DramWriteBits:
      return "dram_write_bits";
    case Action::Count:
      break;
  }
  return "?";
}

const char* module_name(Module module) {
  switch (module) {
    case Module::MacArray:
      return "mac_array";
    case Module::Accumulator:
      return "accumulator";
    case Module::WeightMemory:
      return "weight_memory";
    case Module::ActivationBuffer:
      return "activation_buffer";
    case Module::Dram:
      return "dram";
    case Module::Count:
      break;
  }
  return "?";
}

Module module_of(Action action) {
  switch (action) {
    case Action::PeAddSub:
    case Action::PeMultiply:
    case Action::AdderTreeAdd:
    case Action::PeWeightRegisterBits:
    case Action::ArrayPipelineRegisterBits:
      return Module::MacArray;
    case Action::ShiftAccumulate:
    case Action::PartialSumAdd:
    case Action::PartialSumBits:
    case Action::Requantize:
    case Action::ResidualAdd:
    case Action::ShortcutRescale:
    case Action::PoolAdd:
      return Module::Accumulator;
    case Action::WeightSramReadBits:
    case Action::WeightSramWriteBits:
      return Module::WeightMemory;
    case Action::ActivationSramReadBits:
    case Action::ActivationSramWriteBits:
      return Module::ActivationBuffer;
    case Action::DramReadBits:
    case Action::DramWriteBits:
    case Action::Count:
      break;
  }
  return Module::Dram;
}

const char* track_name(Module module, int track) {
  static constexpr const char* kNames[kModuleCount][kTracksPerModule] = {
      {"passes", nullptr},
      {"partial sums", "post-processing"},
      {"read port", "write port"},
      {"read port", "write port"},
      {"demand", "weight prefetch"}};
  if (track < 0 || track >= kTracksPerModule) return nullptr;
  return kNames[static_cast<int>(module)][track];
}

Timeline merged(Timeline intervals) {
  std::sort(intervals.begin(), intervals.end());
  Timeline out;
  for (const auto& interval : intervals) {
    if (!out.empty() && interval.first <= out.back().second) {
      out.back().second = std::max(out.back().second, interval.second);
    } else {
      out.push_back(interval);
    }
  }
  return out;
}

}  // namespace bsnpu::arch
