// The sweep library (src/sweep): sweep-file parsing and its one-line errors, expansion of
// cartesian, zipped and seeded random axes, resolving a point's config, constraints, the Pareto
// front, point records and the journal's torn-line recovery, and outputs that do not depend on
// the order records arrive in.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>

#include "arch/config.h"
#include "core/error.h"
#include "core/files.h"
#include "sweep/journal.h"
#include "sweep/records.h"
#include "sweep/space.h"

namespace bsnpu::sweep {
namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "(no error)";
}

// A sweep file around `axes` (a JSON array) with optional extra top-level members.
std::string space_text(const std::string& axes, const std::string& extra = "") {
  return R"({"format": "bsnpu-sweep", "version": 1, "name": "t", "base": "../default.json",)" +
         extra + R"("axes": )" + axes + "}";
}

Space parse(const std::string& axes, const std::string& extra = "") {
  return Space::parse(space_text(axes, extra), "configs/sweeps/t.json");
}

TEST(Space, CartesianProductWithTheFirstAxisSlowest) {
  const Space space = parse(
      R"([{"field": "mac_array.rows", "values": [16, 32]},
          {"field": "dram.technology", "values": ["ddr4", "lpddr4", "hbm2"]}])");
  ASSERT_EQ(space.size(), 6u);
  EXPECT_EQ(space.fields(), (std::vector<std::string>{"mac_array.rows", "dram.technology"}));
  EXPECT_EQ(space.point(0).axes.dump(), R"({"mac_array.rows":16,"dram.technology":"ddr4"})");
  EXPECT_EQ(space.point(2).axes.dump(), R"({"mac_array.rows":16,"dram.technology":"hbm2"})");
  EXPECT_EQ(space.point(3).axes.dump(), R"({"mac_array.rows":32,"dram.technology":"ddr4"})");
  EXPECT_EQ(space.bits(), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));  // the default k list
  EXPECT_EQ(space.base_path(), "configs/default.json");
}

TEST(Space, ZippedAxesVaryTogether) {
  const Space space = parse(
      R"([{"zip": [{"field": "mac_array.rows", "values": [16, 32, 64]},
                   {"field": "mac_array.cols", "values": [8, 16, 32]}]},
          {"field": "clock_mhz", "values": [250, 500]}])");
  ASSERT_EQ(space.size(), 6u);
  for (size_t i = 0; i < space.size(); ++i) {
    const Json axes = space.point(i).axes;
    EXPECT_EQ(axes["mac_array.rows"].get<int>(), 2 * axes["mac_array.cols"].get<int>());
  }
  EXPECT_EQ(space.point(5).axes.dump(),
            R"({"mac_array.rows":64,"mac_array.cols":32,"clock_mhz":500})");
}

TEST(Space, RandomSamplesAreSeededAndInRange) {
  const std::string axes = R"([{"random": {"seed": SEED, "samples": 50, "axes": [
      {"field": "mac_array.rows", "values": [16, 32, 64]},
      {"field": "weight_memory.capacity_kib", "min": 64, "max": 4096, "scale": "log"},
      {"field": "clock_mhz", "min": 200.0, "max": 1000}]}}])";
  auto with_seed = [&](const std::string& seed) {
    std::string text = axes;
    text.replace(text.find("SEED"), 4, seed);
    return parse(text);
  };
  const Space a = with_seed("7"), b = with_seed("7"), c = with_seed("8");
  ASSERT_EQ(a.size(), 50u);
  bool differs = false;
  std::set<int> rows;
  for (size_t i = 0; i < a.size(); ++i) {
    const Json axes_a = a.point(i).axes;
    EXPECT_EQ(axes_a, b.point(i).axes);
    differs = differs || axes_a != c.point(i).axes;
    rows.insert(axes_a["mac_array.rows"].get<int>());
    const Json& kib = axes_a["weight_memory.capacity_kib"];
    ASSERT_TRUE(kib.is_number_integer());  // both bounds are integers
    EXPECT_GE(kib.get<int>(), 64);
    EXPECT_LE(kib.get<int>(), 4096);
    const Json& clock = axes_a["clock_mhz"];
    ASSERT_TRUE(clock.is_number_float());  // a real bound: real samples
    EXPECT_GE(clock.get<double>(), 200.0);
    EXPECT_LT(clock.get<double>(), 1000.0);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(rows, (std::set<int>{16, 32, 64}));
}

