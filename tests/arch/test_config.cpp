// Config and energy-table parsing: the shipped files load, every error is one line naming the
// file and the field, unknown keys are rejected; the energy scaling rules.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "arch/config.h"
#include "core/error.h"
#include "test_support.h"

namespace bsnpu::arch {
namespace {

const std::string kConfigs = BSNPU_SOURCE_DIR "/configs/";

using test::error_of;

nlohmann::json default_json() {
  return nlohmann::json::parse(read_text_file(kConfigs + "default.json"));
}

std::string config_error(const nlohmann::json& document) {
  return error_of([&] { NpuConfig::parse(document.dump(), "configs/x.json"); });
}

TEST(Config, ShippedConfigsLoad) {
  for (const char* name : {"default.json", "edge.json", "large.json"}) {
    const NpuConfig config = NpuConfig::load(kConfigs + name);
    EXPECT_FALSE(config.name.empty());
    EXPECT_NO_THROW(EnergyTable::load(config.energy_table_path())) << name;
  }
}

TEST(Config, DefaultValues) {
  const NpuConfig config = NpuConfig::load(kConfigs + "default.json");
  EXPECT_EQ(config.mac_array.rows, 64);
  EXPECT_EQ(config.weight_memory.capacity_bits, 512u * 8192);
  EXPECT_DOUBLE_EQ(config.dram.bandwidth.bits_per_cycle, 256.0);  // 16 GB/s at 500 MHz
  EXPECT_EQ(config.dram.latency_cycles, 50);
  EXPECT_DOUBLE_EQ(config.weight_memory.port.bits_per_cycle, 512.0);
}

TEST(Config, MissingFieldsTakeTheirDefaults) {
  const NpuConfig config =
      NpuConfig::parse(R"({"format": "bsnpu-config", "version": 1, "name": "m"})", "m.json");
  EXPECT_EQ(config.mac_array.cols, 64);
  EXPECT_EQ(config.accumulator.depth, 256);
  EXPECT_EQ(config.activation_buffer.capacity_bits, 256u * 8192);
  EXPECT_EQ(config.energy_table_path(), "energy/45nm_horowitz.json");
}

TEST(Config, Unlimited) {
  nlohmann::json document = default_json();
  document["dram"]["bandwidth_gbytes_per_s"] = "unlimited";
  document["weight_memory"]["port_bits"] = "unlimited";
  const NpuConfig config = NpuConfig::parse(document.dump(), "u.json");
  EXPECT_TRUE(config.dram.bandwidth.unlimited);
  EXPECT_TRUE(config.weight_memory.port.unlimited);
  EXPECT_EQ(config.dram.bandwidth.cycles(1 << 30), 0u);
}

TEST(Config, OneLineErrorsNameFileAndField) {
  nlohmann::json document = default_json();
  document["mac_array"]["rows"] = 0;
  EXPECT_EQ(config_error(document), "configs/x.json: mac_array.rows: must be a positive integer");
  document = default_json();
  document["mac_array"]["rows"] = 2.5;
  EXPECT_EQ(config_error(document), "configs/x.json: mac_array.rows: must be a positive integer");
  document = default_json();
  document["clock_mhz"] = -1;
  EXPECT_EQ(config_error(document), "configs/x.json: clock_mhz: must be a number in 1..100000");
  document = default_json();
  document["clock_mhz"] = 1e12;  // DRAM latency in cycles would overflow
  EXPECT_EQ(config_error(document), "configs/x.json: clock_mhz: must be a number in 1..100000");
  document = default_json();
  document["dram"]["latency_ns"] = 1e300;
  EXPECT_EQ(config_error(document),
            "configs/x.json: dram.latency_ns: must be a number in 0..1000000");
  document = default_json();
  document["dram"]["bandwidth_gbytes_per_s"] = 1e-300;  // transfer cycles would be infinite
  EXPECT_EQ(config_error(document),
            "configs/x.json: dram.bandwidth_gbytes_per_s: must be at least 0.001 or \"unlimited\"");
  document = default_json();
  document["dram"]["bandwidth_gbytes_per_s"] = "fast";
  EXPECT_EQ(
      config_error(document),
      "configs/x.json: dram.bandwidth_gbytes_per_s: must be a positive number or \"unlimited\"");
  document = default_json();
  document["accumulator"]["bits"] = 8;
  EXPECT_EQ(config_error(document),
            "configs/x.json: accumulator.bits: must be an integer in 16..48");
  document = default_json();
  document["weight_memory"]["capacity_kib"] = 1;  // 8192 bits < two 128 x 128 plane tiles
  document["mac_array"]["cols"] = 128;
  EXPECT_NE(config_error(document).find(
                "configs/x.json: weight_memory.capacity_kib: must hold two weight tiles"),
            std::string::npos);
  document = default_json();
  document["mac_array"]["organisation"] = "mesh";
  EXPECT_EQ(config_error(document),
            "configs/x.json: mac_array.organisation: must be \"adder_tree\" or \"systolic\"");
  document = default_json();
  document["mac_array"]["weight_bits"] = 4;
  EXPECT_EQ(config_error(document),
            "configs/x.json: mac_array.weight_bits: must be 1 (bit-serial) or 8 (bit-parallel)");
  document = default_json();
  document["mac_array"]["double_buffered"] = "yes";
  EXPECT_EQ(config_error(document),
            "configs/x.json: mac_array.double_buffered: has the wrong type (string)");
  document = default_json();
  document["name"] = 3;
  EXPECT_EQ(config_error(document), "configs/x.json: name: must be a string");
  document = default_json();
  document["mac_array"] = 3;
  EXPECT_EQ(config_error(document), "configs/x.json: mac_array: must be an object");
}

TEST(Config, DramTechnology) {
  nlohmann::json document = default_json();
  document["dram"] = nlohmann::json::object();  // no technology: ideal
  NpuConfig config = NpuConfig::parse(document.dump(), "d.json");
  EXPECT_EQ(config.dram.technology.name, "ideal");
  EXPECT_LT(config.dram.technology.pj_per_bit, 0);  // the energy table's figure
  document["dram"] = {{"technology", "hbm2"}};
  config = NpuConfig::parse(document.dump(), "d.json");
  EXPECT_EQ(config.dram.technology.name, "hbm2");
  EXPECT_DOUBLE_EQ(config.dram.bandwidth_gbytes_per_s, 256);  // the preset's peak ...
  document["dram"]["bandwidth_gbytes_per_s"] = 128;           // ... unless given
  document["dram"]["prefetch_queue"] = 4;
  config = NpuConfig::parse(document.dump(), "d.json");
  EXPECT_DOUBLE_EQ(config.dram.bandwidth_gbytes_per_s, 128);
  EXPECT_EQ(config.dram.prefetch_queue, 4);
  document["dram"]["technology"] = "ddr3";
  EXPECT_EQ(config_error(document),
            "configs/x.json: dram.technology: must be \"ideal\", \"ddr4\", \"lpddr4\" or \"hbm2\"");
  document["dram"]["technology"] = "ddr4";
  document["dram"]["prefetch_queue"] = 0;
  EXPECT_EQ(config_error(document),
            "configs/x.json: dram.prefetch_queue: must be a positive integer");
}

TEST(Config, AccumulatorSram) {
  nlohmann::json document = default_json();
  document["mac_array"]["cols"] = 32;
  document["accumulator"] = {{"bits", 24}, {"depth", 128}};
  NpuConfig config = NpuConfig::parse(document.dump(), "a.json");
  EXPECT_EQ(config.accumulator.buffers, 2);
  EXPECT_EQ(config.accumulator.banks, 32);      // one per column ...
  EXPECT_EQ(config.accumulator.port_bits, 48);  // ... a word of r and partial sum wide
  EXPECT_DOUBLE_EQ(config.accumulator.port.bits_per_cycle, 32.0 * 48);
  EXPECT_EQ(config.accumulator.capacity_bits(32), 2u * 128 * 32 * 2 * 24);
  document["accumulator"]["port_bits"] = "unlimited";
  EXPECT_TRUE(NpuConfig::parse(document.dump(), "a.json").accumulator.port.unlimited);
  document["accumulator"]["buffers"] = 0;
  EXPECT_EQ(config_error(document),
            "configs/x.json: accumulator.buffers: must be a positive integer");
}

TEST(Config, ArrayOrganisation) {
  nlohmann::json document = default_json();
  NpuConfig config = NpuConfig::parse(document.dump(), "o.json");
  EXPECT_EQ(config.mac_array.organisation, ArrayOrganisation::AdderTree);
  EXPECT_EQ(config.mac_array.weight_bits, 1);
  EXPECT_TRUE(config.mac_array.double_buffered);
  EXPECT_EQ(config.mac_array.passes_per_tile(5), 5);
  EXPECT_EQ(config.mac_array.weight_load_cycles(), 0u);
  EXPECT_EQ(config.mac_array.pass_fill_cycles(), 0u);
  EXPECT_EQ(config.mac_array.layer_drain_cycles(), 8u);  // the default pipeline_cycles
  document["mac_array"]["organisation"] = "systolic";
  document["mac_array"]["weight_bits"] = 8;
  document["mac_array"]["double_buffered"] = false;
  document["mac_array"]["rows"] = 32;
  document["mac_array"]["cols"] = 16;
  config = NpuConfig::parse(document.dump(), "o.json");
  EXPECT_EQ(config.mac_array.organisation, ArrayOrganisation::Systolic);
  EXPECT_TRUE(config.mac_array.bit_parallel());
  EXPECT_FALSE(config.mac_array.double_buffered);
  EXPECT_EQ(config.mac_array.passes_per_tile(5), 1);
  EXPECT_EQ(config.mac_array.weight_load_cycles(), 32u);
  EXPECT_EQ(config.mac_array.pass_fill_cycles(), 32u + 16 - 2);  // every pass: not buffered
  EXPECT_EQ(config.mac_array.layer_drain_cycles(), 8u);
  document["mac_array"]["double_buffered"] = true;
  config = NpuConfig::parse(document.dump(), "o.json");
  EXPECT_EQ(config.mac_array.pass_fill_cycles(), 0u);
  EXPECT_EQ(config.mac_array.layer_drain_cycles(), 8u + 32 + 16 - 2);  // once per layer
}

TEST(Config, UnknownKeysAreRejected) {
  nlohmann::json document = default_json();
  document["frequency"] = 1;
  EXPECT_EQ(config_error(document), "configs/x.json: frequency: unknown key");
  document = default_json();
  document["dram"]["channels"] = 2;
  EXPECT_EQ(config_error(document), "configs/x.json: dram.channels: unknown key");
}

TEST(Config, FormatAndVersionAreChecked) {
  nlohmann::json document = default_json();
  document["version"] = 2;
  EXPECT_EQ(config_error(document), "configs/x.json: version: must be the integer 1");
  document.erase("format");
  EXPECT_EQ(config_error(document), "configs/x.json: format: missing (expected \"bsnpu-config\")");
}

TEST(Config, MalformedJsonAndMissingFiles) {
  EXPECT_EQ(error_of([] {
              NpuConfig::parse("{\"format\": ", "configs/x.json");
            }).rfind("configs/x.json: invalid JSON at format: ", 0),
            0u);
  EXPECT_EQ(error_of([] { NpuConfig::load("/nonexistent/c.json"); }),
            "/nonexistent/c.json: no such file");
  EXPECT_EQ(error_of([] { NpuConfig::parse("[1]", "configs/x.json"); }),
            "configs/x.json: (top level): must be an object");
}

TEST(EnergyTable, ScalingRules) {
  const EnergyTable table = EnergyTable::load(kConfigs + "energy/45nm_horowitz.json");
  EXPECT_NEAR(table.add_pj(8), 0.03, 1e-12);
  EXPECT_NEAR(table.add_pj(32), 0.1, 1e-12);
  EXPECT_NEAR(table.add_pj(20), 0.065, 1e-12);  // linear in bits
  EXPECT_NEAR(table.mult_pj(32), 3.1, 1e-12);
  EXPECT_NEAR(table.mult_pj(16), 3.1 / 4, 1e-12);                    // quadratic in bits
  EXPECT_NEAR(table.sram_read_pj_per_bit(4096), 10.0 / 64, 1e-12);   // clamped below 8 KB
  EXPECT_NEAR(table.sram_read_pj_per_bit(16384), 15.0 / 64, 1e-12);  // log-interpolated
  EXPECT_NEAR(table.sram_read_pj_per_bit(1048576), 100.0 / 64, 1e-12);
  EXPECT_NEAR(table.sram_read_pj_per_bit(2097152), 116.0 / 64, 1e-12);  // last slope above 1 MB
  EXPECT_NEAR(table.add_pj(9.5), 0.03 + 1.5 * 0.07 / 24, 1e-12);        // a mean width
  EXPECT_NEAR(table.sram_mm2_per_kib(512), 0.01134, 1e-12);             // clamped below 1 KiB
  EXPECT_NEAR(table.sram_mm2_per_kib(4096), 0.01134 + (2.0 / 3) * (0.0063 - 0.01134), 1e-12);
  EXPECT_NEAR(table.sram_mm2_per_kib(1048576), 0.00405, 1e-12);
  EXPECT_NEAR(table.sram_mm2_per_kib(4194304), 0.00405, 1e-12);  // clamped above 1 MiB
  EXPECT_FALSE(table.provenance.empty());
  EXPECT_FALSE(table.scaling_rules.empty());
}

TEST(EnergyTable, ErrorsNameFileAndField) {
  nlohmann::json document =
      nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
  document["int_add"] = nlohmann::json::array({{{"bits", 8}, {"pj", 0.03}}});
  EXPECT_NE(error_of([&] {
              EnergyTable::parse(document.dump(), "e.json");
            }).find("e.json: int_add: must be an array of at least 2"),
            std::string::npos);
  document = nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
  document["leakage"]["pe_uw"] = -1;
  EXPECT_EQ(error_of([&] { EnergyTable::parse(document.dump(), "e.json"); }),
            "e.json: leakage.pe_uw: must be a number in 0..1000000");
  document["leakage"]["pe_uw"] = 0;
  document["sram_read_64b"][1]["capacity_bytes"] = 1;
  EXPECT_EQ(error_of([&] { EnergyTable::parse(document.dump(), "e.json"); }),
            "e.json: sram_read_64b: points must be sorted by strictly increasing capacity_bytes");
  document = nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
  document["color"] = "green";
  EXPECT_EQ(error_of([&] { EnergyTable::parse(document.dump(), "e.json"); }),
            "e.json: color: unknown key");
}

TEST(EnergyTable, XorFieldIsChecked) {
  nlohmann::json document =
      nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
  document.erase("xor_pj_per_bit");
  EXPECT_EQ(error_of([&] { EnergyTable::parse(document.dump(), "e.json"); }),
            "e.json: xor_pj_per_bit: missing");
  document["xor_pj_per_bit"] = 0;
  EXPECT_EQ(error_of([&] { EnergyTable::parse(document.dump(), "e.json"); }),
            "e.json: xor_pj_per_bit: must be a number in 0.000001..10000");
}

// Edits the shipped table and returns the error parsing it.
std::string table_error_after(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json document =
      nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
  edit(document);
  return error_of([&] { EnergyTable::parse(document.dump(), "e.json"); });
}

TEST(EnergyTable, AreaFieldsAreChecked) {
  using nlohmann::json;
  EXPECT_EQ(table_error_after([](json& t) { t.erase("area"); }), "e.json: area: missing");
  EXPECT_EQ(table_error_after([](json& t) { t["area"].erase("full_adder_um2_per_bit"); }),
            "e.json: area.full_adder_um2_per_bit: missing");
  EXPECT_EQ(table_error_after([](json& t) { t["area"].erase("sram_mm2_per_kib"); }),
            "e.json: area.sram_mm2_per_kib: missing");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["xor_um2_per_bit"] = -1.596; }),
            "e.json: area.xor_um2_per_bit: must be a number in 0.000001..1000000");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["mult_8x8_um2"] = 1e300; }),
            "e.json: area.mult_8x8_um2: must be a number in 0.000001..1000000");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["logic_utilisation"] = 1.5; }),
            "e.json: area.logic_utilisation: must be a number in 0.05..1");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["sram_mm2_per_kib"][1]["mm2_per_kib"] = 0; }),
            "e.json: area.sram_mm2_per_kib[1].mm2_per_kib: must be a number in 0.000000001..1000");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["sram_mm2_per_kib"] = json::array(); }),
            "e.json: area.sram_mm2_per_kib: must be an array of at least 1 {\"capacity_bytes\", "
            "\"mm2_per_kib\"} points");
  EXPECT_EQ(
      table_error_after([](json& t) { t["area"]["sram_mm2_per_kib"][1]["capacity_bytes"] = 512; }),
      "e.json: area.sram_mm2_per_kib: points must be sorted by strictly increasing "
      "capacity_bytes");
  // 8 KiB at 0.001 mm^2/KiB (0.008 mm^2) would take less room than 1 KiB at 0.01134.
  EXPECT_EQ(
      table_error_after([](json& t) { t["area"]["sram_mm2_per_kib"][1]["mm2_per_kib"] = 0.001; }),
      "e.json: area.sram_mm2_per_kib: the area of a memory must not shrink as its capacity grows "
      "(density falls faster than 1/capacity between points 0 and 1)");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["colour"] = "grey"; }),
            "e.json: area.colour: unknown key");
  EXPECT_EQ(table_error_after([](json& t) { t["area"]["sram_mm2_per_kib"][0]["pj"] = 1; }),
            "e.json: area.sram_mm2_per_kib[0].pj: unknown key");
}

