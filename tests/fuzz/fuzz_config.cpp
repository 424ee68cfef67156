// libFuzzer target: the NPU config parser (arch::NpuConfig::parse) on arbitrary bytes, and the
// resolved config (NpuConfig::to_json) of what it accepts.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/config.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const arch::NpuConfig config = arch::NpuConfig::parse(text, "fuzz.json");
    // What the simulator derives from an accepted config must be finite and in range.
    const arch::Bandwidth& dram = config.dram.bandwidth;
    if (!std::isfinite(config.cycle_seconds()) || config.cycle_seconds() <= 0 ||
        config.dram.latency_cycles < 0 || (!dram.unlimited && !(dram.bits_per_cycle > 0)) ||
        config.weight_memory.bank_bytes() == 0 || config.activation_buffer.bank_bytes() == 0) {
      fuzz::finding("accepted config with unusable derived values");
    }
    (void)dram.cycles(uint64_t{1} << 40);
    (void)config.energy_table_path();
    // The resolved config (bsnpu compare) parses back to itself.
    const nlohmann::ordered_json resolved = config.to_json();
    if (arch::NpuConfig::parse(resolved.dump(), "fuzz.json").to_json() != resolved) {
      fuzz::finding("the resolved config does not parse back to itself");
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
