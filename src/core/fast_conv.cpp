#include "core/fast_conv.h"

#include <algorithm>
#include <atomic>

#include "core/error.h"
#include "core/fast_conv_args.h"
#include "core/kernels.h"

namespace bsnpu {

namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

// The same arithmetic as conv_kernel_avx512, one output at a time.
void conv_kernel_portable(const detail::ConvKernelArgs& a) {
  const int64_t block_bytes = int64_t{a.taps} * a.groups * 64;
  for (int pixel = 0; pixel < a.out_pixels; ++pixel) {
    const int64_t row = pixel / a.out_width, column = pixel % a.out_width;
    const uint8_t* window = a.input_origin + row * a.in_row_step + column * a.in_col_step;
    for (int channel = 0; channel < a.out_channels; ++channel) {
      const int8_t* weights = a.weights + (channel / 16) * block_bytes + (channel % 16) * 4;
      int32_t dot = 0;
      for (int t = 0; t < a.taps; ++t) {
        const uint8_t* source = window + a.tap_offsets[t];
        for (int g = 0; g < a.groups; ++g) {
          const int8_t* w = weights + (int64_t{t} * a.groups + g) * 64;
          for (int i = 0; i < 4; ++i) dot += int32_t{w[i]} * int32_t{source[4 * g + i]};
        }
      }
      int64_t acc = dot;
      if (a.dot_shift) acc = 2 * acc + a.window_sums[pixel];
      const int64_t value =
          std::clamp(requantize(acc, static_cast<int32_t>(a.mult[channel]), a.offset[channel],
                                static_cast<int>(a.shift[channel])),
                     a.low, a.high);
      const int64_t at = row * a.out_row_pitch + column * a.out_pixel_pitch + channel;
      if (a.out_u8) {
        a.out_u8[at] = static_cast<uint8_t>(value);
      } else {
        a.out_i32[at] = static_cast<int32_t>(value);
      }
    }
  }
}

std::atomic<bool> portable_forced{false};

bool cpu_has_avx512_vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

}  // namespace

ActivationBuffer::ActivationBuffer(int height_, int width_, int real_channels, int border_)
    : height(height_), width(width_), channels(round_up(real_channels, 4)), border(border_) {
  data.assign(static_cast<size_t>((height + 2 * border) * row_bytes()), 0);
}

void ActivationBuffer::fill_border(const std::vector<int32_t>& pad_value, int real_channels) {
  for (int y = -border; y < height + border; ++y) {
    for (int x = -border; x < width + border; ++x) {
      if (y >= 0 && y < height && x >= 0 && x < width) continue;
      uint8_t* pixel = at(y, x);
      for (int c = 0; c < real_channels; ++c)
        pixel[c] = static_cast<uint8_t>(pad_value[static_cast<size_t>(c)]);
    }
  }
}

bool fast_conv_uses_avx512() {
  static const bool has_avx512 = cpu_has_avx512_vnni();
  return has_avx512 && !portable_forced;
}

void force_portable_fast_conv(bool portable) { portable_forced = portable; }

PreparedConv prepare_conv(const Op& op, int k, int act_bits, int accumulator_bits) {
  if (op.kind != OpKind::Conv && op.kind != OpKind::Fc) {
    throw Error(op.name + ": not a conv or fc layer");
  }
  if (act_bits > 8) {
    throw Error(op.name + ": the fast kernel takes activations of at most 8 bits (act_bits = " +
                std::to_string(act_bits) + ")");
  }
  if (k < 1 || k > 8) throw Error(op.name + ": k=" + std::to_string(k) + " outside 1..8");
  const Requant& requant = op.requant_at(k);
  PreparedConv conv;
  conv.name = op.name;
  conv.in_channels = op.in_channels;
  conv.groups = round_up(op.in_channels, 4) / 4;
  conv.out_channels = op.out_channels;
  conv.out_blocks = round_up(op.out_channels, 16) / 16;
  conv.kernel = op.kernel;
  conv.stride = op.stride;
  conv.pad = op.pad;
  conv.in_hw = op.in_hw;
  conv.out_hw = op.out_hw;
  conv.dot_shift = k == 8 ? 1 : 0;

  // Static overflow check: every |partial sum| <= K * (2^k - 1) * max input, and at k = 8 the
  // kernel's intermediate 2 * sum(w x) reaches K * 256 * max input. Both must fit the accumulator.
  int64_t max_input = (int64_t{1} << act_bits) - 1;
  for (int32_t value : op.pad_value) max_input = std::max<int64_t>(max_input, value);
  const int64_t fan_in = op.fan_in();
  const int64_t limit = int64_t{1} << (accumulator_bits - 1);
  const int64_t worst = fan_in * ((int64_t{1} << k) - 1) * max_input;
  const int64_t worst_kernel = fan_in * (k == 8 ? 256 : 127) * max_input;
  if (worst >= limit || worst_kernel >= (int64_t{1} << 31)) {
    throw Error(op.name + ": worst-case accumulator " +
                std::to_string(std::max(worst, worst_kernel)) + " at k=" + std::to_string(k) +
                " overflows the signed " + std::to_string(accumulator_bits) + "-bit accumulator");
  }

  const int taps = op.kernel * op.kernel;
  conv.weights.assign(static_cast<size_t>(conv.out_blocks) * taps * conv.groups * 64, 0);
  for (int o = 0; o < op.out_channels; ++o) {
    for (int c = 0; c < op.in_channels; ++c) {
      for (int t = 0; t < taps; ++t) {
        const uint8_t code = op.codes[static_cast<size_t>((o * op.in_channels + c) * taps + t)];
        const int value = k == 8 ? code - 128 : 2 * (code >> (8 - k)) + 1 - (1 << k);
        const size_t at = ((static_cast<size_t>(o / 16) * taps + t) * conv.groups + c / 4) * 64 +
                          (o % 16) * 4 + c % 4;
        conv.weights[at] = static_cast<int8_t>(value);
      }
    }
  }
  const size_t padded_channels = static_cast<size_t>(conv.out_blocks) * 16;
  conv.mult.assign(padded_channels, 0);
  conv.offset.assign(padded_channels, 0);
  conv.half.assign(padded_channels, 0);
  conv.shift.assign(padded_channels, 0);
  for (size_t o = 0; o < static_cast<size_t>(op.out_channels); ++o) {
    conv.mult[o] = requant.mult[o];
    conv.offset[o] = requant.offset[o];
    conv.shift[o] = requant.shift[o];
    conv.half[o] = requant.shift[o] > 0 ? int64_t{1} << (requant.shift[o] - 1) : 0;
  }
  if (op.kind == OpKind::Conv && op.relu) {
    conv.low = 0;
    conv.high = (int64_t{1} << act_bits) - 1;
  } else {
    conv.low = INT32_MIN;
    conv.high = INT32_MAX;
  }
  return conv;
}

