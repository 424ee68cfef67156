// The fast MAC path: conv and fc as exact s8 x u8 integer dot products (AVX-512 VNNI where the CPU
// has it, portable loops otherwise), with requantization fused into the output.
//
// Weights: at k <= 7 the level q_k = 2 u_k + 1 - 2^k lies in [-127, 127] and is stored as is.
// At k = 8, q_8 in [-255, 255] does not fit a signed byte, so the byte holds w = u - 128 and
//   sum_j q_j x_j = sum_j (2 w_j + 1) x_j = 2 sum_j w_j x_j + sum_j x_j,
// the second term being the sum of the window's activations ("window sum").
// Activations are unsigned bytes, stored NHWC with channels padded to a multiple of 4 and a
// border around each image that holds the padding value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"

namespace bsnpu {

// An NHWC uint8 activation tensor with a border of `border` pixels (holding the padding value)
// and `channels` padded to a multiple of 4 (extra channels 0).
struct ActivationBuffer {
  int height = 0, width = 0, channels = 0, border = 0;
  std::vector<uint8_t> data;
  ActivationBuffer() = default;
  ActivationBuffer(int height, int width, int real_channels, int border);
  int row_bytes() const { return (width + 2 * border) * channels; }
  // Pointer to interior pixel (y, x); y and x may reach into the border.
  uint8_t* at(int y, int x) {
    return data.data() + static_cast<size_t>((y + border) * row_bytes() + (x + border) * channels);
  }
  const uint8_t* at(int y, int x) const {
    return data.data() + static_cast<size_t>((y + border) * row_bytes() + (x + border) * channels);
  }
  // Sets every border pixel to pad_value (per real channel).
  void fill_border(const std::vector<int32_t>& pad_value, int real_channels);
};

// A conv or fc layer prepared for one k: weight bytes in the kernel's layout and per-channel
// requantization vectors.
struct PreparedConv {
  std::string name;
  int in_channels = 0, groups = 0, out_channels = 0, out_blocks = 0;
  int kernel = 1, stride = 1, pad = 0, in_hw = 1, out_hw = 1;
  int dot_shift = 0;  // 1 at k = 8 (see above)
  int64_t low = 0, high = 0;
  std::vector<int8_t> weights;                     // [out_blocks][taps][groups][16][4]
  std::vector<int64_t> mult, offset, half, shift;  // [out_blocks * 16]
};

// Throws bsnpu::Error if the layer's worst-case accumulator could leave the signed
// accumulator_bits range (it is checked statically here, so the kernel never has to).
PreparedConv prepare_conv(const Op& op, int k, int act_bits, int accumulator_bits);

// Runs the layer on one image. `input` must have border >= pad. Output goes either to `out_u8`
// (relu layers: an ActivationBuffer's interior) or `out_i32` (NHWC [out_hw][out_hw][out]).
// `window_sums` is scratch space, used at k = 8.
void conv_forward(const PreparedConv& conv, const ActivationBuffer& input, ActivationBuffer* out_u8,
                  int32_t* out_i32, std::vector<int32_t>& window_sums);

// One pixel's channels of a residual add: out = clamp(residual + round_shift(shortcut * mult,
// shift), 0, high); the shortcut is unsigned bytes or int32 (one of the two pointers set).
void add_forward(const int32_t* residual, const uint8_t* shortcut_u8, const int32_t* shortcut_i32,
                 int count, int32_t mult, int shift, int64_t high, uint8_t* out);

// Whether conv_forward uses the AVX-512 VNNI kernel: when the CPU has it, unless the portable
// loops are forced (tests compare the two).
bool fast_conv_uses_avx512();
void force_portable_fast_conv(bool portable);

}  // namespace bsnpu
