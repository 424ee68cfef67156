// AVX-512 VNNI conv kernel: vpdpbusd multiplies 4 unsigned activation bytes by 4 signed weight
// bytes and adds the 4 products into an int32 lane, exactly (no saturation). A tile of NB x 16
// output channels times NP output pixels stays in registers for the whole window.
// Includes only C headers and <immintrin.h>: see the comment in CMakeLists.txt.
#include <immintrin.h>
#include <string.h>

#include "core/fast_conv_args.h"

namespace bsnpu::detail {

namespace {

// A tile holds 24 accumulators (NB blocks x 24 / NB pixels) and NB weight registers.
constexpr int kAccumulators = 24;

inline __m512i requant8(__m512i acc64, const RequantArgs& r, int channel) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i t = _mm512_add_epi64(_mm512_mul_epi32(acc64, _mm512_loadu_si512(r.mult + channel)),
                                     _mm512_loadu_si512(r.offset + channel));
  const __mmask8 negative = _mm512_cmplt_epi64_mask(t, zero);
  const __m512i magnitude =
      _mm512_srlv_epi64(_mm512_add_epi64(_mm512_abs_epi64(t), _mm512_loadu_si512(r.half + channel)),
                        _mm512_loadu_si512(r.shift + channel));
  const __m512i rounded = _mm512_mask_sub_epi64(magnitude, negative, zero, magnitude);
  return _mm512_min_epi64(_mm512_max_epi64(rounded, _mm512_set1_epi64(r.low)),
                          _mm512_set1_epi64(r.high));
}

// 16 int32 accumulators of channels channel..channel+15 requantized and clamped.
inline __m512i requant16(__m512i acc, const RequantArgs& r, int channel) {
  const __m512i low = requant8(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)), r, channel);
  const __m512i high =
      requant8(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1)), r, channel + 8);
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(low)),
                            _mm512_cvtepi64_epi32(high), 1);
}

// round_shift(shortcut * mult, shift) of 8 int64 lanes holding int32 values.
inline __m512i scaled_shortcut8(__m512i shortcut, __m512i mult, __m512i half, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i product = _mm512_mul_epi32(shortcut, mult);
  const __mmask8 negative = _mm512_cmplt_epi64_mask(product, zero);
  const __m512i magnitude =
      _mm512_srlv_epi64(_mm512_add_epi64(_mm512_abs_epi64(product), half), shift);
  return _mm512_mask_sub_epi64(magnitude, negative, zero, magnitude);
}

inline __mmask16 channel_mask(int valid) {
  return static_cast<__mmask16>(valid >= 16 ? 0xFFFFu : (1u << valid) - 1);
}

