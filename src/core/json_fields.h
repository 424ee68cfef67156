// Reading the fields of a JSON file (NPU config, energy table, model manifest) with one-line
// errors that name the file and the dotted field path, e.g.
// "models/x.json: graph[3].kernel: must be an integer in 1..15".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace bsnpu {

// Parses `text`; any library error (syntax, a number too large for a double, ...) becomes one
// line "FILE: WHAT at FIELD: <the library's message>", FIELD being where the parser stopped
// (omitted at the top level). Nesting deeper than 64 levels is refused the same way.
nlohmann::json parse_json(const std::string& text, const std::string& file,
                          const std::string& what = "invalid JSON");

// Reads the fields of one JSON object, remembering which keys were consumed so that finish()
// can reject the unknown ones (a reader that never calls finish() tolerates them). Every error
// names the file and the dotted field path. The object must outlive the reader and its children.
class FieldReader {
 public:
  using json = nlohmann::json;

  FieldReader(const json& object, std::string file, std::string path);

  // Throws "FILE: PATH.KEY: WHY"; `key` is relative to this object ("" for the object itself).
  [[noreturn]] void fail(const std::string& key, const std::string& why) const;

  // The value at `key`, or nullptr when absent.
  const json* find(const std::string& key);
  // The value at `key`; fails "missing" when absent.
  const json& require(const std::string& key);

  // "format" and "version" must be exactly these.
  void header(const std::string& format, int version);
  // An integer constant must be a JSON integer ("version": 1.0 is refused).
  void expect_constant(const std::string& key, const json& expected);

  // Required, any type nlohmann can convert to T; else "has the wrong type (...)". Not for
  // numbers: nlohmann converts them unchecked (1e300 to int is undefined behaviour, 2.5 to int
  // truncates), so numbers go through the range-checked readers below.
  template <typename T>
  T get(const std::string& key) {
    static_assert(!std::is_arithmetic_v<T> || std::is_same_v<T, bool>,
                  "read numbers with int_in, integer_in, integers or number_in");
    const json& value = require(key);
    try {
      return value.get<T>();
    } catch (const json::exception&) {
      fail(key, "has the wrong type (" + std::string(value.type_name()) + ")");
    }
  }
  // Optional: `fallback` when absent.
  template <typename T>
  T get(const std::string& key, const T& fallback) {
    return find(key) ? get<T>(key) : fallback;
  }

  // Required integer in [low, high] (within int); else "must be an integer in LOW..HIGH".
  int int_in(const std::string& key, int64_t low, int64_t high);
  int64_t integer_in(const std::string& key, int64_t low, int64_t high);
  // Required array of min_size..max_size integers, each in [low, high].
  std::vector<int64_t> integers(const std::string& key, int64_t low, int64_t high, size_t min_size,
                                size_t max_size);
  // Optional integer in [min_value, 2^30] (min_value 0 or 1).
  int positive_int(const std::string& key, int fallback, int min_value = 1);
  // "unlimited" or an integer; returns -1 for unlimited.
  int positive_int_or_unlimited(const std::string& key, int fallback);
  double positive_number(const std::string& key, double fallback, bool allow_zero = false);
  // A number in [low, high]: keeps derived cycle counts and sc_time values far from overflow.
  // `range` spells the bounds for the message, e.g. "1..100000".
  double number_in(const std::string& key, double fallback, double low, double high,
                   const std::string& range);
  // "unlimited" or a positive number; returns -1 for unlimited.
  double positive_number_or_unlimited(const std::string& key, double fallback);
  std::string string(const std::string& key, const std::string& fallback, bool required = false);
  // A required non-empty array of strings.
  std::vector<std::string> strings(const std::string& key);

  // The object at `key` (an empty one when absent).
  FieldReader object(const std::string& key);
  FieldReader required_object(const std::string& key);
  // A required array of at least `min_size` objects, one reader each (paths KEY[i]); `why` is
  // the message when the value is not such an array.
  std::vector<FieldReader> objects(const std::string& key, size_t min_size, const std::string& why);

  const json& raw() const { return object_; }

  // Fails on the first key no reader method asked for.
  void finish() const;

 private:
  std::string field(const std::string& key) const;
  int64_t integer(const json& value, const std::string& key, int64_t low, int64_t high,
                  const std::string& why) const;

  const json& object_;
  std::string file_;
  std::string path_;
  std::set<std::string> seen_;
};

}  // namespace bsnpu
