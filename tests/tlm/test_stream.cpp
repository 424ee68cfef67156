// Dynamic precision through the SystemC modules on the real ResNet-18: escalating a frame from
// k_a to k_b (the first conv's accumulator continued with planes (k_a, k_b], every later layer
// recomputed) gives exactly the logits of a static k_b run, for every k -> k + 1 and for jumps;
// the runs a policy records; the memo of a sweep gives the same results as the datapath.
#include <memory>
#include <string>
#include <vector>

#include "arch/policy.h"
#include "bench.h"
#include "core/cifar.h"
#include "core/model.h"
#include "core/paths.h"
#include "tlm/npu.h"

namespace bsnpu::tlm::testing {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";
constexpr size_t kFrames = 6;
constexpr double kLogitScale = 1.0 / 1024;

struct StreamBench {
  Model model = Model::load(model_prefix(""));
  NpuConfig config = NpuConfig::load(kConfigs + "default.json");
  CifarSet images = load_cifar_test(data_dir(""), kFrames);
  Npu npu{"npu", config, model, 2};
  std::vector<Classification> statics;  // k = 1..8 through the same modules

  StreamBench() {
    elaborate();
    for (int k = 1; k <= 8; ++k) statics.push_back(npu.classify(images.pixels.data(), kFrames, k));
  }
  const int32_t* static_logits(int k, size_t frame) const {
    return statics[static_cast<size_t>(k - 1)].logits.data() + frame * 10;
  }
  std::vector<FrameResult> stream(const std::string& body,
                                  std::vector<std::vector<int32_t>>* memo = nullptr) {
    const PolicyConfig parsed = PolicyConfig::parse(
        R"({"format": "bsnpu-policy", "version": 1, "name": "t", )" + body + "}", "t.json");
    Policy policy(parsed, kLogitScale, model.num_classes());
    StreamJob job;
    job.frames = kFrames;
    job.render = [&](size_t frame, uint8_t* out) {
      std::copy(images.image(frame), images.image(frame) + kImageBytes, out);
    };
    job.policy = &policy;
    job.memo = memo;
    npu.stream(job);
    return job.results;
  }
};

StreamBench& bench() {
  static StreamBench instance;
  return instance;
}

// A confidence policy that never trusts a margin: k_min, then every step up to k_max.
std::string always_escalate(int k_min, int k_max, int step) {
  return R"("policy": "confidence", "k_min": )" + std::to_string(k_min) + R"(, "k_max": )" +
         std::to_string(k_max) + R"(, "step": )" + std::to_string(step) +
         R"(, "threshold": 1000000)";
}

void expect_static_logits(const std::vector<FrameResult>& results, int k) {
  ASSERT_EQ(results.size(), kFrames);
  for (size_t frame = 0; frame < kFrames; ++frame) {
    const std::vector<int32_t> expected(bench().static_logits(k, frame),
                                        bench().static_logits(k, frame) + 10);
    EXPECT_EQ(results[frame].logits, expected) << "frame " << frame << ", k=" << k;
    EXPECT_EQ(results[frame].prediction,
              bench().statics[static_cast<size_t>(k - 1)].predictions[frame]);
  }
}

TEST(Stream, EscalatingKToKPlusOneGivesTheLogitsOfStaticKPlusOne) {
  for (int k = 1; k <= 7; ++k) {
    const std::vector<FrameResult> results = bench().stream(always_escalate(k, k + 1, 1));
    for (const FrameResult& result : results) {
      ASSERT_EQ(result.runs.size(), 2u);
      EXPECT_EQ(result.runs[0].conv1_from, 0);
      EXPECT_EQ(result.runs[0].k, k);
      EXPECT_TRUE(result.runs[0].keep_sums);
      EXPECT_EQ(result.runs[1].conv1_from, k);  // continued, not recomputed
      EXPECT_EQ(result.runs[1].k, k + 1);
      EXPECT_FALSE(result.runs[1].keep_sums);
    }
    expect_static_logits(results, k + 1);
  }
}

TEST(Stream, EscalationJumpsAndChainsGiveTheLogitsOfTheirLastK) {
  // 1 -> 8 in one jump; 1 -> 4 -> 7 -> 8; 2 -> 5.
  expect_static_logits(bench().stream(always_escalate(1, 8, 7)), 8);
  const std::vector<FrameResult> chain = bench().stream(always_escalate(1, 8, 3));
  ASSERT_EQ(chain[0].runs.size(), 4u);
  EXPECT_EQ(chain[0].runs[3].conv1_from, 7);
  expect_static_logits(chain, 8);
  expect_static_logits(bench().stream(always_escalate(2, 5, 3)), 5);
  // Without reuse the first conv is recomputed: nothing kept, nothing continued.
  const std::vector<FrameResult> recomputed =
      bench().stream(always_escalate(1, 8, 7) + R"(, "reuse_first_conv": false)");
  ASSERT_EQ(recomputed[0].runs.size(), 2u);
  EXPECT_FALSE(recomputed[0].runs[0].keep_sums);
  EXPECT_EQ(recomputed[0].runs[1].conv1_from, 0);
  expect_static_logits(recomputed, 8);
}

TEST(Stream, AStaticPolicyIsTheStaticRun) {
  for (int k : {1, 3, 8}) {
    const std::vector<FrameResult> results =
        bench().stream(R"("policy": "static", "k": )" + std::to_string(k));
    for (const FrameResult& result : results) {
      ASSERT_EQ(result.runs.size(), 1u);
      EXPECT_FALSE(result.runs[0].keep_sums);
    }
    expect_static_logits(results, k);
  }
}

TEST(Stream, TheMemoOfASweepGivesWhatTheDatapathGives) {
  const std::string policy = R"("policy": "confidence", "k_min": 1, "k_max": 8, "step": 2,
                                "threshold": 6)";
  const std::vector<FrameResult> direct = bench().stream(policy);
  std::vector<std::vector<int32_t>> memo(kFrames * 8);
  // Fill part of the memo through another path (static 3 everywhere), then run the policy twice.
  bench().stream(R"("policy": "static", "k": 3)", &memo);
  for (int pass = 0; pass < 2; ++pass) {
    const std::vector<FrameResult> memoized = bench().stream(policy, &memo);
    for (size_t frame = 0; frame < kFrames; ++frame) {
      EXPECT_EQ(memoized[frame].logits, direct[frame].logits) << "frame " << frame;
      EXPECT_EQ(memoized[frame].prediction, direct[frame].prediction);
      ASSERT_EQ(memoized[frame].runs.size(), direct[frame].runs.size());
      for (size_t run = 0; run < direct[frame].runs.size(); ++run) {
        EXPECT_EQ(memoized[frame].runs[run].k, direct[frame].runs[run].k);
        EXPECT_EQ(memoized[frame].runs[run].conv1_from, direct[frame].runs[run].conv1_from);
      }
    }
  }
}