TEST(Space, PointIdsAreStableAndDistinct) {
  const Space space = parse(R"([{"field": "mac_array.rows", "values": [16, 32, 64]}])");
  std::set<std::string> ids;
  for (size_t i = 0; i < space.size(); ++i) {
    EXPECT_EQ(space.point(i).id, parse(R"([{"field": "mac_array.rows", "values": [16, 32, 64]}])")
                                     .point(i)
                                     .id);
    EXPECT_EQ(space.point(i).id.rfind(std::to_string(i) + "-", 0), 0u);
    ids.insert(space.point(i).id);
  }
  EXPECT_EQ(ids.size(), 3u);
  // The same index with another value is another point.
  EXPECT_NE(space.point(0).id,
            parse(R"([{"field": "mac_array.rows", "values": [8, 32, 64]}])").point(0).id);
}

TEST(Space, ResolveSetsFieldsAndMakesPathsAbsolute) {
  const Space space = parse(
      R"([{"field": "mac_array.rows", "values": [16]},
          {"field": "accumulator.depth", "values": [128]},
          {"field": "energy_table", "values": ["../energy/45nm_horowitz.json"]},
          {"field": "model", "values": ["../../models/resnet18_cifar10"]}])");
  const Json base = Json::parse(R"({"format": "bsnpu-config", "mac_array": {"rows": 64, "cols": 8}})");
  const Json config = space.resolve(base, "configs/default.json", space.point(0));
  EXPECT_EQ(config["mac_array"]["rows"], 16);
  EXPECT_EQ(config["mac_array"]["cols"], 8);
  EXPECT_EQ(config["accumulator"]["depth"], 128);  // a section the base leaves to defaults
  EXPECT_FALSE(config.contains("model"));
  const std::string table = config["energy_table"].get<std::string>();
  EXPECT_EQ(table, std::filesystem::absolute("configs/energy/45nm_horowitz.json").string());
  EXPECT_EQ(space.model_of(space.point(0), "fallback"), "models/resnet18_cifar10");
  // Without an energy_table axis, the base's (default) table relative to the base file.
  const Space plain = parse(R"([{"field": "mac_array.rows", "values": [16]}])");
  EXPECT_EQ(plain.resolve(base, "configs/default.json", plain.point(0))["energy_table"],
            std::filesystem::absolute("configs/energy/45nm_horowitz.json").string());
  EXPECT_EQ(plain.model_of(plain.point(0), "fallback"), "fallback");
  // A path through a value that is no object.
  const Space bad = parse(R"([{"field": "clock_mhz.x", "values": [1]}])");
  EXPECT_EQ(error_of([&] {
              bad.resolve(Json::parse(R"({"clock_mhz": 500})"), "c.json", bad.point(0));
            }),
            "configs/sweeps/t.json: axes: clock_mhz.x: the base config's clock_mhz is not an object");
}

