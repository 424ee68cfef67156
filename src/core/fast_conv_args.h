// The plain-data argument blocks of the vectorized kernels. Kept free of C++ library headers
// because fast_conv_avx512.cpp, which is compiled with AVX-512 enabled, includes it.
#pragma once

#include <stdint.h>

namespace bsnpu::detail {

// The AVX-512 kernels' layout of a stage's per-channel parameters: per 16-channel block,
// kRequantLanes vectors of 8 int64, each parameter once for the block's even channels (0, 2, ..,
// 14) and once for its odd channels, so that vpmuldq multiplies a vector of 16 int32 accumulators
// in place (even channels) and shifted down by 32 bits (odd ones), with no widening:
//   kLaneMult            mult
//   kLaneRounded         offset + 2^(shift-1) (the rounding term folded in; offset where shift = 0)
//   kLaneNegativeBelow   2^(shift-1): acc * mult + kLaneRounded below it means acc * mult + offset
//                        is negative, to round away from zero; INT64_MIN where shift = 0 (exact)
//   kLaneShift           shift
// each parameter's even vector at index kLane*, its odd one at kLane* + 1.
enum RequantLane { kLaneMult = 0, kLaneRounded = 2, kLaneNegativeBelow = 4, kLaneShift = 6 };
constexpr int kRequantLanes = 8;

// Per-channel requantization and clamp: out = clamp(round_shift(acc * mult + offset, shift)).
// Arrays hold out_blocks * 16 entries (the padding channels are never stored).
struct RequantArgs {
  const int64_t* mult;  // per channel (the portable loops)
  const int64_t* offset;
  const int64_t* shift;
  const int64_t* lanes;  // the same in the AVX-512 layout: [out_blocks][kRequantLanes][8]
  int64_t low, high;
};

// A residual add fused into a conv's output stage (docs/arithmetic.md, `add`): the requantized,
// int32-clamped acc is the residual, and
//   out = clamp(acc + round_shift(shortcut * mult, shift), 0, high)     as bytes
// A residual add's shortcut computed in the conv's own tiles (the engine's fusion of a block's
// downsample with its add): a 1x1 conv without padding over its own input rows, requantized and
// clamped to int32, as conv_kernel computes a conv:
//   shortcut[p][o] = clamp(round_shift(acc * mult + offset, shift), low, high),
//   acc = (sum_c weights[o][c] * input[p][c] << dot_shift) + (dot_shift ? window_sums[p] : 0)
// Its weights share the main conv's out_blocks and panel layout (one tap).
struct ShortcutConvArgs {
  const int8_t* weights;             // [out_blocks / panel_blocks][groups][panel_blocks][16][4]
  int groups;                        // its input channels / 4, rounded up
  int taps;                          // 1
  const int32_t* tap_offsets;        // {0}: the one tap's index and byte offset
  const uint8_t* const* input_rows;  // [rows] the input pixel of the row's first output
  int64_t in_col_step;               // bytes from one output pixel's input pixel to the next
  int dot_shift;
  const int32_t* window_sums;  // [rows][out_width] when dot_shift = 1
  const RequantArgs* requant;
};

struct ResidualArgs {
  const uint8_t* const* shortcut_rows_u8;   // [rows] the row's first shortcut pixel; or
  const int32_t* const* shortcut_rows_i32;  // exactly one of the three is set
  const ShortcutConvArgs* shortcut_conv;    // (then mult = 1, shift = 0)
  int64_t shortcut_pixel_pitch;             // elements between shortcut pixels in a row
  int64_t mult, shift, half, high;
  // |round_shift(shortcut * mult, shift)| is small enough that clamping the residual to int32
  // first cannot change the result (high - INT32_MAX <= scaled shortcut <= 2^31).
  bool bounded;
};

// Output pixels that see the same taps: rows [first_row, first_row + rows) of the row lists by
// columns [first_column, first_column + columns), whose taps are tap_list[first_tap ..
// first_tap + taps). Where the padding is zero the taps that fall into it are left out: they add
// nothing, to the dot product or to the window sum.
struct PixelRun {
  int first_row, rows, first_column, columns, first_tap, taps;
};

// A conv (or fc as a 1x1 conv) over the pixels of `runs` (the rows of a batch of images, in the
// order of the row lists):
//   D[p][o] = sum_{tap, c} weights[o][tap][c] * input[p + tap][c]    (s8 x u8, exact int32)
//   acc     = (D << dot_shift) + (dot_shift ? window_sums[p] : 0)
//   out     = acc                                       when requant is null (partial sums)
//           = clamp(round_shift(acc * mult + offset, shift), low, high)     otherwise
//             (then through the residual add, when set)
struct ConvKernelArgs {
  const int8_t* weights;       // [out_blocks / panel_blocks][taps][groups][panel_blocks][16][4]
  int out_blocks;              // output channels / 16, rounded up
  int panel_blocks;            // 4, 2 or 1: blocks whose weights are interleaved
  int out_channels;            // valid output channels (the last block may be partial)
  int taps;                    // kernel * kernel
  int groups;                  // input channels / 4, rounded up
  const int32_t* tap_offsets;  // byte offset of each tap from a window's top-left pixel
  const int32_t* tap_list;     // tap indices, by run
  const PixelRun* runs;        // every output pixel in exactly one run
  int run_count;
  const uint8_t* const* input_rows;  // [rows] top-left input pixel of the row's first window
  int64_t in_col_step;               // bytes from one output pixel's window to the next
  int out_width;                     // output pixels per row
  int dot_shift;                     // 0, or 1 when weights hold u - 128 (all 8 planes)
  const int32_t* window_sums;        // [rows][out_width] when dot_shift = 1
  const RequantArgs* requant;        // null: store the raw int32 acc
  const ResidualArgs* residual;      // set: add a shortcut after requant (needs out_rows_u8)
  uint8_t* const* out_rows_u8;       // [rows] first output pixel of the row; or
  int32_t* const* out_rows_i32;      // exactly one of the two is set (u8 needs requant)
  int64_t out_pixel_pitch;           // elements between output pixels in a row
};

// Requantization of rows of raw int32 accumulators (the Accumulator's output stage):
// out[p][o] = clamp(round_shift(acc[p][o] * mult[o] + offset[o], shift[o]), low, high).
struct RequantRowArgs {
  const int32_t* acc;  // [pixels][channels]
  int pixels, channels;
  const RequantArgs* requant;
  uint8_t* out_u8;  // exactly one of the two; out_u8 pixels are out_pixel_pitch bytes apart
  int32_t* out_i32;
  int64_t out_pixel_pitch;
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

// sums[p] = sum of the `channels` bytes of pixel p, for `count` consecutive pixels (channels a
// multiple of 4): the per-pixel terms of the window sums.
void pixel_sums_avx512(const uint8_t* pixels, int count, int channels, int32_t* sums);

// AVX-512 VNNI implementations (fast_conv_avx512.cpp); call only where the CPU has them.
void conv_kernel_avx512(const ConvKernelArgs& args);
void requant_rows_avx512(const RequantRowArgs& args);
void add_kernel_avx512(const AddKernelArgs& args);

}  // namespace bsnpu::detail