TEST(EnergyTable, ClockCheckFieldsAreChecked) {
  using nlohmann::json;
  EXPECT_EQ(table_error_after([](json& t) { t.erase("clock_check"); }),
            "e.json: clock_check: missing");
  EXPECT_EQ(table_error_after([](json& t) { t["clock_check"].erase("gate_ps"); }),
            "e.json: clock_check.gate_ps: missing");
  EXPECT_EQ(table_error_after([](json& t) { t["clock_check"]["wire_ps_per_mm"] = 0; }),
            "e.json: clock_check.wire_ps_per_mm: must be a number in 0.001..1000000");
  EXPECT_EQ(table_error_after([](json& t) { t["clock_check"]["fo4_ps"] = 20; }),
            "e.json: clock_check.fo4_ps: unknown key");
}

// ---- The bad-input corpus of the JSON files (issue "Nothing lost, nothing silent"): one-line
// messages naming the file and the field.

nlohmann::json energy_json() {
  return nlohmann::json::parse(read_text_file(kConfigs + "energy/45nm_horowitz.json"));
}

std::string energy_error(const nlohmann::json& document) {
  return error_of([&] { EnergyTable::parse(document.dump(), "e.json"); });
}

TEST(BadInput, ADirectoryOrADeviceInsteadOfAFile) {
  EXPECT_EQ(error_of([] { NpuConfig::load(kConfigs + "energy"); }),
            kConfigs + "energy: is a directory, not a file");
  // /dev/zero never ends: it must be refused before a byte is read.
  EXPECT_EQ(error_of([] { NpuConfig::load("/dev/zero"); }),
            "/dev/zero: not a regular file (a device, FIFO or socket)");
  EXPECT_EQ(error_of([] { EnergyTable::load("/dev/zero"); }),
            "/dev/zero: not a regular file (a device, FIFO or socket)");
  nlohmann::json document = default_json();
  document["energy_table"] = "/dev/zero";
  const NpuConfig config = NpuConfig::parse(document.dump(), "x.json");
  EXPECT_EQ(error_of([&] { EnergyTable::load(config.energy_table_path()); }),
            "/dev/zero: not a regular file (a device, FIFO or socket)");
}

