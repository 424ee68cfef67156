// The whole NPU (Controller driving every module) on the real ResNet-18: the invariants of the
// timing and energy model, determinism, and the functional datapath through the modules against
// the golden vectors, the op-by-op core reference and the fast engine.
#include <cmath>
#include <memory>

#include "arch/energy.h"
#include "arch/report.h"
#include "arch/schedule.h"
#include "bench.h"
#include "core/cifar.h"
#include "core/engine.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/paths.h"
#include "core/precision.h"
#include "golden.h"
#include "tlm/npu.h"

namespace bsnpu::tlm::testing {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";

// Default geometry with unlimited bandwidth everywhere and no pipeline latencies.
const char* kUnlimited = R"({"format": "bsnpu-config", "version": 1, "name": "unlimited",
  "energy_table": "energy/45nm_horowitz.json",
  "mac_array": {"rows": 64, "cols": 64, "pipeline_cycles": 0},
  "accumulator": {"bits": 32, "depth": 256, "postproc_lanes": 64, "pipeline_cycles": 0},
  "weight_memory": {"capacity_kib": 512, "banks": 8, "port_bits": "unlimited", "latency_cycles": 0},
  "activation_buffer": {"capacity_kib": 4096, "banks": 8, "port_bits": "unlimited", "latency_cycles": 0},
  "dram": {"bandwidth_gbytes_per_s": "unlimited", "latency_ns": 0}})";

struct NpuBench {
  Model model = Model::load(model_prefix(""));
  Workload workload = Workload::from_model(model);
  NpuConfig default_config = NpuConfig::load(kConfigs + "default.json");
  NpuConfig unlimited_config = NpuConfig::parse(kUnlimited, kConfigs + "unlimited.json");
  EnergyTable table = EnergyTable::load(default_config.energy_table_path());
  EnergyModel energy{table, default_config, workload.act_bits};
  Npu default_npu{"default_npu", default_config, model, 2};
  Npu unlimited_npu{"unlimited_npu", unlimited_config, model, 1};
  std::vector<BitsResult> sweep;  // default config, k = 1..8

  NpuBench() {
    elaborate();
    for (int k = 1; k <= 8; ++k) sweep.push_back(BitsResult{default_npu.simulate_timing(k), 0, 0});
  }
  ReportContext context() const {
    ReportContext context;
    context.config = &default_config;
    context.energy = &energy;
    context.workload = &workload;
    context.model_manifest = "resnet18_cifar10.json";
    return context;
  }
};

NpuBench& bench() {
  static NpuBench instance;
  return instance;
}

TEST(Npu, CyclesAndEnergyRiseStrictlyWithK) {
  NpuBench& b = bench();
  for (int k = 2; k <= 8; ++k) {
    const nlohmann::ordered_json lower =
        bits_report(b.context(), b.sweep[static_cast<size_t>(k - 2)]);
    const nlohmann::ordered_json higher =
        bits_report(b.context(), b.sweep[static_cast<size_t>(k - 1)]);
    EXPECT_LT(lower["cycles"].get<uint64_t>(), higher["cycles"].get<uint64_t>()) << "k=" << k;
    EXPECT_LT(lower["energy_j"].get<double>(), higher["energy_j"].get<double>()) << "k=" << k;
  }
}

TEST(Npu, CyclesScaleAsKOverEightOnTheDefaultConfig) {
  NpuBench& b = bench();
  const double full = static_cast<double>(b.sweep[7].timing.cycles);
  for (int k = 1; k <= 8; ++k) {
    const double ratio =
        static_cast<double>(b.sweep[static_cast<size_t>(k - 1)].timing.cycles) / full;
    EXPECT_NEAR(ratio / (k / 8.0), 1.0, 0.10) << "k=" << k;
  }
}

TEST(Npu, WeightBitsReadAreKEighthsOfThoseAtEight) {
  NpuBench& b = bench();
  const nlohmann::ordered_json full = bits_report(b.context(), b.sweep[7]);
  for (int k = 1; k <= 8; ++k) {
    const nlohmann::ordered_json row =
        bits_report(b.context(), b.sweep[static_cast<size_t>(k - 1)]);
    EXPECT_EQ(row["weight_bits_read"].get<uint64_t>() * 8,
              full["weight_bits_read"].get<uint64_t>() * k)
        << "k=" << k;
  }
}

