#include "arch/config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu::arch {
namespace {

using nlohmann::json;

MemoryConfig parse_memory(FieldReader reader, const MemoryConfig& defaults) {
  MemoryConfig memory = defaults;
  memory.capacity_bits =
      uint64_t{8192} * static_cast<uint64_t>(reader.positive_int(
                           "capacity_kib", static_cast<int>(defaults.capacity_bits / 8192)));
  memory.banks = reader.positive_int("banks", defaults.banks);
  const int port_bits = reader.positive_int_or_unlimited("port_bits", defaults.port_bits);
  memory.port.unlimited = port_bits < 0;
  memory.port_bits = port_bits < 0 ? 0 : port_bits;
  memory.port.bits_per_cycle = static_cast<double>(memory.port_bits) * memory.banks;
  memory.latency_cycles = reader.positive_int("latency_cycles", defaults.latency_cycles, 0);
  if (memory.capacity_bits % (8 * static_cast<uint64_t>(memory.banks)) != 0) {
    reader.fail("banks", "must divide the capacity into whole bytes per bank");
  }
  reader.finish();
  return memory;
}

// Plausible ranges of energy-table numbers (docs/configuration.md, "Energy tables"): wide enough
// for any process node, narrow enough that no derived per-action energy or total can overflow to
// inf or NaN, or go negative.
struct Range {
  double low, high;
  const char* text;
};
constexpr Range kBitsRange{1, 64, "1..64"};
constexpr Range kCapacityRange{1, 1099511627776.0, "1..1099511627776"};  // 1 byte .. 1 TiB
constexpr Range kLogicPjRange{1e-6, 1e3, "0.000001..1000"};
constexpr Range kSramPjRange{1e-6, 1e6, "0.000001..1000000"};
constexpr Range kPerBitPjRange{1e-6, 1e4, "0.000001..10000"};
constexpr Range kFactorRange{0.01, 100, "0.01..100"};
constexpr Range kLeakageRange{0, 1e6, "0..1000000"};
constexpr Range kCellAreaRange{1e-6, 1e6, "0.000001..1000000"};  // um^2
constexpr Range kSramAreaRange{1e-9, 1e3, "0.000000001..1000"};  // mm^2 per KiB
constexpr Range kUtilisationRange{0.05, 1, "0.05..1"};
constexpr Range kDelayRange{1e-3, 1e6, "0.001..1000000"};  // ps, ps per mm

double required_number(FieldReader& reader, const std::string& key, const Range& range) {
  reader.require(key);
  return reader.number_in(key, 0, range.low, range.high, range.text);
}

std::vector<CurvePoint> parse_points(FieldReader& reader, const std::string& key,
                                     const std::string& x_name, const Range& x_range,
                                     const std::string& y_name, const Range& y_range,
                                     size_t min_points) {
  std::vector<CurvePoint> points;
  for (FieldReader& point :
       reader.objects(key, min_points,
                      "must be an array of at least " + std::to_string(min_points) + " {\"" +
                          x_name + "\", \"" + y_name + "\"} points")) {
    CurvePoint p;
    p.x = required_number(point, x_name, x_range);
    p.y = required_number(point, y_name, y_range);
    point.finish();
    if (!points.empty() && p.x <= points.back().x) {
      reader.fail(key, "points must be sorted by strictly increasing " + x_name);
    }
    points.push_back(p);
  }
  return points;
}

// The frame of a config or energy-table file: parse, check the format header, fill file,
// source_text and name, let `body` read the rest, then reject unknown top-level keys.
template <typename Parsed, typename Body>
Parsed parse_document(const std::string& json_text, const std::string& file,
                      const std::string& format, Body body) {
  const json document = parse_json(json_text, file);
  FieldReader top(document, file, "");
  top.header(format, 1);
  Parsed parsed;
  parsed.file = file;
  parsed.source_text = json_text;
  parsed.name = top.string("name", "", true);
  body(top, parsed);
  top.finish();
  return parsed;
}

// Linear in log2(x) between the points; clamped below the first point, and above the last one
// when `clamp_above` (else extended with the last slope).
double interpolate_log2(const std::vector<CurvePoint>& points, double x, bool clamp_above) {
  if (points.size() == 1 || x <= points.front().x) return points.front().y;
  if (clamp_above && x >= points.back().x) return points.back().y;
  size_t upper = 1;
  while (upper + 1 < points.size() && x > points[upper].x) ++upper;
  const CurvePoint& a = points[upper - 1];
  const CurvePoint& b = points[upper];
  const double t = (std::log2(x) - std::log2(a.x)) / (std::log2(b.x) - std::log2(a.x));
  return a.y + t * (b.y - a.y);
}

}  // namespace

