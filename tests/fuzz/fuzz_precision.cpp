// libFuzzer target: the per-layer precision parser (Precision::parse, core/precision.h) on
// arbitrary bytes, against a small in-memory model with parameters and activation scales at every
// k: input, conv1 (relu), a block whose residual conv and downsample conv feed an add, an identity
// block, avgpool, fc. Scales differ by k (some by large ratios) and multipliers sit near 2^31, so
// mixed vectors exercise the re-targeting and its shift lowering. An accepted precision must give
// requantization parameters inside the bounds of docs/arithmetic.md and survive a round trip
// through to_json.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "core/model.h"
#include "core/precision.h"
#include "fuzz_support.h"

namespace {

using namespace bsnpu;

Op weighted(OpKind kind, const std::string& name, int input, int channels, bool relu) {
  Op op;
  op.kind = kind;
  op.name = name;
  op.output = name + ".out";
  op.inputs = {input};
  op.in_channels = op.out_channels = channels;
  op.relu = relu;
  op.requant.resize(8);
  for (int k = 1; k <= 8; ++k) {
    Requant& r = op.requant[static_cast<size_t>(k - 1)];
    for (int o = 0; o < channels; ++o) {
      r.mult.push_back(static_cast<int32_t>((int64_t{1} << 31) - 1 - o * 1000 - k));
      r.offset.push_back((o % 2 ? -1 : 1) * ((int64_t{1} << 60) + k));
      r.shift.push_back(o == 0 ? k - 1 : 40 + k);  // channel 0 has little shift to give
    }
  }
  return op;
}

const Model& tiny_model() {
  static const Model model = [] {
    std::vector<Op> ops;
    Op input;
    input.kind = OpKind::Input;
    input.name = input.output = "input";
    input.out_channels = input.in_channels = 3;
    ops.push_back(input);
    ops.push_back(weighted(OpKind::Conv, "conv1", 0, 3, true));
    ops.push_back(weighted(OpKind::Conv, "b1.conv1", 1, 3, true));
    ops.push_back(weighted(OpKind::Conv, "b1.conv2", 2, 3, false));
    ops.push_back(weighted(OpKind::Conv, "b1.downsample", 1, 3, false));
    Op add;
    add.kind = OpKind::Add;
    add.name = "b1.add";
    add.output = "b1.out";
    add.inputs = {3, 4};
    ops.push_back(add);
    ops.push_back(weighted(OpKind::Conv, "b2.conv1", 5, 3, true));
    ops.push_back(weighted(OpKind::Conv, "b2.conv2", 6, 3, false));
    add.name = "b2.add";
    add.output = "b2.out";
    add.inputs = {7, 5};
    add.rescale_shortcut = true;
    add.requant.resize(8);
    for (int k = 1; k <= 8; ++k) add.requant[static_cast<size_t>(k - 1)] = {{1 << 30}, {}, {30}};
    ops.push_back(add);
    Op pool;
    pool.kind = OpKind::AvgPool;
    pool.name = "avgpool";
    pool.output = "pool";
    pool.inputs = {8};
    ops.push_back(pool);
    ops.push_back(weighted(OpKind::Fc, "fc", 9, 3, false));
    for (size_t i = 0; i < ops.size(); ++i) {
      ops[i].scale.resize(8);
      for (int k = 1; k <= 8; ++k) {
        ops[i].scale[static_cast<size_t>(k - 1)] =
            i == 0 ? 1.0 / 255 : std::ldexp(1.0 + 0.1 * static_cast<double>(i), (k * 7) % 5 - 2);
      }
    }
    return Model::from_ops(ops, 8, 32, {1, 2, 3, 4, 5, 6, 7, 8});
  }();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const Model& model = tiny_model();
  if (!model.has_scales()) fuzz::finding("the fuzz model lacks scales");
  try {
    const Precision precision = Precision::parse(parse_json(text, "fuzz.json"), model, "fuzz.json");
    if (precision.ops() != model.ops().size() || precision.max_k() < 1 || precision.max_k() > 8) {
      fuzz::finding("accepted precision of the wrong shape");
    }
    const double planes = precision.mean_planes(model);
    if (!(planes >= 1 && planes <= 8)) fuzz::finding("mean planes outside 1..8");
    if (!(Precision::parse(precision.to_json(), model, "again.json") == precision)) {
      fuzz::finding("to_json does not parse back to the same precision");
    }
    for (const Requant& r : requantization(model, precision)) {
      for (size_t o = 0; o < r.mult.size(); ++o) {
        if (std::llabs(r.mult[o]) >= (int64_t{1} << 31) || r.shift[o] < 0 || r.shift[o] > 62 ||
            (o < r.offset.size() && std::llabs(r.offset[o]) > (int64_t{1} << 61))) {
          fuzz::finding("re-targeted parameters outside the bounds");
        }
      }
    }
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
  }
  return 0;
}
