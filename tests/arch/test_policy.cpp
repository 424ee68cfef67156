// Dynamic-precision policies on hand-made logit sequences (no SystemC): the k each frame starts
// at, the escalations, the output predictions, and the policy file's one-line errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "arch/policy.h"
#include "core/error.h"

namespace bsnpu::arch {
namespace {

constexpr double kScale = 1.0 / 1024;  // the shipped model's logit scale
constexpr int kClasses = 4;

// Logits whose top-1 is `top` with a margin of `margin` logit units over the others (all equal).
std::vector<int32_t> logits(int top, double margin, int32_t base = 0) {
  std::vector<int32_t> out(kClasses, base);
  out[static_cast<size_t>(top)] = base + static_cast<int32_t>(margin * 1024);
  return out;
}

PolicyConfig policy(const std::string& body) {
  return PolicyConfig::parse(
      R"({"format": "bsnpu-policy", "version": 1, "name": "t", )" + body + "}", "p.json");
}

// One frame: its first k, then the runs the policy asks for, the logits of run k given by
// `at(k)`. Returns the ks run.
template <typename Logits>
std::vector<int> frame(Policy& p, Logits at) {
  std::vector<int> runs;
  for (int k = p.begin_frame(); k != 0;) {
    runs.push_back(k);
    const std::vector<int32_t> l = at(k);
    k = p.after_run(k, l.data());
  }
  return runs;
}

TEST(Policy, MarginIsTopOneMinusTopTwo) {
  const std::vector<int32_t> l = {5, -3, 9, 7};
  EXPECT_EQ(raw_margin(l.data(), 4), 2);
  const std::vector<int32_t> tie = {4, 4, 1};
  EXPECT_EQ(raw_margin(tie.data(), 3), 0);
  const std::vector<int32_t> first = {9, 1, 2};
  EXPECT_EQ(raw_margin(first.data(), 3), 7);
}

TEST(Policy, StaticRunsOneKAndNeverKeepsTheAccumulator) {
  Policy p(policy(R"("policy": "static", "k": 3)"), kScale, kClasses);
  for (int t = 0; t < 3; ++t) {
    EXPECT_EQ(frame(p, [t](int) { return logits(t % kClasses, 0.1); }), std::vector<int>{3});
    EXPECT_EQ(p.prediction(), t % kClasses);
    EXPECT_FALSE(p.carried());
  }
  EXPECT_FALSE(p.may_escalate(3));
}

TEST(Policy, ConfidenceEscalatesByStepWhileTheMarginIsLow) {
  Policy p(policy(R"("policy": "confidence", "k_min": 1, "k_max": 6, "step": 2,
                     "threshold": 1.5)"),
           kScale, kClasses);
  // Margin 1.0 at k = 1 and 3, 2.0 from k = 5: runs 1, 3, 5, and the output is k = 5's.
  EXPECT_EQ(frame(p, [](int k) { return k < 5 ? logits(0, 1.0) : logits(2, 2.0); }),
            (std::vector<int>{1, 3, 5}));
  EXPECT_EQ(p.prediction(), 2);
  EXPECT_DOUBLE_EQ(p.margin(), 2.0);
  // Never confident: stops at k_max (1, 3, 5, then 6 not 7).
  EXPECT_EQ(frame(p, [](int) { return logits(1, 0.5); }), (std::vector<int>{1, 3, 5, 6}));
  // Confident at once: one run.
  EXPECT_EQ(frame(p, [](int) { return logits(3, 1.5); }), std::vector<int>{1});
  EXPECT_TRUE(p.may_escalate(5));
  EXPECT_FALSE(p.may_escalate(6));
}

TEST(Policy, TemporalUsesThePreviousFramesMarginAndChange) {
  Policy p(policy(R"("policy": "temporal", "k_low": 2, "k_high": 5, "threshold": 1.0)"), kScale,
           kClasses);
  const std::vector<std::vector<int32_t>> frames = {
      logits(0, 3.0),  // t0: first frame -> k_high
      logits(0, 3.0),  // t1: no frame t-2 -> k_high
      logits(0, 3.0),  // t2: t1 confident, same as t0 -> k_low
      logits(0, 0.5),  // t3: t2 confident and unchanged -> k_low
      logits(0, 3.0),  // t4: t3's margin 0.5 < 1 -> k_high
      logits(1, 3.0),  // t5: t4 confident, unchanged -> k_low
      logits(1, 3.0),  // t6: t5's prediction changed (0 -> 1) -> k_high
      logits(1, 3.0),  // t7: -> k_low
  };
  const std::vector<int> expected = {5, 5, 2, 2, 5, 2, 5, 2};
  for (size_t t = 0; t < frames.size(); ++t) {
    EXPECT_EQ(frame(p, [&](int) { return frames[t]; }), std::vector<int>{expected[t]})
        << "frame " << t;
    EXPECT_EQ(p.prediction(), frames[t][1] > frames[t][0] ? 1 : 0);
  }
  EXPECT_FALSE(p.may_escalate(2));
}

TEST(Policy, SceneGatedCarriesTheHighPrecisionAnswerAcrossAnUnchangedScene) {
  Policy p(policy(R"("policy": "scene_gated", "k_low": 1, "k_high": 8, "logit_change": 0.5)"),
           kScale, kClasses);
  // k_low says class 0 throughout a scene; k_high says class 2 on its first frame.
  const auto scene = [](int low_top, double low_margin, int high_top) {
    return [=](int k) { return k == 1 ? logits(low_top, low_margin) : logits(high_top, 4.0); };
  };
  EXPECT_EQ(frame(p, scene(0, 2.0, 2)), (std::vector<int>{1, 8}));  // nothing held yet
  EXPECT_EQ(p.prediction(), 2);
  EXPECT_FALSE(p.carried());
  EXPECT_EQ(frame(p, scene(0, 2.25, 3)), std::vector<int>{1});  // moved 0.25: unchanged
  EXPECT_EQ(p.prediction(), 2);
  EXPECT_TRUE(p.carried());
  EXPECT_EQ(frame(p, scene(0, 2.0, 3)), std::vector<int>{1});  // 0.25 again, back
  EXPECT_EQ(p.prediction(), 2);
  // The top logit moves by 1.0 > 0.5: a cut; escalate and hold the new answer.
  EXPECT_EQ(frame(p, scene(0, 3.0, 3)), (std::vector<int>{1, 8}));
  EXPECT_EQ(p.prediction(), 3);
  EXPECT_FALSE(p.carried());
  // k_low's prediction changes, with logits that moved little: a cut too.
  EXPECT_EQ(frame(p,
                  [](int k) {
                    std::vector<int32_t> l = logits(0, 3.0);
                    if (k == 1)
                      l[1] = l[0] + 1;  // class 1 by one LSB
                    else
                      l = logits(1, 4.0);
                    return l;
                  }),
            (std::vector<int>{1, 8}));
  EXPECT_EQ(p.prediction(), 1);
  EXPECT_TRUE(p.may_escalate(1));
  EXPECT_FALSE(p.may_escalate(8));
}

TEST(Policy, SceneGatedCarriesOnlyAnswersWithTheHoldMargin) {
  Policy p(policy(R"("policy": "scene_gated", "k_low": 1, "k_high": 8, "logit_change": 0.5,
                     "hold_margin": 3)"),
           kScale, kClasses);
  // k_high's margin is 2 < 3: not carried, every frame of the scene escalates.
  const auto unsure = [](int k) { return k == 1 ? logits(0, 2.0) : logits(2, 2.0); };
  EXPECT_EQ(frame(p, unsure), (std::vector<int>{1, 8}));
  EXPECT_EQ(frame(p, unsure), (std::vector<int>{1, 8}));
  EXPECT_FALSE(p.carried());
  // A sure k_high answer (margin 4) is carried through the unchanged scene.
  const auto sure = [](int k) { return k == 1 ? logits(0, 2.0) : logits(2, 4.0); };
  EXPECT_EQ(frame(p, sure), (std::vector<int>{1, 8}));
  EXPECT_EQ(frame(p, sure), std::vector<int>{1});
  EXPECT_TRUE(p.carried());
  EXPECT_EQ(p.prediction(), 2);
}

TEST(Policy, StaticWithSmoothingIsTheSceneGateAtOneK) {
  Policy p(policy(R"("policy": "static", "k": 2, "logit_change": 0.5)"), kScale, kClasses);
  EXPECT_EQ(frame(p, [](int) { return logits(1, 2.0); }), std::vector<int>{2});
  EXPECT_EQ(p.prediction(), 1);
  EXPECT_FALSE(p.carried());
  // Same class, moved a little: the held answer (the same class here).
  EXPECT_EQ(frame(p, [](int) { return logits(1, 2.25); }), std::vector<int>{2});
  EXPECT_TRUE(p.carried());
  // A cut: the frame's own answer, held from now on.
  EXPECT_EQ(frame(p, [](int) { return logits(3, 0.25); }), std::vector<int>{2});
  EXPECT_EQ(p.prediction(), 3);
  EXPECT_FALSE(p.carried());
  // Class 0 overtakes class 3 by moving 0.5: the logits moved little, the held answer stays.
  EXPECT_EQ(frame(p,
                  [](int) {
                    std::vector<int32_t> l = logits(3, 0.25);
                    l[0] = static_cast<int32_t>(0.5 * 1024);
                    return l;
                  }),
            std::vector<int>{2});
  EXPECT_EQ(p.prediction(), 3);
  EXPECT_TRUE(p.carried());
  EXPECT_FALSE(p.may_escalate(2));
}

TEST(Policy, RunPlanesChargeEveryLayerButWhatConv1Reuses) {
  EXPECT_DOUBLE_EQ(run_planes(3, 0, 0.01), 3.0);
  EXPECT_DOUBLE_EQ(run_planes(3, 1, 0.01), 3.0 - 0.01);
}

TEST(Policy, SweepPointsReplaceTheFieldAndAreValidated) {
  const PolicyConfig config = policy(
      R"("policy": "confidence", "k_min": 1, "k_max": 4, "threshold": 1,
         "sweep": {"field": "threshold", "values": [0.5, 2]})");
  ASSERT_EQ(config.sweep_values.size(), 2u);
  EXPECT_DOUBLE_EQ(config.sweep_point(1).threshold, 2.0);
  const PolicyConfig by_k =
      policy(R"("policy": "static", "k": 1, "sweep": {"field": "k", "values": [1, 2, 8]})");
  EXPECT_EQ(by_k.sweep_point(2).k, 8);
  EXPECT_EQ(by_k.max_k(), 1);
}

void expect_error(const std::string& body, const std::string& message) {
  try {
    policy(body);
    ADD_FAILURE() << "accepted: " << body;
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), message);
  }
}

