// NPU configuration (configs/*.json) and the per-action energy table (configs/energy/*.json):
// parsed and validated before elaboration. Every error is one line naming the file and the field,
// e.g. "configs/x.json: mac_array.rows: must be a positive integer". See docs/configuration.md.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/files.h"  // read_text_file, for callers that read a config as text

namespace bsnpu::arch {

// A bandwidth in bits per cycle; "unlimited" transfers take zero cycles.
struct Bandwidth {
  bool unlimited = false;
  double bits_per_cycle = 0;
  // Cycles to move `bits`: ceil(bits / bits_per_cycle), 0 when unlimited or bits == 0.
  uint64_t cycles(uint64_t bits) const;
};

// How the PEs of a column reduce their products (docs/architecture.md, "Array organisations").
enum class ArrayOrganisation {
  AdderTree,  // a broadcast activation per row, an adder tree per column: a pass takes one cycle
              // per output pixel; the tree's pipeline drains once per layer
  Systolic,   // weight-stationary systolic: activations flow right, partial sums down; weights
              // shift in row by row (rows cycles); rows + cols - 2 cycles of skew and drain after
              // the last pixel, paid by every pass when the weights are not double-buffered (the
              // array must empty before they change), once per layer when they are (the next
              // tile takes effect behind the wavefront)
};

struct MacArrayConfig {
  int rows = 64;            // PEs along the reduction (Cin x kh x kw)
  int cols = 64;            // PEs along output channels
  int pipeline_cycles = 8;  // adder-tree and register stages, drained once per layer
  ArrayOrganisation organisation = ArrayOrganisation::AdderTree;
  // Weight bits each PE holds: 1 (bit-serial, one plane per pass, k passes per tile) or 8 (the
  // bit-parallel baseline: a multiplier per PE, one pass per tile whatever k).
  int weight_bits = 1;
  // Shadow weight registers: the next pass's weights load while the current pass runs. Without
  // them a pass's weights load after the previous pass has finished.
  bool double_buffered = true;

  bool bit_parallel() const { return weight_bits == 8; }
  // Passes over each (pixel, column, row) tile at k planes.
  int passes_per_tile(int k) const { return bit_parallel() ? 1 : k; }
  // Cycles to move a pass's weights into the PEs beyond the SRAM read: a systolic array shifts
  // them down through all its rows.
  uint64_t weight_load_cycles() const {
    return organisation == ArrayOrganisation::Systolic ? static_cast<uint64_t>(rows) : 0;
  }
  // Cycles a pass holds the array beyond one per pixel: the systolic skew and drain, when the
  // weights are not double-buffered.
  uint64_t pass_fill_cycles() const {
    return organisation == ArrayOrganisation::Systolic && !double_buffered ? skew_cycles() : 0;
  }
  // Cycles after a layer's last pass before its last output leaves the array: the pipeline
  // stages, and the systolic skew and drain when the passes ran back to back.
  uint64_t layer_drain_cycles() const {
    return static_cast<uint64_t>(pipeline_cycles) +
           (organisation == ArrayOrganisation::Systolic && double_buffered ? skew_cycles() : 0);
  }
  uint64_t skew_cycles() const {
    return static_cast<uint64_t>(rows) + static_cast<uint64_t>(cols) - 2;
  }
};
const char* organisation_name(ArrayOrganisation organisation);

// The partial-sum SRAM: per column, `buffers` x depth entries, each a word of r (the plane
// accumulation) and the row tiles' partial sum side by side (2 x bits). Each cycle of a pass every
// column reads and writes its entry's word; post-processing reads a finished tile back out of its
// buffer while the array fills another.
struct AccumulatorConfig {
  int bits = 32;            // signed accumulator width
  int depth = 256;          // partial-sum entries per column: output pixels per pixel tile
  int buffers = 2;          // tiles it holds: the array fills one while another drains
  int banks = 64;           // SRAM banks (default: mac_array.cols); energy per bit at one bank
  int port_bits = 64;       // per bank per cycle, read and write ports each (default: a word,
                            // 2 x bits); < 0: unlimited
  int postproc_lanes = 64;  // outputs post-processed per cycle
  int pipeline_cycles = 4;  // post-processing latency, drained once per layer
  Bandwidth port;           // derived: banks x port_bits per cycle
  uint64_t capacity_bits(int cols) const {
    return static_cast<uint64_t>(buffers) * static_cast<uint64_t>(depth) *
           static_cast<uint64_t>(cols) * 2 * static_cast<uint64_t>(bits);
  }
};

struct MemoryConfig {
  uint64_t capacity_bits = 0;
  int banks = 1;
  int port_bits = 64;  // per bank and per cycle; "unlimited" sets port.unlimited
  int latency_cycles = 1;
  Bandwidth port;  // banks x port_bits per cycle (read and write ports each)
  uint64_t bank_bytes() const { return capacity_bits / 8 / static_cast<uint64_t>(banks); }
};

// A DRAM technology's first-order timing and energy (docs/configuration.md, `dram`): the
// presets of dram_technology(), or "ideal" (peak bandwidth, no overheads).
struct DramTechnology {
  std::string name = "ideal";
  double peak_gbytes_per_s = 16;   // the interface's peak
  double latency_ns = 100;         // a request's first data after its start (tRCD + CL + PHY)
  double burst_bytes = 0;          // transfer granule: requests round up to whole bursts (0: none)
  double page_bytes = 0;           // row buffer; a sequential stream opens one row per page
  double row_cycle_ns = 0;         // precharge + activate (tRP + tRCD) per row opened
  int banks = 1;                   // banks whose row cycles overlap a streaming transfer
  double refresh_ns = 0;           // tRFC: the channel is blocked this long ...
  double refresh_interval_ns = 0;  // ... every tREFI
  double turnaround_ns = 0;        // write-to-read plus read-to-write bus turnaround per write
  double pj_per_bit = -1;          // interface + core energy per bit; < 0: the energy table's
};
// The preset of `name` (ideal, ddr4, lpddr4, hbm2); throws bsnpu::Error for other names.
DramTechnology dram_technology(const std::string& name);

struct DramConfig {
  DramTechnology technology;
  double bandwidth_gbytes_per_s = 16;  // the peak; "unlimited" sets bandwidth.unlimited
  double latency_ns = 100;
  int prefetch_queue = 16;  // weight prefetches the memory controller holds at once
  Bandwidth bandwidth;      // derived: peak bits per cycle at the clock
  int latency_cycles = 0;   // derived: ceil(latency_ns * clock)
  double clock_mhz = 500;   // the NPU clock the cycles count
  // Time the channel is busy moving `bits` in one request, in 1/kDramTicksPerCycle cycles (finer
  // than a cycle, so that back-to-back requests do not each round up): whole bursts at the peak,
  // the row cycles of the pages streamed shared by `banks`, a turnaround per write, all stretched
  // by refresh.
  static constexpr uint64_t kDramTicksPerCycle = 1024;
  uint64_t transfer_ticks(uint64_t bits, bool write) const;
};

struct NpuConfig {
  std::string file;         // as given; used in error messages only
  std::string source_text;  // the file's bytes, echoed (and hashed) in reports
  std::string name;
  std::string description;
  double clock_mhz = 500;
  double quantum_ns = 1000;  // tlm_quantumkeeper global quantum
  std::string energy_table;  // path relative to the config file's folder
  MacArrayConfig mac_array;
  AccumulatorConfig accumulator;
  MemoryConfig weight_memory;
  MemoryConfig activation_buffer;
  DramConfig dram;

