// Energy = action counts x the per-action energies of an EnergyTable, plus leakage power x
// time. Computed at report time from the counts the modules kept (the Timeloop/Accelergy way).
#pragma once

#include <array>
#include <nlohmann/json.hpp>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/timing.h"

namespace bsnpu::arch {

struct LayerEnergy {
  std::array<double, kModuleCount> joules{};  // dynamic + leakage, per module
  double leakage = 0;                         // the leakage part of the above, summed
  double total() const;
};

class EnergyModel {
 public:
  EnergyModel(const EnergyTable& table, const NpuConfig& config, int act_bits);

  double pj(Action action) const { return pj_[static_cast<int>(action)]; }
  double leakage_watts(Module module) const { return leakage_w_[static_cast<int>(module)]; }
  const EnergyTable& table() const { return table_; }

  // Energy of layer `layer` of one inference.
  LayerEnergy layer_energy(const TimingResult& timing, size_t layer) const;
  // {"pj_per_action": {module: {action: pJ}}, "leakage_w": {module: W}}
  nlohmann::ordered_json describe() const;

 private:
  EnergyTable table_;
  double cycle_seconds_;
  std::array<double, kActionCount> pj_{};
  std::array<double, kModuleCount> leakage_w_{};
};

}  // namespace bsnpu::arch
