#include "arch/config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"

namespace bsnpu::arch {
namespace {

using nlohmann::json;

// Reads the fields of one JSON object, remembering which keys were consumed so that finish()
// can reject the unknown ones. Every error names the file and the dotted field path.
class FieldReader {
 public:
  FieldReader(const json& object, std::string file, std::string path)
      : object_(object), file_(std::move(file)), path_(std::move(path)) {
    if (!object_.is_object()) fail(path_.empty() ? "(top level)" : path_, "must be an object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& why) const {
    throw Error(file_ + ": " + field + ": " + why);
  }
  std::string field(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  const json* find(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  int positive_int(const std::string& key, int fallback, int min_value = 1) {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number_integer() || value->get<int64_t>() < min_value ||
        value->get<int64_t>() > (int64_t{1} << 30)) {
      fail(field(key),
           min_value == 0 ? "must be a non-negative integer" : "must be a positive integer");
    }
    return static_cast<int>(value->get<int64_t>());
  }
  // "unlimited" or an integer; returns -1 for unlimited.
  int positive_int_or_unlimited(const std::string& key, int fallback) {
    const json* value = find(key);
    if (value && value->is_string() && value->get<std::string>() == "unlimited") return -1;
    if (value && !value->is_number_integer()) {
      fail(field(key), "must be a positive integer or \"unlimited\"");
    }
    seen_.erase(key);
    return positive_int(key, fallback);
  }
  double positive_number(const std::string& key, double fallback, bool allow_zero = false) {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number() || !std::isfinite(value->get<double>()) || value->get<double>() < 0 ||
        (!allow_zero && value->get<double>() == 0)) {
      fail(field(key), allow_zero ? "must be a non-negative number" : "must be a positive number");
    }
    return value->get<double>();
  }
  // A number in [low, high]: keeps derived cycle counts and sc_time values far from overflow.
  // `range` spells the bounds for the message, e.g. "1..100000".
  double number_in(const std::string& key, double fallback, double low, double high,
                   const std::string& range) {
    const json* value = find(key);
    if (!value) return fallback;
    if (!value->is_number() || !(value->get<double>() >= low && value->get<double>() <= high)) {
      fail(field(key), "must be a number in " + range);
    }
    return value->get<double>();
  }
  // "unlimited" or a positive number; returns -1 for unlimited.
  double positive_number_or_unlimited(const std::string& key, double fallback) {
    const json* value = find(key);
    if (value && value->is_string() && value->get<std::string>() == "unlimited") return -1;
    if (value && !value->is_number())
      fail(field(key), "must be a positive number or \"unlimited\"");
    seen_.erase(key);
    return positive_number(key, fallback);
  }
  std::string string(const std::string& key, const std::string& fallback, bool required = false) {
    const json* value = find(key);
    if (!value) {
      if (required) fail(field(key), "missing");
      return fallback;
    }
    if (!value->is_string()) fail(field(key), "must be a string");
    return value->get<std::string>();
  }
  void expect_constant(const std::string& key, const json& expected) {
    const json* value = find(key);
    if (!value) fail(field(key), "missing (expected " + expected.dump() + ")");
    if (*value != expected) fail(field(key), "must be " + expected.dump());
  }
  std::vector<std::string> strings(const std::string& key) {
    const json* value = find(key);
    if (!value) fail(field(key), "missing");
    if (!value->is_array() || value->empty())
      fail(field(key), "must be a non-empty array of strings");
    std::vector<std::string> out;
    for (const json& item : *value) {
      if (!item.is_string()) fail(field(key), "must be a non-empty array of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  FieldReader object(const std::string& key) {
    static const json empty = json::object();
    const json* value = find(key);
    return FieldReader(value ? *value : empty, file_, field(key));
  }
  FieldReader required_object(const std::string& key) {
    if (!object_.contains(key)) fail(field(key), "missing");
    return object(key);
  }
  const json& raw() const { return object_; }
  const std::string& file() const { return file_; }

  void finish() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!seen_.count(it.key())) fail(field(it.key()), "unknown key");
    }
  }

