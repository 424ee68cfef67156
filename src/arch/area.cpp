#include "arch/area.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace bsnpu::arch {
namespace {

constexpr double kMm2PerUm2 = 1e-6;

// The smallest m with 2^m >= n (n >= 1).
int ceil_log2(uint64_t n) {
  int m = 0;
  while ((uint64_t{1} << m) < n) ++m;
  return m;
}

// Sum over j = 1..n of ceil(log2 j): j in (2^(m-1), 2^m] contributes m.
uint64_t sum_ceil_log2(uint64_t n) {
  uint64_t sum = 0;
  for (int m = 1; (uint64_t{1} << (m - 1)) < n; ++m) {
    const uint64_t first = (uint64_t{1} << (m - 1)) + 1;
    const uint64_t last = std::min(uint64_t{1} << m, n);
    sum += (last - first + 1) * static_cast<uint64_t>(m);
  }
  return sum;
}

double multiplier_um2(const AreaTable& cells, int bits) {
  const double ratio = bits / 8.0;
  return cells.mult_8x8_um2 * ratio * ratio;
}

}  // namespace

int product_bits(const MacArrayConfig& array, int act_bits) {
  return act_bits + (array.bit_parallel() ? 8 : 1);
}

int multiplier_bits(int act_bits) { return std::max(act_bits, 8); }

double ColumnAdders::mean_width() const {
  return adders == 0 ? product_bits : static_cast<double>(adder_bits) / static_cast<double>(adders);
}

ColumnAdders adder_tree_adders(int inputs, int product_bits) {
  ColumnAdders tree;
  tree.product_bits = product_bits;
  uint64_t operands = static_cast<uint64_t>(inputs);
  for (int level = 1; operands > 1; ++level) {
    const uint64_t adders = operands / 2;
    tree.widest = product_bits + level - 1;
    tree.adders += adders;
    tree.adder_bits += adders * static_cast<uint64_t>(tree.widest);
    operands -= adders;
  }
  return tree;
}

ColumnAdders systolic_chain_adders(int rows, int product_bits) {
  ColumnAdders chain;
  chain.product_bits = product_bits;
  if (rows < 2) return chain;
  // Rows 2..R add to sums of j = 1..R-1 products.
  const uint64_t sums = static_cast<uint64_t>(rows) - 1;
  chain.adders = sums;
  chain.adder_bits = sums * static_cast<uint64_t>(product_bits) + sum_ceil_log2(sums);
  chain.widest = product_bits + ceil_log2(sums);
  return chain;
}

ColumnAdders column_adders(const MacArrayConfig& array, int product_bits) {
  return array.organisation == ArrayOrganisation::Systolic
             ? systolic_chain_adders(array.rows, product_bits)
             : adder_tree_adders(array.rows, product_bits);
}

double AreaBreakdown::module(Module module) const {
  switch (module) {
    case Module::MacArray:
      return pes + column_reduction;
    case Module::Accumulator:
      return partial_sums + postproc_lanes;
    case Module::WeightMemory:
      return weight_memory;
    case Module::ActivationBuffer:
      return activation_buffer;
    case Module::Dram:
    case Module::Count:
      break;
  }
  return 0;
}

double AreaBreakdown::total() const {
  return pes + column_reduction + partial_sums + postproc_lanes + weight_memory + activation_buffer;
}

AreaBreakdown estimate_area(const NpuConfig& config, const EnergyTable& table, int act_bits) {
  const AreaTable& cells = table.area;
  const MacArrayConfig& array = config.mac_array;
  const AccumulatorConfig& accumulator = config.accumulator;
  // Standard-cell logic occupies its cells' area / utilisation once placed and routed.
  const double logic_mm2 = kMm2PerUm2 / cells.logic_utilisation;
  const double rows = array.rows;
  const double cols = array.cols;
  const double acc_bits = accumulator.bits;
  const int w0 = product_bits(array, act_bits);
  AreaBreakdown area;

  // A PE: a conditional negate of the activation (act_bits + 1 XORs) or an n x n multiplier, and
  // its weight register, twice over with shadow registers.
  const double datapath_um2 = array.bit_parallel()
                                  ? multiplier_um2(cells, multiplier_bits(act_bits))
                                  : cells.xor_um2_per_bit * (act_bits + 1);
  const double weight_register_um2 =
      cells.register_um2_per_bit * array.weight_bits * (array.double_buffered ? 2 : 1);
  area.pes = rows * cols * (datapath_um2 + weight_register_um2) * logic_mm2;

  // A column: its ripple-carry adders, one full adder per bit; a systolic column also registers,
  // in each row, the activation passing right and the partial sum passing down (the sum of i
  // products in row i, w0 + ceil(log2 i) bits).
  double column_um2 =
      static_cast<double>(column_adders(array, w0).adder_bits) * cells.full_adder_um2_per_bit;
  if (array.organisation == ArrayOrganisation::Systolic) {
    const uint64_t partial_sum_bits =
        static_cast<uint64_t>(array.rows) * static_cast<uint64_t>(w0) +
        sum_ceil_log2(static_cast<uint64_t>(array.rows));
    column_um2 +=
        cells.register_um2_per_bit * (rows * act_bits + static_cast<double>(partial_sum_bits));
  }
  area.column_reduction = cols * column_um2 * logic_mm2;

  // The partial-sum SRAM (buffers x depth words of r and the partial sum per column, at the
  // density of one bank's capacity, as its energy is priced) and per column the shift-accumulate
  // adder r <- 2r + S.
  const double partial_sum_bits = static_cast<double>(accumulator.capacity_bits(array.cols));
  area.partial_sums =
      partial_sum_bits / 8192.0 *
          table.sram_mm2_per_kib(partial_sum_bits / 8.0 / accumulator.banks) +
      cols * acc_bits * cells.full_adder_um2_per_bit * logic_mm2;

  // A lane, as the energy model's requantization: acc x M (a 32 x 32 multiplier), + offset (a
  // 64-bit adder), the rounding and the fused residual or pool add (two acc_bits adders), and a
  // pipeline register for the 64-bit product and the acc_bits result.
  const double lane_um2 = multiplier_um2(cells, 32) +
                          cells.full_adder_um2_per_bit * (64 + 2 * acc_bits) +
                          cells.register_um2_per_bit * (64 + acc_bits);
  area.postproc_lanes = accumulator.postproc_lanes * lane_um2 * logic_mm2;

  // Each memory: its KiB at the density of one bank's capacity.
  auto sram_mm2 = [&](const MemoryConfig& memory) {
    return static_cast<double>(memory.capacity_bits) / 8192.0 *
           table.sram_mm2_per_kib(static_cast<double>(memory.bank_bytes()));
  };
  area.weight_memory = sram_mm2(config.weight_memory);
  area.activation_buffer = sram_mm2(config.activation_buffer);
  return area;
}

