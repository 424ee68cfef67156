#include "core/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bsnpu {

using nlohmann::json;

namespace {

constexpr int kMaxJsonDepth = 64;

// Where the parser is, as a dotted field path ("graph[3].kernel"), kept up to date from the
// parser's callback so that a syntax error or an out-of-range number can name its field.
class PathTracker {
 public:
  bool on_event(json::parse_event_t event, const json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames_.push_back({event == json::parse_event_t::array_start, 0, ""});
        if (frames_.size() > kMaxJsonDepth) {
          throw DepthError{};
        }
        break;
      case json::parse_event_t::key:
        frames_.back().key = parsed.get<std::string>();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames_.pop_back();
        advance();
        break;
      case json::parse_event_t::value:
        advance();
        break;
    }
    return true;
  }
  std::string path() const {
    std::string out;
    for (const Frame& frame : frames_) {
      if (frame.array) {
        out += "[" + std::to_string(frame.index) + "]";
      } else if (!frame.key.empty()) {
        out += (out.empty() ? "" : ".") + printable(frame.key, 40);
      }
    }
    return printable(out, 200);
  }
  struct DepthError {};

 private:
  // A value is complete: the next error is at the next element, or between keys.
  void advance() {
    if (frames_.empty()) return;
    if (frames_.back().array) {
      ++frames_.back().index;
    } else {
      frames_.back().key.clear();
    }
  }
  struct Frame {
    bool array;
    size_t index;
    std::string key;
  };
  std::vector<Frame> frames_;
};

}  // namespace

json parse_json(const std::string& text, const std::string& file, const std::string& what) {
  PathTracker tracker;
  const auto where = [&] {
    const std::string path = tracker.path();
    return file + ": " + what + (path.empty() ? "" : " at " + path) + ": ";
  };
  try {
    return json::parse(text, [&](int, json::parse_event_t event, json& parsed) {
      return tracker.on_event(event, parsed);
    });
  } catch (const PathTracker::DepthError&) {
    throw Error(where() + "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const json::exception& error) {
    // Drop the library's "[json.exception.parse_error.101] " tag; keep its explanation.
    std::string message = error.what();
    if (!message.empty() && message.front() == '[') {
      const size_t close = message.find("] ");
      if (close != std::string::npos) message.erase(0, close + 2);
    }
    throw Error(where() + message);
  }
}

FieldReader::FieldReader(const json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object()) fail("", "must be an object");
}

void FieldReader::fail(const std::string& key, const std::string& why) const {
  throw Error(file_ + ": " + field(key) + ": " + why);
}

std::string FieldReader::field(const std::string& key) const {
  if (key.empty()) return path_.empty() ? "(top level)" : path_;
  const std::string shown = printable(key, 64);  // keys come from the file: any bytes, any length
  return path_.empty() ? shown : path_ + "." + shown;
}

const json* FieldReader::find(const std::string& key) {
  seen_.insert(key);
  auto it = object_.find(key);
  return it == object_.end() ? nullptr : &*it;
}

const json& FieldReader::require(const std::string& key) {
  const json* value = find(key);
  if (!value) fail(key, "missing");
  return *value;
}

void FieldReader::header(const std::string& format, int version) {
  expect_constant("format", format);
  expect_constant("version", version);
}

void FieldReader::expect_constant(const std::string& key, const json& expected) {
  const json* value = find(key);
  if (!value) fail(key, "missing (expected " + expected.dump() + ")");
  // 1.0 == 1 for nlohmann: an integer constant (a version) must be written as an integer.
  const bool same_kind = !expected.is_number_integer() || value->is_number_integer();
  if (*value != expected || !same_kind) {
    fail(key, std::string(expected.is_number_integer() ? "must be the integer " : "must be ") +
                  expected.dump());
  }
}

int64_t FieldReader::integer(const json& value, const std::string& key, int64_t low, int64_t high,
                             const std::string& why) const {
  const bool in_int64 =
      value.is_number_integer() &&
      !(value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!in_int64 || value.get<int64_t>() < low || value.get<int64_t>() > high) fail(key, why);
  return value.get<int64_t>();
}

int FieldReader::int_in(const std::string& key, int64_t low, int64_t high) {
  return static_cast<int>(
      integer(require(key), key, low, high,
              "must be an integer in " + std::to_string(low) + ".." + std::to_string(high)));
}