inline void store_outputs(const ConvKernelArgs& a, __m512i acc, int block, int row, int column) {
  if (a.dot_shift) {
    acc = _mm512_add_epi32(_mm512_slli_epi32(acc, 1),
                           _mm512_set1_epi32(a.window_sums[row * a.out_width + column]));
  }
  const int channel = block * 16;
  const __mmask16 mask = channel_mask(a.out_channels - channel);
  const int64_t at = column * a.out_pixel_pitch + channel;
  if (!a.requant) {
    _mm512_mask_storeu_epi32(a.out_rows_i32[row] + at, mask, acc);
    return;
  }
  if (a.residual) {
    const ResidualArgs& r = *a.residual;
    const int64_t from = column * r.shortcut_pixel_pitch + channel;
    __m512i low_shortcut, high_shortcut;
    if (r.shortcut_rows_u8) {
      const __m128i bytes = _mm_maskz_loadu_epi8(mask, r.shortcut_rows_u8[row] + from);
      low_shortcut = _mm512_cvtepu8_epi64(bytes);
      high_shortcut = _mm512_cvtepu8_epi64(_mm_srli_si128(bytes, 8));
    } else {
      const __m512i words = _mm512_maskz_loadu_epi32(mask, r.shortcut_rows_i32[row] + from);
      low_shortcut = _mm512_cvtepi32_epi64(_mm512_castsi512_si256(words));
      high_shortcut = _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(words, 1));
    }
    const __m512i mult = _mm512_set1_epi64(r.mult), half = _mm512_set1_epi64(r.half);
    const __m512i shift = _mm512_set1_epi64(r.shift), high = _mm512_set1_epi64(r.high);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i low_sum = _mm512_add_epi64(
        requant8(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)), *a.requant, channel),
        scaled_shortcut8(low_shortcut, mult, half, shift));
    const __m512i high_sum = _mm512_add_epi64(
        requant8(_mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1)), *a.requant, channel + 8),
        scaled_shortcut8(high_shortcut, mult, half, shift));
    const __m128i low_bytes =
        _mm512_cvtepi64_epi8(_mm512_min_epi64(_mm512_max_epi64(low_sum, zero), high));
    const __m128i high_bytes =
        _mm512_cvtepi64_epi8(_mm512_min_epi64(_mm512_max_epi64(high_sum, zero), high));
    _mm_mask_storeu_epi8(a.out_rows_u8[row] + at, mask, _mm_unpacklo_epi64(low_bytes, high_bytes));
    return;
  }
  const __m512i result = requant16(acc, *a.requant, channel);
  if (a.out_rows_u8) {
    _mm_mask_storeu_epi8(a.out_rows_u8[row] + at, mask, _mm512_cvtepi32_epi8(result));
  } else {
    _mm512_mask_storeu_epi32(a.out_rows_i32[row] + at, mask, result);
  }
}

// Pixels [index0, index0 + NP) of `run` (row-major) times output blocks [block0, block0 + NB).
template <int NB, int NP>
void tile(const ConvKernelArgs& a, const PixelRun& run, int block0, int index0) {
  int row[NP], column[NP];
  const uint8_t* window[NP];
  for (int p = 0; p < NP; ++p) {
    row[p] = run.first_row + (index0 + p) / run.columns;
    column[p] = run.first_column + (index0 + p) % run.columns;
    window[p] = a.input_rows[row[p]] + column[p] * a.in_col_step;
  }
  const int64_t tap_bytes = int64_t{a.groups} * 64;
  const int64_t block_bytes = a.taps * tap_bytes;
  const int8_t* block_weights = a.weights + block0 * block_bytes;
  __m512i acc[NB][NP];
  for (int b = 0; b < NB; ++b) {
    for (int p = 0; p < NP; ++p) acc[b][p] = _mm512_setzero_si512();
  }
  for (int i = 0; i < run.taps; ++i) {
    const int t = a.tap_list[run.first_tap + i];
    const uint8_t* source[NP];
    for (int p = 0; p < NP; ++p) source[p] = window[p] + a.tap_offsets[t];
    const int8_t* weights = block_weights + t * tap_bytes;
    for (int g = 0; g < a.groups; ++g, weights += 64) {
      __m512i w[NB];
      for (int b = 0; b < NB; ++b) w[b] = _mm512_loadu_si512(weights + b * block_bytes);
      for (int p = 0; p < NP; ++p) {
        int32_t four;
        memcpy(&four, source[p] + 4 * g, 4);
        const __m512i x = _mm512_set1_epi32(four);
        for (int b = 0; b < NB; ++b) acc[b][p] = _mm512_dpbusd_epi32(acc[b][p], x, w[b]);
      }
    }
  }
  for (int b = 0; b < NB; ++b) {
    for (int p = 0; p < NP; ++p) store_outputs(a, acc[b][p], block0 + b, row[p], column[p]);
  }
}

template <int NB, int NP = kAccumulators / NB>
void tile_any(const ConvKernelArgs& a, const PixelRun& run, int block0, int index0, int pixels) {
  if constexpr (NP > 1) {
    if (pixels < NP) return tile_any<NB, NP - 1>(a, run, block0, index0, pixels);
  }
  tile<NB, NP>(a, run, block0, index0);
}

