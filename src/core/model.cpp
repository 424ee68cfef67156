#include "core/model.h"

#include <algorithm>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "core/arith.h"
#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"
#include "core/safetensors.h"
#include "core/sha256.h"

namespace bsnpu {

namespace {

using nlohmann::json;

// Sane sizes of one op, far above ResNet-18's (64 x 32 x 32 activations, 512 x 512 x 9 codes),
// far below what would overflow the kernels' index arithmetic or exhaust memory.
constexpr int64_t kMaxOpActivations = int64_t{1} << 24;  // out_channels x out_hw x out_hw
constexpr int64_t kMaxOpWeights = int64_t{1} << 28;      // out_channels x in_channels x k x k
// |offset| <= 2^62 keeps acc x mult + offset (|acc| < 2^31, |mult| <= 2^31) inside int64.
constexpr int64_t kMaxRequantOffset = int64_t{1} << 62;

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string shape_text(const std::vector<int64_t>& shape) { return json(shape).dump(); }

// Every tensor the manifest lists must be in the file with that dtype, shape and sha256, and
// every tensor of the file must be listed (so that every byte the model reads was checked).
void check_tensors(FieldReader& manifest, const SafetensorsFile& file) {
  FieldReader listed = manifest.required_object("tensors");
  for (const auto& item : listed.raw().items()) {
    const std::string& name = item.key();
    FieldReader info = listed.object(name);
    const std::string dtype = info.string("dtype", "", true);
    const std::vector<int64_t> shape =
        info.integers("shape", 0, std::numeric_limits<int64_t>::max(), 0, 16);
    const std::string sha256 = info.string("sha256", "", true);
    auto found = file.tensors().find(name);
    const std::string tensor = file.path() + ": tensor '" + printable(name) + "'";
    if (found == file.tensors().end()) throw Error(tensor + " listed in the manifest is missing");
    const TensorView& view = found->second;
    if (view.dtype != dtype) {
      throw Error(tensor + " has dtype " + view.dtype + ", manifest says " + printable(dtype));
    }
    if (view.shape != shape) {
      throw Error(tensor + " has shape " + shape_text(view.shape) + ", manifest says " +
                  shape_text(shape));
    }
    if (sha256_hex(view.data, view.bytes) != sha256) {
      throw Error(tensor + " fails its sha256 check (corrupt file)");
    }
  }
  for (const auto& [name, view] : file.tensors()) {
    if (!listed.raw().contains(name)) {
      throw Error(file.path() + ": tensor '" + printable(name) +
                  "' is not listed in the manifest's tensors");
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
  if (found == kKinds.end()) node.fail("op", "unknown op '" + printable(kind) + "'");
  return found->second;
}

// Whether the op's output is unsigned activation codes (what a conv, fc or pool reads).
bool unsigned_output(const Op& op) {
  return op.kind == OpKind::Input || op.kind == OpKind::Add || op.kind == OpKind::AvgPool ||
         (op.kind == OpKind::Conv && op.relu);
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
      throw Error(file.path() + ": tensor '" + printable(prefix) + "shift': shift " +
                  std::to_string(shift) + " outside 0..62");
    }
  }
  for (int64_t offset : requant.offset) {
    if (offset < -kMaxRequantOffset || offset > kMaxRequantOffset) {
      throw Error(file.path() + ": tensor '" + printable(prefix) + "offset': offset " +
                  std::to_string(offset) + " outside -2^62..2^62");
    }
  }
  return requant;
}

// A conv without relu takes the scale of the add it feeds (its output is at the block's scale).
// Returns whether every op with an unsigned output, and every such conv, has a scale at each k.
bool complete_scales(std::vector<Op>& ops, const std::vector<int>& bits) {
  for (const Op& op : ops) {
    if (op.kind != OpKind::Add) continue;
    for (int input : op.inputs) {
      Op& source = ops[static_cast<size_t>(input)];
      if (source.kind == OpKind::Conv && !source.relu) source.scale = op.scale;
    }
  }
  for (const Op& op : ops) {
    if (!unsigned_output(op) && op.kind != OpKind::Conv) continue;
    for (int k : bits) {
      if (op.scale.size() < static_cast<size_t>(k) || !(op.scale[static_cast<size_t>(k - 1)] > 0)) {
        return false;
      }
    }
  }
  return true;
}

// per_bits.<k>.activation_scales.<tensor> of every unsigned output, for each k of `bits` (the
// manifest's record of the calibration; mixed precision re-targets with them).
void load_scales(FieldReader& top, std::vector<Op>& ops, const std::vector<int>& bits) {
  if (!top.find("per_bits")) return;
  FieldReader per_bits = top.required_object("per_bits");
  for (int k : bits) {
    FieldReader scales =
        per_bits.required_object(std::to_string(k)).required_object("activation_scales");
    for (Op& op : ops) {
      if (!unsigned_output(op)) continue;
      const json& value = scales.require(op.output);
      // Scales are ratios of real ranges to 2^a - 1 codes: far inside (2^-60, 2^60).
      if (!value.is_number() || !(value.get<double>() > 0x1p-60 && value.get<double>() < 0x1p60)) {
        scales.fail(op.output, "must be a positive number in 2^-60..2^60");
      }
      op.scale.resize(8, 0.0);
      op.scale[static_cast<size_t>(k - 1)] = value.get<double>();
    }
  }
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
  model.has_scales_ = complete_scales(model.ops_, model.bits_);
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
  const std::string path = prefix + ".json";
  const std::string text = read_text_file(
      path, kMaxJsonFileBytes, "a model manifest",
      "no such file (make the model with scripts/quantize.py, or pass --model PREFIX)");
  return parse_manifest(text, path,
                        [](const std::string& tensors) { return SafetensorsFile::load(tensors); });
}

Model Model::parse(const std::string& manifest_text, const std::string& manifest_path,
                   std::vector<uint8_t> tensors) {
  if (manifest_text.size() > kMaxJsonFileBytes) {
    throw Error(manifest_path + ": " + std::to_string(manifest_text.size()) +
                " bytes, more than the " + std::to_string(kMaxJsonFileBytes) +
                "-byte limit of a model manifest");
  }
  return parse_manifest(manifest_text, manifest_path, [&](const std::string& path) {
    return SafetensorsFile::parse(std::move(tensors), path);
  });
}

Model Model::parse_manifest(
    const std::string& text, const std::string& path,
    const std::function<SafetensorsFile(const std::string& path)>& open_tensors) {
  Model model;
  model.manifest_path_ = path;
  const json document = parse_json(text, path);
  // Keys the loader does not read (provenance, logit_scale, ...) are allowed: no finish().
  FieldReader top(document, path, "");
  top.header("bsnpu-bwb-model", 1);
  top.expect_constant("code_bits", 8);
  // Activation codes are bytes everywhere (quantize_pixel, ByteMap, the fast kernels).
  model.act_bits_ = top.int_in("act_bits", 1, 8);
  model.accumulator_bits_ = top.int_in("accumulator_bits", 2, 32);
  for (int64_t k : top.integers("bits", 1, 8, 1, 8)) {
    if (!model.bits_.empty() && k <= model.bits_.back()) {
      top.fail("bits", "must list each k once, in ascending order");
    }
    model.bits_.push_back(static_cast<int>(k));
  }
  const int64_t act_max = (int64_t{1} << model.act_bits_) - 1;
  std::vector<int32_t> zero_point;
  for (int64_t value : top.required_object("input").integers("zero_point", 0, act_max,
                                                             kImageChannels, kImageChannels)) {
    zero_point.push_back(static_cast<int32_t>(value));
  }

  const std::string tensors_file = top.string("tensors_file", "", true);
  if (tensors_file.empty() || tensors_file == "." || tensors_file == ".." ||
      tensors_file.find('/') != std::string::npos) {
    top.fail("tensors_file", "must be a file name beside the manifest (no '/')");
  }
  model.tensors_path_ = directory_of(path) + "/" + tensors_file;
  const SafetensorsFile file = open_tensors(model.tensors_path_);
  check_tensors(top, file);
  model.tensors_sha256_ = sha256_hex(file.raw().data(), file.raw().size());

  std::map<std::string, int> producer;  // tensor name -> op index
  std::vector<FieldReader> graph = top.objects("graph", 1, "must be a non-empty array");
  for (size_t index = 0; index < graph.size(); ++index) {
    FieldReader& node = graph[index];
    Op op;
    op.name = node.string("name", "", true);
    if (op.name.empty()) node.fail("name", "must not be empty");
    op.kind = op_kind(node);
    op.output = node.string("output", "", true);
    if (producer.count(op.output)) {
      node.fail("output", "tensor '" + printable(op.output) + "' is already the output of graph[" +
                              std::to_string(producer[op.output]) + "]");
    }
    if ((index == 0) != (op.kind == OpKind::Input)) {
      node.fail("op", "'input' must be the first op, and only the first");
    }
    auto input_index = [&](const std::string& tensor) {
      auto found = producer.find(tensor);
      if (found == producer.end()) node.fail("input", "unknown tensor '" + printable(tensor) + "'");
      return found->second;
    };
    const Op* first_input = nullptr;
    if (op.kind == OpKind::Add) {
      for (const auto& tensor : node.strings("input")) op.inputs.push_back(input_index(tensor));
      if (op.inputs.size() != 2) node.fail("input", "an add takes two inputs");
    } else if (op.kind != OpKind::Input) {
      op.inputs.push_back(input_index(node.string("input", "", true)));
    }
    if (!op.inputs.empty()) first_input = &model.ops_[static_cast<size_t>(op.inputs[0])];
    switch (op.kind) {
      case OpKind::Input: {
        op.zero_point = zero_point;
        op.out_channels = op.in_channels = kImageChannels;
        // The engine and the NPU read kImageBytes per image: the input must be exactly that.
        const std::vector<int64_t> shape = node.integers("shape", 1, 4096, 3, 3);
        if (shape != std::vector<int64_t>{kImageChannels, kImageSide, kImageSide}) {
          node.fail("shape", "must be [3, 32, 32] (one CIFAR-10 image), not " + shape_text(shape));
        }
        op.in_hw = op.out_hw = kImageSide;
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
          if (op.pad >= op.kernel) node.fail("pad", "must be less than kernel");
          if (op.kernel > op.in_hw + 2 * op.pad) {
            node.fail("kernel", "larger than the padded input (in_hw + 2 x pad)");
          }
          if (op.out_hw != (op.in_hw + 2 * op.pad - op.kernel) / op.stride + 1) {
            node.fail("out_hw", "inconsistent with in_hw, kernel, stride and pad");
          }
        } else {
          op.in_channels = node.int_in("in_features", 1, 1 << 16);
          op.out_channels = node.int_in("out_features", 1, 1 << 16);
        }
        if (node.find("accumulator_bound_k8")) {
          op.accumulator_bound_k8 = node.integer_in("accumulator_bound_k8", 0, int64_t{1} << 62);
        }
        if (first_input->out_channels != op.in_channels ||
            (conv && first_input->out_hw != op.in_hw) || (!conv && first_input->out_hw != 1)) {
          node.fail("input", "shape does not match the op's input");
        }
        if (!unsigned_output(*first_input)) {
          node.fail("input",
                    "a conv/fc input must be unsigned activations (not a conv without "
                    "relu or an fc)");
        }
        if (int64_t{op.out_channels} * op.out_spatial() > kMaxOpActivations) {
          node.fail(conv ? "out_channels" : "out_features", "more than 2^24 output activations");
        }
        const int64_t weights = int64_t{op.out_channels} * op.fan_in();
        if (weights > kMaxOpWeights)
          node.fail(conv ? "kernel" : "in_features", "more than 2^28 weights");
        op.pad_value.assign(static_cast<size_t>(op.in_channels), 0);
        if (first_input->kind == OpKind::Input) op.pad_value = first_input->zero_point;
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
        if (first_input->kind != OpKind::Conv || first_input->relu) {
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
      case OpKind::AvgPool: {
        op.in_channels = op.out_channels = node.int_in("channels", 1, 1 << 16);
        op.in_hw = node.int_in("in_hw", 1, 4096);
        op.out_hw = 1;
        op.pool_mult = node.int_in("mult", std::numeric_limits<int32_t>::min(),
                                   std::numeric_limits<int32_t>::max());
        op.pool_shift = node.int_in("shift", 0, 62);
        if (first_input->out_channels != op.in_channels || first_input->out_hw != op.in_hw) {
          node.fail("input", "shape does not match the op's input");
        }
        if (!unsigned_output(*first_input)) {
          node.fail("input",
                    "an avgpool input must be unsigned activations (not a conv without "
                    "relu or an fc)");
        }
        // The pool sums in_hw^2 codes of up to act_max and multiplies by mult in int64.
        const int64_t sum_max = int64_t{op.in_hw} * op.in_hw * act_max;
        const int64_t mult_max = op.pool_mult < 0 ? -int64_t{op.pool_mult} : op.pool_mult;
        int64_t worst = 0;
        if (__builtin_mul_overflow(sum_max, mult_max, &worst)) {
          node.fail("mult", "in_hw^2 x (2^act_bits - 1) x |mult| overflows int64");
        }
        break;
      }
    }
    producer[op.output] = static_cast<int>(index);
    model.ops_.push_back(std::move(op));
  }
  if (model.ops_.back().kind != OpKind::Fc) top.fail("graph", "the last op must be the fc");
  load_scales(top, model.ops_, model.bits_);
  model.has_scales_ = complete_scales(model.ops_, model.bits_);
  return model;
}

}  // namespace bsnpu