CriticalPath heuristic_critical_path(const NpuConfig& config, const EnergyTable& table,
                                     int act_bits) {
  const MacArrayConfig& array = config.mac_array;
  const ClockCheckTable& delays = table.clock_check;
  const AreaBreakdown area = estimate_area(config, table, act_bits);
  const double pes = static_cast<double>(array.rows) * array.cols;
  const double pitch_mm = std::sqrt((area.pes + area.column_reduction) / pes);
  const ColumnAdders adders = column_adders(array, product_bits(array, act_bits));
  // A PE's logic: one XOR, or an n x n multiplier's partial-product tree and final adder (about
  // 2 log2 n levels). A fast adder of w bits resolves in about log2 w levels.
  const int pe_levels = array.bit_parallel() ? 2 * ceil_log2(multiplier_bits(act_bits)) : 1;
  const int final_adder_levels =
      adders.widest > 0 ? ceil_log2(static_cast<uint64_t>(adders.widest)) : 0;
  CriticalPath path;
  path.register_ps = delays.register_overhead_ps;
  if (array.organisation == ArrayOrganisation::Systolic) {
    // Neighbour to neighbour: each PE negates or multiplies and adds into the passing sum.
    path.wire_mm = pitch_mm;
    path.logic_levels = pe_levels + final_adder_levels;
  } else {
    // A row's activation crosses the row through a buffer tree (log4 C levels) to C PEs; the
    // column's carry-save tree (log2 R levels) and final adder spread over the pipeline stages.
    path.wire_mm = array.cols * pitch_mm;
    const int fanout_levels = (ceil_log2(static_cast<uint64_t>(array.cols)) + 1) / 2;
    const int reduction_levels = ceil_log2(static_cast<uint64_t>(array.rows)) + final_adder_levels;
    const int stages = std::max(1, array.pipeline_cycles);
    path.logic_levels = pe_levels + fanout_levels + (reduction_levels + stages - 1) / stages;
  }
  path.wire_ps = delays.wire_ps_per_mm * path.wire_mm;
  path.logic_ps = delays.gate_ps * path.logic_levels;
  return path;
}

std::string clock_warning(const NpuConfig& config, const EnergyTable& table, int act_bits) {
  const CriticalPath path = heuristic_critical_path(config, table, act_bits);
  const double max_mhz = 1e6 / path.total_ps();
  if (config.clock_mhz <= max_mhz) return "";
  auto number = [](const char* format, double value) {
    char text[64];
    std::snprintf(text, sizeof text, format, value);
    return std::string(text);
  };
  return config.file + ": clock_mhz: " + number("%g", config.clock_mhz) + " MHz is above the " +
         number("%.0f", max_mhz) + " MHz a " + std::to_string(config.mac_array.rows) + " x " +
         std::to_string(config.mac_array.cols) + " " +
         organisation_name(config.mac_array.organisation) +
         " array plausibly reaches with the delays of " + table.name +
         ": heuristic critical path " + number("%.0f", path.total_ps()) + " ps (registers " +
         number("%.0f", path.register_ps) + " ps, " + number("%.2f", path.wire_mm) +
         " mm of wire " + number("%.0f", path.wire_ps) + " ps, " +
         std::to_string(path.logic_levels) + " logic levels " + number("%.0f", path.logic_ps) +
         " ps; docs/architecture.md, \"Clock check\")";
}

}  // namespace bsnpu::arch
