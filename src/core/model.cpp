#include "core/model.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/sha256.h"

namespace bsnpu {

namespace {

using nlohmann::json;

// Manifest field access with one-line errors naming the file and the field.
class Manifest {
 public:
  Manifest(std::string path, json root) : path_(std::move(path)), root_(std::move(root)) {}

  const json& field(const json& object, const std::string& key, const std::string& where) const {
    if (!object.is_object() || !object.contains(key)) fail(where + key, "missing");
    return object.at(key);
  }
  template <typename T>
  T get(const json& object, const std::string& key, const std::string& where = "") const {
    const json& value = field(object, key, where);
    try {
      return value.get<T>();
    } catch (const json::exception&) {
      fail(where + key, "has the wrong type (" + std::string(value.type_name()) + ")");
    }
  }
  int get_int(const json& object, const std::string& key, const std::string& where, int low,
              int high) const {
    const int64_t value = get<int64_t>(object, key, where);
    if (value < low || value > high) {
      fail(where + key, std::to_string(value) + " is outside " + std::to_string(low) + ".." +
                            std::to_string(high));
    }
    return static_cast<int>(value);
  }
  [[noreturn]] void fail(const std::string& field_name, const std::string& what) const {
    throw Error(path_ + ": " + field_name + ": " + what);
  }
  const json& root() const { return root_; }