// First-order timing of JEDEC-class parts at one speed grade each (docs/configuration.md cites
// them): one channel (DDR4: a 64-bit DIMM channel; LPDDR4: a x32 package, two 16-bit channels;
// HBM2: one stack, eight 128-bit channels), streaming sequential addresses.
DramTechnology dram_technology(const std::string& name) {
  DramTechnology t;
  t.name = name;
  if (name == "ideal") return t;
  if (name == "ddr4") {  // DDR4-3200AA (22-22-22), 8 Gb x8 devices, 16 banks
    t.peak_gbytes_per_s = 25.6;
    t.latency_ns = 13.75 + 13.75 + 5;  // tRCD + CL + controller/PHY
    t.burst_bytes = 64;                // BL8 x 8 bytes
    t.page_bytes = 8192;               // 1 KiB row per x8 device x 8
    t.row_cycle_ns = 13.75 + 13.75;    // tRP + tRCD
    t.banks = 16;
    t.refresh_ns = 350;                 // tRFC1, 8 Gb
    t.refresh_interval_ns = 7800;       // tREFI below 85 C
    t.turnaround_ns = 7.5 + 2 * 0.625;  // tWTR_L + read-to-write bus gap (2 tCK)
    t.pj_per_bit = 15;
    return t;
  }
  if (name == "lpddr4") {  // LPDDR4-3200, x32 package (2 channels x 16 bits), 8 Gb, 8 banks
    t.peak_gbytes_per_s = 12.8;
    t.latency_ns = 18 + 17.5 + 5;  // tRCD + RL (28 tCK) + controller/PHY
    t.burst_bytes = 32;            // BL16 x 2 bytes per channel
    t.page_bytes = 2048;           // per channel
    t.row_cycle_ns = 18 + 18;      // tRPpb + tRCD
    t.banks = 8;
    t.refresh_ns = 280;            // tRFCab, 8 Gb
    t.refresh_interval_ns = 3904;  // tREFI
    t.turnaround_ns = 10 + 2.5;    // tWTR + read-to-write gap
    t.pj_per_bit = 6;
    return t;
  }
  if (name == "hbm2") {  // HBM2 at 2 Gb/s per pin, one 8-high stack, 8 x 128-bit channels
    t.peak_gbytes_per_s = 256;
    t.latency_ns = 14 + 14 + 5;  // tRCD + CL + controller/PHY
    t.burst_bytes = 32;          // BL4 x 64-bit pseudo-channel
    t.page_bytes = 1024;         // per pseudo-channel
    t.row_cycle_ns = 14 + 14;    // tRP + tRCD
    t.banks = 16 * 8;            // 16 banks per channel, the 8 channels interleaved
    t.refresh_ns = 350;          // tRFC, 8 Gb
    t.refresh_interval_ns = 3900;
    t.turnaround_ns = 7.5 + 1;  // tWTR + read-to-write gap
    t.pj_per_bit = 3.9;
    return t;
  }
  throw Error("dram.technology: unknown technology " + name);
}

