#include "core/model.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/json_fields.h"
#include "core/safetensors.h"
#include "core/sha256.h"

namespace bsnpu {

namespace {

using nlohmann::json;

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// Every tensor the manifest lists must be in the file with that dtype, shape and sha256.
void check_tensors(FieldReader& manifest, const SafetensorsFile& file) {
  FieldReader listed = manifest.required_object("tensors");
  for (const auto& item : listed.raw().items()) {
    const std::string& name = item.key();
    FieldReader info = listed.object(name);
    const std::string dtype = info.string("dtype", "", true);
    const auto shape = info.get<std::vector<int64_t>>("shape");
    const std::string sha256 = info.string("sha256", "", true);
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

OpKind op_kind(FieldReader& node) {
  static const std::map<std::string, OpKind> kKinds = {{"input", OpKind::Input},
                                                       {"conv", OpKind::Conv},
                                                       {"add", OpKind::Add},
                                                       {"avgpool", OpKind::AvgPool},
                                                       {"fc", OpKind::Fc}};
  const std::string kind = node.string("op", "", true);
  auto found = kKinds.find(kind);
  if (found == kKinds.end()) node.fail("op", "unknown op '" + kind + "'");
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
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(path +
                ": no such file (make the model with scripts/quantize.py, or pass --model PREFIX)");
  }
  std::ostringstream text;
  text << in.rdbuf();
  const json document = parse_json(text.str(), path);
  // Keys the loader does not read (provenance, logit_scale, ...) are allowed: no finish().
  FieldReader top(document, path, "");
  top.header("bsnpu-bwb-model", 1);
  top.expect_constant("code_bits", 8);
  model.act_bits_ = top.int_in("act_bits", 1, 16);
  model.accumulator_bits_ = top.int_in("accumulator_bits", 2, 32);
  const json& bits = top.require("bits");
  const auto bit_ok = [](const json& k) {
    return k.is_number_integer() && k.get<int64_t>() >= 1 && k.get<int64_t>() <= 8;
  };
  if (!bits.is_array() || !std::all_of(bits.begin(), bits.end(), bit_ok)) {
    top.fail("bits", "must be an array of integers in 1..8");
  }
  model.bits_ = bits.get<std::vector<int>>();
  const auto zero_point = top.required_object("input").get<std::vector<int32_t>>("zero_point");

  model.tensors_path_ = directory_of(path) + "/" + top.string("tensors_file", "", true);
  const SafetensorsFile file = SafetensorsFile::load(model.tensors_path_);
  check_tensors(top, file);
  model.tensors_sha256_ = sha256_hex(file.raw().data(), file.raw().size());

  std::map<std::string, int> producer;  // tensor name -> op index
  std::vector<FieldReader> graph = top.objects("graph", 1, "must be a non-empty array");
  for (size_t index = 0; index < graph.size(); ++index) {
    FieldReader& node = graph[index];
    Op op;
    op.name = node.string("name", "", true);
    op.kind = op_kind(node);
    op.output = node.string("output", "", true);
    auto input_index = [&](const std::string& tensor) {
      auto found = producer.find(tensor);
      if (found == producer.end()) node.fail("input", "unknown tensor '" + tensor + "'");
      return found->second;
    };
    const Op* first_input = nullptr;
    if (op.kind == OpKind::Add) {
      for (const auto& tensor : node.strings("input")) op.inputs.push_back(input_index(tensor));
      if (op.inputs.size() != 2) node.fail("input", "an add takes two inputs");
    } else if (op.kind != OpKind::Input) {
      op.inputs.push_back(input_index(node.string("input", "", true)));
      first_input = &model.ops_[static_cast<size_t>(op.inputs[0])];
    }
    switch (op.kind) {
      case OpKind::Input: {
        if (index != 0) node.fail("op", "'input' must be the first op");
        op.zero_point = zero_point;
        op.out_channels = op.in_channels = static_cast<int>(zero_point.size());
        const auto shape = node.get<std::vector<int>>("shape");
        if (shape.size() != 3 || shape[0] != op.out_channels || shape[1] != shape[2] ||
            shape[1] < 1) {
          node.fail("shape", "must be [channels, hw, hw] with one zero point per channel");
        }
        op.in_hw = op.out_hw = shape[1];
        break;
      }
      case OpKind::Conv:
      case OpKind::Fc: {
        const bool conv = op.kind == OpKind::Conv;
        if (conv) {
          op.in_channels = node.int_in("in_channels", 1, 1 << 16);
          op.out_channels = node.int_in("out_channels", 1, 1 << 16);
          op.kernel = node.int_in("kernel", 1, 15);
          op.stride = node.int_in("stride", 1, 15);
          op.pad = node.int_in("pad", 0, 15);
          op.in_hw = node.int_in("in_hw", 1, 4096);
          op.out_hw = node.int_in("out_hw", 1, 4096);
          op.relu = node.get<bool>("relu");
          if (op.out_hw != (op.in_hw + 2 * op.pad - op.kernel) / op.stride + 1) {
            node.fail("out_hw", "inconsistent with in_hw, kernel, stride and pad");
          }
        } else {
          op.in_channels = node.int_in("in_features", 1, 1 << 16);
          op.out_channels = node.int_in("out_features", 1, 1 << 16);
        }
        op.accumulator_bound_k8 = node.get<int64_t>("accumulator_bound_k8", int64_t{0});
        if (first_input->out_channels != op.in_channels ||
            (conv && first_input->out_hw != op.in_hw) || (!conv && first_input->out_hw != 1)) {
          node.fail("input", "shape does not match the op's input");
        }
        const bool from_image = first_input->kind == OpKind::Input;
        const bool signed_input = first_input->kind == OpKind::Conv && !first_input->relu;
        if (signed_input) node.fail("input", "a conv/fc input must be unsigned");
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
        op.in_channels = op.out_channels = node.int_in("channels", 1, 1 << 16);
        op.in_hw = op.out_hw = node.int_in("hw", 1, 4096);
        op.rescale_shortcut = node.get<bool>("rescale_shortcut");
        for (int input : op.inputs) {
          const Op& source = model.ops_[static_cast<size_t>(input)];
          if (source.out_channels != op.out_channels || source.out_hw != op.out_hw) {
            node.fail("input", "shape does not match the op's input");
          }
        }
        const Op& residual = model.ops_[static_cast<size_t>(op.inputs[0])];
        if (residual.kind != OpKind::Conv || residual.relu) {
          node.fail("input", "the residual must be a conv without relu");
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
        op.in_channels = op.out_channels = node.int_in("channels", 1, 1 << 16);
        op.in_hw = node.int_in("in_hw", 1, 4096);
        op.out_hw = 1;
        op.pool_mult = node.int_in("mult", std::numeric_limits<int32_t>::min(),
                                   std::numeric_limits<int32_t>::max());
        op.pool_shift = node.int_in("shift", 0, 62);
        if (first_input->out_channels != op.in_channels || first_input->out_hw != op.in_hw) {
          node.fail("input", "shape does not match the op's input");
        }
        break;
    }
    producer[op.output] = static_cast<int>(index);
    model.ops_.push_back(std::move(op));
  }
  if (model.ops_.back().kind != OpKind::Fc) top.fail("graph", "the last op must be the fc");
  return model;
}

}  // namespace bsnpu
