#include "arch/energy.h"

#include "arch/area.h"

namespace bsnpu::arch {

double LayerEnergy::total() const {
  double sum = 0;
  for (double value : joules) sum += value;
  return sum;
}

EnergyModel::EnergyModel(const EnergyTable& table, const NpuConfig& config, int act_bits)
    : table_(table), cycle_seconds_(config.cycle_seconds()) {
  const int acc_bits = config.accumulator.bits;
  // A column's adds are charged at the mean width of its adder tree (or systolic chain) over all
  // R rows: the line of add_pj makes that exactly the mean energy of the column's adders.
  const ColumnAdders column =
      column_adders(config.mac_array, product_bits(config.mac_array, act_bits));
  const double reg = table.register_pj_per_bit;
  const double weight_sram =
      table.sram_read_pj_per_bit(static_cast<double>(config.weight_memory.bank_bytes()));
  const double act_sram =
      table.sram_read_pj_per_bit(static_cast<double>(config.activation_buffer.bank_bytes()));
  auto set = [&](Action action, double value) { pj_[static_cast<int>(action)] = value; };
  // A +-1 weight bit conditionally negates the activation: act_bits + 1 XORs with the weight's
  // sign. The +1 of the two's complement is an adder's carry-in, free: a column's R - 1 adders and
  // the accumulator's shift-accumulate adder have one for each of its R products.
  set(Action::PeAddSub, table.xor_pj_per_bit * (act_bits + 1));
  // The table's n x n multiplier.
  set(Action::PeMultiply, table.mult_pj(multiplier_bits(act_bits)));
  set(Action::AdderTreeAdd, table.add_pj(column.mean_width()));
  set(Action::PeWeightRegisterBits, reg);
  set(Action::ArrayPipelineRegisterBits, reg);
  set(Action::ShiftAccumulate, table.add_pj(acc_bits));
  set(Action::PartialSumAdd, table.add_pj(acc_bits));
  // The partial-sum SRAM, per bit at one bank's capacity; reads and writes in equal numbers.
  const double accumulator_sram =
      table.sram_read_pj_per_bit(static_cast<double>(config.accumulator.capacity_bits(
                                     config.mac_array.cols)) /
                                 8.0 / config.accumulator.banks) *
      (1 + table.sram_write_factor) / 2;
  set(Action::PartialSumBits, accumulator_sram);
  // acc x M (32-bit multiplier), + offset (64 b), rounding add; the clamp is folded in.
  set(Action::Requantize, table.mult_pj(32) + table.add_pj(64) + table.add_pj(acc_bits));
  set(Action::ResidualAdd, table.add_pj(acc_bits));
  set(Action::ShortcutRescale, table.mult_pj(32) + table.add_pj(acc_bits));
  set(Action::PoolAdd, table.add_pj(acc_bits));
  set(Action::WeightSramReadBits, weight_sram);
  set(Action::WeightSramWriteBits, weight_sram * table.sram_write_factor);
  set(Action::ActivationSramReadBits, act_sram);
  set(Action::ActivationSramWriteBits, act_sram * table.sram_write_factor);
  // The DRAM technology's energy per bit; "ideal" DRAM takes the energy table's.
  const double dram = config.dram.technology.pj_per_bit >= 0 ? config.dram.technology.pj_per_bit
                                                             : table.dram_pj_per_bit;
  set(Action::DramReadBits, dram);
  set(Action::DramWriteBits, dram);

  auto kib = [](const MemoryConfig& memory) {
    return static_cast<double>(memory.capacity_bits) / 8192.0;
  };
  leakage_w_[static_cast<int>(Module::MacArray)] =
      1e-6 * table.pe_leakage_uw * config.mac_array.rows * config.mac_array.cols;
  leakage_w_[static_cast<int>(Module::Accumulator)] =
      1e-6 * table.accumulator_leakage_uw_per_lane * config.accumulator.postproc_lanes;
  leakage_w_[static_cast<int>(Module::WeightMemory)] =
      1e-6 * table.sram_leakage_uw_per_kib * kib(config.weight_memory);
  leakage_w_[static_cast<int>(Module::ActivationBuffer)] =
      1e-6 * table.sram_leakage_uw_per_kib * kib(config.activation_buffer);
  leakage_w_[static_cast<int>(Module::Dram)] = 0;  // DRAM background power is not modelled
}

LayerEnergy EnergyModel::layer_energy(const TimingResult& timing, size_t layer) const {
  LayerEnergy energy;
  const double seconds = static_cast<double>(timing.layers[layer].cycles) * cycle_seconds_;
  for (int module = 0; module < kModuleCount; ++module) {
    const ModuleLayerStats& stats = timing.modules[static_cast<size_t>(module)][layer];
    double pj = 0;
    for (int action = 0; action < kActionCount; ++action) {
      if (static_cast<int>(module_of(static_cast<Action>(action))) == module) {
        pj += static_cast<double>(stats.actions[static_cast<size_t>(action)]) *
              pj_[static_cast<size_t>(action)];
      }
    }
    const double leakage = leakage_w_[static_cast<size_t>(module)] * seconds;
    energy.joules[static_cast<size_t>(module)] = pj * 1e-12 + leakage;
    energy.leakage += leakage;
  }
  return energy;
}

nlohmann::ordered_json EnergyModel::describe() const {
  nlohmann::ordered_json out;
  for (int module = 0; module < kModuleCount; ++module) {
    nlohmann::ordered_json actions = nlohmann::ordered_json::object();
    for (int action = 0; action < kActionCount; ++action) {
      if (static_cast<int>(module_of(static_cast<Action>(action))) == module) {
        actions[action_name(static_cast<Action>(action))] = pj_[static_cast<size_t>(action)];
      }
    }
    out["pj_per_action"][module_name(static_cast<Module>(module))] = actions;
  }
  for (int module = 0; module < kModuleCount; ++module) {
    out["leakage_w"][module_name(static_cast<Module>(module))] =
        leakage_w_[static_cast<size_t>(module)];
  }
  return out;
}

}  // namespace bsnpu::arch