uint64_t DramConfig::transfer_ticks(uint64_t bits, bool write) const {
  if (bandwidth.unlimited || bits == 0) return 0;
  if (technology.name == "ideal") return bandwidth.cycles(bits) * kDramTicksPerCycle;
  double bytes = std::ceil(static_cast<double>(bits) / 8);
  if (technology.burst_bytes > 0) {
    bytes = std::ceil(bytes / technology.burst_bytes) * technology.burst_bytes;
  }
  double ns = bytes / bandwidth_gbytes_per_s;  // GB/s = bytes per ns
  // Weight tiles and spills are sequential streams cut into requests: consecutive requests share
  // the open row, so a request pays for the pages it streams, not for each page it touches.
  if (technology.page_bytes > 0) {
    ns += bytes / technology.page_bytes * technology.row_cycle_ns /
          static_cast<double>(technology.banks);
  }
  if (write) ns += technology.turnaround_ns;
  if (technology.refresh_interval_ns > 0) {
    ns /= 1 - technology.refresh_ns / technology.refresh_interval_ns;
  }
  return static_cast<uint64_t>(
      std::ceil(ns * clock_mhz / 1e3 * static_cast<double>(kDramTicksPerCycle) - 1e-6));
}

const char* organisation_name(ArrayOrganisation organisation) {
  return organisation == ArrayOrganisation::Systolic ? "systolic" : "adder_tree";
}

uint64_t Bandwidth::cycles(uint64_t bits) const {
  if (unlimited || bits == 0) return 0;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(bits) / bits_per_cycle - 1e-9));
}