TEST(BadInput, VersionMustBeAnInteger) {
  nlohmann::json document = default_json();
  document["version"] = 1.0;
  EXPECT_EQ(config_error(document), "configs/x.json: version: must be the integer 1");
  document["version"] = "1";
  EXPECT_EQ(config_error(document), "configs/x.json: version: must be the integer 1");
  nlohmann::json table = energy_json();
  table["version"] = 1.0;
  EXPECT_EQ(energy_error(table), "e.json: version: must be the integer 1");
}

TEST(BadInput, NumbersTooLargeToParseNameTheField) {
  std::string text = default_json().dump();
  text.replace(text.find("\"latency_ns\":100"), 16, "\"latency_ns\":1e999");
  EXPECT_EQ(error_of([&] { NpuConfig::parse(text, "configs/x.json"); }),
            "configs/x.json: invalid JSON at dram.latency_ns: number overflow parsing '1e999'");
  text = energy_json().dump();
  text.replace(text.find("\"pj\":0.03"), 9, "\"pj\":-1e400");
  EXPECT_EQ(error_of([&] { EnergyTable::parse(text, "e.json"); }),
            "e.json: invalid JSON at int_add[0].pj: number overflow parsing '-1e400'");
  // NaN is not JSON at all.
  text = energy_json().dump();
  text.replace(text.find("\"dram_pj_per_bit\":20.3"), 22, "\"dram_pj_per_bit\":NaN");
  const std::string nan_error = error_of([&] { EnergyTable::parse(text, "e.json"); });
  EXPECT_EQ(nan_error.rfind("e.json: invalid JSON at dram_pj_per_bit: parse error", 0), 0u)
      << nan_error;
  // An integer beyond 64 bits parses as a double: then the range check names the field.
  nlohmann::json document = default_json();
  text = document.dump();
  text.replace(text.find("\"rows\":64"), 9, "\"rows\":123456789012345678901234567890");
  EXPECT_EQ(error_of([&] { NpuConfig::parse(text, "configs/x.json"); }),
            "configs/x.json: mac_array.rows: must be a positive integer");
}