TEST(Space, ErrorsAreOneLineNamingFileAndField) {
  const std::string one = R"([{"field": "mac_array.rows", "values": [16]}])";
  const std::pair<std::string, std::string> cases[] = {
      {space_text(one, R"("colour": 1,)"), "t.json: colour: unknown key"},
      {space_text("[]"), "t.json: axes: must be a non-empty array"},
      {space_text(R"([{"field": "Mac.Rows", "values": [1]}])"),
       "t.json: axes[0].field: must be a config field path"},
      {space_text(R"([{"field": "version", "values": [1]}])"), "t.json: axes[0].field: cannot vary"},
      {space_text(R"([{"field": "clock_mhz", "values": []}])"),
       "t.json: axes[0].values: must be an array of 1..100000 values"},
      {space_text(R"([{"field": "clock_mhz", "values": [1, null]}])"),
       "t.json: axes[0].values[1]: must not be null"},
      {space_text(R"([{"field": "clock_mhz", "values": [1]}, {"field": "clock_mhz", "values": [2]}])"),
       "t.json: axes[1].field: \"clock_mhz\" is set by another axis"},
      {space_text(R"([{"zip": [{"field": "a", "values": [1, 2]}, {"field": "b", "values": [1]}]}])"),
       "t.json: axes[0].zip[1].values: has 1 values, the first zipped axis 2"},
      {space_text(R"([{"random": {"seed": 1, "samples": 3, "axes": [{"field": "a", "min": 5, "max": 1}]}}])"),
       "t.json: axes[0].random.axes[0].max: must be at least min"},
      {space_text(R"([{"random": {"seed": 1, "samples": 3, "axes": [{"field": "a", "min": 0, "max": 1, "scale": "log"}]}}])"),
       "t.json: axes[0].random.axes[0].min: must be positive"},
      {space_text(R"([{"random": {"seed": -1, "samples": 3, "axes": [{"field": "a", "values": [1]}]}}])"),
       "t.json: axes[0].random.seed: must be an integer in 0.."},
      {space_text(one, R"("bits": [8, 1],)"), "t.json: bits: must be k in 1..8 in increasing order"},
      {space_text(one, R"("bits": [9],)"), "t.json: bits"},
      {space_text(one, R"("constraints": ["area <= 8"],)"),
       "t.json: constraints[0]: 'area <= 8' names no metric (metrics: area_mm2, pes"},
      {space_text(one, R"("constraints": ["area_mm2 = 8"],)"),
       "t.json: constraints[0]: 'area_mm2 = 8' is not METRIC OP NUMBER"},
      {space_text(one, R"("constraints": ["cycles < 1e6x"],)"),
       "t.json: constraints[0]: 'cycles < 1e6x' does not end in a finite number"},
      {space_text(one, R"("constraints": [3],)"), "t.json: constraints[0]: must be a string"},
      {R"({"format": "bsnpu-sweep", "version": 1, "name": "t", "axes": [{"field": "a", "values": [1]}]})",
       "t.json: base: missing"},
      {R"({"format": "bsnpu-config", "version": 1})", "t.json: format"},
      {"{\"format\": \"bsnpu-sweep\",", "t.json: invalid JSON"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = error_of([&] { Space::parse(text, "configs/sweeps/t.json"); });
    EXPECT_NE(error.find(expected), std::string::npos) << error << "\nexpected: " << expected;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  // A product of axes past the limit is refused before anything is expanded.
  std::string huge = "[";
  for (int axis = 0; axis < 4; ++axis) {
    huge += std::string(axis ? "," : "") + R"({"field": "f)" + std::string(1, char('a' + axis)) +
            R"(", "values": [)";
    for (int v = 0; v < 100; ++v) huge += std::string(v ? "," : "") + std::to_string(v);
    huge += "]}";
  }
  EXPECT_NE(error_of([&] { parse(huge + "]"); }).find("axes: the space has more than 10000000 points"),
            std::string::npos);
}

TEST(Constraints, ParseAndHold) {
  const Constraint le = Constraint::parse("area_mm2 <= 8", "w");
  EXPECT_EQ(le.metric, Metric::AreaMm2);
  EXPECT_TRUE(le.holds(8));
  EXPECT_FALSE(le.holds(8.001));
  const Constraint lt = Constraint::parse("cycles<1e6", "w");
  EXPECT_EQ(lt.metric, Metric::Cycles);
  EXPECT_TRUE(lt.holds(999999));
  EXPECT_FALSE(lt.holds(1e6));
  const Constraint ge = Constraint::parse("  accuracy >= 0.9 ", "w");
  EXPECT_TRUE(ge.holds(0.9));
  EXPECT_FALSE(ge.holds(0.89));
  const Constraint gt = Constraint::parse("accuracy_per_uj > 2", "w");
  EXPECT_FALSE(gt.holds(2));
  EXPECT_TRUE(is_pre_run(Metric::AreaMm2));
  EXPECT_TRUE(is_pre_run(Metric::Pes));
  EXPECT_TRUE(is_pre_run(Metric::SramKib));
  EXPECT_FALSE(is_pre_run(Metric::Cycles));
  EXPECT_FALSE(is_pre_run(Metric::Accuracy));
}

BitsRecord bits_row(int k, double energy, double latency, size_t correct, bool ok = true) {
  BitsRecord bits;
  bits.bits = k;
  bits.images = 100;
  bits.correct = correct;
  bits.cycles = static_cast<uint64_t>(latency * 1e9);
  bits.latency_s = latency;
  bits.energy_j = energy;
  bits.feasible = ok;
  return bits;
}

Record record(size_t index, double area, std::vector<BitsRecord> rows) {
  Record r;
  r.index = index;
  r.id = std::to_string(index) + "-x";
  r.axes = Json{{"mac_array.rows", 16 * (index + 1)}};
  r.area_mm2 = area;
  r.results = std::move(rows);
  return r;
}

TEST(Constraints, PreRunAndPostRun) {
  const Space space = parse(R"([{"field": "mac_array.rows", "values": [16]}])",
                            R"("constraints": ["area_mm2 <= 8", "pes >= 1024", "accuracy >= 0.5", "cycles <= 2000000"],)");
  arch::NpuConfig config;
  config.mac_array.rows = 32;
  config.mac_array.cols = 32;
  EXPECT_EQ(broken_pre_run_constraint(space, config, 7.5), "");
  EXPECT_EQ(broken_pre_run_constraint(space, config, 8.5), "area_mm2 <= 8");
  config.mac_array.cols = 16;
  EXPECT_EQ(broken_pre_run_constraint(space, config, 7.5), "pes >= 1024");
  const Record r = record(0, 7.5, {bits_row(1, 1e-3, 1e-3, 40), bits_row(8, 2e-3, 1e-3, 90),
                                   bits_row(8, 2e-3, 3e-3, 90)});
  EXPECT_FALSE(feasible(space, r, r.results[0]));  // accuracy 0.4
  EXPECT_TRUE(feasible(space, r, r.results[1]));
  EXPECT_FALSE(feasible(space, r, r.results[2]));  // 3,000,000 cycles
  EXPECT_DOUBLE_EQ(post_run_value(Metric::AccuracyPerMcycle, r, r.results[1]), 0.9);
  EXPECT_DOUBLE_EQ(post_run_value(Metric::AccuracyPerUj, r, r.results[1]), 0.9 / 2000);
}

TEST(Pareto, KeepsExactlyTheNonDominatedFeasibleRows) {
  std::vector<Record> records = {
      record(0, 5, {bits_row(1, 1.0, 1.0, 50), bits_row(8, 4.0, 4.0, 90)}),
      // Dominated by point 0 at k = 1 (more energy, same rest); point 0's k = 8 dominates its k = 8.
      record(1, 5, {bits_row(1, 1.5, 1.0, 50), bits_row(8, 4.0, 4.0, 89)}),
      // Better in area only: on the front.
      record(2, 4, {bits_row(1, 2.0, 2.0, 50)}),
      // Would dominate everything but breaks a post-run constraint.
      record(3, 1, {bits_row(1, 0.1, 0.1, 99, false)}),
      // Equal to point 0's k = 1 in every objective: neither dominates the other.
      record(4, 5, {bits_row(1, 1.0, 1.0, 50)}),
  };
  Record filtered;
  filtered.index = 5;
  filtered.status = Status::Filtered;
  records.push_back(filtered);
  const std::vector<std::vector<bool>> front = pareto_front(records);
  EXPECT_EQ(front[0], (std::vector<bool>{true, true}));
  EXPECT_EQ(front[1], (std::vector<bool>{false, false}));
  EXPECT_EQ(front[2], (std::vector<bool>{true}));
  EXPECT_EQ(front[3], (std::vector<bool>{false}));
  EXPECT_EQ(front[4], (std::vector<bool>{true}));
  EXPECT_TRUE(front[5].empty());
}

TEST(Records, RoundTripExactly) {
  Record r = record(3, 5.123456789012345, {bits_row(1, 1.0 / 3, 0.1 + 0.2, 37)});
  r.results[0].energy_breakdown_j = {1.0 / 7, 2e-9, 3.3, 0, 1e-300};
  r.results[0].weights_resident = true;
  r.results[0].utilization = 0.5;
  const std::string line = record_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const Record back = parse_record(line, "j: line 1");
  EXPECT_EQ(record_line(back), line);
  EXPECT_EQ(back.results[0].energy_j, 1.0 / 3);
  Record skipped;
  skipped.index = 4;
  skipped.id = "4-y";
  skipped.status = Status::Invalid;
  skipped.reason = "c.json: mac_array.rows: must be a positive integer";
  EXPECT_EQ(record_line(parse_record(record_line(skipped), "j")), record_line(skipped));
  EXPECT_NE(error_of([&] { parse_record(R"({"index": 1, "id": "1-x", "axes": {}, "status": "done"})", "j: line 2"); })
                .find("j: line 2: status: must be ok, filtered or invalid"),
            std::string::npos);
}

TEST(Journal, DropsATornLastLineAndRefusesDamageBeforeIt) {
  const std::string path = ::testing::TempDir() + "bsnpu_journal_test.jsonl";
  std::remove(path.c_str());
  EXPECT_TRUE(read_journal(path, true).empty());  // no journal yet
  {
    Journal journal(path);
    journal.append(record(0, 1, {bits_row(1, 1, 1, 1)}));
    journal.append(record(1, 1, {bits_row(1, 1, 1, 1)}));
  }
  const std::string whole = read_text_file(path);
  const std::string torn = R"({"index": 2, "id": "2-x", "axes": {"mac)";  // cut short by a kill
  std::ofstream(path, std::ios::app) << torn;
  EXPECT_EQ(read_journal(path, false).size(), 2u);
  EXPECT_EQ(read_text_file(path), whole + torn);  // not repaired
  EXPECT_EQ(read_journal(path, true).size(), 2u);
  EXPECT_EQ(read_text_file(path), whole);  // repaired
  {
    Journal journal(path);  // appends after the repair, on a line of its own
    journal.append(record(2, 1, {bits_row(1, 1, 1, 1)}));
  }
  EXPECT_EQ(read_journal(path, true).size(), 3u);
  {
    std::ofstream damaged(path, std::ios::trunc);
    damaged << "{\"index\": 0}\n" << record_line(record(1, 1, {bits_row(1, 1, 1, 1)})) << "\n";
  }
  EXPECT_NE(error_of([&] { read_journal(path, true); }).find(path + ": line 1: id: missing"),
            std::string::npos);
  std::remove(path.c_str());
}

