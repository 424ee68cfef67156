// Dynamic-precision policies on a stream of frames (docs/dynamic-precision.md): which k each
// frame's first run uses, whether to escalate to more planes after a run, and which prediction
// the frame outputs. Plain logic on integer logits, no SystemC: the Controller runs it frame by
// frame, the tests feed it hand-made logit sequences.
//
// The policy file (configs/policies/*.json):
//   {"format": "bsnpu-policy", "version": 1, "name": "...", "policy": KIND, ...parameters,
//    "sweep": {"field": "threshold", "values": [0.5, 1, 2]}}        (optional, for --sweep)
// KIND and its parameters (k in 1..8; thresholds in logit units, a logit being the int32 logit
// times the model's logit_scale):
//   "static"      k, and optionally logit_change: static k with the scene gate's smoothing, so
//                 that the gain of precision control stands apart from the gain of carrying
//                 answers across frames: a frame whose logits all moved by at most logit_change
//                 since the previous frame outputs the prediction held since the last frame that
//                 moved more (the scene gate below at k_low = k_high = k, without its prediction
//                 test, which at one k would make the held answer always the frame's own)
//   "confidence"  k_min, k_max, step (default 1), threshold: start at k_min, escalate by step
//                 (at most to k_max) while the margin is under threshold
//   "temporal"    k_low, k_high, threshold: frame t runs k_high when frame t-1's margin was
//                 under threshold or its prediction differed from frame t-2's (and on the first
//                 frame), else k_low
//   "scene_gated" k_low, k_high, logit_change: every frame runs k_low; when its prediction equals
//                 the previous frame's k_low prediction and no logit moved by more than
//                 logit_change, the scene is taken as unchanged and the frame outputs the
//                 prediction held from the scene's last k_high run; otherwise it escalates to
//                 k_high and holds that prediction. Optional hold_margin (default 0): an answer
//                 whose k_high margin is under it is not carried (the next frame escalates again).
// Every kind that escalates (confidence, scene_gated) takes "reuse_first_conv" (default true):
// an escalation continues the first conv's accumulator r, which a run that may escalate must
// keep (written to DRAM: it does not fit on chip); false recomputes the first conv instead
// (docs/dynamic-precision.md compares the two costs).
// The margin of a run is its top-1 logit minus its top-2 logit, in logit units.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bsnpu::arch {

enum class PolicyKind { Static, Confidence, Temporal, SceneGated };

struct PolicyConfig {
  std::string file;
  std::string name;
  PolicyKind kind = PolicyKind::Static;
  int k = 8;                     // static
  bool smoothing = false;        // static: with the scene gate (logit_change)
  int k_min = 1, k_max = 8;      // confidence
  int step = 1;                  // confidence
  int k_low = 1, k_high = 8;     // temporal, scene_gated
  double threshold = 0;          // confidence, temporal: margin in logit units
  double logit_change = 0;       // scene_gated, static with smoothing: logit units
  double hold_margin = 0;        // scene_gated: a held answer needs at least this margin
  bool reuse_first_conv = true;  // confidence, scene_gated: escalations continue conv1's r
  std::string sweep_field;       // empty: no sweep
  std::vector<double> sweep_values;
  nlohmann::json document;  // as parsed (sweep points are re-parsed from it)

  // Throws bsnpu::Error "FILE: FIELD: why" (one line) on anything but a valid policy.
  static PolicyConfig parse(const std::string& json_text, const std::string& file);
  static PolicyConfig load(const std::string& path);
  // The policy with its sweep field set to sweep_values[index], validated as the file would be
  // (errors name "sweep.values[index]").
  PolicyConfig sweep_point(size_t index) const;
  const char* kind_name() const;
  // The highest k any run of this policy can use (the model must have parameters up to it).
  int max_k() const;
  // The policy's parameters as JSON (kind and the fields it reads), for reports.
  nlohmann::ordered_json describe() const;
};

// top-1 minus top-2 logit, in raw logit units (0 with fewer than two classes).
int64_t raw_margin(const int32_t* logits, int classes);

class Policy {
 public:
  Policy(const PolicyConfig& config, double logit_scale, int classes);
  const PolicyConfig& config() const { return config_; }

  // Starts a frame: the k of its first run.
  int begin_frame();
  // Whether a run at `k` may be followed by an escalation within the frame (so conv1's
  // accumulator must be kept): known before the run, as the hardware must know it.
  bool may_escalate(int k) const;
  // After a run at `k` with these logits (`classes` of them): the k to escalate to (> k), or 0
  // when the frame is done.
  int after_run(int k, const int32_t* logits);
  // The frame's output, once after_run returned 0.
  int prediction() const { return prediction_; }
  bool carried() const { return carried_; }  // the output is a held prediction, not the last run's
  double margin() const { return margin_; }  // of the frame's last run, logit units

 private:
  PolicyConfig config_;
  double logit_scale_;
  int classes_;
  size_t frame_ = 0;  // frames begun
  // This frame.
  int prediction_ = -1;
  bool carried_ = false;
  double margin_ = 0;
  // Temporal: the previous two frames' outputs and the previous margin.
  int previous_prediction_ = -1, earlier_prediction_ = -1;
  double previous_margin_ = 0;
  // Scene-gated: the previous frame's k_low logits and the prediction held for the scene.
  std::vector<int32_t> previous_low_;
  int held_ = -1;
  double held_margin_ = 0;  // the margin of the run that gave held_
};

// Weight planes one run processes, MAC-weighted over the weighted layers (the "average bits" of
// one run): every layer at k, except the first conv continuing from `conv1_from` planes (0 for
// a fresh run), which processes only k - conv1_from. `conv1_mac_share` is the first conv's
// share of the network's MACs.
double run_planes(int k, int conv1_from, double conv1_mac_share);

}  // namespace bsnpu::arch