 private:
  std::string path_;
  json root_;
};

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// Every tensor the manifest lists must be in the file with that dtype, shape and sha256.
void check_tensors(const Manifest& manifest, const SafetensorsFile& file) {
  const json& listed = manifest.field(manifest.root(), "tensors", "");
  if (!listed.is_object()) manifest.fail("tensors", "is not an object");
  for (const auto& [name, info] : listed.items()) {
    const std::string where = "tensors." + name + ".";
    const auto dtype = manifest.get<std::string>(info, "dtype", where);
    const auto shape = manifest.get<std::vector<int64_t>>(info, "shape", where);
    const auto sha256 = manifest.get<std::string>(info, "sha256", where);
    auto found = file.tensors().find(name);
    if (found == file.tensors().end()) {
      throw Error(file.path() + ": tensor '" + name + "' listed in the manifest is missing");
    }
    const TensorView& view = found->second;
    if (view.dtype != dtype) {
      throw Error(file.path() + ": tensor '" + name + "' has dtype " + view.dtype +
                  ", manifest says " + dtype);
    }
    if (view.shape != shape) {
      throw Error(file.path() + ": tensor '" + name + "' has shape " + json(view.shape).dump() +
                  ", manifest says " + json(shape).dump());
    }
    if (sha256_hex(view.data, view.bytes) != sha256) {
      throw Error(file.path() + ": tensor '" + name + "' fails its sha256 check (corrupt file)");
    }
  }
}

OpKind op_kind(const Manifest& manifest, const std::string& kind, const std::string& where) {
  static const std::map<std::string, OpKind> kKinds = {{"input", OpKind::Input},
                                                       {"conv", OpKind::Conv},
                                                       {"add", OpKind::Add},
                                                       {"avgpool", OpKind::AvgPool},
                                                       {"fc", OpKind::Fc}};
  auto found = kKinds.find(kind);
  if (found == kKinds.end()) manifest.fail(where + "op", "unknown op '" + kind + "'");
  return found->second;
}

// Per-k requantization tensors k<k>.<name>.{mult,offset,shift} (offset optional for an add).
Requant load_requant(const SafetensorsFile& file, const std::string& name, int k, int64_t channels,
                     bool with_offset) {
  const std::string prefix = "k" + std::to_string(k) + "." + name + ".";
  Requant requant;
  requant.mult = file.copy<int32_t>(prefix + "mult", "I32", channels);
  requant.shift = file.copy<int32_t>(prefix + "shift", "I32", channels);
  if (with_offset) requant.offset = file.copy<int64_t>(prefix + "offset", "I64", channels);
  for (int32_t shift : requant.shift) {
    if (shift < 0 || shift > 62) {
      throw Error(file.path() + ": tensor '" + prefix + "shift': shift " + std::to_string(shift) +
                  " outside 0..62");
    }
  }
  return requant;
}

}  // namespace

int Op::out_c() const { return out_channels; }

int Op::out_spatial() const { return out_hw * out_hw; }

const Requant& Op::requant_at(int k) const {
  if (k < 1 || k > static_cast<int>(requant.size()) ||
      requant[static_cast<size_t>(k - 1)].mult.empty()) {
    throw Error(name + ": no requantization parameters at k=" + std::to_string(k));
  }
  return requant[static_cast<size_t>(k - 1)];
}

Model Model::from_ops(std::vector<Op> ops, int act_bits, int accumulator_bits,
                      std::vector<int> bits) {
  Model model;
  model.ops_ = std::move(ops);
  model.act_bits_ = act_bits;
  model.accumulator_bits_ = accumulator_bits;
  model.bits_ = std::move(bits);
  model.manifest_path_ = "(in memory)";
  return model;
}

int Model::num_classes() const { return ops_.back().out_channels; }

bool Model::has_bits(int k) const {
  for (int b : bits_) {
    if (b == k) return true;
  }
  return false;
}

Model Model::load(const std::string& prefix) {
  Model model;
  model.manifest_path_ = prefix + ".json";
  const std::string& path = model.manifest_path_;
  std::ifstream in(path);
  if (!in) {
    throw Error(path +
                ": no such file (make the model with scripts/quantize.py, or pass --model PREFIX)");
  }
  json root;
  try {
    root = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(path + ": malformed JSON (" + e.what() + ")");
  }
  const Manifest manifest(path, root);
  if (manifest.get<std::string>(root, "format") != "bsnpu-bwb-model") {
    manifest.fail("format", "is not 'bsnpu-bwb-model'");
  }
  if (manifest.get<int64_t>(root, "version") != 1) manifest.fail("version", "unsupported (not 1)");
  if (manifest.get_int(root, "code_bits", "", 8, 8) != 8) manifest.fail("code_bits", "must be 8");
  model.act_bits_ = manifest.get_int(root, "act_bits", "", 1, 16);
  model.accumulator_bits_ = manifest.get_int(root, "accumulator_bits", "", 2, 32);
  model.logit_scale_ = manifest.get<double>(root, "logit_scale");
  for (const auto& k : manifest.field(root, "bits", "")) {
    if (!k.is_number_integer() || k.get<int>() < 1 || k.get<int>() > 8) {
      manifest.fail("bits", "entries must be integers in 1..8");
    }
    model.bits_.push_back(k.get<int>());
  }
  const auto zero_point =
      manifest.get<std::vector<int32_t>>(manifest.field(root, "input", ""), "zero_point", "input.");

  model.tensors_path_ = directory_of(path) + "/" + manifest.get<std::string>(root, "tensors_file");
  const SafetensorsFile file = SafetensorsFile::load(model.tensors_path_);
  check_tensors(manifest, file);
  model.tensors_sha256_ = sha256_hex(file.raw().data(), file.raw().size());

  std::map<std::string, int> producer;  // tensor name -> op index
  const json& graph = manifest.field(root, "graph", "");
  if (!graph.is_array() || graph.empty()) manifest.fail("graph", "is not a non-empty array");
  for (size_t index = 0; index < graph.size(); ++index) {
    const json& node = graph[index];
    const std::string where = "graph[" + std::to_string(index) + "].";
    Op op;
    op.name = manifest.get<std::string>(node, "name", where);
    op.kind = op_kind(manifest, manifest.get<std::string>(node, "op", where), where);
    op.output = manifest.get<std::string>(node, "output", where);
    auto input_index = [&](const std::string& tensor) {
      auto found = producer.find(tensor);
      if (found == producer.end())
        manifest.fail(where + "input", "unknown tensor '" + tensor + "'");
      return found->second;
    };
    const Op* first_input = nullptr;
    if (op.kind == OpKind::Add) {
      for (const auto& tensor : manifest.get<std::vector<std::string>>(node, "input", where)) {
        op.inputs.push_back(input_index(tensor));
      }
      if (op.inputs.size() != 2) manifest.fail(where + "input", "an add takes two inputs");
    } else if (op.kind != OpKind::Input) {
      op.inputs.push_back(input_index(manifest.get<std::string>(node, "input", where)));
      first_input = &model.ops_[static_cast<size_t>(op.inputs[0])];
    }
    switch (op.kind) {
      case OpKind::Input: {
        if (index != 0) manifest.fail(where + "op", "'input' must be the first op");
        op.zero_point = zero_point;
        op.out_channels = op.in_channels = static_cast<int>(zero_point.size());
        const auto shape = manifest.get<std::vector<int>>(node, "shape", where);
        if (shape.size() != 3 || shape[0] != op.out_channels || shape[1] != shape[2] ||
            shape[1] < 1) {
          manifest.fail(where + "shape",
                        "must be [channels, hw, hw] with one zero point per channel");
        }
        op.in_hw = op.out_hw = shape[1];
        break;
      }
      case OpKind::Conv:
      case OpKind::Fc: {
        const bool conv = op.kind == OpKind::Conv;
        if (conv) {
          op.in_channels = manifest.get_int(node, "in_channels", where, 1, 1 << 16);
          op.out_channels = manifest.get_int(node, "out_channels", where, 1, 1 << 16);
          op.kernel = manifest.get_int(node, "kernel", where, 1, 15);
          op.stride = manifest.get_int(node, "stride", where, 1, 15);
          op.pad = manifest.get_int(node, "pad", where, 0, 15);
          op.in_hw = manifest.get_int(node, "in_hw", where, 1, 4096);
          op.out_hw = manifest.get_int(node, "out_hw", where, 1, 4096);
          op.relu = manifest.get<bool>(node, "relu", where);
          if (op.out_hw != (op.in_hw + 2 * op.pad - op.kernel) / op.stride + 1) {
            manifest.fail(where + "out_hw", "inconsistent with in_hw, kernel, stride and pad");
          }
        } else {
          op.in_channels = manifest.get_int(node, "in_features", where, 1, 1 << 16);
          op.out_channels = manifest.get_int(node, "out_features", where, 1, 1 << 16);
        }
        if (node.contains("accumulator_bound_k8")) {
          op.accumulator_bound_k8 = manifest.get<int64_t>(node, "accumulator_bound_k8", where);
        }
        if (first_input->out_channels != op.in_channels ||
            (conv && first_input->out_hw != op.in_hw) || (!conv && first_input->out_hw != 1)) {
          manifest.fail(where + "input", "shape does not match the op's input");
        }
        const bool from_image = first_input->kind == OpKind::Input;
        const bool signed_input = first_input->kind == OpKind::Conv && !first_input->relu;
        if (signed_input) manifest.fail(where + "input", "a conv/fc input must be unsigned");
        op.pad_value.assign(static_cast<size_t>(op.in_channels), 0);
        if (from_image) op.pad_value = first_input->zero_point;
        const int64_t weights = int64_t{op.out_channels} * op.fan_in();
        op.codes = file.copy<uint8_t>(op.name + ".codes", "U8", weights);
        op.alpha = file.copy<float>(op.name + ".alpha", "F32", op.out_channels);
        op.requant.resize(8);
        for (int k : model.bits_) {
          op.requant[static_cast<size_t>(k - 1)] =
              load_requant(file, op.name, k, op.out_channels, true);
        }
        break;
      }
      case OpKind::Add: {
        op.in_channels = op.out_channels = manifest.get_int(node, "channels", where, 1, 1 << 16);
        op.in_hw = op.out_hw = manifest.get_int(node, "hw", where, 1, 4096);
        op.rescale_shortcut = manifest.get<bool>(node, "rescale_shortcut", where);
        for (int input : op.inputs) {
          const Op& source = model.ops_[static_cast<size_t>(input)];
          if (source.out_channels != op.out_channels || source.out_hw != op.out_hw) {
            manifest.fail(where + "input", "shape does not match the op's input");
          }
        }
        const Op& residual = model.ops_[static_cast<size_t>(op.inputs[0])];
        if (residual.kind != OpKind::Conv || residual.relu) {
          manifest.fail(where + "input", "the residual must be a conv without relu");
        }
        if (op.rescale_shortcut) {
          op.requant.resize(8);
          for (int k : model.bits_) {
            op.requant[static_cast<size_t>(k - 1)] = load_requant(file, op.name, k, 1, false);
          }
        }
        break;
      }
      case OpKind::AvgPool:
        op.in_channels = op.out_channels = manifest.get_int(node, "channels", where, 1, 1 << 16);
        op.in_hw = manifest.get_int(node, "in_hw", where, 1, 4096);
        op.out_hw = 1;
        op.pool_mult = manifest.get<int32_t>(node, "mult", where);
        op.pool_shift = manifest.get_int(node, "shift", where, 0, 62);
        if (first_input->out_channels != op.in_channels || first_input->out_hw != op.in_hw) {
          manifest.fail(where + "input", "shape does not match the op's input");
        }
        break;
    }
    producer[op.output] = static_cast<int>(index);
    model.ops_.push_back(std::move(op));
  }
  if (model.ops_.back().kind != OpKind::Fc) manifest.fail("graph", "the last op must be the fc");
  return model;
}

}  // namespace bsnpu