  double cycle_seconds() const { return 1e-6 / clock_mhz; }
  // Parses and validates; throws bsnpu::Error naming `file` and the field.
  static NpuConfig parse(const std::string& json_text, const std::string& file);
  static NpuConfig load(const std::string& path);
  // The resolved config in the file's own schema: every field present, defaults filled in (units
  // in the field names, docs/configuration.md), keys in the documented order. parse() of its
  // dump gives back the same config.
  nlohmann::ordered_json to_json() const;
  // Path of the energy table: energy_table resolved against the config file's folder.
  std::string energy_table_path() const;
};

// One point of a measured curve: bits or bytes -> pJ, or bank bytes -> mm^2 per KiB.
struct CurvePoint {
  double x = 0;
  double y = 0;
};

// The table's "area" object: cell and memory areas the area model composes modules from
// (docs/architecture.md, "Area model").
struct AreaTable {
  double xor_um2_per_bit = 0;                // a 2-input XOR: one bit of a conditional negate
  double full_adder_um2_per_bit = 0;         // one bit of a ripple-carry adder
  double register_um2_per_bit = 0;           // a flip-flop
  double mult_8x8_um2 = 0;                   // an 8 x 8 multiplier; n x n scales as (n/8)^2
  double logic_utilisation = 1;              // cell area / placed area of standard-cell logic
  std::vector<CurvePoint> sram_mm2_per_kib;  // x = bank capacity in bytes
};

// The table's "clock_check" object: the delays of the heuristic critical path that bounds a
// plausible clock for an array (docs/architecture.md, "Clock check").
struct ClockCheckTable {
  double register_overhead_ps = 0;  // flip-flop clock-to-output plus setup
  double gate_ps = 0;               // one logic level (a full adder's carry, an XOR, a buffer)
  double wire_ps_per_mm = 0;        // a repeated on-chip wire
};

// Per-action energies in pJ with their provenance, and the scaling rules that extend them.
struct EnergyTable {
  std::string file;
  std::string source_text;
  std::string name;
  std::vector<std::string> provenance;
  std::vector<std::string> scaling_rules;
  std::vector<CurvePoint> int_add;        // x = bits
  CurvePoint int_mult;                    // x = bits; quadratic in bits
  std::vector<CurvePoint> sram_read_64b;  // x = bank capacity in bytes; pJ per 64-bit read
  double sram_write_factor = 1.0;         // write energy / read energy
  double register_pj_per_bit = 0.009;
  double xor_pj_per_bit = 0.000564;  // one bit of a conditional negate
  double dram_pj_per_bit = 20.3;
  double sram_leakage_uw_per_kib = 0;
  double pe_leakage_uw = 0;
  double accumulator_leakage_uw_per_lane = 0;
  AreaTable area;
  ClockCheckTable clock_check;

  static EnergyTable parse(const std::string& json_text, const std::string& file);
  static EnergyTable load(const std::string& path);

  // Linear in bits through the measured points; a fractional width is the mean of adders of
  // different widths (the line makes the mean width's energy the mean energy).
  double add_pj(double bits) const;
  double mult_pj(int bits) const;  // quadratic in bits from the measured point
  // pJ per bit read from an SRAM bank of `bank_bytes`: interpolated linearly in log2(capacity)
  // between measured points, extrapolated with the last slope above, clamped below.
  double sram_read_pj_per_bit(double bank_bytes) const;
  // mm^2 per KiB of SRAM in banks of `bank_bytes`: interpolated linearly in log2(capacity)
  // between the points, clamped below the first and above the last.
  double sram_mm2_per_kib(double bank_bytes) const;
};

}  // namespace bsnpu::arch