void conv_forward(const PreparedConv& conv, const ActivationBuffer& input, ActivationBuffer* out_u8,
                  int32_t* out_i32, std::vector<int32_t>& window_sums) {
  if (input.border < conv.pad || input.height != conv.in_hw || input.channels != 4 * conv.groups) {
    throw Error(conv.name + ": input buffer does not match the layer");
  }
  const int taps = conv.kernel * conv.kernel;
  int32_t tap_offsets[256];
  if (taps > 256) throw Error(conv.name + ": kernel too large");
  for (int ky = 0; ky < conv.kernel; ++ky) {
    for (int kx = 0; kx < conv.kernel; ++kx) {
      tap_offsets[ky * conv.kernel + kx] = ky * input.row_bytes() + kx * input.channels;
    }
  }
  detail::ConvKernelArgs args{};
  args.weights = conv.weights.data();
  args.out_blocks = conv.out_blocks;
  args.out_channels = conv.out_channels;
  args.taps = taps;
  args.groups = conv.groups;
  args.tap_offsets = tap_offsets;
  args.input_origin = input.at(-conv.pad, -conv.pad);
  args.in_row_step = int64_t{conv.stride} * input.row_bytes();
  args.in_col_step = int64_t{conv.stride} * input.channels;
  args.out_width = conv.out_hw;
  args.out_pixels = conv.out_hw * conv.out_hw;
  args.dot_shift = conv.dot_shift;
  args.mult = conv.mult.data();
  args.offset = conv.offset.data();
  args.half = conv.half.data();
  args.shift = conv.shift.data();
  args.low = conv.low;
  args.high = conv.high;
  if (out_u8) {
    args.out_u8 = out_u8->at(0, 0);
    args.out_row_pitch = out_u8->row_bytes();
    args.out_pixel_pitch = out_u8->channels;
  } else {
    args.out_i32 = out_i32;
    args.out_row_pitch = int64_t{conv.out_hw} * conv.out_channels;
    args.out_pixel_pitch = conv.out_channels;
  }
  if (conv.dot_shift) {
    // Window sums from per-pixel channel sums of the whole bordered buffer.
    const int buffer_width = input.width + 2 * input.border;
    const int buffer_pixels = (input.height + 2 * input.border) * buffer_width;
    window_sums.resize(static_cast<size_t>(buffer_pixels + args.out_pixels));
    int32_t* pixel_sums = window_sums.data() + args.out_pixels;
    for (int pixel = 0; pixel < buffer_pixels; ++pixel) {
      const uint8_t* source = input.data.data() + static_cast<size_t>(pixel) * input.channels;
      int32_t sum = 0;
      for (int c = 0; c < input.channels; ++c) sum += source[c];
      pixel_sums[pixel] = sum;
    }
    const int origin = input.border - conv.pad;
    for (int pixel = 0; pixel < args.out_pixels; ++pixel) {
      const int top = origin + (pixel / args.out_width) * conv.stride;
      const int left = origin + (pixel % args.out_width) * conv.stride;
      int32_t sum = 0;
      for (int ky = 0; ky < conv.kernel; ++ky) {
        for (int kx = 0; kx < conv.kernel; ++kx)
          sum += pixel_sums[(top + ky) * buffer_width + left + kx];
      }
      window_sums[static_cast<size_t>(pixel)] = sum;
    }
    args.window_sums = window_sums.data();
  }
  if (fast_conv_uses_avx512()) {
    detail::conv_kernel_avx512(args);
  } else {
    conv_kernel_portable(args);
  }
}

void add_forward(const int32_t* residual, const uint8_t* shortcut_u8, const int32_t* shortcut_i32,
                 int count, int32_t mult, int shift, int64_t high, uint8_t* out) {
  if (fast_conv_uses_avx512()) {
    const int64_t half = shift > 0 ? int64_t{1} << (shift - 1) : 0;
    detail::add_kernel_avx512(
        {residual, shortcut_u8, shortcut_i32, count, mult, shift, half, high, out});
    return;
  }
  for (int i = 0; i < count; ++i) {
    const int64_t shortcut = shortcut_u8 ? int64_t{shortcut_u8[i]} : int64_t{shortcut_i32[i]};
    out[i] = static_cast<uint8_t>(
        std::clamp<int64_t>(residual[i] + round_shift(shortcut * mult, shift), 0, high));
  }
}

}  // namespace bsnpu