TEST(Npu, PerLayerRowsAndBreakdownSumToTotals) {
  NpuBench& b = bench();
  for (const BitsResult& result : b.sweep) {
    const nlohmann::ordered_json row = bits_report(b.context(), result);
    uint64_t cycles = 0, stalls = 0, weight_bits = 0;
    double energy = 0;
    for (const auto& layer : row["layers"]) {
      cycles += layer["cycles"].get<uint64_t>();
      stalls += layer["stall_cycles"].get<uint64_t>();
      weight_bits += layer["weight_bits_read"].get<uint64_t>();
      energy += layer["energy_j"].get<double>();
      double modules = 0;
      for (const auto& item : layer["energy_breakdown_j"].items())
        modules += item.value().get<double>();
      EXPECT_NEAR(modules, layer["energy_j"].get<double>(), 1e-12 * std::max(1.0, modules));
    }
    EXPECT_EQ(cycles, row["cycles"].get<uint64_t>());
    EXPECT_EQ(stalls, row["stall_cycles"].get<uint64_t>());
    EXPECT_EQ(weight_bits, row["weight_bits_read"].get<uint64_t>());
    const double total = row["energy_j"].get<double>();
    EXPECT_NEAR(energy, total, 1e-9 * total);
    double modules = 0;
    for (const auto& item : row["energy_breakdown_j"].items())
      modules += item.value().get<double>();
    EXPECT_NEAR(modules, total, 1e-12 * total);
  }
}

TEST(Npu, PeWorkMatchesTheCoreKernelCounts) {
  // The plane-serial kernel counts one +-x per weight bit per output; so must the MAC array.
  NpuBench& b = bench();
  uint64_t pe_addsub = 0;
  for (const ModuleLayerStats& layer :
       b.sweep[2].timing.modules[static_cast<int>(Module::MacArray)]) {
    pe_addsub += layer.actions[static_cast<int>(Action::PeAddSub)];
  }
  EXPECT_EQ(pe_addsub, b.workload.total_macs() * 3);
}

TEST(Npu, UnlimitedBandwidthReproducesTheAnalyticIdeal) {
  NpuBench& b = bench();
  for (int k : {1, 4, 8}) {
    const TimingResult timing = b.unlimited_npu.simulate_timing(k);
    EXPECT_EQ(timing.cycles, b.workload.ideal_cycles(k, 64, 64)) << "k=" << k;
  }
}

// The DRAM reads of each k (simulated one after another in this process) are the image and the
// schedule's weight fetches, nothing else (the default config does not spill): no state of an
// earlier simulation leaks into a later one's counts.
TEST(Npu, DramReadsAreTheImageAndTheWeightFetchesOfThisK) {
  NpuBench& b = bench();
  for (int k = 1; k <= 8; ++k) {
    const Schedule schedule = build_schedule(b.workload, b.default_config, k);
    uint64_t want = schedule.input_bits;
    for (const WeightFetch& fetch : schedule.fetches) want += fetch.bits;
    uint64_t got = 0;
    for (const auto& layer :
         b.sweep[static_cast<size_t>(k - 1)].timing.modules[static_cast<int>(Module::Dram)])
      got += layer.count(Action::DramReadBits);
    EXPECT_EQ(got, want) << "k=" << k;
  }
}

TEST(Npu, RepeatedSimulationsGiveIdenticalReports) {
  NpuBench& b = bench();
  const BitsResult again{b.default_npu.simulate_timing(3), 0, 0};
  EXPECT_EQ(build_report(b.context(), {again}).dump(),
            build_report(b.context(), {b.sweep[2]}).dump());
  EXPECT_EQ(build_trace(b.context(), {again}).dump(),
            build_trace(b.context(), {b.sweep[2]}).dump());
}

TEST(Npu, PredictionsEqualTheCoreReferenceOpByOpAndTheFastEngine) {
  NpuBench& b = bench();
  const CifarSet images = load_cifar_test(data_dir(""), 20);  // a full batch and a partial one
  for (int k : {1, 8}) {
    const Classification through_modules =
        b.default_npu.classify(images.pixels.data(), images.size(), k);
    const Classification engine =
        classify(Network(b.model, k), images.pixels.data(), images.size(), 2);
    EXPECT_EQ(through_modules.logits, engine.logits) << "k=" << k;
    ASSERT_EQ(through_modules.predictions.size(), images.size());
    for (size_t i = 0; i < images.size(); i += 7) {
      // The op-by-op walk of the core kernels, independent of the batch paths.
      const std::vector<Tensor> maps =
          run_graph(b.model, images.image(i), k, MacKernel::PlaneSerial);
      const Tensor& logits = maps.back();
      EXPECT_EQ(through_modules.predictions[i],
                std::max_element(logits.begin(), logits.end()) - logits.begin())
          << "image " << i << " k=" << k;
    }
  }
}