TEST(Outputs, SameBytesWhateverTheOrderOfRecords) {
  const Space space = parse(R"([{"field": "mac_array.rows", "values": [16, 32, 64]}])",
                            R"("constraints": ["accuracy >= 0.5"],)");
  std::vector<Record> records = {record(0, 5, {bits_row(1, 1.0, 1.0, 50)}),
                                 record(1, 4, {bits_row(1, 2.0, 2.0, 60)}),
                                 record(2, 3, {bits_row(1, 3.0, 3.0, 40, false)})};
  const SweepOutputs a = build_outputs(space, records);
  std::swap(records[0], records[2]);
  const SweepOutputs b = build_outputs(space, records);
  EXPECT_EQ(a.points_csv, b.points_csv);
  EXPECT_EQ(a.pareto_csv, b.pareto_csv);
  EXPECT_EQ(a.points_json.dump(), b.points_json.dump());
  EXPECT_EQ(a.pareto_json.dump(), b.pareto_json.dump());
  // One row per (point, k), in index order; the infeasible row is in points but not on the front.
  EXPECT_EQ(std::count(a.points_csv.begin(), a.points_csv.end(), '\n'), 4);
  EXPECT_EQ(std::count(a.pareto_csv.begin(), a.pareto_csv.end(), '\n'), 3);
  EXPECT_EQ(a.points_csv.substr(0, 33), "index,id,mac_array.rows,bits,imag");
  EXPECT_NE(a.points_csv.find("\n2,2-x,48,1,100,40,0.4,"), std::string::npos);
  EXPECT_EQ(a.pareto_json["front"].size(), 2u);
}

