#include "core/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace bsnpu {

using nlohmann::json;

json parse_json(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    std::string what = error.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw Error(file + ": invalid JSON: " + what);
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
  return path_.empty() ? key : path_ + "." + key;
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
  if (*value != expected) fail(key, "must be " + expected.dump());
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