 private:
  const json& object_;
  std::string file_;
  std::string path_;
  std::set<std::string> seen_;
};

json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    std::string what = error.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw Error(file + ": invalid JSON: " + what);
  }
}

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
    reader.fail(reader.field("banks"), "must divide the capacity into whole bytes per bank");
  }
  reader.finish();
  return memory;
}

std::vector<EnergyPoint> parse_points(FieldReader& reader, const std::string& key,
                                      const std::string& x_name, size_t min_points) {
  const json* value = reader.find(key);
  if (!value) reader.fail(reader.field(key), "missing");
  if (!value->is_array() || value->size() < min_points) {
    reader.fail(reader.field(key), "must be an array of at least " + std::to_string(min_points) +
                                       " {\"" + x_name + "\", \"pj\"} points");
  }
  std::vector<EnergyPoint> points;
  for (size_t i = 0; i < value->size(); ++i) {
    FieldReader point((*value)[i], reader.file(),
                      reader.field(key) + "[" + std::to_string(i) + "]");
    EnergyPoint p;
    p.x = point.positive_number(x_name, 0);
    p.pj = point.positive_number("pj", 0);
    if (p.x == 0 || p.pj == 0) point.fail(point.field(p.x == 0 ? x_name : "pj"), "missing");
    point.finish();
    if (!points.empty() && p.x <= points.back().x) {
      reader.fail(reader.field(key), "points must be sorted by strictly increasing " + x_name);
    }
    points.push_back(p);
  }
  return points;
}

double interpolate(const std::vector<EnergyPoint>& points, double x, bool log_x, bool clamp_below) {
  auto coordinate = [&](double value) { return log_x ? std::log2(value) : value; };
  if (points.size() == 1) return points[0].pj;
  if (clamp_below && x <= points.front().x) return points.front().pj;
  size_t upper = 1;
  while (upper + 1 < points.size() && x > points[upper].x) ++upper;
  const EnergyPoint& a = points[upper - 1];
  const EnergyPoint& b = points[upper];
  const double t = (coordinate(x) - coordinate(a.x)) / (coordinate(b.x) - coordinate(a.x));
  return a.pj + t * (b.pj - a.pj);
}

}  // namespace

