#include "core/precision.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu {

namespace {

using nlohmann::json;

bool weighted(const Op& op) { return op.kind == OpKind::Conv || op.kind == OpKind::Fc; }

// "<where>: <field>: <why>" (no field for the value itself).
[[noreturn]] void fail(const std::string& where, const std::string& field, const std::string& why) {
  throw Error(where + ": " + (field.empty() ? "" : field + ": ") + why);
}

// One k of the JSON: an integer (not 8.0, not true) with parameters in the model.
int parse_k(const json& value, const Model& model, const std::string& where,
            const std::string& field) {
  const bool integer =
      value.is_number_integer() && !(value.is_number_unsigned() && value.get<uint64_t>() > 8);
  const int64_t k = integer ? value.get<int64_t>() : 0;
  if (!integer || k < 1 || k > 8) fail(where, field, "must be an integer k in 1..8");
  if (!model.has_bits(static_cast<int>(k))) {
    fail(where, field,
         "the model " + model.manifest_path() + " has no parameters for k=" + std::to_string(k));
  }
  return static_cast<int>(k);
}

}  // namespace

Precision Precision::checked(std::vector<int> k_by_op, const Model& model,
                             const std::string& where) {
  Precision precision(std::move(k_by_op));
  if (!precision.is_uniform() && !model.has_scales()) {
    fail(where, "",
         "a mixed precision needs the activation scales of every k (per_bits in " +
             model.manifest_path() + ")");
  }
  // Refuse here, naming the file, a vector whose re-targeted parameters would not fit.
  try {
    (void)requantization(model, precision);
  } catch (const Error& error) {
    fail(where, "", error.what());
  }
  return precision;
}

Precision Precision::uniform(const Model& model, int k) {
  if (!model.has_bits(k)) {
    throw Error(model.manifest_path() + ": no parameters for k=" + std::to_string(k));
  }
  std::vector<int> k_by_op;
  for (const Op& op : model.ops()) k_by_op.push_back(weighted(op) ? k : 0);
  return Precision(std::move(k_by_op));
}

Precision Precision::parse(const json& value, const Model& model, const std::string& where) {
  const std::vector<Op>& ops = model.ops();
  std::vector<int> k_by_op(ops.size(), 0);
  size_t weighted_ops = 0;
  for (const Op& op : ops) weighted_ops += weighted(op);
  if (value.is_number()) {
    const int k = parse_k(value, model, where, "");
    for (size_t i = 0; i < ops.size(); ++i) k_by_op[i] = weighted(ops[i]) ? k : 0;
  } else if (value.is_array()) {
    if (value.size() != weighted_ops) {
      fail(where, "",
           "an array of k must have one entry per conv and fc of the model (" +
               std::to_string(weighted_ops) + "), not " + std::to_string(value.size()));
    }
    size_t next = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!weighted(ops[i])) continue;
      k_by_op[i] = parse_k(value[next], model, where, "[" + std::to_string(next) + "]");
      ++next;
    }
  } else if (value.is_object()) {
    for (const auto& item : value.items()) {
      if (item.key() != "default" && item.key() != "layers") {
        fail(where, printable(item.key()), "unknown key (expected \"default\" and \"layers\")");
      }
    }
    const int fallback =
        value.contains("default") ? parse_k(value.at("default"), model, where, "default") : 0;
    if (value.contains("layers")) {
      const json& layers = value.at("layers");
      if (!layers.is_object()) fail(where, "layers", "must be an object of layer name -> k");
      for (const auto& item : layers.items()) {
        const std::string field = "layers." + printable(item.key());
        auto found = std::find_if(ops.begin(), ops.end(), [&](const Op& op) {
          return weighted(op) && op.name == item.key();
        });
        if (found == ops.end()) fail(where, field, "not a conv or fc of the model");
        k_by_op[static_cast<size_t>(found - ops.begin())] =
            parse_k(item.value(), model, where, field);
      }
    }
    for (size_t i = 0; i < ops.size(); ++i) {
      if (!weighted(ops[i]) || k_by_op[i] != 0) continue;
      if (fallback == 0) {
        fail(where, "default",
             "missing, and layers does not name every conv and fc (not " + ops[i].name + ")");
      }
      k_by_op[i] = fallback;
    }
  } else {
    fail(where, "",
         "must be an integer k, an array of k (one per conv and fc) or an object "
         "{\"default\": k, \"layers\": {name: k}}, not " +
             std::string(value.type_name()));
  }
  return checked(std::move(k_by_op), model, where);
}

Precision Precision::load(const std::string& path, const Model& model) {
  const std::string text =
      read_text_file(path, kMaxJsonFileBytes, "a precision file", "no such file");
  return parse(parse_json(text, path), model, path);
}

int Precision::k(size_t op) const {
  if (op >= k_.size()) {
    throw Error("precision: op " + std::to_string(op) + " of a vector of " +
                std::to_string(k_.size()) + " ops");
  }
  return k_[op];
}

int Precision::max_k() const { return k_.empty() ? 0 : *std::max_element(k_.begin(), k_.end()); }

bool Precision::is_uniform() const {
  const int top = max_k();
  return std::all_of(k_.begin(), k_.end(), [&](int k) { return k == 0 || k == top; });
}

std::string Precision::label() const {
  if (is_uniform()) return std::to_string(max_k());
  std::string out;
  for (int k : k_) {
    if (k == 0) continue;
    out += (out.empty() ? "" : "-") + std::to_string(k);
  }
  return out;
}

json Precision::to_json() const {
  if (is_uniform()) return max_k();
  json out = json::array();
  for (int k : k_) {
    if (k != 0) out.push_back(k);
  }
  return out;
}