namespace {

void read_config(FieldReader& top, NpuConfig& config) {
  config.description = top.string("description", "");
  config.clock_mhz = top.number_in("clock_mhz", config.clock_mhz, 1, 1e5, "1..100000");
  config.quantum_ns =
      top.number_in("quantum_ns", config.quantum_ns, 1e-3, 1e9, "0.001..1000000000");
  config.energy_table = top.string("energy_table", "energy/45nm_horowitz.json");

  FieldReader mac = top.object("mac_array");
  config.mac_array.rows = mac.positive_int("rows", config.mac_array.rows);
  config.mac_array.cols = mac.positive_int("cols", config.mac_array.cols);
  config.mac_array.pipeline_cycles =
      mac.positive_int("pipeline_cycles", config.mac_array.pipeline_cycles, 0);
  const std::string organisation =
      mac.string("organisation", organisation_name(config.mac_array.organisation));
  if (organisation == organisation_name(ArrayOrganisation::AdderTree)) {
    config.mac_array.organisation = ArrayOrganisation::AdderTree;
  } else if (organisation == organisation_name(ArrayOrganisation::Systolic)) {
    config.mac_array.organisation = ArrayOrganisation::Systolic;
  } else {
    mac.fail("organisation", "must be \"adder_tree\" or \"systolic\"");
  }
  config.mac_array.weight_bits = mac.positive_int("weight_bits", config.mac_array.weight_bits);
  if (config.mac_array.weight_bits != 1 && config.mac_array.weight_bits != 8) {
    mac.fail("weight_bits", "must be 1 (bit-serial) or 8 (bit-parallel)");
  }
  config.mac_array.double_buffered =
      mac.get<bool>("double_buffered", config.mac_array.double_buffered);
  mac.finish();

  FieldReader acc = top.object("accumulator");
  config.accumulator.bits = acc.positive_int("bits", config.accumulator.bits);
  if (config.accumulator.bits < 16 || config.accumulator.bits > 48) {
    acc.fail("bits", "must be an integer in 16..48");
  }
  config.accumulator.depth = acc.positive_int("depth", config.accumulator.depth);
  config.accumulator.buffers = acc.positive_int("buffers", config.accumulator.buffers);
  // By default one bank per column, a partial sum wide: every column's read-modify-write in a
  // cycle, whatever the array's width.
  config.accumulator.banks = acc.positive_int("banks", config.mac_array.cols);
  config.accumulator.port_bits =
      acc.positive_int_or_unlimited("port_bits", 2 * config.accumulator.bits);
  config.accumulator.port.unlimited = config.accumulator.port_bits < 0;
  config.accumulator.port.bits_per_cycle =
      config.accumulator.port.unlimited
          ? 0
          : static_cast<double>(config.accumulator.port_bits) * config.accumulator.banks;
  config.accumulator.postproc_lanes =
      acc.positive_int("postproc_lanes", config.accumulator.postproc_lanes);
  config.accumulator.pipeline_cycles =
      acc.positive_int("pipeline_cycles", config.accumulator.pipeline_cycles, 0);
  acc.finish();

  MemoryConfig weight_defaults;
  weight_defaults.capacity_bits = uint64_t{512} * 8192;
  weight_defaults.banks = 8;
  weight_defaults.port_bits = 64;
  weight_defaults.latency_cycles = 2;
  config.weight_memory = parse_memory(top.object("weight_memory"), weight_defaults);
  const uint64_t tile_bits = static_cast<uint64_t>(config.mac_array.rows) *
                             static_cast<uint64_t>(config.mac_array.cols) *
                             static_cast<uint64_t>(config.mac_array.weight_bits);
  if (config.weight_memory.capacity_bits < 2 * tile_bits) {
    top.fail("weight_memory.capacity_kib",
             "must hold two weight tiles (2 x rows x cols x weight_bits bits) for double "
             "buffering");
  }

  MemoryConfig activation_defaults = weight_defaults;
  activation_defaults.capacity_bits = uint64_t{256} * 8192;
  config.activation_buffer = parse_memory(top.object("activation_buffer"), activation_defaults);

  FieldReader dram = top.object("dram");
  const std::string technology = dram.string("technology", "ideal");
  try {
    config.dram.technology = dram_technology(technology);
  } catch (const Error&) {
    dram.fail("technology", "must be \"ideal\", \"ddr4\", \"lpddr4\" or \"hbm2\"");
  }
  config.dram.bandwidth_gbytes_per_s = dram.positive_number_or_unlimited(
      "bandwidth_gbytes_per_s", config.dram.technology.peak_gbytes_per_s);
  config.dram.latency_ns =
      dram.number_in("latency_ns", config.dram.technology.latency_ns, 0, 1e6, "0..1000000");
  config.dram.prefetch_queue = dram.positive_int("prefetch_queue", config.dram.prefetch_queue);
  dram.finish();
  if (config.dram.bandwidth_gbytes_per_s >= 0 && config.dram.bandwidth_gbytes_per_s < 1e-3) {
    dram.fail("bandwidth_gbytes_per_s", "must be at least 0.001 or \"unlimited\"");
  }
  config.dram.bandwidth.unlimited = config.dram.bandwidth_gbytes_per_s < 0;
  config.dram.bandwidth.bits_per_cycle =
      config.dram.bandwidth.unlimited ? 0
                                      : config.dram.bandwidth_gbytes_per_s * 8e3 / config.clock_mhz;
  config.dram.latency_cycles =
      static_cast<int>(std::ceil(config.dram.latency_ns * config.clock_mhz / 1e3 - 1e-9));
  config.dram.clock_mhz = config.clock_mhz;
}

}  // namespace

NpuConfig NpuConfig::parse(const std::string& json_text, const std::string& file) {
  return parse_document<NpuConfig>(json_text, file, "bsnpu-config", read_config);
}

NpuConfig NpuConfig::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "a config file"), path);
}

std::string NpuConfig::energy_table_path() const {
  if (!energy_table.empty() && energy_table.front() == '/') return energy_table;
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? energy_table : file.substr(0, slash + 1) + energy_table;
}

namespace {

nlohmann::ordered_json memory_json(const MemoryConfig& memory) {
  nlohmann::ordered_json out;
  out["capacity_kib"] = memory.capacity_bits / 8192;
  out["banks"] = memory.banks;
  out["port_bits"] = memory.port.unlimited ? nlohmann::ordered_json("unlimited")
                                           : nlohmann::ordered_json(memory.port_bits);
  out["latency_cycles"] = memory.latency_cycles;
  return out;
}

}  // namespace