uint64_t Bandwidth::cycles(uint64_t bits) const {
  if (unlimited || bits == 0) return 0;
  return static_cast<uint64_t>(std::ceil(static_cast<double>(bits) / bits_per_cycle - 1e-9));
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

NpuConfig NpuConfig::parse(const std::string& json_text, const std::string& file) {
  const json document = parse_json(json_text, file);
  FieldReader top(document, file, "");
  NpuConfig config;
  config.file = file;
  config.source_text = json_text;
  top.expect_constant("format", "bsnpu-config");
  top.expect_constant("version", 1);
  config.name = top.string("name", "", true);
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
  mac.finish();

  FieldReader acc = top.object("accumulator");
  config.accumulator.bits = acc.positive_int("bits", config.accumulator.bits);
  if (config.accumulator.bits < 16 || config.accumulator.bits > 48) {
    acc.fail(acc.field("bits"), "must be an integer in 16..48");
  }
  config.accumulator.depth = acc.positive_int("depth", config.accumulator.depth);
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
  const uint64_t tile_bits =
      static_cast<uint64_t>(config.mac_array.rows) * static_cast<uint64_t>(config.mac_array.cols);
  if (config.weight_memory.capacity_bits < 2 * tile_bits) {
    top.fail("weight_memory.capacity_kib",
             "must hold two plane tiles (2 x rows x cols bits) for double buffering");
  }

  MemoryConfig activation_defaults = weight_defaults;
  activation_defaults.capacity_bits = uint64_t{256} * 8192;
  config.activation_buffer = parse_memory(top.object("activation_buffer"), activation_defaults);

  FieldReader dram = top.object("dram");
  config.dram.bandwidth_gbytes_per_s = dram.positive_number_or_unlimited(
      "bandwidth_gbytes_per_s", config.dram.bandwidth_gbytes_per_s);
  config.dram.latency_ns =
      dram.number_in("latency_ns", config.dram.latency_ns, 0, 1e6, "0..1000000");
  dram.finish();
  if (config.dram.bandwidth_gbytes_per_s >= 0 && config.dram.bandwidth_gbytes_per_s < 1e-3) {
    dram.fail(dram.field("bandwidth_gbytes_per_s"), "must be at least 0.001 or \"unlimited\"");
  }
  config.dram.bandwidth.unlimited = config.dram.bandwidth_gbytes_per_s < 0;
  config.dram.bandwidth.bits_per_cycle =
      config.dram.bandwidth.unlimited ? 0
                                      : config.dram.bandwidth_gbytes_per_s * 8e3 / config.clock_mhz;
  config.dram.latency_cycles =
      static_cast<int>(std::ceil(config.dram.latency_ns * config.clock_mhz / 1e3 - 1e-9));
  top.finish();
  return config;
}

NpuConfig NpuConfig::load(const std::string& path) { return parse(read_text_file(path), path); }

std::string NpuConfig::energy_table_path() const {
  if (!energy_table.empty() && energy_table.front() == '/') return energy_table;
  const size_t slash = file.find_last_of('/');
  return slash == std::string::npos ? energy_table : file.substr(0, slash + 1) + energy_table;
}

EnergyTable EnergyTable::parse(const std::string& json_text, const std::string& file) {
  const json document = parse_json(json_text, file);
  FieldReader top(document, file, "");
  EnergyTable table;
  table.file = file;
  table.source_text = json_text;
  top.expect_constant("format", "bsnpu-energy-table");
  top.expect_constant("version", 1);
  table.name = top.string("name", "", true);
  table.provenance = top.strings("provenance");
  table.scaling_rules = top.strings("scaling_rules");
  table.int_add = parse_points(top, "int_add", "bits", 2);
  const std::vector<EnergyPoint> mult = parse_points(top, "int_mult", "bits", 1);
  table.int_mult = mult.back();
  table.sram_read_64b = parse_points(top, "sram_read_64b", "capacity_bytes", 1);
  table.sram_write_factor = top.positive_number("sram_write_factor", 1.0);
  table.register_pj_per_bit = top.positive_number("register_pj_per_bit", 0, false);
  table.dram_pj_per_bit = top.positive_number("dram_pj_per_bit", 0, false);
  if (table.register_pj_per_bit == 0) top.fail("register_pj_per_bit", "missing");
  if (table.dram_pj_per_bit == 0) top.fail("dram_pj_per_bit", "missing");
  FieldReader leakage = top.required_object("leakage");
  table.sram_leakage_uw_per_kib = leakage.positive_number("sram_uw_per_kib", 0, true);
  table.pe_leakage_uw = leakage.positive_number("pe_uw", 0, true);
  table.accumulator_leakage_uw_per_lane =
      leakage.positive_number("accumulator_uw_per_lane", 0, true);
  leakage.string("note", "");
  leakage.finish();
  top.finish();
  return table;
}

EnergyTable EnergyTable::load(const std::string& path) { return parse(read_text_file(path), path); }

double EnergyTable::add_pj(int bits) const {
  // Linear in bits: the line through the first and last measured points.
  const EnergyPoint& a = int_add.front();
  const EnergyPoint& b = int_add.back();
  return a.pj + (bits - a.x) * (b.pj - a.pj) / (b.x - a.x);
}

double EnergyTable::mult_pj(int bits) const {
  const double ratio = bits / int_mult.x;
  return int_mult.pj * ratio * ratio;
}

double EnergyTable::sram_read_pj_per_bit(double bank_bytes) const {
  return interpolate(sram_read_64b, bank_bytes, true, true) / 64.0;
}

}  // namespace bsnpu::arch
