// The non-MAC steps of the datapath over a batch of images, on the feature maps of
// core/feature_map.h: input quantization, ABS shift-accumulation of partial sums, residual add and
// average pool. The engine (core/engine.h) and the NPU's modules (src/tlm) both run these.
#pragma once

#include <cstdint>
#include <vector>

#include "core/feature_map.h"
#include "core/model.h"

namespace bsnpu {

// The feature maps of every op of `model` for `images` images, by op index: a ByteMap for the
// outputs that feed convs, adds or the pool (unsigned codes; a one-pixel border holding the
// padding value), a WordMap for the signed ones (convs without ReLU, the fc's logits).
struct OpMaps {
  std::vector<ByteMap> bytes;  // empty map where the op's output is signed
  std::vector<WordMap> words;  // empty map where the op's output is unsigned
};
bool writes_bytes(const Op& op);
OpMaps allocate_op_maps(const Model& model, int images);

// Images [begin, end) of `pixels` (consecutive 3x32x32 uint8, image `begin` first) into the
// input map's interior as act_bits codes.
void quantize_images(const uint8_t* pixels, int begin, int end, int act_bits, ByteMap& out);

// acc <- acc * 2^planes + sums for images [begin, end): the accumulation r(k + n) = 2^n r(k) + S
// of n more weight planes. Throws bsnpu::Error if a value would leave the signed
// accumulator_bits range.
void shift_accumulate(WordMap& acc, const WordMap& sums, int planes, int accumulator_bits,
                      int begin, int end);

// The add op for images [begin, end): out = clamp(residual + rescaled shortcut, 0, 2^a - 1);
// `rescale` is the shortcut's scalar (M, S) in force (read only with rescale_shortcut).
void residual_add(const Op& add, const Requant& rescale, int act_bits, const WordMap& residual,
                  const ByteMap* shortcut_u8, const WordMap* shortcut_i32, int begin, int end,
                  ByteMap& out);

// The avgpool op for images [begin, end): per channel round_shift(sum * mult, shift).
void average_pool(const Op& pool, int act_bits, const ByteMap& input, int begin, int end,
                  ByteMap& out);

// Index of the first maximum of each image's logits (the predicted class).
int argmax(const int32_t* logits, int classes);

}  // namespace bsnpu
