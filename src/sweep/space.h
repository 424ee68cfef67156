// A design-space sweep file (docs/sweeps.md): a base NPU config, axes that set config fields by
// their JSON path (single lists, zipped lists, seeded random samples) combined as a cartesian
// product, the k list every point runs, and constraints on figures of each point. Plain data, no
// SystemC, no file access beyond Space::load: parse, count and enumerate points, resolve a
// point's config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace bsnpu::sweep {

using Json = nlohmann::ordered_json;

// The figures a constraint can bound. The first three are known before a point runs (from its
// config and the model alone), the others only per k after its timing simulation.
enum class Metric {
  AreaMm2,            // chip area, mm^2 (arch/area.h)
  Pes,                // mac_array.rows x mac_array.cols
  SramKib,            // weight_memory + activation_buffer capacity, KiB
  Cycles,             // one inference
  LatencyS,           // one inference, s
  EnergyJ,            // per image, J
  Accuracy,           // top-1 over the sweep's images, 0..1
  AccuracyPerMcycle,  // accuracy / (cycles / 10^6)
  AccuracyPerUj,      // accuracy / (energy in uJ)
};
constexpr int kMetricCount = 9;
const char* metric_name(Metric metric);
bool is_pre_run(Metric metric);

struct Constraint {
  enum class Op { Le, Lt, Ge, Gt };
  std::string text;  // as written, e.g. "area_mm2 <= 8"
  Metric metric = Metric::AreaMm2;
  Op op = Op::Le;
  double bound = 0;
  bool holds(double value) const;
  // "METRIC OP NUMBER" (OP one of <=, <, >=, >); throws bsnpu::Error "WHERE: why".
  static Constraint parse(const std::string& text, const std::string& where);
};

// The axis fields with a meaning of their own rather than a config path.
constexpr const char* kModelField = "model";  // a model prefix, relative to the sweep file

// One point of the space: its index in the expanded space, the value of every axis field (in the
// space's field order), and a stable id: the index and a hash of those values, so that a record
// of a point can be matched to it again.
struct Point {
  size_t index = 0;
  std::string id;
  Json axes = Json::object();
};

// Upper bound on the points of a space: far more than any sweep runs, small enough that counting
// them cannot overflow.
constexpr size_t kMaxPoints = 10'000'000;

class Space {
 public:
  // Parses and validates the sweep file's text; `file` names it in errors ("FILE: FIELD: why")
  // and is the folder that relative paths (base, model values, energy_table values) start from.
  static Space parse(const std::string& text, const std::string& file);
  static Space load(const std::string& path);

  const std::string& file() const { return file_; }
  const std::string& text() const { return text_; }
  const std::string& sha256() const { return sha256_; }
  const std::string& name() const { return name_; }
  // The base config's path (as written, resolved against the sweep file's folder).
  std::string base_path() const { return resolve_path(base_); }
  const std::vector<int>& bits() const { return bits_; }
  // Every axis field, in the order of the file.
  const std::vector<std::string>& fields() const { return fields_; }
  bool has_field(const std::string& field) const;
  const std::vector<Constraint>& constraints() const { return constraints_; }
  bool skip_invalid() const { return skip_invalid_; }

  size_t size() const { return size_; }
  // Point `index` (< size()): the first group of axes varies slowest.
  Point point(size_t index) const;
  // The model prefix of a point: its "model" value resolved against the sweep file's folder, or
  // `fallback` when the space has no model axis.
  std::string model_of(const Point& point, const std::string& fallback) const;
  // The config of a point: `base` (the base config's JSON, read from `base_file`) with every
  // config axis's value set at its path (objects created on the way) and energy_table made an
  // absolute path (a value from an axis relative to the sweep file, the base's relative to the
  // base file). Throws "FILE: axes: FIELD: ..." when a path crosses a value that is no object.
  Json resolve(const Json& base, const std::string& base_file, const Point& point) const;

 private:
  // A group of axes that vary together: `rows` of values, one per field.
  struct Group {
    std::vector<std::string> fields;
    std::vector<std::vector<Json>> rows;
  };
  std::string resolve_path(const std::string& path) const;

  std::string file_, text_, sha256_, name_, base_;
  std::vector<int> bits_;
  std::vector<Group> groups_;
  std::vector<std::string> fields_;
  std::vector<Constraint> constraints_;
  bool skip_invalid_ = false;
  size_t size_ = 1;
};

}  // namespace bsnpu::sweep