nlohmann::ordered_json NpuConfig::to_json() const {
  using nlohmann::ordered_json;
  ordered_json out;
  out["format"] = "bsnpu-config";
  out["version"] = 1;
  out["name"] = name;
  out["description"] = description;
  out["clock_mhz"] = clock_mhz;
  out["quantum_ns"] = quantum_ns;
  out["energy_table"] = energy_table;
  out["mac_array"] = {{"rows", mac_array.rows},
                      {"cols", mac_array.cols},
                      {"pipeline_cycles", mac_array.pipeline_cycles},
                      {"organisation", organisation_name(mac_array.organisation)},
                      {"weight_bits", mac_array.weight_bits},
                      {"double_buffered", mac_array.double_buffered}};
  out["accumulator"] = {
      {"bits", accumulator.bits},
      {"depth", accumulator.depth},
      {"buffers", accumulator.buffers},
      {"banks", accumulator.banks},
      {"port_bits", accumulator.port.unlimited ? ordered_json("unlimited")
                                               : ordered_json(accumulator.port_bits)},
      {"postproc_lanes", accumulator.postproc_lanes},
      {"pipeline_cycles", accumulator.pipeline_cycles}};
  out["weight_memory"] = memory_json(weight_memory);
  out["activation_buffer"] = memory_json(activation_buffer);
  out["dram"] = {{"technology", dram.technology.name},
                 {"bandwidth_gbytes_per_s", dram.bandwidth.unlimited
                                                ? ordered_json("unlimited")
                                                : ordered_json(dram.bandwidth_gbytes_per_s)},
                 {"latency_ns", dram.latency_ns},
                 {"prefetch_queue", dram.prefetch_queue}};
  return out;
}

