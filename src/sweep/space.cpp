#include "sweep/space.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/sha256.h"

namespace bsnpu::sweep {
namespace {

constexpr size_t kMaxValues = 100'000;  // per axis, and samples per random group

constexpr const char* kMetricNames[kMetricCount] = {
    "area_mm2",    "pes",      "sram_kib",           "cycles",         "latency_s",
    "energy_j",    "accuracy", "accuracy_per_mcycle", "accuracy_per_uj"};

std::string metric_list() {
  std::string list;
  for (const char* name : kMetricNames) list += (list.empty() ? "" : ", ") + std::string(name);
  return list;
}

// A config field path: dot-separated names of lowercase letters, digits and underscores.
bool valid_field(const std::string& field) {
  if (field.empty() || field.size() > 200) return false;
  bool start = true;
  for (char c : field) {
    if (c == '.') {
      if (start) return false;
      start = true;
    } else if ((c >= 'a' && c <= 'z') || c == '_' || (!start && c >= '0' && c <= '9')) {
      start = false;
    } else {
      return false;
    }
  }
  return !start;
}

// splitmix64: a tiny generator whose sequence is fixed by its definition (the standard library's
// distributions are not portable across implementations), so a seed names the same samples
// everywhere.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

// How a random group draws one field: from a list, or uniformly in [min, max] (integers when
// both bounds are integers; log-uniform with "scale": "log").
struct Draw {
  std::string field;
  std::vector<Json> values;
  double min = 0, max = 0;
  bool integer = false, log = false;
  Json sample(Random& random) const {
    if (!values.empty()) return values[static_cast<size_t>(random.next() % values.size())];
    const double u = random.unit();
    if (integer) {
      double x = log ? std::exp(std::log(min) + u * (std::log(max + 1) - std::log(min)))
                     : min + u * (max - min + 1);
      x = std::min(std::floor(x), max);
      return static_cast<int64_t>(x);
    }
    return log ? std::exp(std::log(min) + u * (std::log(max) - std::log(min)))
               : min + u * (max - min);
  }
};

std::vector<Json> read_values(FieldReader& reader) {
  const nlohmann::json& values = reader.require("values");
  if (!values.is_array() || values.empty() || values.size() > kMaxValues) {
    reader.fail("values", "must be an array of 1.." + std::to_string(kMaxValues) + " values");
  }
  std::vector<Json> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].is_null()) reader.fail("values[" + std::to_string(i) + "]", "must not be null");
    out.push_back(Json::parse(values[i].dump()));
  }
  return out;
}

std::string read_field(FieldReader& reader) {
  const std::string field = reader.get<std::string>("field");
  if (!valid_field(field)) {
    reader.fail("field",
                "must be a config field path such as \"mac_array.rows\" (lowercase names joined "
                "by dots), or \"model\"");
  }
  if (field == "format" || field == "version") reader.fail("field", "cannot vary " + field);
  return field;
}

Draw read_draw(FieldReader reader) {
  Draw draw;
  draw.field = read_field(reader);
  if (reader.find("values")) {
    draw.values = read_values(reader);
  } else {
    const nlohmann::json& min = reader.require("min");
    const nlohmann::json& max = reader.require("max");
    draw.integer = min.is_number_integer() && max.is_number_integer();
    draw.min = reader.number_in("min", 0, -1e15, 1e15, "-1e15..1e15");
    draw.max = reader.number_in("max", 0, -1e15, 1e15, "-1e15..1e15");
    if (draw.max < draw.min) reader.fail("max", "must be at least min");
    const std::string scale = reader.string("scale", "linear");
    if (scale != "linear" && scale != "log") reader.fail("scale", "must be \"linear\" or \"log\"");
    draw.log = scale == "log";
    if (draw.log && draw.min <= 0) reader.fail("min", "must be positive with \"scale\": \"log\"");
  }
  reader.finish();
  return draw;
}

}  // namespace

const char* metric_name(Metric metric) { return kMetricNames[static_cast<int>(metric)]; }

bool is_pre_run(Metric metric) {
  return metric == Metric::AreaMm2 || metric == Metric::Pes || metric == Metric::SramKib;
}

bool Constraint::holds(double value) const {
  switch (op) {
    case Op::Le:
      return value <= bound;
    case Op::Lt:
      return value < bound;
    case Op::Ge:
      return value >= bound;
    case Op::Gt:
      return value > bound;
  }
  return false;
}

