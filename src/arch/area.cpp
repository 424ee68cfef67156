#include "arch/area.h"

#include <algorithm>

namespace bsnpu::arch {
namespace {

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

}  // namespace bsnpu::arch
