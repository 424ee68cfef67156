// The MAC array's column adders at their real widths, and the energy of a PE's conditional negate
// and of a column's adds.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "arch/area.h"
#include "arch/energy.h"

namespace bsnpu::arch {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";
constexpr int kActBits = 8;  // the shipped model's

EnergyTable shipped_table() { return EnergyTable::load(kConfigs + "energy/45nm_horowitz.json"); }

NpuConfig config_with(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json document = nlohmann::json::parse(read_text_file(kConfigs + "default.json"));
  edit(document);
  return NpuConfig::parse(document.dump(), "configs/x.json");
}

// The tree built pairwise, level by level, as the hardware would: the reference for the formula.
ColumnAdders tree_by_pairing(int inputs, int product_bits) {
  ColumnAdders tree;
  std::vector<int> operands(static_cast<size_t>(inputs), product_bits);  // widths
  while (operands.size() > 1) {
    std::vector<int> next;
    for (size_t i = 0; i + 1 < operands.size(); i += 2) {
      const int width = std::max(operands[i], operands[i + 1]);
      ++tree.adders;
      tree.adder_bits += static_cast<uint64_t>(width);
      tree.widest = std::max(tree.widest, width);
      next.push_back(width + 1);
    }
    if (operands.size() % 2 == 1) next.push_back(operands.back());
    operands = next;
  }
  return tree;
}

TEST(ColumnAdders, AdderTreeWidths) {
  const int w0 = 9;  // a +-x of an 8-bit activation
  const ColumnAdders one = adder_tree_adders(1, w0);
  EXPECT_EQ(one.adders, 0u);
  EXPECT_EQ(one.adder_bits, 0u);
  EXPECT_EQ(one.widest, 0);
  EXPECT_DOUBLE_EQ(one.mean_width(), w0);
  const ColumnAdders two = adder_tree_adders(2, w0);
  EXPECT_EQ(two.adders, 1u);
  EXPECT_EQ(two.adder_bits, 9u);
  EXPECT_EQ(two.widest, 9);
  const ColumnAdders three = adder_tree_adders(3, w0);  // (a + b) + c: 9 and 10 bits
  EXPECT_EQ(three.adders, 2u);
  EXPECT_EQ(three.adder_bits, 9u + 10);
  EXPECT_EQ(three.widest, 10);
  const ColumnAdders four = adder_tree_adders(4, w0);  // two of 9 bits, one of 10
  EXPECT_EQ(four.adders, 3u);
  EXPECT_EQ(four.adder_bits, 9u + 9 + 10);
  EXPECT_EQ(four.widest, 10);
  // R = 64: 32 adders of 9 bits, 16 of 10, 8 of 11, 4 of 12, 2 of 13, 1 of 14.
  const ColumnAdders tree64 = adder_tree_adders(64, w0);
  EXPECT_EQ(tree64.adders, 63u);
  EXPECT_EQ(tree64.adder_bits, 32u * 9 + 16 * 10 + 8 * 11 + 4 * 12 + 2 * 13 + 14);
  EXPECT_EQ(tree64.widest, 14);
  EXPECT_DOUBLE_EQ(tree64.mean_width(), 624.0 / 63);
  for (int inputs = 1; inputs <= 300; ++inputs) {
    const ColumnAdders tree = adder_tree_adders(inputs, w0);
    const ColumnAdders paired = tree_by_pairing(inputs, w0);
    EXPECT_EQ(tree.adders, static_cast<uint64_t>(inputs - 1)) << inputs;
    EXPECT_EQ(tree.adder_bits, paired.adder_bits) << inputs;
    EXPECT_EQ(tree.widest, paired.widest) << inputs;
    if (inputs > 1) {
      EXPECT_EQ(tree.widest, w0 + static_cast<int>(std::ceil(std::log2(inputs))) - 1) << inputs;
    }
  }
}

TEST(ColumnAdders, SystolicChainWidths) {
  const int w0 = 9;
  EXPECT_EQ(systolic_chain_adders(1, w0).adders, 0u);
  EXPECT_EQ(systolic_chain_adders(2, w0).adder_bits, 9u);
  EXPECT_EQ(systolic_chain_adders(3, w0).adder_bits, 9u + 10);
  EXPECT_EQ(systolic_chain_adders(4, w0).adder_bits, 9u + 10 + 11);  // a sum of 3 needs 11 bits
  const ColumnAdders chain64 = systolic_chain_adders(64, w0);
  EXPECT_EQ(chain64.adders, 63u);
  EXPECT_EQ(chain64.widest, 15);  // the sum of 63 products
  for (int rows = 1; rows <= 300; ++rows) {
    uint64_t bits = 0;
    for (int above = 1; above < rows; ++above) {
      bits += static_cast<uint64_t>(w0 + static_cast<int>(std::ceil(std::log2(above))));
    }
    EXPECT_EQ(systolic_chain_adders(rows, w0).adder_bits, bits) << rows;
  }
}

TEST(EnergyModel, ConditionalNegateAndAddsAtTheirWidths) {
  const EnergyTable table = shipped_table();
  for (const char* organisation : {"adder_tree", "systolic"}) {
    const NpuConfig config =
        config_with([&](nlohmann::json& c) { c["mac_array"]["organisation"] = organisation; });
    const EnergyModel energy(table, config, kActBits);
    // +-x: act_bits + 1 XORs, no adder.
    EXPECT_DOUBLE_EQ(energy.pj(Action::PeAddSub), table.xor_pj_per_bit * (kActBits + 1));
    // A column's adds cost, on average, the mean energy of its adders, each at its own width.
    const ColumnAdders adders = column_adders(config.mac_array, kActBits + 1);
    double column_pj = 0;
    if (config.mac_array.organisation == ArrayOrganisation::Systolic) {
      for (int above = 1; above < config.mac_array.rows; ++above)
        column_pj += table.add_pj(kActBits + 1 + std::ceil(std::log2(above)));
    } else {
      for (int level = 1, operands = config.mac_array.rows; operands > 1; ++level) {
        column_pj += (operands / 2) * table.add_pj(kActBits + level);
        operands -= operands / 2;
      }
    }
    EXPECT_NEAR(energy.pj(Action::AdderTreeAdd) * static_cast<double>(adders.adders), column_pj,
                1e-12)
        << organisation;
    // Below the widest adder, the former upper bound.
    EXPECT_LT(energy.pj(Action::AdderTreeAdd), table.add_pj(adders.widest)) << organisation;
  }
}

}  // namespace
}  // namespace bsnpu::arch