uint64_t dram_bits(const TimingResult& timing, Action action) {
  uint64_t bits = 0;
  for (const ModuleLayerStats& layer : timing.modules[static_cast<size_t>(Module::Dram)])
    bits += layer.count(action);
  return bits;
}

TEST(Stream, TheTimingOfARunDoesNotDependOnTheRunsSimulatedBefore) {
  // The default config streams every weight plane from DRAM: the bits read grow by the same
  // amount per plane, whichever runs were simulated before in the process.
  Npu& npu = bench().npu;
  const TimingResult one = npu.simulate_run({0, 1, false});
  const TimingResult two = npu.simulate_run({0, 2, false});
  const TimingResult three = npu.simulate_run({0, 3, false});
  EXPECT_EQ(dram_bits(three, Action::DramReadBits) - dram_bits(two, Action::DramReadBits),
            dram_bits(two, Action::DramReadBits) - dram_bits(one, Action::DramReadBits));
  const TimingResult again = npu.simulate_run({0, 2, false});
  EXPECT_EQ(again.cycles, two.cycles);
  for (size_t module = 0; module < two.modules.size(); ++module) {
    for (size_t layer = 0; layer < two.modules[module].size(); ++layer) {
      EXPECT_EQ(again.modules[module][layer].actions, two.modules[module][layer].actions)
          << "module " << module << ", layer " << layer;
    }
  }
}

TEST(Stream, KeepingTheFirstConvsAccumulatorWritesItToDram) {
  Npu& npu = bench().npu;
  const Op& conv1 = bench().model.op(1);
  const uint64_t sums_bits = static_cast<uint64_t>(conv1.out_channels) * conv1.out_hw *
                             conv1.out_hw * static_cast<uint64_t>(bench().model.accumulator_bits());
  const TimingResult plain = npu.simulate_run({0, 1, false});
  const TimingResult kept = npu.simulate_run({0, 1, true});
  EXPECT_EQ(dram_bits(kept, Action::DramWriteBits),
            dram_bits(plain, Action::DramWriteBits) + sums_bits);
  EXPECT_EQ(dram_bits(kept, Action::DramReadBits), dram_bits(plain, Action::DramReadBits));
  EXPECT_GT(kept.cycles, plain.cycles);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
