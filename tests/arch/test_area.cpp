// The MAC array's column adders at their real widths, the energy of a PE's conditional negate and
// of a column's adds, the area model, and the heuristic clock check.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "arch/area.h"
#include "arch/energy.h"
#include "arch/report.h"

namespace bsnpu::arch {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";
constexpr int kActBits = 8;  // the shipped model's

NpuConfig default_config() { return NpuConfig::load(kConfigs + "default.json"); }
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

TEST(Area, DefaultConfigByHand) {
  const AreaBreakdown area = estimate_area(default_config(), shipped_table(), kActBits);
  const double placed = 1e-6 / 0.7;  // mm^2 per um^2 of cells
  // 64 x 64 PEs: 9 XORs and two weight-register bits (shadow registers) each.
  EXPECT_NEAR(area.pes, 4096 * (9 * 1.596 + 2 * 4.522) * placed, 1e-12);
  // 64 columns of a 64-input tree of 624 adder bits.
  EXPECT_NEAR(area.column_reduction, 64 * 624 * 4.256 * placed, 1e-12);
  // The partial-sum SRAM: 2 buffers x 256 entries x 64 columns x a 64-bit word = 256 KiB in 64
  // banks of 4 KiB (two thirds of the way from the 1 KiB to the 8 KiB point in log2), and a
  // 32-bit shift-accumulate adder per column.
  EXPECT_NEAR(area.partial_sums,
              256 * (0.01134 + (2.0 / 3) * (0.0063 - 0.01134)) + 64 * 32 * 4.256 * placed, 1e-12);
  // 64 lanes: a 32 x 32 multiplier, 64 + 2 x 32 adder bits, 64 + 32 register bits.
  EXPECT_NEAR(area.postproc_lanes,
              64 * (16 * 306.4 + (64 + 64) * 4.256 + (64 + 32) * 4.522) * placed, 1e-12);
  // 512 KiB in banks of 64 KiB; 256 KiB in banks of 32 KiB (between the 8 and 64 KiB points).
  EXPECT_NEAR(area.weight_memory, 512 * 0.00472, 1e-12);
  EXPECT_NEAR(area.activation_buffer, 256 * (0.0063 + (2.0 / 3) * (0.00472 - 0.0063)), 1e-12);
}

TEST(Area, ComponentsSumToTheTotal) {
  for (const char* name : {"default.json", "edge.json", "large.json", "scalesim_ws64.json"}) {
    const AreaBreakdown area =
        estimate_area(NpuConfig::load(kConfigs + name), shipped_table(), kActBits);
    const nlohmann::ordered_json report = area_report(area);
    double modules = 0, components = 0;
    for (const auto& item : report["modules"].items()) modules += item.value().get<double>();
    for (const auto& item : report["components"].items()) {
      EXPECT_GT(item.value().get<double>(), 0) << name << " " << item.key();
      components += item.value().get<double>();
    }
    const double total = report["total"].get<double>();
    EXPECT_GT(total, 0) << name;
    EXPECT_NEAR(modules, total, 1e-12 * total) << name;
    EXPECT_NEAR(components, total, 1e-12 * total) << name;
    EXPECT_DOUBLE_EQ(area.module(Module::Dram), 0) << name;  // off chip
  }
}

TEST(Area, GrowsWithEveryResource) {
  const EnergyTable table = shipped_table();
  const double base = estimate_area(default_config(), table, kActBits).total();
  const std::vector<std::function<void(nlohmann::json&)>> larger = {
      [](nlohmann::json& c) { c["mac_array"]["rows"] = 128; },
      [](nlohmann::json& c) { c["mac_array"]["cols"] = 128; },
      [](nlohmann::json& c) { c["mac_array"]["weight_bits"] = 8; },
      [](nlohmann::json& c) { c["accumulator"]["depth"] = 512; },
      [](nlohmann::json& c) { c["accumulator"]["postproc_lanes"] = 128; },
      [](nlohmann::json& c) { c["weight_memory"]["capacity_kib"] = 1024; },
      [](nlohmann::json& c) { c["activation_buffer"]["capacity_kib"] = 512; },
  };
  for (size_t i = 0; i < larger.size(); ++i) {
    EXPECT_GT(estimate_area(config_with(larger[i]), table, kActBits).total(), base) << i;
  }
  // SRAM area grows with capacity, below, between and above the table's points.
  double previous = 0;
  for (int kib = 1; kib <= 1 << 16; kib *= 2) {
    const double sram = estimate_area(config_with([&](nlohmann::json& c) {
                                        c["activation_buffer"]["capacity_kib"] = kib;
                                        c["activation_buffer"]["banks"] = 1;
                                      }),
                                      table, kActBits)
                            .activation_buffer;
    EXPECT_GT(sram, previous) << kib;
    previous = sram;
  }
}

TEST(ClockCheck, WarnsForAnImplausibleClockOnly) {
  const EnergyTable table = shipped_table();
  for (const char* name : {"default.json", "edge.json", "large.json", "scalesim_ws64.json"}) {
    EXPECT_EQ(clock_warning(NpuConfig::load(kConfigs + name), table, kActBits), "") << name;
  }
  const NpuConfig fast_and_big = config_with([](nlohmann::json& c) {
    c["mac_array"]["rows"] = 256;
    c["mac_array"]["cols"] = 256;
    c["clock_mhz"] = 2000;
  });
  // Registers 130 ps; the row: 256 PEs at the pitch of a PE with its share of the column tree;
  // one XOR, log4 256 = 4 buffer levels and ceil((log2 256 + log2 16) / 8) = 2 tree levels.
  const CriticalPath path = heuristic_critical_path(fast_and_big, table, kActBits);
  const AreaBreakdown area = estimate_area(fast_and_big, table, kActBits);
  EXPECT_NEAR(path.wire_mm, 256 * std::sqrt((area.pes + area.column_reduction) / 65536), 1e-12);
  EXPECT_EQ(path.logic_levels, 1 + 4 + 2);
  EXPECT_NEAR(path.total_ps(), 130 + 100 * path.wire_mm + 60 * 7, 1e-9);
  const std::string warning = clock_warning(fast_and_big, table, kActBits);
  EXPECT_EQ(warning.rfind("configs/x.json: clock_mhz: 2000 MHz is above the 1253 MHz a 256 x 256 "
                          "adder_tree array plausibly reaches",
                          0),
            0u)
      << warning;
  EXPECT_EQ(warning.find('\n'), std::string::npos);
  EXPECT_EQ(clock_warning(config_with([](nlohmann::json& c) {
                            c["mac_array"]["rows"] = 256;
                            c["mac_array"]["cols"] = 256;
                            c["clock_mhz"] = 1000;
                          }),
                          table, kActBits),
            "");
}

}  // namespace
}  // namespace bsnpu::arch