TEST(BadInput, AbsurdEnergiesAreRefused) {
  nlohmann::json table = energy_json();
  table["dram_pj_per_bit"] = 1e308;  // x bits moved = inf, and inf - inf = NaN in the totals
  EXPECT_EQ(energy_error(table), "e.json: dram_pj_per_bit: must be a number in 0.000001..10000");
  table = energy_json();
  table["int_mult"][1]["pj"] = 1e308;
  EXPECT_EQ(energy_error(table), "e.json: int_mult[1].pj: must be a number in 0.000001..1000");
  table = energy_json();
  table["sram_read_64b"][2]["capacity_bytes"] = 1e300;
  EXPECT_EQ(energy_error(table),
            "e.json: sram_read_64b[2].capacity_bytes: must be a number in 1..1099511627776");
  table = energy_json();
  table["leakage"]["sram_uw_per_kib"] = 1e308;
  EXPECT_EQ(energy_error(table), "e.json: leakage.sram_uw_per_kib: must be a number in 0..1000000");
  table = energy_json();
  table["sram_write_factor"] = 0;
  EXPECT_EQ(energy_error(table), "e.json: sram_write_factor: must be a number in 0.01..100");
  table = energy_json();
  table["register_pj_per_bit"] = 0;
  EXPECT_EQ(energy_error(table),
            "e.json: register_pj_per_bit: must be a number in 0.000001..10000");
  table = energy_json();
  table.erase("register_pj_per_bit");
  EXPECT_EQ(energy_error(table), "e.json: register_pj_per_bit: missing");
  // Curves whose extrapolation would go negative.
  table = energy_json();
  table["sram_read_64b"][2]["pj"] = 15;
  EXPECT_EQ(energy_error(table),
            "e.json: sram_read_64b: pj must not decrease as capacity_bytes grows");
  table = energy_json();
  table["int_add"][0]["pj"] = 0.001;  // steep: the line crosses zero above 1 bit
  table["int_add"][1]["pj"] = 1;
  EXPECT_EQ(energy_error(table),
            "e.json: int_add: the line through the first and last points must stay positive from "
            "1 to 64 bits");
}

