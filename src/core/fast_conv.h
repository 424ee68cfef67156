// The fast MAC path: conv and fc layers over a batch of images as exact s8 x u8 integer dot
// products (AVX-512 VNNI where the CPU has it, portable loops otherwise), and the vectorized
// output stages (requantization, residual add) that the engine fuses and the NPU's Accumulator
// runs on their own.
//
// Weights of planes (first, last] (see plane_level in core/arith.h): with n = last - first <= 7
// planes the level lies in [-127, 127] and is stored as is. With all 8 planes it lies in
// [-255, 255], so the byte holds w = u - 128 and
//   sum_j q_j x_j = sum_j (2 w_j + 1) x_j = 2 sum_j w_j x_j + sum_j x_j,
// the second term being the sum of the window's activations ("window sum").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/feature_map.h"
#include "core/model.h"

namespace bsnpu {

// A conv or fc layer's weight bit-planes (first_plane, last_plane] in the kernel's layout.
struct ConvWeights {
  std::string name;
  int in_channels = 0, groups = 0, out_channels = 0, out_blocks = 0;
  int kernel = 1, stride = 1, pad = 0, in_hw = 1, out_hw = 1;
  bool zero_padding = true;  // the padding value is 0: its taps can be skipped
  int first_plane = 0, last_plane = 8;
  int dot_shift = 0;     // 1 with all 8 planes (see above)
  int panel_blocks = 1;  // output blocks a tile computes together (4, 2 or 1)
  // [out_blocks / panel_blocks][taps][groups][panel_blocks][16 out][4 in]: the weights a tile's
  // blocks need at one step lie side by side, one sequential stream through the layer.
  std::vector<int8_t> weights;
  int planes() const { return last_plane - first_plane; }
};

// Throws bsnpu::Error unless 0 <= first_plane < last_plane <= 8, or if the layer's worst-case
// accumulator at last_plane could leave the signed accumulator_bits range (checked statically
// here, so the kernels never have to).
ConvWeights prepare_weights(const Op& op, int first_plane, int last_plane, int act_bits,
                            int accumulator_bits);

// A layer's output stage at k: per-channel requantization with the BN set of k and the clamp
// (ReLU convs: 0..2^a - 1; other convs and the fc: int32). Vectors hold a multiple of 16.
struct OutputStage {
  std::vector<int64_t> mult, offset, shift;
  std::vector<int64_t> lanes;  // the same in the AVX-512 kernels' layout (fast_conv_args.h)
  int64_t low = 0, high = 0;
};
OutputStage output_stage(const Op& op, int k, int act_bits);
// The same with the given (per-channel) requantization, e.g. a re-targeted one
// (core/precision.h).
OutputStage output_stage(const Op& op, const Requant& requant, int act_bits);

// Scratch space of the kernels; one per thread.
struct ConvScratch {
  std::vector<const uint8_t*> input_rows;
  std::vector<uint8_t*> out_rows_u8;
  std::vector<int32_t*> out_rows_i32;
  std::vector<int32_t> window_sums;
  std::vector<const uint8_t*> shortcut_rows_u8;
  std::vector<const int32_t*> shortcut_rows_i32;
  std::vector<const uint8_t*> shortcut_input_rows;
  std::vector<int32_t> shortcut_window_sums;
};

// Images [begin, end) of `input` (border >= pad) through the layer:
//  - conv_partial_sums: the exact partial sums S = sum_j level_j x_j of the weights' planes
//    into `sums` (the MacArray's result);
//  - conv_requantized: S requantized by `stage` into `out_u8`'s interior or `out_i32` (one set).
void conv_partial_sums(const ConvWeights& weights, const ByteMap& input, int begin, int end,
                       WordMap& sums, ConvScratch& scratch);
void conv_requantized(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                      int begin, int end, ByteMap* out_u8, WordMap* out_i32, ConvScratch& scratch);

// conv_requantized to int32 and a residual add in one pass, without the int32 map (the engine's
// fusion of a block's last conv with its add): for images [begin, end),
//   out = clamp(requant(S) + round_shift(shortcut * mult, shift), 0, high)
// into `out`'s interior, the shortcut being unsigned bytes or int32 (one of the two set). The
// stage must clamp to int32 (a conv without ReLU), as the add's residual input is.
void conv_residual_add(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                       int begin, int end, const ByteMap* shortcut_u8, const WordMap* shortcut_i32,
                       int32_t mult, int shift, int64_t high, ByteMap& out, ConvScratch& scratch);

// The same with the shortcut computed in the same pass, without its int32 map (the engine's
// fusion of a block's downsample with its add): a 1x1 conv without padding, with the layer's
// output shape, over `shortcut_input`, requantized by `shortcut_stage` (which must clamp to
// int32) and added as is (no rescale). Equal to conv_requantized of the shortcut to int32, then
// conv_residual_add with that map, mult 1 and shift 0.
void conv_residual_add(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                       int begin, int end, const ConvWeights& shortcut_weights,
                       const OutputStage& shortcut_stage, const ByteMap& shortcut_input,
                       int64_t high, ByteMap& out, ConvScratch& scratch);

// Images [begin, end) of raw accumulators requantized by `stage` into `out_u8`'s interior or
// `out_i32` (one set): the Accumulator's output stage.
void requantize_map(const WordMap& acc, const OutputStage& stage, int begin, int end,
                    ByteMap* out_u8, WordMap* out_i32);

// One pixel's channels of a residual add: out = clamp(residual + round_shift(shortcut * mult,
// shift), 0, high); the shortcut is unsigned bytes or int32 (one of the two pointers set).
void add_forward(const int32_t* residual, const uint8_t* shortcut_u8, const int32_t* shortcut_i32,
                 int count, int32_t mult, int shift, int64_t high, uint8_t* out);

// Whether the kernels use AVX-512 VNNI: when the CPU has it, unless the portable loops are forced
// (tests compare the two).
bool fast_conv_uses_avx512();
void force_portable_fast_conv(bool portable);

}  // namespace bsnpu
