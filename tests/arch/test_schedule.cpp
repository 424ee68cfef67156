// The schedule's size: the analytic pass count against the schedule actually built on the real
// ResNet-18 workload, and the one-line rejection of configs whose schedule would be too large.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "arch/config.h"
#include "arch/schedule.h"
#include "arch/workload.h"
#include "core/error.h"
#include "core/model.h"
#include "core/paths.h"

namespace bsnpu::arch {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";

const Workload& resnet18() {
  static const Workload workload = Workload::from_model(Model::load(model_prefix("")));
  return workload;
}

NpuConfig geometry(int rows, int cols, int depth) {
  nlohmann::json document = {{"format", "bsnpu-config"}, {"version", 1}, {"name", "geometry"}};
  document["mac_array"] = {{"rows", rows}, {"cols", cols}};
  document["accumulator"] = {{"depth", depth}};
  return NpuConfig::parse(document.dump(), "geometry.json");
}

std::string error_of(const NpuConfig& config, int k, bool build) {
  try {
    if (build) {
      build_schedule(resnet18(), config, k);
    } else {
      check_schedule_size(resnet18(), config, k);
    }
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(Schedule, AnalyticPassCountMatchesTheBuiltSchedule) {
  std::vector<NpuConfig> configs;
  for (const char* name : {"default.json", "edge.json", "large.json"})
    configs.push_back(NpuConfig::load(kConfigs + name));
  // Odd tilings: partial row, column and pixel tiles everywhere.
  configs.push_back(geometry(7, 13, 50));
  configs.push_back(geometry(100, 3, 1000));
  configs.push_back(geometry(24, 40, 37));
  for (const NpuConfig& config : configs) {
    for (int k : {1, 3, 8}) {
      const uint64_t analytic = count_passes(resnet18(), config, k);
      ASSERT_LE(analytic, kMaxSchedulePasses) << config.file;
      EXPECT_EQ(build_schedule(resnet18(), config, k).passes.size(), analytic)
          << config.file << " " << config.mac_array.rows << "x" << config.mac_array.cols
          << " depth " << config.accumulator.depth << " k=" << k;
    }
  }
}

TEST(Schedule, PassCountIsLinearInK) {
  const NpuConfig config = NpuConfig::load(kConfigs + "default.json");
  for (int k = 1; k <= 8; ++k) {
    EXPECT_EQ(count_passes(resnet18(), config, k),
              static_cast<uint64_t>(k) * count_passes(resnet18(), config, 1));
  }
}

// A bit-parallel array takes each tile once, with all 8 weight bits: its passes do not depend on
// k and each moves rows x cols x 8 weight bits; a streamed layer is fetched tile by tile.
TEST(Schedule, BitParallelTakesEachTileOnceWithEightBitWeights) {
  NpuConfig serial = NpuConfig::load(kConfigs + "default.json");
  NpuConfig parallel = serial;
  parallel.mac_array.weight_bits = 8;
  for (int k : {1, 4, 8}) {
    EXPECT_EQ(count_passes(resnet18(), parallel, k), count_passes(resnet18(), serial, 1));
    const Schedule schedule = build_schedule(resnet18(), parallel, k);
    ASSERT_EQ(schedule.passes.size(), count_passes(resnet18(), parallel, k));
    uint64_t fetched = 0;
    for (const WeightFetch& fetch : schedule.fetches) fetched += fetch.bits;
    // Every weight byte at least once (pinned layers once, streamed layers once per pixel tile).
    EXPECT_GE(fetched, resnet18().total_weights() * 8) << "k=" << k;
    for (const Pass& pass : schedule.passes) {
      ASSERT_TRUE(pass.first_plane && pass.last_plane);
      ASSERT_EQ(pass.plane, k);
    }
  }
  // The bit-serial array at k = 8 fetches the same weight bits as the bit-parallel one.
  uint64_t serial_bits = 0, parallel_bits = 0;
  for (const WeightFetch& fetch : build_schedule(resnet18(), serial, 8).fetches)
    serial_bits += fetch.bits;
  for (const WeightFetch& fetch : build_schedule(resnet18(), parallel, 8).fetches)
    parallel_bits += fetch.bits;
  EXPECT_EQ(serial_bits, parallel_bits);
}

TEST(Schedule, TinyArrayIsRejectedWithOneLineNamingFileAndFields) {
  const NpuConfig config = NpuConfig::load(BSNPU_SOURCE_DIR "/tests/arch/data/tiny_array.json");
  // 1 x 1 PEs with one accumulator entry: one pass per MAC and plane.
  EXPECT_EQ(count_passes(resnet18(), config, 1), resnet18().total_macs());
  EXPECT_GT(count_passes(resnet18(), config, 1), 500'000'000u);
  for (bool build : {false, true}) {
    const std::string error = error_of(config, 8, build);
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    EXPECT_EQ(error.rfind(config.file + ": mac_array.rows, mac_array.cols, accumulator.depth: ", 0),
              0u)
        << error;
    EXPECT_NE(error.find("over the limit of 20000000"), std::string::npos) << error;
    EXPECT_NE(error.find("raise these fields"), std::string::npos) << error;
  }
}

TEST(Schedule, LimitIsOnTheCountAtThisK) {
  // 3 x 3 PEs, depth 16: ~3.9 M passes per k, within the limit at k = 1, over it at k = 8.
  const NpuConfig config = geometry(3, 3, 16);
  const uint64_t per_k = count_passes(resnet18(), config, 1);
  ASSERT_LE(per_k, kMaxSchedulePasses);
  ASSERT_GT(8 * per_k, kMaxSchedulePasses);
  EXPECT_EQ(error_of(config, 1, false), "(no error)");
  EXPECT_NE(error_of(config, 8, false).find("at k=8"), std::string::npos);
}

// Per-layer planes: the schedule runs each weighted layer over its own range, MSB first within
// it, and the analytic count follows; a range (a, b] costs b - a planes (bit-serial) or one pass
// per tile (bit-parallel); the int-k entry points are (0, k] everywhere.
TEST(Schedule, PerLayerPlaneRanges) {
  const Workload& workload = resnet18();
  std::vector<PlaneRange> planes(workload.layers.size(), PlaneRange{0, 0});
  int next = 0;
  for (size_t i = 0; i < planes.size(); ++i) {
    if (!workload.layers[i].weighted()) continue;
    planes[i] = PlaneRange{next % 3, next % 3 + 1 + next % 5};  // (0,1], (1,3], (2,5], ...
    ++next;
  }
  for (const NpuConfig& config :
       {NpuConfig::load(kConfigs + "default.json"), geometry(24, 40, 37)}) {
    const Schedule schedule = build_schedule(workload, config, planes);
    EXPECT_EQ(schedule.passes.size(), count_passes(workload, config, planes));
    std::vector<uint64_t> per_layer(workload.layers.size(), 0);
    for (const Pass& pass : schedule.passes) {
      const PlaneRange& range = planes[static_cast<size_t>(pass.layer)];
      ASSERT_GT(pass.plane, range.first) << workload.layers[static_cast<size_t>(pass.layer)].name;
      ASSERT_LE(pass.plane, range.last);
      EXPECT_EQ(pass.first_plane, pass.plane == range.first + 1);
      EXPECT_EQ(pass.last_plane, pass.plane == range.last);
      ++per_layer[static_cast<size_t>(pass.layer)];
    }
    // Each layer's passes are its planes' share of its passes at all 8 planes.
    std::vector<uint64_t> at_eight(workload.layers.size(), 0);
    for (const Pass& pass : build_schedule(workload, config, 8).passes)
      ++at_eight[static_cast<size_t>(pass.layer)];
    for (size_t i = 0; i < planes.size(); ++i) {
      EXPECT_EQ(per_layer[i] * 8, at_eight[i] * static_cast<uint64_t>(planes[i].planes()))
          << workload.layers[i].name;
    }
    EXPECT_EQ(schedule.k, 7);
  }
  // The int-k overloads are the uniform ranges.
  const NpuConfig config = NpuConfig::load(kConfigs + "edge.json");
  for (int k : {1, 5}) {
    EXPECT_EQ(count_passes(workload, config, k),
              count_passes(workload, config, uniform_planes(workload, k)));
  }
  // Bit-parallel: one pass per tile whatever the range.
  nlohmann::json parallel = {{"format", "bsnpu-config"}, {"version", 1}, {"name", "parallel"}};
  parallel["mac_array"] = {{"weight_bits", 8}};
  const NpuConfig bit_parallel = NpuConfig::parse(parallel.dump(), "parallel.json");
  EXPECT_EQ(count_passes(workload, bit_parallel, planes), count_passes(workload, bit_parallel, 1));
}

TEST(Schedule, BadPlaneRangesAreErrorsNamingTheLayer) {
  const Workload& workload = resnet18();
  const NpuConfig config = NpuConfig::load(kConfigs + "default.json");
  const auto error = [&](const std::vector<PlaneRange>& planes) -> std::string {
    try {
      build_schedule(workload, config, planes);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::vector<PlaneRange> planes = uniform_planes(workload, 4);
  EXPECT_EQ(error(planes), "(no error)");
  planes[1] = PlaneRange{3, 3};
  EXPECT_EQ(error(planes), "conv1: planes (3, 3] are not a range within (0, 8]");
  planes[1] = PlaneRange{0, 9};
  EXPECT_EQ(error(planes), "conv1: planes (0, 9] are not a range within (0, 8]");
  planes[1] = PlaneRange{-1, 2};
  EXPECT_EQ(error(planes), "conv1: planes (-1, 2] are not a range within (0, 8]");
  planes.pop_back();
  EXPECT_EQ(error(planes), "planes: " + std::to_string(workload.layers.size() - 1) +
                               " ranges for " + std::to_string(workload.layers.size()) + " layers");
  EXPECT_THROW(uniform_planes(workload, 0), Error);
  EXPECT_THROW(uniform_planes(workload, 9), Error);
}

}  // namespace
}  // namespace bsnpu::arch
