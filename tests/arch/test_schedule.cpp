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

}  // namespace
}  // namespace bsnpu::arch