// Each run in tiles of near-equal size: a tile of one or two pixels would leave too few
// independent accumulator chains to hide vpdpbusd's latency.
template <int NB>
void run_blocks(const ConvKernelArgs& a) {
  for (int block0 = 0; block0 < a.out_blocks; block0 += NB) {
    for (int r = 0; r < a.run_count; ++r) {
      const PixelRun& run = a.runs[r];
      const int pixels = run.rows * run.columns;
      constexpr int max_pixels = kAccumulators / NB;
      const int tiles = (pixels + max_pixels - 1) / max_pixels;
      for (int t = 0; t < tiles; ++t) {
        const int index0 = pixels * t / tiles;
        tile_any<NB>(a, run, block0, index0, pixels * (t + 1) / tiles - index0);
      }
    }
  }
}

}  // namespace

void conv_kernel_avx512(const ConvKernelArgs& args) {
  if (args.out_blocks % 4 == 0) {
    run_blocks<4>(args);
  } else if (args.out_blocks % 2 == 0) {
    run_blocks<2>(args);
  } else {
    run_blocks<1>(args);
  }
}

void requant_rows_avx512(const RequantRowArgs& a) {
  for (int pixel = 0; pixel < a.pixels; ++pixel) {
    const int32_t* acc = a.acc + static_cast<int64_t>(pixel) * a.channels;
    for (int channel = 0; channel < a.channels; channel += 16) {
      const __mmask16 mask = channel_mask(a.channels - channel);
      const __m512i result =
          requant16(_mm512_maskz_loadu_epi32(mask, acc + channel), *a.requant, channel);
      const int64_t at = pixel * a.out_pixel_pitch + channel;
      if (a.out_u8) {
        _mm_mask_storeu_epi8(a.out_u8 + at, mask, _mm512_cvtepi32_epi8(result));
      } else {
        _mm512_mask_storeu_epi32(a.out_i32 + at, mask, result);
      }
    }
  }
}

void pixel_sums_avx512(const uint8_t* pixels, int count, int channels, int32_t* sums) {
  const __m512i zero = _mm512_setzero_si512();
  for (int pixel = 0; pixel < count; ++pixel) {
    const uint8_t* source = pixels + static_cast<int64_t>(pixel) * channels;
    __m512i total = zero;
    for (int c = 0; c < channels; c += 64) {
      const int lanes = channels - c < 64 ? channels - c : 64;
      const __mmask64 mask = lanes == 64 ? ~__mmask64{0} : (__mmask64{1} << lanes) - 1;
      total =
          _mm512_add_epi64(total, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(mask, source + c), zero));
    }
    sums[pixel] = static_cast<int32_t>(_mm512_reduce_add_epi64(total));
  }
}

void add_kernel_avx512(const AddKernelArgs& a) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i mult = _mm512_set1_epi64(a.mult), half = _mm512_set1_epi64(a.half);
  const __m512i shift = _mm512_set1_epi64(a.shift), high = _mm512_set1_epi64(a.high);
  int i = 0;
  for (; i < a.count; i += 8) {
    const int lanes = a.count - i < 8 ? a.count - i : 8;
    const __mmask8 mask = static_cast<__mmask8>((1u << lanes) - 1);
    const __m512i shortcut =
        a.shortcut_u8 ? _mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(mask, a.shortcut_u8 + i))
                      : _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mask, a.shortcut_i32 + i));
    const __m512i scaled = scaled_shortcut8(shortcut, mult, half, shift);
    const __m512i residual = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(mask, a.residual + i));
    const __m512i sum =
        _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(residual, scaled), zero), high);
    _mm_mask_storeu_epi8(a.out + i, mask, _mm512_cvtepi64_epi8(sum));
  }
}

}  // namespace bsnpu::detail
