// The plain-data argument block of the vectorized conv kernels. Kept free of C++ library headers
// because fast_conv_avx512.cpp, which is compiled with AVX-512 enabled, includes it.
#pragma once

#include <stdint.h>

namespace bsnpu::detail {

// One conv (or fc as a 1x1 conv) over one image:
//   D[p][o] = sum_{tap, c} weights[o][tap][c] * input[p + tap][c]    (s8 x u8, exact int32)
//   acc     = (D << dot_shift) + (dot_shift ? window_sums[p] : 0)
//   out     = clamp(round_shift(acc * mult[o] + offset[o], shift[o]), low, high)
struct ConvKernelArgs {
  const int8_t* weights;        // [out_blocks][taps][groups][16 out][4 in]
  int out_blocks;               // output channels / 16, rounded up
  int out_channels;             // valid output channels (the last block may be partial)
  int taps;                     // kernel * kernel
  int groups;                   // input channels / 4, rounded up
  const int32_t* tap_offsets;   // byte offset of each tap from a window's top-left input pixel
  const uint8_t* input_origin;  // top-left input pixel of output pixel (0, 0)
  int64_t in_row_step;          // bytes from one output row's windows to the next
  int64_t in_col_step;          // bytes from one output pixel's window to the next in a row
  int out_width;                // output pixels per row
  int out_pixels;               // output rows * out_width
  int dot_shift;                // 0, or 1 when weights hold u - 128 (k = 8; see fast_conv.h)
  const int32_t* window_sums;   // [out_pixels] sum of the window's inputs, when dot_shift = 1
  const int64_t* mult;          // [out_blocks * 16] per channel, as int64
  const int64_t* offset;
  const int64_t* half;  // 2^(shift-1), or 0 when shift = 0
  const int64_t* shift;
  int64_t low, high;  // output clamp
  uint8_t* out_u8;    // exactly one of out_u8 / out_i32 is set
  int32_t* out_i32;
  int64_t out_row_pitch;    // elements between output rows
  int64_t out_pixel_pitch;  // elements between output pixels in a row
};

// One row of a residual add (docs/arithmetic.md, `add`):
//   out[i] = clamp(residual[i] + round_shift(shortcut[i] * mult, shift), 0, high)
// with the shortcut either unsigned bytes or int32 (exactly one of the two pointers set).
struct AddKernelArgs {
  const int32_t* residual;
  const uint8_t* shortcut_u8;
  const int32_t* shortcut_i32;
  int count;
  int64_t mult, shift, half, high;
  uint8_t* out;
};

// AVX-512 VNNI implementations (fast_conv_avx512.cpp); call only where the CPU has them.
void conv_kernel_avx512(const ConvKernelArgs& args);
void add_kernel_avx512(const AddKernelArgs& args);

}  // namespace bsnpu::detail
