// Per-layer precision: how many weight planes each conv and the fc of a Model process (a "k
// vector"), its JSON forms, and the requantization parameters every op then runs with. A mixed
// vector uses each layer's own-k BN set with its multiplier (and, for a downsample conv feeding an
// add at another k, its offset) re-targeted to the activation scales its tensors really have;
// docs/arithmetic.md ("Mixed precision") specifies the integer re-targeting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/model.h"

namespace bsnpu {

// Weight planes (first, last] of one op, MSB first: (0, k] is a plain run at k.
struct PlaneRange {
  int first = 0;
  int last = 8;
  int planes() const { return last - first; }
};

class Precision {
 public:
  Precision() = default;  // no ops; assign a uniform or parsed one before use
  // Every weighted op at k; throws bsnpu::Error if the model has no parameters for k.
  static Precision uniform(const Model& model, int k);
  // JSON value: an integer k; or an object {"default": k, "layers": {"conv1": 8, ...}} (names =
  // weighted ops of the model: convs and fc; "default" may be left out when "layers" names them
  // all); or an array of k, one per weighted op in graph order. Every k must have parameters in
  // the model, and a mixed vector needs the manifest's activation scales. Throws bsnpu::Error
  // "<where>: <field>: ..." on anything else.
  static Precision parse(const nlohmann::json& value, const Model& model, const std::string& where);
  // Precision::parse of the JSON text of a file (`path` names it in errors).
  static Precision load(const std::string& path, const Model& model);

  size_t ops() const { return k_.size(); }
  int k(size_t op) const;  // planes of op `op` (0 for ops without weights)
  int max_k() const;
  bool is_uniform() const;  // every weighted op has the same k
  // "8" when uniform, else the k of each weighted op in graph order joined by "-" ("8-8-4-...-2").
  std::string label() const;
  nlohmann::json to_json() const;  // an int when uniform, else the array form
  // MAC-weighted mean planes over the weighted ops (the "average bits").
  double mean_planes(const Model& model) const;
  // Planes (0, k] of every op (the schedule's per-op ranges; (0, 0] for ops without weights).
  std::vector<PlaneRange> plane_ranges() const;
  bool operator==(const Precision& other) const { return k_ == other.k_; }

 private:
  explicit Precision(std::vector<int> k_by_op) : k_(std::move(k_by_op)) {}
  static Precision checked(std::vector<int> k_by_op, const Model& model, const std::string& where);
  std::vector<int> k_;  // by op index; 0 for ops without weights
};

// The requantization each op runs with under `precision`, by op index: a conv or the fc its
// per-channel (M, C, S), an add with a rescaled shortcut its scalar (M, S), other ops nothing.
// Identical to Op::requant_at(k) for every op when the precision is uniform at k. Throws
// bsnpu::Error (naming the model's manifest and the op) if a re-targeted parameter cannot keep
// the overflow bounds of docs/arithmetic.md.
std::vector<Requant> requantization(const Model& model, const Precision& precision);

// M, C of `requant` scaled by the real factors (M by mult_factor, C by offset_factor) with the
// shifts adjusted so that |M'| < 2^31, |C'| < 2^61 and S' in 0..62 (docs/arithmetic.md, "Mixed
// precision"); a factor of exactly 1 leaves its parameter as it is. `where` names the layer in
// errors.
Requant retarget(const Requant& requant, double mult_factor, double offset_factor,
                 const std::string& where);

}  // namespace bsnpu
