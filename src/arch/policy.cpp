#include "arch/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/layer_ops.h"

namespace bsnpu::arch {
namespace {

using json = nlohmann::json;

// Thresholds in logit units: ResNet-18's logits span tens of units; 1e6 is beyond any margin.
constexpr double kMaxThreshold = 1e6;

const char* const kKinds[] = {"static", "confidence", "temporal", "scene_gated"};

int k_field(FieldReader& reader, const std::string& key) { return reader.int_in(key, 1, 8); }

double threshold_field(FieldReader& reader, const std::string& key) {
  reader.require(key);
  return reader.number_in(key, 0, 0, kMaxThreshold, "0..1000000");
}

// The policy fields of `document` (the whole file, sweep point applied).
PolicyConfig read_policy(const json& document, const std::string& file) {
  FieldReader top(document, file, "");
  top.header("bsnpu-policy", 1);
  PolicyConfig config;
  config.file = file;
  config.document = document;
  config.name = top.string("name", "", true);
  const std::string kind = top.string("policy", "", true);
  const auto found = std::find(std::begin(kKinds), std::end(kKinds), kind);
  if (found == std::end(kKinds)) {
    top.fail("policy", "'" + kind + "' is not one of static, confidence, temporal, scene_gated");
  }
  config.kind = static_cast<PolicyKind>(found - std::begin(kKinds));
  switch (config.kind) {
    case PolicyKind::Static:
      config.k = k_field(top, "k");
      config.smoothing = top.find("logit_change") != nullptr;
      if (config.smoothing) config.logit_change = threshold_field(top, "logit_change");
      break;
    case PolicyKind::Confidence:
      config.k_min = k_field(top, "k_min");
      config.k_max = k_field(top, "k_max");
      if (config.k_max < config.k_min) top.fail("k_max", "must not be below k_min");
      config.step = top.find("step") ? top.int_in("step", 1, 7) : 1;
      config.threshold = threshold_field(top, "threshold");
      config.reuse_first_conv = top.get<bool>("reuse_first_conv", true);
      break;
    case PolicyKind::Temporal:
    case PolicyKind::SceneGated:
      config.k_low = k_field(top, "k_low");
      config.k_high = k_field(top, "k_high");
      if (config.k_high < config.k_low) top.fail("k_high", "must not be below k_low");
      if (config.kind == PolicyKind::Temporal) {
        config.threshold = threshold_field(top, "threshold");
      } else {
        config.logit_change = threshold_field(top, "logit_change");
        config.hold_margin = top.find("hold_margin") ? threshold_field(top, "hold_margin") : 0.0;
        config.reuse_first_conv = top.get<bool>("reuse_first_conv", true);
      }
      break;
  }
  if (top.find("sweep")) {
    FieldReader sweep = top.required_object("sweep");
    config.sweep_field = sweep.string("field", "", true);
    // Only the numeric fields this kind reads can be swept.
    if (config.sweep_field == "sweep" || config.sweep_field == "name" ||
        config.sweep_field == "policy" || config.sweep_field == "format" ||
        config.sweep_field == "version" || !document.contains(config.sweep_field)) {
      sweep.fail("field", "'" + config.sweep_field + "' is not a parameter of this policy");
    }
    const json& values = sweep.require("values");
    if (!values.is_array() || values.empty() || values.size() > 1000) {
      sweep.fail("values", "must be an array of 1..1000 numbers");
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i].is_number()) {
        sweep.fail("values[" + std::to_string(i) + "]", "must be a number");
      }
      config.sweep_values.push_back(values[i].get<double>());
    }
    sweep.finish();
  }
  top.finish();
  return config;
}

}  // namespace

PolicyConfig PolicyConfig::parse(const std::string& json_text, const std::string& file) {
  const PolicyConfig config = read_policy(parse_json(json_text, file), file);
  // Every sweep point must be a valid policy before anything runs.
  for (size_t i = 0; i < config.sweep_values.size(); ++i) config.sweep_point(i);
  return config;
}

PolicyConfig PolicyConfig::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "a policy file"), path);
}

PolicyConfig PolicyConfig::sweep_point(size_t index) const {
  json point = document;
  const double value = sweep_values.at(index);
  // An integral value stays a JSON integer so that k fields accept it.
  if (std::nearbyint(value) == value && std::fabs(value) < 1e15) {
    point[sweep_field] = static_cast<int64_t>(value);
  } else {
    point[sweep_field] = value;
  }
  point.erase("sweep");
  try {
    return read_policy(point, file);
  } catch (const Error& error) {
    // "FILE: FIELD: why" -> "FILE: sweep.values[i]: FIELD: why"
    const std::string what = error.what();
    const std::string prefix = file + ": ";
    const std::string rest = what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
    throw Error(prefix + "sweep.values[" + std::to_string(index) + "]: " + rest);
  }
}

const char* PolicyConfig::kind_name() const { return kKinds[static_cast<int>(kind)]; }

