// libFuzzer target: the policy-file parser (arch::PolicyConfig::parse) on arbitrary bytes. An
// accepted policy must run: every sweep point parses, and a Policy fed a few logit vectors asks
// only for k in 1..max_k, each escalation above the run before.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/policy.h"
#include "fuzz_support.h"

namespace {

void exercise(const bsnpu::arch::PolicyConfig& config) {
  bsnpu::arch::Policy policy(config, 1.0 / 1024, 3);
  const std::vector<std::vector<int32_t>> frames = {{0, 0, 0}, {2048, 0, -5}, {1, 2, 3}, {1, 2, 3}};
  for (const std::vector<int32_t>& logits : frames) {
    int runs = 0;
    for (int k = policy.begin_frame(), previous = 0; k != 0; ++runs) {
      if (k < 1 || k > config.max_k() || k <= previous || runs > 8) {
        bsnpu::fuzz::finding("policy asked for k=" + std::to_string(k));
      }
      previous = k;
      k = policy.after_run(k, logits.data());
    }
    if (policy.prediction() < 0 || policy.prediction() > 2) {
      bsnpu::fuzz::finding("policy output a prediction out of range");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const arch::PolicyConfig config = arch::PolicyConfig::parse(text, "fuzz.json");
    exercise(config);
    for (size_t i = 0; i < config.sweep_values.size(); ++i) exercise(config.sweep_point(i));
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