// A mixed vector through the modules (each layer's planes to its own k, each output stage with its
// re-targeted parameters) gives exactly the engine's logits; a uniform Precision is the int k.
TEST(Npu, PerLayerPrecisionThroughTheModulesEqualsTheEngine) {
  NpuBench& b = bench();
  const CifarSet images = load_cifar_test(data_dir(""), 20);
  for (const char* text : {"[8,1,2,3,4,5,6,7,8,7,6,5,4,3,2,1,2,3,4,5,6]",
                           "{\"default\": 2, \"layers\": {\"conv1\": 8, \"fc\": 8}}"}) {
    const Precision precision = Precision::parse(nlohmann::json::parse(text), b.model, "p.json");
    ASSERT_FALSE(precision.is_uniform());
    const Classification through_modules =
        b.default_npu.classify(images.pixels.data(), images.size(), precision);
    const Classification engine =
        classify(Network(b.model, precision), images.pixels.data(), images.size(), 2);
    EXPECT_EQ(through_modules.logits, engine.logits) << text;
  }
  const Classification uniform =
      b.default_npu.classify(images.pixels.data(), images.size(), Precision::uniform(b.model, 3));
  EXPECT_EQ(uniform.logits, b.default_npu.classify(images.pixels.data(), images.size(), 3).logits);
}

// Timing of per-layer planes: (0, k] everywhere is the int-k run, byte for byte in the report;
// a mixed vector lies between its smallest and largest uniform k, and its report carries it.
TEST(Npu, PerLayerPlanesInTheTimingModel) {
  NpuBench& b = bench();
  const Precision three = Precision::uniform(b.model, 3);
  const BitsResult same{b.default_npu.simulate_timing(three.plane_ranges()), 0, 0};
  EXPECT_EQ(build_report(b.context(), {same}).dump(),
            build_report(b.context(), {b.sweep[2]}).dump());
  const Precision mixed =
      Precision::parse(nlohmann::json::parse(R"({"default": 2, "layers": {"conv1": 8, "fc": 8}})"),
                       b.model, "p.json");
  const BitsResult result{b.default_npu.simulate_timing(mixed.plane_ranges()), 0, 0};
  const RunSummary summary = summarize(b.context(), result);
  EXPECT_GT(summary.cycles, b.sweep[1].timing.cycles);
  EXPECT_LT(summary.cycles, b.sweep[7].timing.cycles);
  EXPECT_EQ(summary.bits, 8);
  EXPECT_EQ(summary.precision.dump(), mixed.to_json().dump());
  EXPECT_DOUBLE_EQ(summary.average_bits, mixed.mean_planes(b.model));
  // Planes (2, 8] of conv1 after (0, 2]: a continuation costs conv1's six more planes only.
  std::vector<PlaneRange> continuation = mixed.plane_ranges();
  continuation[1] = PlaneRange{2, 8};
  const TimingResult resumed = b.default_npu.simulate_timing(continuation);
  EXPECT_EQ(resumed.layers[1].passes, result.timing.layers[1].passes * 6 / 8);
  EXPECT_EQ(summarize(b.context(), BitsResult{resumed, 0, 0}).precision,
            nlohmann::ordered_json::parse(
                "[[2,8],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],"
                "[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,2],[0,8]]"));
}

// Every feature map the modules leave in the ActivationBuffer equals the NumPy reference's.
TEST(Npu, FeatureMapsInTheActivationBufferEqualTheGoldenVectors) {
  NpuBench& b = bench();
  const test::Golden& golden = test::Golden::get();
  const int images = golden.manifest()["layers"]["images"].get<int>();
  const std::vector<Op>& ops = b.model.ops();
  for (int k : golden.manifest()["layers"]["bits"].get<std::vector<int>>()) {
    b.default_npu.classify(golden.images().pixels.data(), static_cast<size_t>(images), k);
    const OpMaps& maps = b.default_npu.activation_buffer.maps();
    for (size_t i = 1; i < ops.size(); ++i) {
      const Op& op = ops[i];
      const std::vector<int32_t> want =
          golden.values("layers.k" + std::to_string(k) + "." + op.output);
      const int hw = op.out_hw, spatial = hw * hw, channels = op.out_channels;
      ASSERT_EQ(want.size(), static_cast<size_t>(images * channels * spatial)) << op.output;
      for (int image = 0; image < images; ++image) {
        for (int c = 0; c < channels; ++c) {
          for (int p = 0; p < spatial; ++p) {
            const int32_t got = writes_bytes(op) ? maps.bytes[i].at(image, p / hw, p % hw)[c]
                                                 : maps.words[i].at(image, p / hw, p % hw)[c];
            ASSERT_EQ(got, want[static_cast<size_t>((image * channels + c) * spatial + p)])
                << op.output << " image " << image << " channel " << c << " pixel " << p
                << " k=" << k;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace bsnpu::tlm::testing
