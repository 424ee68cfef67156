// libFuzzer target: the energy-table parser (arch::EnergyTable::parse) on arbitrary bytes. An
// accepted table must give finite, positive energies and SRAM densities for every width and
// capacity a config can ask for (1..64 bits, banks of 1 byte .. 1 TiB).
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
    const arch::EnergyTable table = arch::EnergyTable::parse(text, "fuzz.json");
    const auto plausible = [](double pj) { return std::isfinite(pj) && pj > 0 && pj < 1e12; };
    for (int bits = 1; bits <= 64; ++bits) {
      if (!plausible(table.add_pj(bits)) || !plausible(table.mult_pj(bits))) {
        fuzz::finding("accepted energy table gives an add/mult energy out of range at " +
                      std::to_string(bits) + " bits");
      }
    }
    for (double bytes = 1; bytes <= 1099511627776.0; bytes *= 2) {
      if (!plausible(table.sram_read_pj_per_bit(bytes)) ||
          !plausible(table.sram_read_pj_per_bit(bytes) * table.sram_write_factor)) {
        fuzz::finding("accepted energy table gives an SRAM energy out of range at " +
                      std::to_string(bytes) + " bytes");
      }
      if (!plausible(table.sram_mm2_per_kib(bytes))) {
        fuzz::finding("accepted energy table gives an SRAM density out of range at " +
                      std::to_string(bytes) + " bytes");
      }
    }
    if (!plausible(table.register_pj_per_bit) || !plausible(table.dram_pj_per_bit) ||
        !plausible(table.xor_pj_per_bit) ||
        !(table.pe_leakage_uw >= 0 && table.pe_leakage_uw < 1e12) ||
        !(table.sram_leakage_uw_per_kib >= 0 && table.sram_leakage_uw_per_kib < 1e12) ||
        !(table.accumulator_leakage_uw_per_lane >= 0 &&
          table.accumulator_leakage_uw_per_lane < 1e12)) {
      fuzz::finding("accepted energy table with an energy or leakage out of range");
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
