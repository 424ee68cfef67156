// The BWB model (models/resnet18_cifar10.{json,safetensors}): graph, weight codes and the
// per-k requantization parameters. See docs/model-format.md and docs/arithmetic.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bsnpu {

class SafetensorsFile;

enum class OpKind { Input, Conv, Add, AvgPool, Fc };

// Requantization parameters of one layer at one k: one entry per output channel
// (a single entry for an add's shortcut rescale; offset is then unused).
struct Requant {
  std::vector<int32_t> mult;
  std::vector<int64_t> offset;
  std::vector<int32_t> shift;
};

struct Op {
  OpKind kind = OpKind::Input;
  std::string name;
  std::vector<int> inputs;  // indices of producing ops in Model::ops
  std::string output;       // tensor name, as in the golden vectors
  // Conv / Fc: out_channels = Cout; for Fc kernel = 1, in_hw = out_hw = 1.
  // Add / AvgPool: in_channels = out_channels = channels.
  int in_channels = 0, out_channels = 0, kernel = 1, stride = 1, pad = 0;
  int in_hw = 1, out_hw = 1;
  bool relu = false;                      // Conv: ReLU + clamp to [0, 2^a-1]; else signed int32
  bool rescale_shortcut = false;          // Add: shortcut (inputs[1]) rescaled by requant[k]
  std::vector<uint8_t> codes;             // Conv/Fc: [Cout][Cin][kh][kw] 8-bit BWB codes
  std::vector<float> alpha;               // Conv/Fc: per-output-channel scale (reporting)
  std::vector<Requant> requant;           // index k-1, k = 1..8 (Conv, Fc, Add with rescale)
  int32_t pool_mult = 0, pool_shift = 0;  // AvgPool
  std::vector<int32_t> zero_point;        // Input: per-channel zero point (conv1 padding)
  std::vector<int32_t> pad_value;         // Conv: per input channel (input zero point or 0)
  int64_t accumulator_bound_k8 = 0;
  // Real value of one output code at k (index k - 1), from the manifest's
  // per_bits.<k>.activation_scales: unsigned outputs their tensor's scale, a conv without relu
  // that of the add it feeds (its output is at the block's scale). Empty when the manifest has no
  // per_bits (then only uniform precisions can run: core/precision.h).
  std::vector<double> scale;
  // Output tensor shape: channels x hw x hw (hw = 1 for pool and logits).
  int out_c() const;
  int out_spatial() const;
  int fan_in() const { return in_channels * kernel * kernel; }  // Conv/Fc: K
  const Requant& requant_at(int k) const;  // throws bsnpu::Error if k has no parameters
};

class Model {
 public:
  // Loads PREFIX.json and the tensors file it names; checks every tensor's dtype, shape and
  // sha256 against the manifest, and the graph: the input op is one 3x32x32 image, every op's
  // shape follows from its inputs (channels, hw, kernel/stride/pad -> out_hw), and every codes
  // and requantization tensor has the size its op reads, so that no kernel can read out of
  // bounds or overflow. Throws bsnpu::Error with a one-line message naming the file and field.
  static Model load(const std::string& prefix);
  // Model::load's checks on a manifest and a tensors file held in memory (fuzzing, tools):
  // `manifest_path` names the manifest in errors; the tensors file is named as load would find
  // it (its tensors_file beside the manifest).
  static Model parse(const std::string& manifest_text, const std::string& manifest_path,
                     std::vector<uint8_t> tensors);
  // A model built in memory (tests, tools): ops as Model::load would fill them, inputs first.
  // has_scales() is true when every op with an unsigned output (and every conv without relu
  // feeding an add) has a scale for each k of bits.
  static Model from_ops(std::vector<Op> ops, int act_bits, int accumulator_bits,
                        std::vector<int> bits);

  const std::vector<Op>& ops() const { return ops_; }
  const Op& op(int index) const { return ops_.at(static_cast<size_t>(index)); }
  int act_bits() const { return act_bits_; }
  int accumulator_bits() const { return accumulator_bits_; }
  int num_classes() const;
  const std::vector<int>& bits() const { return bits_; }  // the k with parameters, ascending
  bool has_bits(int k) const;
  // Whether every op that has a scale has one for each k of bits() (mixed precision needs them).
  bool has_scales() const { return has_scales_; }
  const std::string& manifest_path() const { return manifest_path_; }
  const std::string& tensors_path() const { return tensors_path_; }
  const std::string& tensors_sha256() const { return tensors_sha256_; }  // of the whole file

 private:
  // The shared body of load and parse: `open_tensors` gives the tensors file at a path.
  static Model parse_manifest(
      const std::string& text, const std::string& manifest_path,
      const std::function<SafetensorsFile(const std::string& path)>& open_tensors);
  std::vector<Op> ops_;
  std::vector<int> bits_;
  bool has_scales_ = false;
  int act_bits_ = 8;
  int accumulator_bits_ = 32;
  std::string manifest_path_;
  std::string tensors_path_;
  std::string tensors_sha256_;
};

}  // namespace bsnpu