TEST(Policy, FileErrorsAreOneLineNamingTheField) {
  expect_error(R"("policy": "always")",
               "p.json: policy: 'always' is not one of static, confidence, temporal, scene_gated");
  expect_error(R"("policy": "static")", "p.json: k: missing");
  expect_error(R"("policy": "static", "k": 9)", "p.json: k: must be an integer in 1..8");
  expect_error(R"("policy": "static", "k": 2, "colour": 1)", "p.json: colour: unknown key");
  expect_error(R"("policy": "confidence", "k_min": 3, "k_max": 2, "threshold": 1)",
               "p.json: k_max: must not be below k_min");
  expect_error(R"("policy": "temporal", "k_low": 1, "k_high": 4, "threshold": -1)",
               "p.json: threshold: must be a number in 0..1000000");
  expect_error(R"("policy": "scene_gated", "k_low": 1, "k_high": 8, "logit_change": "x")",
               "p.json: logit_change: must be a number in 0..1000000");
  expect_error(R"("policy": "static", "k": 2, "sweep": {"field": "threshold", "values": [1]})",
               "p.json: sweep.field: 'threshold' is not a parameter of this policy");
  expect_error(R"("policy": "static", "k": 2, "sweep": {"field": "k", "values": []})",
               "p.json: sweep.values: must be an array of 1..1000 numbers");
  expect_error(R"("policy": "static", "k": 2, "sweep": {"field": "k", "values": [1, 2.5]})",
               "p.json: sweep.values[1]: k: must be an integer in 1..8");
  expect_error(R"("policy": "static", "k": 2, "sweep": {"field": "k", "values": [1], "x": 0})",
               "p.json: sweep.x: unknown key");
  expect_error(R"("policy": "temporal", "k_low": 1, "k_high": 4, "threshold": 1,
                  "reuse_first_conv": false)",
               "p.json: reuse_first_conv: unknown key");
  expect_error(R"("policy": "confidence", "k_min": 1, "k_max": 4, "threshold": 1,
                  "reuse_first_conv": 1)",
               "p.json: reuse_first_conv: has the wrong type (number)");
}

}  // namespace
}  // namespace bsnpu::arch