TEST(Shards, ParseAndRefuse) {
  size_t shard = 9, shards = 9;
  parse_shard("2/3", shard, shards);
  EXPECT_EQ(shard, 2u);
  EXPECT_EQ(shards, 3u);
  for (const char* bad : {"3/3", "0/0", "1", "a/3", "-1/3", "1/3x", "", "1/1000000"}) {
    EXPECT_NE(error_of([&] { parse_shard(bad, shard, shards); }).find("--shard: '"),
              std::string::npos)
        << bad;
  }
}

// Every point of the example spaces in configs/sweeps/ resolves to a valid config.
TEST(Space, ShippedSpacesResolveToValidConfigs) {
  const std::string folder = BSNPU_SOURCE_DIR "/configs/sweeps/";
  std::map<std::string, size_t> sizes;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const Space space = Space::load(entry.path().string());
    const Json base = Json::parse(read_text_file(space.base_path()));
    for (size_t i = 0; i < space.size(); ++i) {
      const std::string config = space.resolve(base, space.base_path(), space.point(i)).dump();
      EXPECT_NO_THROW(arch::NpuConfig::parse(config, "point " + std::to_string(i)))
          << entry.path() << " point " << i;
    }
    sizes[entry.path().filename().string()] = space.size();
  }
  EXPECT_EQ(sizes["bench_1000.json"], 1000u);
  EXPECT_EQ(sizes["array_and_sram.json"], 144u);
  EXPECT_EQ(sizes["random_clock_and_memory.json"], 128u);
}

}  // namespace
}  // namespace bsnpu::sweep