TEST(BadInput, OversizedJsonFilesAreRefusedBeforeReading) {
  char pattern[] = "/tmp/bsnpu_big_XXXXXX";
  const int fd = mkstemp(pattern);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, (off_t{16} << 20) + 1), 0);  // sparse: 16 MiB + 1 byte of zeros
  close(fd);
  const std::string path = pattern;
  EXPECT_EQ(error_of([&] { NpuConfig::load(path); }),
            path + ": 16777217 bytes, more than the 16777216-byte limit of a config file");
  std::remove(pattern);
}

TEST(BadInput, KeysFromTheFileStayOnOneLine) {
  nlohmann::json document = default_json();
  document["mac_array"]["rows\ncols"] = 1;
  EXPECT_EQ(config_error(document), "configs/x.json: mac_array.rows\\x0acols: unknown key");
  document = default_json();
  document[std::string(500, 'k')] = 1;
  EXPECT_EQ(config_error(document), "configs/x.json: " + std::string(64, 'k') + "...: unknown key");
}

TEST(BadInput, DeepNestingIsRefused) {
  const std::string text = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of([&] {
              NpuConfig::parse(text, "configs/x.json");
            }).rfind("configs/x.json: invalid JSON at [0][0]", 0),
            0u);
  EXPECT_NE(error_of([&] {
              NpuConfig::parse(text, "configs/x.json");
            }).find("nested deeper than 64 levels"),
            std::string::npos);
}

}  // namespace
}  // namespace bsnpu::arch