int PolicyConfig::max_k() const {
  switch (kind) {
    case PolicyKind::Static:
      return k;
    case PolicyKind::Confidence:
      return k_max;
    case PolicyKind::Temporal:
    case PolicyKind::SceneGated:
      return k_high;
  }
  return 8;
}

nlohmann::ordered_json PolicyConfig::describe() const {
  nlohmann::ordered_json out;
  out["name"] = name;
  out["policy"] = kind_name();
  switch (kind) {
    case PolicyKind::Static:
      out["k"] = k;
      if (smoothing) out["logit_change"] = logit_change;
      break;
    case PolicyKind::Confidence:
      out["k_min"] = k_min;
      out["k_max"] = k_max;
      out["step"] = step;
      out["threshold"] = threshold;
      out["reuse_first_conv"] = reuse_first_conv;
      break;
    case PolicyKind::Temporal:
      out["k_low"] = k_low;
      out["k_high"] = k_high;
      out["threshold"] = threshold;
      break;
    case PolicyKind::SceneGated:
      out["k_low"] = k_low;
      out["k_high"] = k_high;
      out["logit_change"] = logit_change;
      out["hold_margin"] = hold_margin;
      out["reuse_first_conv"] = reuse_first_conv;
      break;
  }
  return out;
}

int64_t raw_margin(const int32_t* logits, int classes) {
  if (classes < 2) return 0;
  int64_t first = std::max(logits[0], logits[1]), second = std::min(logits[0], logits[1]);
  for (int c = 2; c < classes; ++c) {
    if (logits[c] > first) {
      second = first;
      first = logits[c];
    } else if (logits[c] > second) {
      second = logits[c];
    }
  }
  return first - second;
}

Policy::Policy(const PolicyConfig& config, double logit_scale, int classes)
    : config_(config), logit_scale_(logit_scale), classes_(classes) {
  if (!(logit_scale > 0) || classes < 1) throw Error("policy: a logit scale and classes needed");
}

int Policy::begin_frame() {
  const size_t frame = frame_++;
  carried_ = false;
  prediction_ = -1;
  switch (config_.kind) {
    case PolicyKind::Static:
      return config_.k;
    case PolicyKind::Confidence:
      return config_.k_min;
    case PolicyKind::Temporal: {
      const bool changed = frame < 2 || previous_prediction_ != earlier_prediction_;
      return frame == 0 || changed || previous_margin_ < config_.threshold ? config_.k_high
                                                                           : config_.k_low;
    }
    case PolicyKind::SceneGated:
      return config_.k_low;
  }
  return 8;
}

bool Policy::may_escalate(int k) const {
  switch (config_.kind) {
    case PolicyKind::Static:
    case PolicyKind::Temporal:
      return false;
    case PolicyKind::Confidence:
      return k < config_.k_max;
    case PolicyKind::SceneGated:
      return k < config_.k_high;
  }
  return false;
}

int Policy::after_run(int k, const int32_t* logits) {
  const int prediction = argmax(logits, classes_);
  margin_ = static_cast<double>(raw_margin(logits, classes_)) * logit_scale_;
  prediction_ = prediction;
  int low = config_.k_low, high = config_.k_high;
  switch (config_.kind) {
    case PolicyKind::Static:
      if (!config_.smoothing) return 0;
      low = high = config_.k;
      break;
    case PolicyKind::Confidence:
      if (margin_ < config_.threshold && k < config_.k_max) {
        return std::min(k + config_.step, config_.k_max);
      }
      return 0;
    case PolicyKind::Temporal:
      earlier_prediction_ = previous_prediction_;
      previous_prediction_ = prediction;
      previous_margin_ = margin_;
      return 0;
    case PolicyKind::SceneGated:
      break;
  }
  // The scene gate (scene_gated, and static k with smoothing as the gate at low = high = k).
  // Static smoothing gates on the logits' movement alone: with the scene gate's prediction
  // test at one k the held answer would always be the frame's own (the identity).
  if (k == low) {
    bool unchanged = held_ >= 0 && held_margin_ >= config_.hold_margin && !previous_low_.empty() &&
                     (config_.kind == PolicyKind::Static ||
                      argmax(previous_low_.data(), classes_) == prediction);
    for (int c = 0; unchanged && c < classes_; ++c) {
      const double moved = std::fabs(static_cast<double>(static_cast<int64_t>(logits[c]) -
                                                         previous_low_[static_cast<size_t>(c)])) *
                           logit_scale_;
      unchanged = moved <= config_.logit_change;
    }
    previous_low_.assign(logits, logits + classes_);
    if (unchanged) {
      prediction_ = held_;
      carried_ = true;
      return 0;
    }
    if (high > k) return high;
  }
  held_ = prediction;  // the scene's new high-precision answer
  held_margin_ = margin_;
  return 0;
}

double run_planes(int k, int conv1_from, double conv1_mac_share) {
  return static_cast<double>(k) - conv1_mac_share * static_cast<double>(conv1_from);
}

}  // namespace bsnpu::arch
