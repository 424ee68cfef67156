// The NPU's silicon area per module, composed from the cell and memory areas of the technology
// table (configs/energy/*.json, "area"), the widths of the MAC array's column adders that the
// energy model shares, and the heuristic clock check against the array's size. Plain data, no
// SystemC. See docs/architecture.md, "Area model" and "Clock check".
#pragma once

#include <cstdint>
#include <string>

#include "arch/actions.h"
#include "arch/config.h"

namespace bsnpu::arch {

// Bits of one PE's product: act_bits + 1 for a +-1 weight bit (the conditionally negated
// activation), act_bits + 8 for an 8-bit weight.
int product_bits(const MacArrayConfig& array, int act_bits);
// Width n of a bit-parallel PE's n x n multiplier: the table's multiplier is at least 8 x 8.
int multiplier_bits(int act_bits);

// The adders that reduce one column's products to its sum. A sum of m products of w0 bits needs
// w0 + ceil(log2 m) bits; an adder is as wide as its wider operand.
struct ColumnAdders {
  int product_bits = 0;       // w0
  uint64_t adders = 0;        // R - 1
  uint64_t adder_bits = 0;    // the sum of their widths
  int widest = 0;             // the widest adder's width, 0 when there is none
  double mean_width() const;  // adder_bits / adders, product_bits when there is none
};
// A balanced tree of `inputs` products: level l (from 1) has floor(n/2) adders of width
// w0 + l - 1, n the operands left after level l - 1 (an odd one passes to the next level).
ColumnAdders adder_tree_adders(int inputs, int product_bits);
// A systolic chain of `rows` PEs: the PE of row i (i >= 2) adds its product to the sum of the
// i - 1 above it, width w0 + ceil(log2(i - 1)).
ColumnAdders systolic_chain_adders(int rows, int product_bits);
// The adders of one column of the configured array (tree or chain, over all its rows).
ColumnAdders column_adders(const MacArrayConfig& array, int product_bits);

// Area in mm^2 of the on-chip modules, by component (docs/architecture.md, "Area model").
struct AreaBreakdown {
  double pes = 0;                // MacArray: the PEs' datapath and weight registers
  double column_reduction = 0;   // MacArray: the column adders (and the systolic registers)
  double partial_sums = 0;       // Accumulator: partial-sum storage and shift-accumulate adders
  double postproc_lanes = 0;     // Accumulator: requantization lanes
  double weight_memory = 0;      // SRAM
  double activation_buffer = 0;  // SRAM

  double module(Module module) const;  // 0 for the Dram, which is off chip
  double total() const;
};
AreaBreakdown estimate_area(const NpuConfig& config, const EnergyTable& table, int act_bits);

// A heuristic lower bound on the clock period of the configured array at the table's node
// (docs/architecture.md, "Clock check"): the register overhead, the wire a row's activation
// crosses in one cycle, and the logic levels of one pipeline stage.
struct CriticalPath {
  double register_ps = 0;
  double wire_mm = 0;
  double wire_ps = 0;
  int logic_levels = 0;
  double logic_ps = 0;
  double total_ps() const { return register_ps + wire_ps + logic_ps; }
};
CriticalPath heuristic_critical_path(const NpuConfig& config, const EnergyTable& table,
                                     int act_bits);
// "FILE: clock_mhz: ..." when the configured clock is faster than the heuristic critical path
// allows, else empty. A warning, not an error: the bound is a heuristic.
std::string clock_warning(const NpuConfig& config, const EnergyTable& table, int act_bits);

}  // namespace bsnpu::arch