Constraint Constraint::parse(const std::string& text, const std::string& where) {
  auto fail = [&](const std::string& why) -> Constraint {
    throw Error(where + ": '" + printable(text, 80) + "' " + why);
  };
  Constraint constraint;
  constraint.text = text;
  const size_t op_begin = text.find_first_of("<>");
  if (op_begin == std::string::npos) fail("is not METRIC OP NUMBER (OP: <=, <, >=, >)");
  auto trim = [](const std::string& s) {
    const size_t begin = s.find_first_not_of(' ');
    return begin == std::string::npos ? std::string() : s.substr(begin, s.find_last_not_of(' ') - begin + 1);
  };
  const std::string metric = trim(text.substr(0, op_begin));
  bool found = false;
  for (int i = 0; i < kMetricCount; ++i) {
    if (metric == kMetricNames[i]) {
      constraint.metric = static_cast<Metric>(i);
      found = true;
    }
  }
  if (!found) fail("names no metric (metrics: " + metric_list() + ")");
  const bool less = text[op_begin] == '<';
  const bool or_equal = op_begin + 1 < text.size() && text[op_begin + 1] == '=';
  constraint.op = less ? (or_equal ? Op::Le : Op::Lt) : (or_equal ? Op::Ge : Op::Gt);
  const std::string number = trim(text.substr(op_begin + (or_equal ? 2 : 1)));
  char* end = nullptr;
  constraint.bound = number.empty() ? 0 : std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(constraint.bound)) {
    fail("does not end in a finite number");
  }
  return constraint;
}

Space Space::parse(const std::string& text, const std::string& file) {
  const nlohmann::json document = parse_json(text, file);
  FieldReader top(document, file, "");
  top.header("bsnpu-sweep", 1);
  Space space;
  space.file_ = file;
  space.text_ = text;
  space.sha256_ = sha256_hex(text.data(), text.size());
  space.name_ = top.string("name", "", true);
  top.string("description", "");
  space.base_ = top.string("base", "", true);
  if (space.base_.empty()) top.fail("base", "must name the base config file");
  if (top.find("bits")) {
    for (int64_t k : top.integers("bits", 1, 8, 1, 8)) {
      if (!space.bits_.empty() && k <= space.bits_.back()) {
        top.fail("bits", "must be k in 1..8 in increasing order");
      }
      space.bits_.push_back(static_cast<int>(k));
    }
  } else {
    space.bits_ = {1, 2, 3, 4, 5, 6, 7, 8};
  }
  space.skip_invalid_ = top.get<bool>("skip_invalid", false);

  std::set<std::string> seen;
  auto add_field = [&](FieldReader& reader, const std::string& field) {
    if (!seen.insert(field).second) reader.fail("field", "\"" + field + "\" is set by another axis");
    space.fields_.push_back(field);
  };
  for (FieldReader& group_reader : top.objects(
           "axes", 1,
           "must be a non-empty array of axes: {\"field\", \"values\"}, {\"zip\": [...]} or "
           "{\"random\": {...}}")) {
    Group group;
    if (group_reader.find("zip")) {
      std::vector<std::vector<Json>> columns;
      for (FieldReader& axis : group_reader.objects(
               "zip", 1, "must be a non-empty array of {\"field\", \"values\"} of equal length")) {
        const std::string field = read_field(axis);
        add_field(axis, field);
        group.fields.push_back(field);
        columns.push_back(read_values(axis));
        axis.finish();
        if (columns.back().size() != columns.front().size()) {
          axis.fail("values", "has " + std::to_string(columns.back().size()) +
                                  " values, the first zipped axis " +
                                  std::to_string(columns.front().size()));
        }
      }
      for (size_t row = 0; row < columns.front().size(); ++row) {
        group.rows.emplace_back();
        for (const std::vector<Json>& column : columns) group.rows.back().push_back(column[row]);
      }
    } else if (group_reader.find("random")) {
      FieldReader random = group_reader.required_object("random");
      Random generator{static_cast<uint64_t>(random.integer_in("seed", 0, INT64_MAX))};
      const int64_t samples = random.integer_in("samples", 1, static_cast<int64_t>(kMaxValues));
      std::vector<Draw> draws;
      for (FieldReader& axis : random.objects(
               "axes", 1,
               "must be a non-empty array of {\"field\", \"values\"} or {\"field\", \"min\", "
               "\"max\"}")) {
        draws.push_back(read_draw(axis));
        add_field(axis, draws.back().field);
        group.fields.push_back(draws.back().field);
      }
      random.finish();
      if (static_cast<size_t>(samples) * draws.size() > kMaxValues) {
        random.fail("samples", "times the number of axes must be at most " +
                                   std::to_string(kMaxValues));
      }
      for (int64_t sample = 0; sample < samples; ++sample) {
        group.rows.emplace_back();
        for (const Draw& draw : draws) group.rows.back().push_back(draw.sample(generator));
      }
    } else {
      const std::string field = read_field(group_reader);
      add_field(group_reader, field);
      group.fields.push_back(field);
      for (Json& value : read_values(group_reader)) group.rows.push_back({std::move(value)});
    }
    group_reader.finish();
    if (space.size_ > kMaxPoints / group.rows.size()) {
      top.fail("axes", "the space has more than " + std::to_string(kMaxPoints) + " points");
    }
    space.size_ *= group.rows.size();
    space.groups_.push_back(std::move(group));
  }
  if (top.find("constraints")) {
    const nlohmann::json& constraints = top.require("constraints");
    if (!constraints.is_array()) top.fail("constraints", "must be an array of strings");
    for (size_t i = 0; i < constraints.size(); ++i) {
      const std::string where = file + ": constraints[" + std::to_string(i) + "]";
      if (!constraints[i].is_string()) throw Error(where + ": must be a string");
      space.constraints_.push_back(Constraint::parse(constraints[i].get<std::string>(), where));
    }
  }
  top.finish();
  return space;
}

