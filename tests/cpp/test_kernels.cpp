// The two MAC kernels (plane-serial and fast, AVX-512 and portable) against each other and a
// direct sum of q_k x, on randomized layers of many shapes, strides, paddings and k, including
// saturation and overflow corner cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/arith.h"
#include "core/error.h"
#include "core/fast_conv.h"
#include "core/kernels.h"
#include "core/layer_ops.h"
#include "core/model.h"

namespace bsnpu {
namespace {

struct Shape {
  int in_channels, out_channels, kernel, stride, pad, in_hw;
};

enum class Fill { Random, Max, Zero };

// Requantization that spreads outputs around the clamp range, plus saturating channels.
Requant random_requant(std::mt19937_64& rng, int channels, int64_t accumulator_bound) {
  Requant requant;
  std::uniform_int_distribution<int> mode(0, 5);
  for (int o = 0; o < channels; ++o) {
    int32_t mult;
    int shift;
    int64_t offset;
    switch (mode(rng)) {
      case 0:  // saturates: huge gain, both signs
        mult = (rng() & 1) ? INT32_MAX : -INT32_MAX;
        shift = 0;
        offset = 0;
        break;
      case 1:  // shift 0 with a modest gain: exercises the S = 0 rounding case
        mult = static_cast<int32_t>(rng() % 7) - 3;
        shift = 0;
        offset = static_cast<int64_t>(rng() % 1001) - 500;
        break;
      case 2:  // fully random parameters within the contract's limits
        mult = static_cast<int32_t>(rng());
        shift = static_cast<int>(rng() % 63);
        offset = static_cast<int64_t>(rng() % (uint64_t{1} << 60)) - (int64_t{1} << 59);
        break;
      default: {  // outputs roughly in [-400, 400]: the ReLU clamp and rounding ties both matter
        mult = static_cast<int32_t>((int64_t{1} << 30) + static_cast<int64_t>(rng() % (1 << 29)));
        if (rng() & 1) mult = -mult;
        int bound_bits = 0;
        while ((int64_t{1} << bound_bits) < accumulator_bound) ++bound_bits;
        shift = std::clamp(30 + bound_bits - 9 + static_cast<int>(rng() % 5) - 2, 0, 62);
        // A multiple of 2^(shift - 2) of either sign (a negative value must not be left-shifted).
        offset = (static_cast<int64_t>(rng() % 201) - 100) * (int64_t{1} << std::max(shift - 2, 0));
      }
    }
    requant.mult.push_back(mult);
    requant.shift.push_back(shift);
    requant.offset.push_back(offset);
  }
  return requant;
}

Op make_layer(std::mt19937_64& rng, const Shape& s, bool relu, bool fc, Fill codes_fill,
              bool image_padding, int act_bits) {
  Op op;
  op.kind = fc ? OpKind::Fc : OpKind::Conv;
  op.name = fc ? "test.fc" : "test.conv";
  op.in_channels = s.in_channels;
  op.out_channels = s.out_channels;
  op.kernel = s.kernel;
  op.stride = s.stride;
  op.pad = s.pad;
  op.in_hw = s.in_hw;
  op.out_hw = (s.in_hw + 2 * s.pad - s.kernel) / s.stride + 1;
  op.relu = relu;
  op.inputs = {0};
  op.codes.resize(static_cast<size_t>(s.out_channels) * op.fan_in());
  for (uint8_t& code : op.codes) {
    code = codes_fill == Fill::Max    ? 255
           : codes_fill == Fill::Zero ? 0
                                      : static_cast<uint8_t>(rng());
  }
  op.pad_value.assign(static_cast<size_t>(s.in_channels), 0);
  if (image_padding) {
    for (int32_t& value : op.pad_value) value = static_cast<int32_t>(rng() % (1u << act_bits));
  }
  const int64_t bound = int64_t{op.fan_in()} * 255 * 255;
  for (int k = 1; k <= 8; ++k)
    op.requant.push_back(random_requant(rng, s.out_channels, bound >> (8 - k)));
  return op;
}

Model model_for(const Op& layer, int act_bits, int accumulator_bits = 32) {
  Op input;
  input.kind = OpKind::Input;
  input.name = "input";
  input.out_channels = layer.in_channels;
  input.out_hw = layer.in_hw;
  return Model::from_ops({input, layer}, act_bits, accumulator_bits, {1, 2, 3, 4, 5, 6, 7, 8});
}

Tensor make_input(std::mt19937_64& rng, const Op& op, Fill fill, int act_bits) {
  Tensor input(static_cast<size_t>(op.in_channels) * op.in_hw * op.in_hw);
  const int32_t high = (1 << act_bits) - 1;
  for (int32_t& value : input) {
    value = fill == Fill::Max    ? high
            : fill == Fill::Zero ? 0
                                 : static_cast<int32_t>(rng() % (high + 1));
  }
  return input;
}

// sum_j q_k x_j directly from weight_levels, then the contract's requant and clamp.
Tensor direct(const Model& model, const Op& op, const Tensor& input, int k) {
  const std::vector<int16_t> q = weight_levels(op.codes, k);
  const Requant& requant = op.requant_at(k);
  const int out_spatial = op.out_hw * op.out_hw;
  Tensor output(static_cast<size_t>(op.out_channels) * out_spatial);
  for (int o = 0; o < op.out_channels; ++o) {
    for (int y = 0; y < op.out_hw; ++y) {
      for (int x = 0; x < op.out_hw; ++x) {
        int64_t acc = 0;
        for (int c = 0; c < op.in_channels; ++c) {
          for (int ky = 0; ky < op.kernel; ++ky) {
            for (int kx = 0; kx < op.kernel; ++kx) {
              const int iy = y * op.stride + ky - op.pad, ix = x * op.stride + kx - op.pad;
              const bool inside = iy >= 0 && iy < op.in_hw && ix >= 0 && ix < op.in_hw;
              const int64_t value =
                  inside ? input[(static_cast<size_t>(c) * op.in_hw + iy) * op.in_hw + ix]
                         : op.pad_value[static_cast<size_t>(c)];
              acc +=
                  q[((static_cast<size_t>(o) * op.in_channels + c) * op.kernel + ky) * op.kernel +
                    kx] *
                  value;
            }
          }
        }
        const int64_t high =
            op.relu && op.kind == OpKind::Conv ? (1 << model.act_bits()) - 1 : INT32_MAX;
        const int64_t low = op.relu && op.kind == OpKind::Conv ? 0 : INT32_MIN;
        const size_t channel = static_cast<size_t>(o);
        output[channel * out_spatial + static_cast<size_t>(y * op.out_hw + x)] =
            static_cast<int32_t>(
                std::clamp(requantize(acc, requant.mult[channel], requant.offset[channel],
                                      requant.shift[channel]),
                           low, high));
      }
    }
  }
  return output;
}

// Plane-serial, fast (both implementations) and direct agree, and so do the action counts.
void expect_kernels_agree(const Model& model, const Op& op, const Tensor& input, int k,
                          const std::string& label) {
  SCOPED_TRACE(label + " k=" + std::to_string(k));
  OpCounts serial_counts, fast_counts;
  const Tensor serial = run_op(model, op, {&input}, k, MacKernel::PlaneSerial, &serial_counts);
  const Tensor fast = run_op(model, op, {&input}, k, MacKernel::Fast, &fast_counts);
  force_portable_fast_conv(true);
  const Tensor portable = run_op(model, op, {&input}, k, MacKernel::Fast);
  force_portable_fast_conv(false);
  ASSERT_EQ(serial, direct(model, op, input, k));
  ASSERT_EQ(fast, serial);
  ASSERT_EQ(portable, serial);
  EXPECT_TRUE(serial_counts == fast_counts);
  EXPECT_EQ(serial_counts.pe_addsub, serial_counts.macs * static_cast<uint64_t>(k));
}

const std::vector<Shape> kShapes = {
    {3, 64, 3, 1, 1, 8},    // conv1-like: 3 channels padded to 4, image padding
    {1, 1, 1, 1, 0, 1},     // smallest
    {5, 17, 3, 2, 1, 7},    // odd channels, partial output block, stride 2
    {16, 16, 1, 2, 0, 8},   // downsample-like
    {64, 64, 3, 1, 1, 6},   // full blocks (4 x 16 outputs per tile)
    {7, 33, 5, 3, 2, 9},    // 5x5 kernel, stride 3, pad 2
    {4, 48, 3, 2, 0, 5},    // three output blocks, no padding
    {128, 32, 3, 1, 1, 4},  // two output blocks, long dot products
    {13, 16, 2, 1, 1, 5},   // even kernel
    {32, 128, 1, 1, 0, 3},  // 1x1, eight output blocks
    {9, 7, 3, 1, 2, 3},     // padding wider than the image's border rows
    // Zero padding skipped: every output of these sees a different subset of the taps.
    {24, 64, 3, 1, 1, 4},  // layer4-like: corners, edges and interior
    {8, 16, 3, 1, 1, 1},   // kernel wider than the map: the centre tap only
    {16, 32, 3, 2, 1, 2},  // stride 2 onto a 1x1 output
    {4, 16, 1, 1, 1, 3},   // 1x1 kernel with padding: border outputs see no tap at all
    {12, 20, 5, 1, 2, 3},  // 5x5 kernel on a 3x3 map
    {20, 48, 3, 2, 1, 8},  // stride 2 with a padded top/left edge only
};

TEST(Kernels, RandomConvLayersAllKernelsAgree) {
  std::mt19937_64 rng(20240611);
  for (size_t i = 0; i < kShapes.size(); ++i) {
    for (bool relu : {true, false}) {
      const Op op = make_layer(rng, kShapes[i], relu, false, Fill::Random, i == 0, 8);
      const Model model = model_for(op, 8);
      const Tensor input = make_input(rng, op, Fill::Random, 8);
      for (int k = 1; k <= 8; ++k) {
        expect_kernels_agree(model, op, input, k,
                             "shape " + std::to_string(i) + (relu ? " relu" : ""));
      }
    }
  }
}

TEST(Kernels, FullyConnectedAllKernelsAgree) {
  std::mt19937_64 rng(7);
  for (const Shape& shape : {Shape{512, 10, 1, 1, 0, 1}, Shape{37, 3, 1, 1, 0, 1}}) {
    const Op op = make_layer(rng, shape, false, true, Fill::Random, false, 8);
    const Model model = model_for(op, 8);
    const Tensor input = make_input(rng, op, Fill::Random, 8);
    for (int k = 1; k <= 8; ++k) expect_kernels_agree(model, op, input, k, "fc");
  }
}

// Extreme codes and inputs: accumulators at their worst-case magnitude, outputs saturating.
TEST(Kernels, SaturationCornerCases) {
  std::mt19937_64 rng(99);
  const Shape shape{64, 32, 3, 1, 1, 4};
  for (Fill codes : {Fill::Max, Fill::Zero, Fill::Random}) {
    for (Fill inputs : {Fill::Max, Fill::Zero}) {
      for (bool relu : {true, false}) {
        const Op op = make_layer(rng, shape, relu, false, codes, true, 8);
        const Model model = model_for(op, 8);
        const Tensor input = make_input(rng, op, inputs, 8);
        for (int k = 1; k <= 8; ++k) expect_kernels_agree(model, op, input, k, "corner");
      }
    }
  }
}

TEST(Kernels, NarrowActivations) {
  std::mt19937_64 rng(5);
  const Op op = make_layer(rng, {6, 20, 3, 1, 1, 6}, true, false, Fill::Random, true, 4);
  const Model model = model_for(op, 4);
  const Tensor input = make_input(rng, op, Fill::Random, 4);
  for (int k = 1; k <= 8; ++k) expect_kernels_agree(model, op, input, k, "act_bits 4");
}

TEST(Kernels, RejectsInputsOutsideTheActivationRange) {
  std::mt19937_64 rng(3);
  const Op op = make_layer(rng, {4, 16, 3, 1, 1, 4}, true, false, Fill::Random, false, 8);
  const Model model = model_for(op, 8);
  Tensor input = make_input(rng, op, Fill::Random, 8);
  input[5] = 256;
  for (MacKernel kernel : {MacKernel::PlaneSerial, MacKernel::Fast}) {
    EXPECT_THROW(run_op(model, op, {&input}, 8, kernel), Error);
  }
}

// A layer whose worst case exceeds the accumulator: the fast kernel refuses it up front, the
// plane-serial one fails exactly when an accumulator really overflows. Neither ever wraps.
TEST(Kernels, AccumulatorOverflowIsAnErrorNamingTheLayer) {
  std::mt19937_64 rng(11);
  const Op op = make_layer(rng, {64, 16, 3, 1, 1, 4}, true, false, Fill::Max, false, 8);
  const Model narrow = model_for(op, 8, 20);  // a 20-bit accumulator: 576 * 255 * 255 overflows
  const Tensor zeros = make_input(rng, op, Fill::Zero, 8);
  const Tensor full = make_input(rng, op, Fill::Max, 8);
  try {
    run_op(narrow, op, {&zeros}, 8, MacKernel::Fast);
    FAIL() << "no overflow error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test.conv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("overflow"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(run_op(narrow, op, {&zeros}, 8, MacKernel::PlaneSerial));
  EXPECT_THROW(run_op(narrow, op, {&full}, 8, MacKernel::PlaneSerial), Error);
  EXPECT_NO_THROW(run_op(narrow, op, {&full}, 1, MacKernel::Fast));  // 576 * 1 * 255 fits

  // The fast kernel's own int32 bound at k = 8 (2 * sum (u - 128) x) is checked too.
  const Op wide = make_layer(rng, {4096, 16, 3, 1, 1, 1}, true, false, Fill::Random, false, 8);
  EXPECT_THROW(prepare_weights(wide, 0, 8, 8, 32), Error);
}

// `images` random images of the layer's input in a bordered batch map, and each as a tensor.
ByteMap batch_input(std::mt19937_64& rng, const Op& op, int images, int act_bits,
                    std::vector<Tensor>& tensors) {
  ByteMap map(images, op.in_hw, op.in_hw, op.in_channels, op.pad);
  map.fill_border(op.pad_value);
  const int spatial = op.in_hw * op.in_hw;
  for (int image = 0; image < images; ++image) {
    tensors.push_back(make_input(rng, op, Fill::Random, act_bits));
    for (int c = 0; c < op.in_channels; ++c) {
      for (int p = 0; p < spatial; ++p) {
        map.at(image, p / op.in_hw, p % op.in_hw)[c] =
            static_cast<uint8_t>(tensors.back()[static_cast<size_t>(c * spatial + p)]);
      }
    }
  }
  return map;
}

// The batch paths the engine and the NPU modules use, against the op-by-op reference, for every
// image of a batch, split at an arbitrary image: the fused kernel, and the MacArray/Accumulator
// split (partial sums of planes 1..j, then j+1..k shift-accumulated, then requantized).
TEST(Kernels, BatchPathsAndPlaneRangesMatchTheReference) {
  std::mt19937_64 rng(31);
  for (bool portable : {false, true}) {
    force_portable_fast_conv(portable);
    for (size_t i = 0; i < kShapes.size(); ++i) {
      const Op op = make_layer(rng, kShapes[i], i % 2 == 0, false, Fill::Random, i == 0, 8);
      const Model model = model_for(op, 8);
      constexpr int kImages = 3;
      std::vector<Tensor> inputs;
      const ByteMap input = batch_input(rng, op, kImages, 8, inputs);
      for (int k = 1; k <= 8; ++k) {
        SCOPED_TRACE("shape " + std::to_string(i) + " k=" + std::to_string(k) +
                     (portable ? " portable" : ""));
        ConvScratch scratch;
        WordMap fused(kImages, op.out_hw, op.out_hw, op.out_channels);
        const ConvWeights all = prepare_weights(op, 0, k, 8, 32);
        const OutputStage stage = output_stage(op, k, 8);
        conv_requantized(all, stage, input, 0, 1, nullptr, &fused, scratch);
        conv_requantized(all, stage, input, 1, kImages, nullptr, &fused, scratch);

        const int split = static_cast<int>(rng() % static_cast<uint64_t>(k));  // 0..k-1
        WordMap acc(kImages, op.out_hw, op.out_hw, op.out_channels);
        WordMap sums = acc;
        if (split > 0)
          conv_partial_sums(prepare_weights(op, 0, split, 8, 32), input, 0, kImages, acc, scratch);
        conv_partial_sums(prepare_weights(op, split, k, 8, 32), input, 0, kImages, sums, scratch);
        shift_accumulate(acc, sums, k - split, 32, 0, kImages);
        WordMap split_out(kImages, op.out_hw, op.out_hw, op.out_channels);
        requantize_map(acc, stage, 0, kImages, nullptr, &split_out);
        ASSERT_EQ(split_out.data, fused.data) << "planes split after " << split;

        const int spatial = op.out_hw * op.out_hw;
        for (int image = 0; image < kImages; ++image) {
          const Tensor want =
              run_op(model, op, {&inputs[static_cast<size_t>(image)]}, k, MacKernel::PlaneSerial);
          for (int p = 0; p < spatial; ++p) {
            for (int o = 0; o < op.out_channels; ++o) {
              ASSERT_EQ(fused.at(image, p / op.out_hw, p % op.out_hw)[o],
                        want[static_cast<size_t>(o * spatial + p)])
                  << "image " << image << " pixel " << p << " channel " << o;
            }
          }
        }
      }
    }
  }
  force_portable_fast_conv(false);
}

// The engine's fusion of a block's last conv with its add: conv_residual_add equals
// conv_requantized to int32 followed by the add, for byte and int32 shortcuts (the shortcut map
// wider than the layer, as a ByteMap's padded channels are), with and without rescaling.
TEST(Kernels, FusedResidualAddMatchesConvThenAdd) {
  std::mt19937_64 rng(47);
  for (bool portable : {false, true}) {
    force_portable_fast_conv(portable);
    for (size_t i = 0; i < kShapes.size(); ++i) {
      const Op op = make_layer(rng, kShapes[i], false, false, Fill::Random, i == 0, 8);
      constexpr int kImages = 2;
      std::vector<Tensor> inputs;
      const ByteMap input = batch_input(rng, op, kImages, 8, inputs);
      ByteMap shortcut_u8(kImages, op.out_hw, op.out_hw, op.out_channels, 1);
      WordMap shortcut_i32(kImages, op.out_hw, op.out_hw, op.out_channels + 3);
      for (uint8_t& value : shortcut_u8.data) value = static_cast<uint8_t>(rng());
      for (int32_t& value : shortcut_i32.data) {
        value = static_cast<int32_t>(rng() % 2001) - 1000;
        if (rng() % 16 == 0) value = static_cast<int32_t>(rng());
      }
      for (int k : {1, 5, 8}) {
        for (bool bytes : {true, false}) {
          SCOPED_TRACE("shape " + std::to_string(i) + " k=" + std::to_string(k) +
                       (bytes ? " u8" : " i32") + (portable ? " portable" : ""));
          const int32_t mult = bytes ? static_cast<int32_t>(rng() % (1u << 31)) : 1;
          const int shift = bytes ? static_cast<int>(rng() % 40) : 0;
          const ConvWeights weights = prepare_weights(op, 0, k, 8, 32);
          const OutputStage stage = output_stage(op, k, 8);
          ConvScratch scratch;
          WordMap residual(kImages, op.out_hw, op.out_hw, op.out_channels);
          conv_requantized(weights, stage, input, 0, kImages, nullptr, &residual, scratch);
          ByteMap fused(kImages, op.out_hw, op.out_hw, op.out_channels, 1);
          conv_residual_add(weights, stage, input, 0, 1, bytes ? &shortcut_u8 : nullptr,
                            bytes ? nullptr : &shortcut_i32, mult, shift, 255, fused, scratch);
          conv_residual_add(weights, stage, input, 1, kImages, bytes ? &shortcut_u8 : nullptr,
                            bytes ? nullptr : &shortcut_i32, mult, shift, 255, fused, scratch);
          for (int image = 0; image < kImages; ++image) {
            for (int y = 0; y < op.out_hw; ++y) {
              for (int x = 0; x < op.out_hw; ++x) {
                for (int o = 0; o < op.out_channels; ++o) {
                  const int64_t shortcut =
                      bytes ? shortcut_u8.at(image, y, x)[o] : shortcut_i32.at(image, y, x)[o];
                  const int64_t want = std::clamp<int64_t>(
                      residual.at(image, y, x)[o] + round_shift(shortcut * mult, shift), 0, 255);
                  ASSERT_EQ(fused.at(image, y, x)[o], want)
                      << "image " << image << " pixel " << y << "," << x << " channel " << o;
                }
              }
            }
          }
        }
      }
    }
  }
  force_portable_fast_conv(false);
}

// The engine's fusion of a block's downsample with its add: conv_residual_add with a shortcut
// conv equals the shortcut conv requantized to int32, then conv_residual_add with that map (mult
// 1, shift 0), for output blocks of 1, 2 and 4 per panel, stride 1 and 2, at k = 3 and 8 (the
// window sums of both convs), AVX-512 and portable; and a shortcut of another shape is refused.
TEST(Kernels, FusedShortcutConvMatchesItsMapThenTheAdd) {
  std::mt19937_64 rng(53);
  struct Pair {
    Shape conv, shortcut;
  };
  const std::vector<Pair> pairs = {
      {{16, 16, 3, 1, 1, 4}, {8, 16, 1, 2, 0, 8}},     // one block
      {{32, 40, 3, 1, 1, 5}, {12, 40, 1, 2, 0, 10}},   // three blocks, the last one partial
      {{64, 64, 3, 1, 1, 6}, {32, 64, 1, 2, 0, 12}},   // a panel of 4 blocks
      {{24, 128, 3, 1, 1, 3}, {20, 128, 1, 1, 0, 3}},  // 8 blocks, a stride-1 shortcut
  };
  for (bool portable : {false, true}) {
    force_portable_fast_conv(portable);
    for (size_t i = 0; i < pairs.size(); ++i) {
      const Op conv = make_layer(rng, pairs[i].conv, false, false, Fill::Random, false, 8);
      const Op shortcut_op =
          make_layer(rng, pairs[i].shortcut, false, false, Fill::Random, false, 8);
      constexpr int kImages = 3;
      std::vector<Tensor> tensors;
      const ByteMap input = batch_input(rng, conv, kImages, 8, tensors);
      const ByteMap shortcut_input = batch_input(rng, shortcut_op, kImages, 8, tensors);
      for (int k : {3, 8}) {
        SCOPED_TRACE("pair " + std::to_string(i) + " k=" + std::to_string(k) +
                     (portable ? " portable" : ""));
        const ConvWeights weights = prepare_weights(conv, 0, k, 8, 32);
        const OutputStage stage = output_stage(conv, k, 8);
        const ConvWeights shortcut_weights = prepare_weights(shortcut_op, 0, k, 8, 32);
        const OutputStage shortcut_stage = output_stage(shortcut_op, k, 8);
        ConvScratch scratch;
        WordMap shortcut(kImages, conv.out_hw, conv.out_hw, conv.out_channels);
        conv_requantized(shortcut_weights, shortcut_stage, shortcut_input, 0, kImages, nullptr,
                         &shortcut, scratch);
        ByteMap want(kImages, conv.out_hw, conv.out_hw, conv.out_channels, 1);
        conv_residual_add(weights, stage, input, 0, kImages, nullptr, &shortcut, 1, 0, 255, want,
                          scratch);
        ByteMap fused(kImages, conv.out_hw, conv.out_hw, conv.out_channels, 1);
        conv_residual_add(weights, stage, input, 0, 1, shortcut_weights, shortcut_stage,
                          shortcut_input, 255, fused, scratch);
        conv_residual_add(weights, stage, input, 1, kImages, shortcut_weights, shortcut_stage,
                          shortcut_input, 255, fused, scratch);
        ASSERT_EQ(fused.data, want.data);
      }
    }
  }
  force_portable_fast_conv(false);
  std::mt19937_64 shapes(7);
  const Op conv = make_layer(shapes, {16, 16, 3, 1, 1, 4}, false, false, Fill::Random, false, 8);
  const Op wide = make_layer(shapes, {8, 32, 1, 2, 0, 8}, false, false, Fill::Random, false, 8);
  std::vector<Tensor> tensors;
  const ByteMap input = batch_input(shapes, conv, 1, 8, tensors);
  const ByteMap wide_input = batch_input(shapes, wide, 1, 8, tensors);
  ConvScratch scratch;
  ByteMap out(1, conv.out_hw, conv.out_hw, conv.out_channels, 1);
  EXPECT_THROW(conv_residual_add(prepare_weights(conv, 0, 4, 8, 32), output_stage(conv, 4, 8),
                                 input, 0, 1, prepare_weights(wide, 0, 4, 8, 32),
                                 output_stage(wide, 4, 8), wide_input, 255, out, scratch),
               Error);
}

// The vectorized output stages against the contract's scalar arithmetic at its corners: the
// Accumulator's requantize_map for a ReLU stage (the kernels' arithmetic-shift instance) and a
// signed one, and add_forward, on accumulators, parameters and shortcuts at the contract's limits
// and on exact rounding ties of both signs, AVX-512 and portable.
TEST(Kernels, OutputStagesMatchTheContractAtItsCorners) {
  std::mt19937_64 rng(53);
  constexpr int kChannels = 37;  // two whole 16-channel blocks and a partial one
  constexpr int kPixels = 24;
  const std::vector<int32_t> mults = {INT32_MAX, -INT32_MAX, 1, -1, 0, 3, (1 << 30) + 7};
  const std::vector<int64_t> offsets = {0, (int64_t{1} << 61) - 1, -(int64_t{1} << 61) + 1, 5, -5};
  for (bool portable : {false, true}) {
    force_portable_fast_conv(portable);
    for (bool relu : {true, false}) {
      SCOPED_TRACE(std::string(relu ? "relu" : "signed") + (portable ? " portable" : ""));
      Op op;
      op.kind = OpKind::Conv;
      op.name = "test.conv";
      op.in_channels = 4;
      op.out_channels = kChannels;
      op.relu = relu;
      Requant requant;
      for (int o = 0; o < kChannels; ++o) {
        requant.mult.push_back(o < 14 ? mults[static_cast<size_t>(o) % mults.size()]
                                      : static_cast<int32_t>(rng()));
        requant.offset.push_back(o < 14 ? offsets[static_cast<size_t>(o) % offsets.size()]
                                        : static_cast<int64_t>(rng() % (uint64_t{1} << 61)) -
                                              (int64_t{1} << 60));
        requant.shift.push_back(o % 9 == 0 ? 0 : o % 9 == 1 ? 62 : static_cast<int>(rng() % 63));
      }
      // Every channel's rounding ties: acc * mult + offset = +-(2j + 1) 2^(shift - 1).
      for (int o = 28; o < kChannels; ++o) {
        requant.mult[static_cast<size_t>(o)] = 1;
        requant.offset[static_cast<size_t>(o)] = 0;
        requant.shift[static_cast<size_t>(o)] = 1 + o % 8;
      }
      op.requant.assign(8, requant);
      const OutputStage stage = output_stage(op, 1, 8);
      WordMap acc(1, 1, kPixels, kChannels);
      const std::vector<int32_t> corners = {INT32_MAX, INT32_MIN + 1, 0, 1, -1};
      for (int p = 0; p < kPixels; ++p) {
        for (int o = 0; o < kChannels; ++o) {
          int32_t& value = acc.at(0, 0, p)[o];
          if (o >= 28) {
            const int32_t tie =
                (2 * (p / 2) + 1) * (1 << (requant.shift[static_cast<size_t>(o)] - 1));
            value = p % 2 ? -tie : tie;
          } else {
            value = p < 5 ? corners[static_cast<size_t>(p)] : static_cast<int32_t>(rng());
          }
        }
      }
      ByteMap bytes(1, 1, kPixels, kChannels, 1);
      WordMap words(1, 1, kPixels, kChannels);
      if (relu) requantize_map(acc, stage, 0, 1, &bytes, nullptr);
      requantize_map(acc, stage, 0, 1, nullptr, &words);
      for (int p = 0; p < kPixels; ++p) {
        for (int o = 0; o < kChannels; ++o) {
          const size_t c = static_cast<size_t>(o);
          const int64_t want = std::clamp(
              requantize(acc.at(0, 0, p)[o], requant.mult[c], requant.offset[c], requant.shift[c]),
              stage.low, stage.high);
          ASSERT_EQ(words.at(0, 0, p)[o], want) << "pixel " << p << " channel " << o;
          if (relu) {
            ASSERT_EQ(bytes.at(0, 0, p)[o], want) << "pixel " << p << " channel " << o;
          }
        }
      }
    }
    // The add: residuals at the int32 limits, shortcuts scaled by the extreme multipliers, ties.
    constexpr int kCount = 53;
    std::vector<int32_t> residual(kCount), shortcut_i32(kCount);
    std::vector<uint8_t> shortcut_u8(kCount), out(kCount);
    for (int i = 0; i < kCount; ++i) {
      residual[static_cast<size_t>(i)] = i % 4 == 0   ? INT32_MAX
                                         : i % 4 == 1 ? INT32_MIN
                                                      : static_cast<int32_t>(rng() % 601) - 300;
      shortcut_i32[static_cast<size_t>(i)] = i % 3 == 0 ? INT32_MIN : static_cast<int32_t>(rng());
      shortcut_u8[static_cast<size_t>(i)] = static_cast<uint8_t>(rng());
    }
    for (int32_t mult : {INT32_MAX, -INT32_MAX, 1, -1, 3}) {
      for (int shift : {0, 1, 2, 31, 40, 62}) {
        for (bool bytes : {true, false}) {
          SCOPED_TRACE("add mult " + std::to_string(mult) + " shift " + std::to_string(shift) +
                       (bytes ? " u8" : " i32") + (portable ? " portable" : ""));
          add_forward(residual.data(), bytes ? shortcut_u8.data() : nullptr,
                      bytes ? nullptr : shortcut_i32.data(), kCount, mult, shift, 255, out.data());
          for (size_t i = 0; i < static_cast<size_t>(kCount); ++i) {
            const int64_t shortcut = bytes ? shortcut_u8[i] : shortcut_i32[i];
            ASSERT_EQ(out[i], std::clamp<int64_t>(residual[i] + round_shift(shortcut * mult, shift),
                                                  0, 255))
                << "element " << i;
          }
        }
      }
    }
  }
  force_portable_fast_conv(false);
}

TEST(Kernels, PlaneLevelsComposeByShiftAccumulation) {
  for (int code = 0; code < 256; ++code) {
    const uint8_t u = static_cast<uint8_t>(code);
    for (int last = 1; last <= 8; ++last) {
      for (int first = 0; first < last; ++first) {
        const int head = first == 0 ? 0 : plane_level(u, 0, first);
        EXPECT_EQ(plane_level(u, 0, last),
                  head * (1 << (last - first)) + plane_level(u, first, last))
            << "code " << code << " planes " << first << ".." << last;
      }
    }
  }
}

TEST(Kernels, ShiftAccumulateRefusesOverflow) {
  WordMap acc(1, 1, 1, 2), sums(1, 1, 1, 2);
  acc.data = {1 << 20, -3};
  sums.data = {5, 1};
  shift_accumulate(acc, sums, 2, 32, 0, 1);
  EXPECT_EQ(acc.data, (std::vector<int32_t>{(1 << 22) + 5, -11}));
  EXPECT_THROW(shift_accumulate(acc, sums, 8, 24, 0, 1), Error);
}

TEST(Kernels, RoundShiftIsHalfAwayFromZero) {
  EXPECT_EQ(round_shift(5, 1), 3);
  EXPECT_EQ(round_shift(-5, 1), -3);
  EXPECT_EQ(round_shift(4, 1), 2);
  EXPECT_EQ(round_shift(-6, 2), -2);
  EXPECT_EQ(round_shift(-7, 2), -2);
  EXPECT_EQ(round_shift(7, 0), 7);
  EXPECT_EQ(round_shift(-7, 0), -7);
  EXPECT_EQ(round_shift((int64_t{1} << 62) - 1, 62), 1);
  EXPECT_EQ(round_shift(-(int64_t{1} << 61), 62), -1);
  EXPECT_EQ(round_shift(-(int64_t{1} << 61) + 1, 62), 0);
  EXPECT_EQ(requantize(100, 3, -1, 2), 75);   // (299 + 2) >> 2
  EXPECT_EQ(requantize(-100, 3, 1, 2), -75);  // -(299 + 2) >> 2
}

TEST(Kernels, WeightLevelsAreOddAndNested) {
  std::vector<uint8_t> codes(256);
  for (int i = 0; i < 256; ++i) codes[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  for (int k = 1; k <= 8; ++k) {
    const std::vector<int16_t> q = weight_levels(codes, k);
    for (int i = 0; i < 256; ++i) {
      const int level = q[static_cast<size_t>(i)];
      EXPECT_EQ(level & 1, 1);
      EXPECT_LE(std::abs(level), (1 << k) - 1);
      if (k > 1) {  // q_k = 2 q_{k-1} + b_k
        const int previous = weight_levels({codes[static_cast<size_t>(i)]}, k - 1)[0];
        EXPECT_EQ(std::abs(level - 2 * previous), 1);
      }
    }
  }
  EXPECT_EQ(weight_levels({255}, 8)[0], 255);
  EXPECT_EQ(weight_levels({0}, 8)[0], -255);
}

}  // namespace
}  // namespace bsnpu
