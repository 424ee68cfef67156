// Invariants of the timing model over a grid of configs, on the real ResNet-18 workload:
//  - more of one resource never costs cycles: pairs of configs that differ in one resource
//    (DRAM bandwidth, SRAM capacities, array rows and columns, SRAM ports and banks, accumulator
//    depth, buffers and port, post-processing lanes, prefetch queue), over every array
//    organisation, three DRAM
//    technologies, spilling and non-spilling activation SRAMs, at k = 1, 4 and 8;
//  - no layer gets faster as k rises (k = 1..8 on every base config);
//  - the accounting identities: layer rows sum to the totals, each layer's stall reasons sum to
//    its stall cycles, weight bits read at k are k/8 of those at 8 (bit-serial).
// The exceptions are physical and named: a systolic array's skew and weight shift-in grow with
// its rows and columns (docs/architecture.md, "Array organisations"), so rows and cols are not
// checked there; and rows whose operands (rows x act_bits per pixel) outgrow the activation
// port make every full row tile port-bound, which the grid avoids with a port wide enough and a
// separate test shows.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arch/energy.h"
#include "arch/report.h"
#include "bench.h"
#include "core/files.h"
#include "core/model.h"
#include "core/paths.h"
#include "tlm/npu.h"

namespace bsnpu::tlm::testing {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";

struct Organisation {
  const char* name;
  const char* organisation;
  int weight_bits;
};
constexpr Organisation kOrganisations[] = {{"adder-tree", "adder_tree", 1},
                                           {"adder-tree-bit-parallel", "adder_tree", 8},
                                           {"systolic", "systolic", 1},
                                           {"systolic-bit-parallel", "systolic", 8}};
constexpr const char* kTechnologies[] = {"ddr4", "lpddr4", "hbm2"};

struct Resource {
  const char* name;
  std::function<void(nlohmann::json&)> more;
  bool systolic_exempt = false;  // the skew grows with it (see the file comment)
};

const std::vector<Resource>& resources() {
  static const std::vector<Resource> list = {
      {"dram.bandwidth_gbytes_per_s x2",
       [](nlohmann::json& c) { c["dram"]["bandwidth_gbytes_per_s"] = 32; }},
      {"weight_memory.capacity_kib x4",
       [](nlohmann::json& c) { c["weight_memory"]["capacity_kib"] = 2048; }},
      {"activation_buffer.capacity_kib x4",
       [](nlohmann::json& c) {
         c["activation_buffer"]["capacity_kib"] =
             4 * c["activation_buffer"]["capacity_kib"].get<int>();
       }},
      {"mac_array.rows 64 -> 80", [](nlohmann::json& c) { c["mac_array"]["rows"] = 80; }, true},
      {"mac_array.cols 64 -> 96", [](nlohmann::json& c) { c["mac_array"]["cols"] = 96; }, true},
      {"weight_memory.port_bits x2",
       [](nlohmann::json& c) { c["weight_memory"]["port_bits"] = 128; }},
      {"activation_buffer.port_bits x2",
       [](nlohmann::json& c) { c["activation_buffer"]["port_bits"] = 128; }},
      {"weight_memory.banks x2", [](nlohmann::json& c) { c["weight_memory"]["banks"] = 16; }},
      {"accumulator.depth x2", [](nlohmann::json& c) { c["accumulator"]["depth"] = 512; }},
      {"accumulator.postproc_lanes x2",
       [](nlohmann::json& c) { c["accumulator"]["postproc_lanes"] = 128; }},
      {"dram.prefetch_queue x2", [](nlohmann::json& c) { c["dram"]["prefetch_queue"] = 32; }},
      {"accumulator.buffers 2 -> 3", [](nlohmann::json& c) { c["accumulator"]["buffers"] = 3; }},
      {"accumulator.port_bits x2", [](nlohmann::json& c) { c["accumulator"]["port_bits"] = 128; }},
  };
  return list;
}

struct Base {
  std::string name;
  nlohmann::json document;
  bool systolic = false;
  bool bit_serial = true;
};

std::vector<Base> bases() {
  const nlohmann::json defaults = nlohmann::json::parse(read_text_file(kConfigs + "default.json"));
  std::vector<Base> list;
  for (const char* technology : kTechnologies) {
    for (const Organisation& organisation : kOrganisations) {
      for (const bool spilling : {false, true}) {
        Base base;
        base.document = defaults;
        base.document["dram"] = {
            {"technology", technology}, {"bandwidth_gbytes_per_s", 16}, {"latency_ns", 100}};
        base.document["mac_array"]["organisation"] = organisation.organisation;
        base.document["mac_array"]["weight_bits"] = organisation.weight_bits;
        base.document["activation_buffer"]["capacity_kib"] = spilling ? 16 : 1024;
        // Wide enough for a row of operands of the larger arrays below (80 x 8 bits per cycle):
        // see OperandsWiderThanTheActivationPortCostCycles.
        base.document["activation_buffer"]["port_bits"] = 128;
        base.name = std::string(technology) + "/" + organisation.name + "/" +
                    (spilling ? "spilling" : "resident activations");
        base.systolic = std::string(organisation.organisation) == "systolic";
        base.bit_serial = organisation.weight_bits == 1;
        list.push_back(base);
      }
    }
  }
  return list;
}

// Every config of the grid, elaborated once (SystemC elaborates once per process): each base,
// then each base with one resource more.
struct Grid {
  Model model = Model::load(model_prefix(""));
  std::vector<Base> base_list = bases();
  std::vector<NpuConfig> configs;  // [base][0] base, [base][1 + r] resource r more
  std::vector<std::unique_ptr<Npu>> npus;
  size_t per_base = 1 + resources().size();
  Grid() {
    for (const Base& base : base_list) {
      configs.push_back(NpuConfig::parse(base.document.dump(), kConfigs + "grid.json"));
      for (const Resource& resource : resources()) {
        nlohmann::json more = base.document;
        resource.more(more);
        configs.push_back(NpuConfig::parse(more.dump(), kConfigs + "grid.json"));
      }
    }
    // The first base with the default 512-bit activation port, with 64 and with 80 rows.
    nlohmann::json narrow = base_list[0].document;
    narrow["activation_buffer"]["port_bits"] = 64;
    configs.push_back(NpuConfig::parse(narrow.dump(), kConfigs + "narrow.json"));
    narrow["mac_array"]["rows"] = 80;
    configs.push_back(NpuConfig::parse(narrow.dump(), kConfigs + "narrow.json"));
    for (size_t i = 0; i < configs.size(); ++i) {
      npus.push_back(
          std::make_unique<Npu>(("npu_" + std::to_string(i)).c_str(), configs[i], model, 1));
    }
    elaborate();
  }
  Npu& npu(size_t base, size_t variant) { return *npus[base * per_base + variant]; }
  Npu& narrow_port(bool more_rows) { return *npus[npus.size() - (more_rows ? 1 : 2)]; }
};

Grid& grid() {
  static Grid instance;
  return instance;
}

TEST(Invariants, MoreOfOneResourceNeverCostsCycles) {
  Grid& g = grid();
  std::vector<std::string> violations;
  size_t pairs = 0;
  for (size_t b = 0; b < g.base_list.size(); ++b) {
    for (size_t r = 0; r < resources().size(); ++r) {
      const Resource& resource = resources()[r];
      if (resource.systolic_exempt && g.base_list[b].systolic) continue;
      ++pairs;
      for (const int k : {1, 4, 8}) {
        const uint64_t before = g.npu(b, 0).simulate_timing(k).cycles;
        const uint64_t after = g.npu(b, 1 + r).simulate_timing(k).cycles;
        if (after > before) {
          std::ostringstream line;
          line << g.base_list[b].name << ": " << resource.name << " at k=" << k << ": " << before
               << " -> " << after << " cycles";
          violations.push_back(line.str());
        }
      }
    }
  }
  EXPECT_GE(pairs, 200u);
  for (const std::string& violation : violations) ADD_FAILURE() << violation;
  std::printf("%zu config pairs x 3 k checked, %zu violations\n", pairs, violations.size());
}

// 64 -> 80 rows on the default 512-bit activation port: a full row tile needs 640 bits per pixel,
// so its passes take 1.25 cycles per pixel, and 7 such tiles plus a 16-row one (7 x 1.25 + 1 =
// 9.75 pixel-times) cost more than the 9 tiles of 64 rows. With the grid's 1024-bit port the same
// step is a saving.
TEST(Invariants, OperandsWiderThanTheActivationPortCostCycles) {
  Grid& g = grid();
  const size_t rows = 3;  // resources()[3]: mac_array.rows 64 -> 80
  ASSERT_EQ(std::string(resources()[rows].name), "mac_array.rows 64 -> 80");
  for (const int k : {1, 8}) {
    EXPECT_LT(g.npu(0, 1 + rows).simulate_timing(k).cycles, g.npu(0, 0).simulate_timing(k).cycles);
    EXPECT_GT(g.narrow_port(true).simulate_timing(k).cycles,
              g.narrow_port(false).simulate_timing(k).cycles);
  }
}

TEST(Invariants, NoLayerGetsFasterAsKRises) {
  Grid& g = grid();
  for (size_t b = 0; b < g.base_list.size(); ++b) {
    std::vector<arch::LayerTiming> previous;
    for (int k = 1; k <= 8; ++k) {
      const arch::TimingResult timing = g.npu(b, 0).simulate_timing(k);
      if (!previous.empty()) {
        for (size_t layer = 0; layer < timing.layers.size(); ++layer) {
          EXPECT_GE(timing.layers[layer].cycles, previous[layer].cycles)
              << g.base_list[b].name << ": layer " << g.model.op(static_cast<int>(layer)).name
              << " from k=" << k - 1 << " to k=" << k;
        }
      }
      previous = timing.layers;
    }
  }
}

TEST(Invariants, LayerRowsAndStallReasonsSumToTotalsAndWeightBitsScaleWithK) {
  Grid& g = grid();
  for (size_t b = 0; b < g.base_list.size(); ++b) {
    uint64_t bits_at_8 = 0;
    std::vector<uint64_t> bits(9, 0);
    for (int k : {1, 2, 8}) {
      const arch::TimingResult timing = g.npu(b, 0).simulate_timing(k);
      uint64_t cycles = 0;
      for (const arch::LayerTiming& layer : timing.layers) {
        cycles += layer.cycles;
        uint64_t stalls = 0;
        for (uint64_t reason : layer.stalls) stalls += reason;
        EXPECT_EQ(stalls, layer.stall_cycles) << g.base_list[b].name << " k=" << k;
        EXPECT_EQ(layer.compute_cycles + layer.stall_cycles, layer.cycles);
      }
      EXPECT_EQ(cycles, timing.cycles) << g.base_list[b].name << " k=" << k;
      for (const auto& layer : timing.modules[static_cast<int>(arch::Module::WeightMemory)])
        bits[static_cast<size_t>(k)] += layer.count(arch::Action::WeightSramReadBits);
    }
    bits_at_8 = bits[8];
    for (int k : {1, 2}) {
      const uint64_t expected =
          g.base_list[b].bit_serial ? bits_at_8 * static_cast<uint64_t>(k) / 8 : bits_at_8;
      EXPECT_EQ(bits[static_cast<size_t>(k)], expected) << g.base_list[b].name << " k=" << k;
    }
  }
}

// What summarize() needs for one base config: its energy table and model, and the context.
struct Reporting {
  EnergyTable table;
  EnergyModel energy;
  ReportContext context;
  Reporting(const NpuConfig& config, const Workload& workload)
      : table(EnergyTable::load(config.energy_table_path())),
        energy(table, config, workload.act_bits) {
    context.config = &config;
    context.energy = &energy;
    context.workload = &workload;
  }
  Reporting(const Reporting&) = delete;
  Reporting& operator=(const Reporting&) = delete;
};

// Energy: the modules' shares sum to the total and the layers' totals to it; latency = cycles /
// clock; cycles and energy rise with k on a bit-serial array and stay put on a bit-parallel one.
TEST(Invariants, EnergySumsLatencyIsCyclesOverClockAndBothGrowWithK) {
  Grid& g = grid();
  const Workload workload = Workload::from_model(g.model);
  for (size_t b = 0; b < g.base_list.size(); ++b) {
    const NpuConfig& config = g.configs[b * g.per_base];
    const Reporting reporting(config, workload);
    const ReportContext& context = reporting.context;
    double previous_energy = 0;
    uint64_t previous_cycles = 0;
    for (int k = 1; k <= 8; ++k) {
      BitsResult result;
      result.timing = g.npu(b, 0).simulate_timing(k);
      const RunSummary summary = summarize(context, result);
      const std::string where = g.base_list[b].name + " k=" + std::to_string(k);
      double modules = 0, layers = 0;
      for (double joules : summary.energy.joules) modules += joules;
      for (const LayerSummary& layer : summary.layers) layers += layer.energy.total();
      EXPECT_NEAR(modules, summary.energy_j, 1e-12 * summary.energy_j) << where;
      EXPECT_NEAR(layers, summary.energy_j, 1e-9 * summary.energy_j) << where;
      EXPECT_DOUBLE_EQ(summary.latency_s,
                       static_cast<double>(summary.cycles) * config.cycle_seconds())
          << where;
      if (k > 1 && g.base_list[b].bit_serial) {
        EXPECT_GT(summary.cycles, previous_cycles) << where;
        EXPECT_GT(summary.energy_j, previous_energy) << where;
      } else if (k > 1) {
        EXPECT_EQ(summary.cycles, previous_cycles) << where;
        EXPECT_DOUBLE_EQ(summary.energy_j, previous_energy) << where;
      }
      previous_cycles = summary.cycles;
      previous_energy = summary.energy_j;
    }
  }
}

// Raising any one layer's k never lowers the cycles or the energy of an inference (bit-serial:
// that layer has more passes; bit-parallel: the same), from a mixed vector, on every base.
TEST(Invariants, RaisingOneLayersKNeverLowersCyclesOrEnergy) {
  Grid& g = grid();
  const Workload workload = Workload::from_model(g.model);
  const std::vector<int> start = {2, 1, 3, 2, 4, 1, 2, 3, 1, 2, 5, 1, 2, 3, 2, 1, 4, 2, 1, 3, 2};
  for (size_t b = 0; b < g.base_list.size(); ++b) {
    const NpuConfig& config = g.configs[b * g.per_base];
    const Reporting reporting(config, workload);
    const ReportContext& context = reporting.context;
    std::vector<PlaneRange> planes(workload.layers.size(), PlaneRange{0, 0});
    std::vector<size_t> weighted;
    for (size_t i = 0; i < workload.layers.size(); ++i) {
      if (!workload.layers[i].weighted()) continue;
      planes[i].last = start.at(weighted.size());
      weighted.push_back(i);
    }
    BitsResult base_result;
    base_result.timing = g.npu(b, 0).simulate_timing(planes);
    const RunSummary base = summarize(context, base_result);
    for (size_t i : weighted) {
      std::vector<PlaneRange> raised = planes;
      ++raised[i].last;
      BitsResult result;
      result.timing = g.npu(b, 0).simulate_timing(raised);
      const RunSummary summary = summarize(context, result);
      const std::string where = g.base_list[b].name + ": " + workload.layers[i].name + " " +
                                std::to_string(planes[i].last) + " -> " +
                                std::to_string(raised[i].last);
      EXPECT_GE(summary.cycles, base.cycles) << where;
      EXPECT_GE(summary.energy_j, base.energy_j) << where;
      if (g.base_list[b].bit_serial) {
        EXPECT_GT(summary.energy_j, base.energy_j) << where;
        EXPECT_GT(summary.average_bits, base.average_bits) << where;
      }
    }
  }
}

}  // namespace
}  // namespace bsnpu::tlm::testing