Space Space::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "a sweep file"), path);
}

bool Space::has_field(const std::string& field) const {
  for (const std::string& f : fields_) {
    if (f == field) return true;
  }
  return false;
}

Point Space::point(size_t index) const {
  Point point;
  point.index = index;
  // Mixed radix, the last group varying fastest.
  std::vector<size_t> rows(groups_.size());
  size_t rest = index;
  for (size_t g = groups_.size(); g-- > 0;) {
    rows[g] = rest % groups_[g].rows.size();
    rest /= groups_[g].rows.size();
  }
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t f = 0; f < groups_[g].fields.size(); ++f) {
      point.axes[groups_[g].fields[f]] = groups_[g].rows[rows[g]][f];
    }
  }
  const std::string values = point.axes.dump();
  point.id = std::to_string(index) + "-" + sha256_hex(values.data(), values.size()).substr(0, 12);
  return point;
}

std::string Space::resolve_path(const std::string& path) const {
  if (!path.empty() && path.front() == '/') return path;
  const std::filesystem::path folder = std::filesystem::path(file_).parent_path();
  return (folder / path).lexically_normal().string();
}

std::string Space::model_of(const Point& point, const std::string& fallback) const {
  const auto it = point.axes.find(kModelField);
  if (it == point.axes.end()) return fallback;
  if (!it->is_string()) {
    throw Error(file_ + ": axes: model: point " + std::to_string(point.index) +
                ": must be a model prefix (a string)");
  }
  return resolve_path(it->get<std::string>());
}

Json Space::resolve(const Json& base, const std::string& base_file, const Point& point) const {
  Json config = base;
  auto absolute = [](const std::string& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
  };
  // The base's energy table, relative to the base file (its default when absent).
  std::string table = config.contains("energy_table") && config["energy_table"].is_string()
                          ? config["energy_table"].get<std::string>()
                          : "energy/45nm_horowitz.json";
  if (table.empty() || table.front() != '/') {
    table = (std::filesystem::path(base_file).parent_path() / table).string();
  }
  config["energy_table"] = absolute(table);
  for (auto it = point.axes.begin(); it != point.axes.end(); ++it) {
    const std::string& field = it.key();
    if (field == kModelField) continue;
    Json* node = &config;
    size_t begin = 0;
    while (true) {
      const size_t dot = field.find('.', begin);
      const std::string name = field.substr(begin, dot == std::string::npos ? dot : dot - begin);
      if (node->is_null()) *node = Json::object();  // a section the base leaves to defaults
      if (!node->is_object()) {
        throw Error(file_ + ": axes: " + field + ": the base config's " +
                    field.substr(0, begin - 1) + " is not an object");
      }
      node = &(*node)[name];
      if (dot == std::string::npos) break;
      begin = dot + 1;
    }
    *node = it.value();
    if (field == "energy_table" && it.value().is_string()) {
      *node = absolute(resolve_path(it.value().get<std::string>()));
    }
  }
  return config;
}

}  // namespace bsnpu::sweep
