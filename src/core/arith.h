// The ground of the bit-exact datapath (docs/arithmetic.md): the image size, the pixel -> code
// input quantizer, BWB weight levels of a range of bit-planes, and the round-half-away-from-zero
// requantization every layer ends with. Everything else in src/core is built on these.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bsnpu {

constexpr int kImageChannels = 3;
constexpr int kImageSide = 32;
constexpr size_t kImageBytes = size_t{kImageChannels} * kImageSide * kImageSide;  // [3][32][32]

// The input op's code of one 8-bit pixel at act_bits: round(pixel * (2^a - 1) / 255).
inline uint8_t quantize_pixel(uint8_t pixel, int act_bits) {
  const int64_t levels = (int64_t{1} << act_bits) - 1;
  return static_cast<uint8_t>((pixel * levels * 2 + 255) / 510);
}

// The weight bit-planes first_plane + 1 .. last_plane (MSB = plane 1) of an 8-bit BWB code as one
// odd level: sum over those planes of b_i 2^(last_plane - i), b_i = +-1. With first_plane = 0 it
// is q_k = 2 (u >> (8 - k)) + 1 - 2^k; in general the partial sum S of those planes satisfies
// r(last_plane) = 2^(last_plane - first_plane) r(first_plane) + S (ABS accumulation).
inline int plane_level(uint8_t code, int first_plane, int last_plane) {
  const int planes = last_plane - first_plane;
  const int bits = (code >> (8 - last_plane)) & ((1 << planes) - 1);
  return 2 * bits + 1 - (1 << planes);
}

// Round half away from zero of t / 2^shift (shift 0..62).
inline int64_t round_shift(int64_t t, int shift) {
  if (shift == 0) return t;
  const uint64_t magnitude = t < 0 ? 0 - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  const int64_t rounded = static_cast<int64_t>((magnitude + (uint64_t{1} << (shift - 1))) >> shift);
  return t < 0 ? -rounded : rounded;
}

// round_shift(acc * mult + offset, shift), in int64.
inline int64_t requantize(int64_t acc, int32_t mult, int64_t offset, int shift) {
  return round_shift(acc * mult + offset, shift);
}

}  // namespace bsnpu