int64_t FieldReader::integer_in(const std::string& key, int64_t low, int64_t high) {
  return integer(require(key), key, low, high,
                 "must be an integer in " + std::to_string(low) + ".." + std::to_string(high));
}

std::vector<int64_t> FieldReader::integers(const std::string& key, int64_t low, int64_t high,
                                           size_t min_size, size_t max_size) {
  const json& value = require(key);
  const std::string why =
      "must be an array of " +
      (min_size == max_size ? std::to_string(min_size)
                            : std::to_string(min_size) + ".." + std::to_string(max_size)) +
      " integers in " + std::to_string(low) + ".." + std::to_string(high);
  if (!value.is_array() || value.size() < min_size || value.size() > max_size) fail(key, why);
  std::vector<int64_t> values;
  for (const json& item : value) values.push_back(integer(item, key, low, high, why));
  return values;
}

int FieldReader::positive_int(const std::string& key, int fallback, int min_value) {
  const json* value = find(key);
  if (!value) return fallback;
  return static_cast<int>(
      integer(*value, key, min_value, int64_t{1} << 30,
              min_value == 0 ? "must be a non-negative integer" : "must be a positive integer"));
}

int FieldReader::positive_int_or_unlimited(const std::string& key, int fallback) {
  const json* value = find(key);
  if (value && value->is_string() && value->get<std::string>() == "unlimited") return -1;
  if (value && !value->is_number_integer()) {
    fail(key, "must be a positive integer or \"unlimited\"");
  }
  return positive_int(key, fallback);
}

double FieldReader::positive_number(const std::string& key, double fallback, bool allow_zero) {
  const json* value = find(key);
  if (!value) return fallback;
  if (!value->is_number() || !std::isfinite(value->get<double>()) || value->get<double>() < 0 ||
      (!allow_zero && value->get<double>() == 0)) {
    fail(key, allow_zero ? "must be a non-negative number" : "must be a positive number");
  }
  return value->get<double>();
}

double FieldReader::number_in(const std::string& key, double fallback, double low, double high,
                              const std::string& range) {
  const json* value = find(key);
  if (!value) return fallback;
  if (!value->is_number() || !(value->get<double>() >= low && value->get<double>() <= high)) {
    fail(key, "must be a number in " + range);
  }
  return value->get<double>();
}

double FieldReader::positive_number_or_unlimited(const std::string& key, double fallback) {
  const json* value = find(key);
  if (value && value->is_string() && value->get<std::string>() == "unlimited") return -1;
  if (value && !value->is_number()) fail(key, "must be a positive number or \"unlimited\"");
  return positive_number(key, fallback);
}

std::string FieldReader::string(const std::string& key, const std::string& fallback,
                                bool required) {
  const json* value = required ? &require(key) : find(key);
  if (!value) return fallback;
  if (!value->is_string()) fail(key, "must be a string");
  return value->get<std::string>();
}

std::vector<std::string> FieldReader::strings(const std::string& key) {
  const json& value = require(key);
  const bool all_strings =
      std::all_of(value.begin(), value.end(), [](const json& item) { return item.is_string(); });
  if (!value.is_array() || value.empty() || !all_strings) {
    fail(key, "must be a non-empty array of strings");
  }
  return value.get<std::vector<std::string>>();
}

FieldReader FieldReader::object(const std::string& key) {
  static const json empty = json::object();
  const json* value = find(key);
  return FieldReader(value ? *value : empty, file_, field(key));
}

FieldReader FieldReader::required_object(const std::string& key) {
  require(key);
  return object(key);
}

std::vector<FieldReader> FieldReader::objects(const std::string& key, size_t min_size,
                                              const std::string& why) {
  const json& value = require(key);
  if (!value.is_array() || value.size() < min_size) fail(key, why);
  std::vector<FieldReader> readers;
  for (size_t i = 0; i < value.size(); ++i) {
    readers.emplace_back(value[i], file_, field(key) + "[" + std::to_string(i) + "]");
  }
  return readers;
}

void FieldReader::finish() const {
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (!seen_.count(it.key())) fail(it.key(), "unknown key");
  }
}

}  // namespace bsnpu