namespace {

AreaTable read_area(FieldReader reader) {
  AreaTable area;
  for (auto [key, value] : {std::pair{"xor_um2_per_bit", &area.xor_um2_per_bit},
                            std::pair{"full_adder_um2_per_bit", &area.full_adder_um2_per_bit},
                            std::pair{"register_um2_per_bit", &area.register_um2_per_bit},
                            std::pair{"mult_8x8_um2", &area.mult_8x8_um2}}) {
    *value = required_number(reader, key, kCellAreaRange);
  }
  area.logic_utilisation = required_number(reader, "logic_utilisation", kUtilisationRange);
  area.sram_mm2_per_kib = parse_points(reader, "sram_mm2_per_kib", "capacity_bytes", kCapacityRange,
                                       "mm2_per_kib", kSramAreaRange, 1);
  // Between two points the area of a memory, capacity x density, is linear in log2(capacity) times
  // capacity; it must not shrink as capacity grows (a bigger memory never takes less room), which
  // holds when at each upper point the density exceeds -slope / ln 2, slope per doubling.
  const std::vector<CurvePoint>& sram = area.sram_mm2_per_kib;
  for (size_t i = 1; i < sram.size(); ++i) {
    const double slope =
        (sram[i].y - sram[i - 1].y) / (std::log2(sram[i].x) - std::log2(sram[i - 1].x));
    if (sram[i].y + slope / std::log(2.0) < 0) {
      reader.fail("sram_mm2_per_kib",
                  "the area of a memory must not shrink as its capacity grows (density falls "
                  "faster than 1/capacity between points " +
                      std::to_string(i - 1) + " and " + std::to_string(i) + ")");
    }
  }
  reader.string("note", "");
  reader.finish();
  return area;
}

ClockCheckTable read_clock_check(FieldReader reader) {
  ClockCheckTable check;
  for (auto [key, value] :
       {std::pair{"register_overhead_ps", &check.register_overhead_ps},
        std::pair{"gate_ps", &check.gate_ps}, std::pair{"wire_ps_per_mm", &check.wire_ps_per_mm}}) {
    *value = required_number(reader, key, kDelayRange);
  }
  reader.string("note", "");
  reader.finish();
  return check;
}

void read_energy_table(FieldReader& top, EnergyTable& table) {
  table.provenance = top.strings("provenance");
  table.scaling_rules = top.strings("scaling_rules");
  table.int_add = parse_points(top, "int_add", "bits", kBitsRange, "pj", kLogicPjRange, 2);
  // add_pj extends the line through the first and last points to every width used (1..64).
  for (const double bits : {1.0, 64.0}) {
    const CurvePoint& a = table.int_add.front();
    const CurvePoint& b = table.int_add.back();
    if (!(a.y + (bits - a.x) * (b.y - a.y) / (b.x - a.x) > 0)) {
      top.fail("int_add",
               "the line through the first and last points must stay positive from 1 to 64 bits");
    }
  }
  const std::vector<CurvePoint> mult =
      parse_points(top, "int_mult", "bits", kBitsRange, "pj", kLogicPjRange, 1);
  table.int_mult = mult.back();
  table.sram_read_64b =
      parse_points(top, "sram_read_64b", "capacity_bytes", kCapacityRange, "pj", kSramPjRange, 1);
  // Extrapolated with the last slope above the last point: a falling curve would go negative.
  for (size_t i = 1; i < table.sram_read_64b.size(); ++i) {
    if (table.sram_read_64b[i].y < table.sram_read_64b[i - 1].y) {
      top.fail("sram_read_64b", "pj must not decrease as capacity_bytes grows");
    }
  }
  table.sram_write_factor = top.number_in("sram_write_factor", 1.0, kFactorRange.low,
                                          kFactorRange.high, kFactorRange.text);
  table.register_pj_per_bit = required_number(top, "register_pj_per_bit", kPerBitPjRange);
  table.xor_pj_per_bit = required_number(top, "xor_pj_per_bit", kPerBitPjRange);
  table.dram_pj_per_bit = required_number(top, "dram_pj_per_bit", kPerBitPjRange);
  FieldReader leakage = top.required_object("leakage");
  for (auto [key, value] :
       {std::pair{"sram_uw_per_kib", &table.sram_leakage_uw_per_kib},
        std::pair{"pe_uw", &table.pe_leakage_uw},
        std::pair{"accumulator_uw_per_lane", &table.accumulator_leakage_uw_per_lane}}) {
    *value = leakage.number_in(key, 0, kLeakageRange.low, kLeakageRange.high, kLeakageRange.text);
  }
  leakage.string("note", "");
  leakage.finish();
  table.area = read_area(top.required_object("area"));
  table.clock_check = read_clock_check(top.required_object("clock_check"));
}

}  // namespace

EnergyTable EnergyTable::parse(const std::string& json_text, const std::string& file) {
  return parse_document<EnergyTable>(json_text, file, "bsnpu-energy-table", read_energy_table);
}

EnergyTable EnergyTable::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "an energy table"), path);
}

double EnergyTable::add_pj(double bits) const {
  // Linear in bits: the line through the first and last measured points.
  const CurvePoint& a = int_add.front();
  const CurvePoint& b = int_add.back();
  return a.y + (bits - a.x) * (b.y - a.y) / (b.x - a.x);
}

double EnergyTable::mult_pj(int bits) const {
  const double ratio = bits / int_mult.x;
  return int_mult.y * ratio * ratio;
}

double EnergyTable::sram_read_pj_per_bit(double bank_bytes) const {
  return interpolate_log2(sram_read_64b, bank_bytes, false) / 64.0;
}

double EnergyTable::sram_mm2_per_kib(double bank_bytes) const {
  // Clamped above: a density falling with the last slope would reach zero.
  return interpolate_log2(area.sram_mm2_per_kib, bank_bytes, true);
}

}  // namespace bsnpu::arch
