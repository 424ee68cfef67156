#include "core/layer_ops.h"

#include <algorithm>

#include "core/arith.h"
#include "core/error.h"
#include "core/fast_conv.h"

namespace bsnpu {

bool writes_bytes(const Op& op) {
  return op.kind == OpKind::Input || op.kind == OpKind::Add || op.kind == OpKind::AvgPool ||
         (op.kind == OpKind::Conv && op.relu);
}

OpMaps allocate_op_maps(const Model& model, int images) {
  OpMaps maps;
  const std::vector<Op>& ops = model.ops();
  maps.bytes.resize(ops.size());
  maps.words.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (writes_bytes(op)) {
      // A border of one pixel serves every consumer: 3x3 convs pad 1, 1x1 convs pad 0.
      const int border = op.kind == OpKind::AvgPool ? 0 : 1;
      maps.bytes[i] = ByteMap(images, op.out_hw, op.out_hw, op.out_channels, border);
      if (op.kind == OpKind::Input) maps.bytes[i].fill_border(op.zero_point);
    } else {
      maps.words[i] = WordMap(images, op.out_hw, op.out_hw, op.out_channels);
    }
  }
  return maps;
}

void quantize_images(const uint8_t* pixels, int begin, int end, int act_bits, ByteMap& out) {
  if (out.real_channels != kImageChannels || out.height != kImageSide || out.width != kImageSide ||
      end > out.images) {
    throw Error("input: the feature map is not " + std::to_string(kImageChannels) + "x" +
                std::to_string(kImageSide) + "x" + std::to_string(kImageSide));
  }
  constexpr int spatial = kImageSide * kImageSide;
  for (int image = begin; image < end; ++image) {
    const uint8_t* source = pixels + static_cast<size_t>(image - begin) * kImageBytes;
    for (int c = 0; c < kImageChannels; ++c) {
      for (int p = 0; p < spatial; ++p) {
        out.at(image, p / kImageSide, p % kImageSide)[c] =
            quantize_pixel(source[c * spatial + p], act_bits);
      }
    }
  }
}

void shift_accumulate(WordMap& acc, const WordMap& sums, int planes, int accumulator_bits,
                      int begin, int end) {
  if (acc.image_words() != sums.image_words() || end > acc.images || end > sums.images ||
      planes < 1 || planes > 8) {
    throw Error("shift_accumulate: partial sums do not match the accumulator");
  }
  const int64_t limit = int64_t{1} << (accumulator_bits - 1);
  const int64_t words = acc.image_words();
  int32_t* r = acc.data.data() + begin * words;
  const int32_t* s = sums.data.data() + begin * words;
  const int64_t count = (end - begin) * words;
  bool overflow = false;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t value = int64_t{r[i]} * (int64_t{1} << planes) + s[i];
    overflow |= value >= limit || value <= -limit;
    r[i] = static_cast<int32_t>(value);
  }
  if (overflow) {
    throw Error("shift_accumulate: a partial sum overflows the signed " +
                std::to_string(accumulator_bits) + "-bit accumulator");
  }
}

void residual_add(const Op& add, const Requant& rescale, int act_bits, const WordMap& residual,
                  const ByteMap* shortcut_u8, const WordMap* shortcut_i32, int begin, int end,
                  ByteMap& out) {
  if ((shortcut_u8 == nullptr) == (shortcut_i32 == nullptr) ||
      residual.channels != add.out_channels || residual.height != add.out_hw ||
      end > residual.images || end > out.images) {
    throw Error(add.name + ": operands do not match the add");
  }
  int32_t mult = 1, shift = 0;
  if (add.rescale_shortcut) {
    if (rescale.mult.empty() || rescale.shift.empty()) {
      throw Error(add.name + ": no shortcut rescale parameters");
    }
    mult = rescale.mult[0];
    shift = rescale.shift[0];
  }
  const int64_t act_max = (int64_t{1} << act_bits) - 1;
  // Rows are contiguous where no map pads its channels: one kernel call per row, not per pixel.
  const bool whole_rows = out.channels == add.out_channels &&
                          (!shortcut_u8 || shortcut_u8->channels == add.out_channels);
  for (int image = begin; image < end; ++image) {
    for (int y = 0; y < add.out_hw; ++y) {
      if (whole_rows) {
        add_forward(residual.at(image, y, 0), shortcut_u8 ? shortcut_u8->at(image, y, 0) : nullptr,
                    shortcut_i32 ? shortcut_i32->at(image, y, 0) : nullptr,
                    add.out_hw * add.out_channels, mult, shift, act_max, out.at(image, y, 0));
        continue;
      }
      for (int x = 0; x < add.out_hw; ++x) {
        add_forward(residual.at(image, y, x), shortcut_u8 ? shortcut_u8->at(image, y, x) : nullptr,
                    shortcut_i32 ? shortcut_i32->at(image, y, x) : nullptr, add.out_channels, mult,
                    shift, act_max, out.at(image, y, x));
      }
    }
  }
}

void average_pool(const Op& pool, int act_bits, const ByteMap& input, int begin, int end,
                  ByteMap& out) {
  if (input.real_channels != pool.in_channels || input.height != pool.in_hw || end > input.images ||
      end > out.images) {
    throw Error(pool.name + ": input does not match the pool");
  }
  const int64_t act_max = (int64_t{1} << act_bits) - 1;
  std::vector<int64_t> sums(static_cast<size_t>(pool.in_channels));
  for (int image = begin; image < end; ++image) {
    std::fill(sums.begin(), sums.end(), 0);
    for (int y = 0; y < pool.in_hw; ++y) {
      for (int x = 0; x < pool.in_hw; ++x) {
        const uint8_t* source = input.at(image, y, x);
        for (size_t c = 0; c < sums.size(); ++c) sums[c] += source[c];
      }
    }
    uint8_t* target = out.at(image, 0, 0);
    for (size_t c = 0; c < sums.size(); ++c) {
      const int64_t value = round_shift(sums[c] * pool.pool_mult, pool.pool_shift);
      // The fc reads bytes: a pool value outside the activation range would be a model error.
      if (value < 0 || value > act_max) {
        throw Error(pool.name + ": pooled value " + std::to_string(value) +
                    " outside the activation range");
      }
      target[c] = static_cast<uint8_t>(value);
    }
  }
}

int argmax(const int32_t* logits, int classes) {
  return static_cast<int>(std::max_element(logits, logits + classes) - logits);
}

}  // namespace bsnpu