double Precision::mean_planes(const Model& model) const {
  double macs = 0, planes = 0;
  for (size_t i = 0; i < model.ops().size(); ++i) {
    const Op& op = model.ops()[i];
    if (!weighted(op)) continue;
    const double op_macs = static_cast<double>(op.out_channels) * op.fan_in() * op.out_spatial();
    macs += op_macs;
    planes += op_macs * k(i);
  }
  return macs > 0 ? planes / macs : 0;
}

std::vector<PlaneRange> Precision::plane_ranges() const {
  std::vector<PlaneRange> ranges;
  for (int k : k_) ranges.push_back(PlaneRange{0, k});
  return ranges;
}

Requant retarget(const Requant& requant, double mult_factor, double offset_factor,
                 const std::string& where) {
  if (!(std::isfinite(mult_factor) && mult_factor > 0 && std::isfinite(offset_factor) &&
        offset_factor > 0)) {
    throw Error(where + ": re-targeting factor is not a positive number");
  }
  constexpr double kMultLimit = 0x1p31, kOffsetLimit = 0x1p61;
  Requant out = requant;
  for (size_t o = 0; o < requant.mult.size(); ++o) {
    const bool has_offset = o < requant.offset.size();
    // d: the shift change, lowered from 0 until the scaled parameters fit their bounds. A
    // parameter whose factor is exactly 1 keeps its value while d = 0.
    for (int d = 0;; --d) {
      const int shift = requant.shift[o] + d;
      if (shift < 0) {
        throw Error(where + ": re-targeted requantization of channel " + std::to_string(o) +
                    " does not fit |M| < 2^31, |C| < 2^61 for any shift");
      }
      const double mult =
          mult_factor == 1.0 && d == 0
              ? static_cast<double>(requant.mult[o])
              : std::round(static_cast<double>(requant.mult[o]) * mult_factor * std::ldexp(1.0, d));
      if (std::fabs(mult) >= kMultLimit) continue;
      out.mult[o] = static_cast<int32_t>(mult);
      out.shift[o] = shift;
      if (!has_offset || (offset_factor == 1.0 && d == 0)) break;
      const double offset =
          std::round(static_cast<double>(requant.offset[o]) * offset_factor * std::ldexp(1.0, d));
      if (std::fabs(offset) >= kOffsetLimit) continue;
      out.offset[o] = static_cast<int64_t>(offset);
      break;
    }
  }
  return out;
}

std::vector<Requant> requantization(const Model& model, const Precision& precision) {
  const std::vector<Op>& ops = model.ops();
  if (precision.ops() != ops.size()) {
    throw Error(model.manifest_path() + ": a precision of " + std::to_string(precision.ops()) +
                " ops for a model of " + std::to_string(ops.size()));
  }
  // The add each op feeds (-1: none).
  std::vector<int> feeds_add(ops.size(), -1);
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind != OpKind::Add) continue;
    for (int input : ops[i].inputs) feeds_add[static_cast<size_t>(input)] = static_cast<int>(i);
  }
  // The k whose calibration scale each op's output really has (0: the input image, the same at
  // every k). An add runs at the k of its residual conv, and so does the conv output it reads.
  std::vector<int> tensor_k(ops.size(), 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    switch (op.kind) {
      case OpKind::Input:
        break;
      case OpKind::Conv:
        tensor_k[i] = op.relu || feeds_add[i] < 0
                          ? precision.k(i)
                          : precision.k(static_cast<size_t>(
                                ops[static_cast<size_t>(feeds_add[i])].inputs[0]));
        break;
      case OpKind::Fc:
        tensor_k[i] = precision.k(i);
        break;
      case OpKind::Add:
        tensor_k[i] = precision.k(static_cast<size_t>(op.inputs[0]));
        break;
      case OpKind::AvgPool:
        tensor_k[i] = tensor_k[static_cast<size_t>(op.inputs[0])];
        break;
    }
  }
  // s(k_actual) / s(k_assumed) of op `index`'s output scale.
  const auto ratio = [&](size_t index, int actual, int assumed) {
    if (actual == 0 || actual == assumed) return 1.0;
    const Op& op = ops[index];
    if (op.scale.size() < 8 || !(op.scale[static_cast<size_t>(actual - 1)] > 0) ||
        !(op.scale[static_cast<size_t>(assumed - 1)] > 0)) {
      throw Error(model.manifest_path() + ": " + op.name +
                  ": no activation scale at k=" + std::to_string(actual) +
                  " and k=" + std::to_string(assumed) + " (mixed precision needs per_bits)");
    }
    return op.scale[static_cast<size_t>(actual - 1)] / op.scale[static_cast<size_t>(assumed - 1)];
  };
  std::vector<Requant> out(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    const std::string where = model.manifest_path() + ": " + op.name;
    if (weighted(op)) {
      const int k = precision.k(i);
      const size_t input = static_cast<size_t>(op.inputs[0]);
      // The input's real scale over the one this k's parameters assume, then (a downsample conv
      // feeding an add at another k) this k's output scale over the add's.
      double mult_factor = ratio(input, tensor_k[input], k);
      double offset_factor = 1.0;
      if (tensor_k[i] != k) {
        offset_factor = ratio(i, k, tensor_k[i]);
        mult_factor *= offset_factor;
      }
      out[i] = retarget(op.requant_at(k), mult_factor, offset_factor, where);
    } else if (op.kind == OpKind::Add && op.rescale_shortcut) {
      const int k = tensor_k[i];
      const size_t shortcut = static_cast<size_t>(op.inputs[1]);
      out[i] = retarget(op.requant_at(k), ratio(shortcut, tensor_k[shortcut], k), 1.0, where);
    }
  }
  return out;
}

}  // namespace bsnpu
