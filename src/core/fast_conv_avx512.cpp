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

// round_shift(t, shift) from u = t + 2^(shift-1): an arithmetic shift of u rounds half up, which
// is half away from zero for t >= 0; a negative t (u < negative_below) rounds half away from zero
// from u - 1, as -((-t + h) >> s) = ceil((t - h) / 2^s) = floor((t + h - 1) / 2^s) with h =
// 2^(s-1). negative_below is 2^(shift-1), or INT64_MIN where shift = 0 (u = t, exact).
inline __m512i round_half_away(__m512i u, __m512i negative_below, __m512i shift) {
  const __mmask8 negative = _mm512_cmplt_epi64_mask(u, negative_below);
  return _mm512_srav_epi64(_mm512_mask_add_epi64(u, negative, u, _mm512_set1_epi64(-1)), shift);
}

// A 16-channel block's requantization parameters (fast_conv_args.h's lanes), loaded once for
// all of a tile's pixels; index 0 holds the even channels, 1 the odd ones.
struct BlockRequant {
  __m512i mult[2], rounded[2], negative_below[2], shift[2];
  BlockRequant(const int64_t* lanes, int block) {
    const int64_t* params = lanes + block * kRequantLanes * 8;
    for (int parity = 0; parity < 2; ++parity) {
      mult[parity] = _mm512_loadu_si512(params + 8 * (kLaneMult + parity));
      rounded[parity] = _mm512_loadu_si512(params + 8 * (kLaneRounded + parity));
      negative_below[parity] = _mm512_loadu_si512(params + 8 * (kLaneNegativeBelow + parity));
      shift[parity] = _mm512_loadu_si512(params + 8 * (kLaneShift + parity));
    }
  }
};

// round_shift(acc * mult + offset, shift) of the block's channels of one parity, their
// accumulators in the low dwords of x's int64 lanes. Where the clamp's low bound is >= 0 (ReLU),
// a negative t ends at that bound whichever way it rounds (floor((t + h) / 2^s) <= 0 there too),
// so the arithmetic shift of t + 2^(shift-1) alone is exact.
template <bool kNonNegativeLow>
inline __m512i requant8(__m512i x, const BlockRequant& r, int parity) {
  const __m512i u = _mm512_add_epi64(_mm512_mul_epi32(x, r.mult[parity]), r.rounded[parity]);
  if constexpr (kNonNegativeLow) {
    return _mm512_srav_epi64(u, r.shift[parity]);
  } else {
    return round_half_away(u, r.negative_below[parity], r.shift[parity]);
  }
}

// int64 values of a block's even and odd channels.
struct Halves {
  __m512i even, odd;
};

inline __m512i clamp64(__m512i value, __m512i low, __m512i high) {
  return _mm512_min_epi64(_mm512_max_epi64(value, low), high);
}

// 16 int32 accumulators requantized (not clamped).
template <bool kNonNegativeLow>
inline Halves requant16(__m512i acc, const BlockRequant& r) {
  return {requant8<kNonNegativeLow>(acc, r, 0),
          requant8<kNonNegativeLow>(_mm512_srli_epi64(acc, 32), r, 1)};
}

inline Halves clamp16(Halves h, __m512i low, __m512i high) {
  return {clamp64(h.even, low, high), clamp64(h.odd, low, high)};
}

// The 16 int32 lanes of int64 halves whose values lie in the int32 range.
inline __m512i interleave(Halves h) {
  return _mm512_mask_shuffle_epi32(h.even, 0xAAAA, h.odd, _MM_PERM_CDAB);
}

// The even and odd int32 lanes of x sign-extended to int64.
inline Halves widen(__m512i x) {
  return {_mm512_srai_epi64(_mm512_slli_epi64(x, 32), 32), _mm512_srai_epi64(x, 32)};
}

// round_shift(shortcut * mult, shift) of a residual add for the even and odd lanes of 16 int32
// shortcuts. With kNonNegative the products are known to be >= 0 (byte shortcuts, mult >= 0), so
// the arithmetic shift of t + 2^(shift-1) is exact on its own.
struct ScaledShortcut {
  __m512i mult, half, negative_below, shift;
  ScaledShortcut(int64_t multiplier, int64_t shift_bits, int64_t rounding)
      : mult(_mm512_set1_epi64(multiplier)),
        half(_mm512_set1_epi64(rounding)),
        negative_below(_mm512_set1_epi64(shift_bits > 0 ? rounding : INT64_MIN)),
        shift(_mm512_set1_epi64(shift_bits)) {}
  template <bool kNonNegative = false>
  __m512i scale(__m512i x) const {
    const __m512i u = _mm512_add_epi64(_mm512_mul_epi32(x, mult), half);
    if constexpr (kNonNegative) {
      return _mm512_srav_epi64(u, shift);
    } else {
      return round_half_away(u, negative_below, shift);
    }
  }
  template <bool kNonNegative = false>
  Halves operator()(__m512i shortcut) const {
    return {scale<kNonNegative>(shortcut), scale<kNonNegative>(_mm512_srli_epi64(shortcut, 32))};
  }
};

inline __mmask16 channel_mask(int valid) {
  return static_cast<__mmask16>(valid >= 16 ? 0xFFFFu : (1u << valid) - 1);
}

// What a tile does with its accumulators.
enum class Output {
  PartialSums,             // the raw acc, as int32
  Requantized,             // requant and clamp, low bound < 0: as int32 or bytes
  RequantizedNonNegative,  // the same with a low bound >= 0 (ReLU)
  ResidualAdd,             // requant (int32 clamp), then the residual add, as bytes
  ResidualAddBytes,        // the same for a byte shortcut with mult >= 0, where the int32 clamp
                           // cannot change the result (ResidualArgs::bounded)
  ResidualAddWords,        // the same for an int32 shortcut that is not rescaled (mult 1, shift 0)
  ResidualAddConv,         // the same with the shortcut a 1x1 conv computed in the tile
};

constexpr bool is_residual(Output output) {
  return output == Output::ResidualAdd || output == Output::ResidualAddBytes ||
         output == Output::ResidualAddWords || output == Output::ResidualAddConv;
}

// Where one output pixel of a tile goes: its first channel in the output row (and in the
// shortcut's: shortcut_i32[0] is channel shortcut_first_channel), and its window sum.
struct PixelTarget {
  uint8_t* out_u8;
  int32_t* out_i32;
  const uint8_t* shortcut_u8;
  const int32_t* shortcut_i32;
  int shortcut_first_channel;
  int32_t window_sum;
};

// A tile's output stage, its broadcast parameters loaded once.
template <Output kOutput>
class OutputStore {
 public:
  explicit OutputStore(const ConvKernelArgs& a)
      : a_(a),
        low_(_mm512_set1_epi64(a.requant ? a.requant->low : 0)),
        high_(_mm512_set1_epi64(a.requant ? a.requant->high : 0)),
        shortcut_(a.residual ? a.residual->mult : 0, a.residual ? a.residual->shift : 0,
                  a.residual ? a.residual->half : 0),
        add_high_(_mm512_set1_epi64(a.residual ? a.residual->high : 0)) {}

  PixelTarget target(int row, int column) const {
    PixelTarget t{};
    if (a_.out_rows_u8) t.out_u8 = a_.out_rows_u8[row] + column * a_.out_pixel_pitch;
    if (a_.out_rows_i32) t.out_i32 = a_.out_rows_i32[row] + column * a_.out_pixel_pitch;
    if constexpr (is_residual(kOutput) && kOutput != Output::ResidualAddConv) {
      const ResidualArgs& r = *a_.residual;
      const int64_t from = column * r.shortcut_pixel_pitch;
      if (r.shortcut_rows_u8) t.shortcut_u8 = r.shortcut_rows_u8[row] + from;
      if (r.shortcut_rows_i32) t.shortcut_i32 = r.shortcut_rows_i32[row] + from;
    }
    if (a_.dot_shift) t.window_sum = window_sum(row, column);
    return t;
  }

  // One pixel's raw partial sums of block `block`.
  void raw(__m512i acc, int row, int column, int block) const {
    const int channel = block * 16;
    _mm512_mask_storeu_epi32(a_.out_rows_i32[row] + column * a_.out_pixel_pitch + channel,
                             channel_mask(a_.out_channels - channel),
                             dot(acc, a_.dot_shift ? window_sum(row, column) : 0));
  }

  // The accumulators of block `block` for the tile's pixels (every output but raw partial sums,
  // which raw() stores).
  template <int NP>
  void block(const __m512i (&acc)[NP], const PixelTarget (&targets)[NP], int block) const {
    static_assert(kOutput != Output::PartialSums);
    const int channel = block * 16;
    const __mmask16 mask = channel_mask(a_.out_channels - channel);
    const BlockRequant requant(a_.requant->lanes, block);
    for (int p = 0; p < NP; ++p) {
      const __m512i value = dot(acc[p], targets[p].window_sum);
      const PixelTarget& t = targets[p];
      if constexpr (is_residual(kOutput)) {
        _mm_mask_storeu_epi8(t.out_u8 + channel, mask,
                             _mm512_cvtepi32_epi8(residual_add(value, requant, t, channel, mask)));
      } else {
        const __m512i result = interleave(clamp16(
            requant16<kOutput == Output::RequantizedNonNegative>(value, requant), low_, high_));
        if (t.out_u8) {
          _mm_mask_storeu_epi8(t.out_u8 + channel, mask, _mm512_cvtepi32_epi8(result));
        } else {
          _mm512_mask_storeu_epi32(t.out_i32 + channel, mask, result);
        }
      }
    }
  }

 private:
  int32_t window_sum(int row, int column) const {
    return a_.window_sums[row * a_.out_width + column];
  }

  // The accumulator: the dot product, or with all 8 planes twice it plus the window sum.
  __m512i dot(__m512i acc, int32_t window_sum) const {
    if (!a_.dot_shift) return acc;
    return _mm512_add_epi32(_mm512_slli_epi32(acc, 1), _mm512_set1_epi32(window_sum));
  }

  // clamp(clamp32(requant(acc)) + scaled shortcut, 0, high) as 16 int32 lanes.
  __m512i residual_add(__m512i acc, const BlockRequant& requant, const PixelTarget& t, int channel,
                       __mmask16 mask) const {
    Halves residual = requant16<false>(acc, requant);
    Halves scaled;
    if constexpr (kOutput == Output::ResidualAddWords || kOutput == Output::ResidualAddConv) {
      scaled = widen(
          _mm512_maskz_loadu_epi32(mask, t.shortcut_i32 + (channel - t.shortcut_first_channel)));
    } else {
      const __m512i shortcut =
          t.shortcut_u8 ? _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, t.shortcut_u8 + channel))
                        : _mm512_maskz_loadu_epi32(mask, t.shortcut_i32 + channel);
      scaled = shortcut_.template operator()<kOutput == Output::ResidualAddBytes>(shortcut);
    }
    if constexpr (kOutput != Output::ResidualAddBytes) residual = clamp16(residual, low_, high_);
    const __m512i zero = _mm512_setzero_si512();
    return interleave(clamp16(
        {_mm512_add_epi64(residual.even, scaled.even), _mm512_add_epi64(residual.odd, scaled.odd)},
        zero, add_high_));
  }

  const ConvKernelArgs& a_;
  __m512i low_, high_;
  ScaledShortcut shortcut_;
  __m512i add_high_;
};

// Pixels [index0, index0 + NP) of `run` (row-major) times output blocks [block0, block0 + NB).
// acc[b][p] += the dot products of the NP windows (each one's top-left input pixel) over taps
// tap_list[0 .. taps) with output blocks b of a panel (block_weights: its first tap).
template <int NB, int NP>
__attribute__((always_inline)) inline void accumulate(__m512i (&acc)[NB][NP],
                                                      const int8_t* block_weights, int groups,
                                                      const int32_t* tap_list, int taps,
                                                      const int32_t* tap_offsets,
                                                      const uint8_t* const (&window)[NP]) {
  const int64_t tap_bytes = int64_t{groups} * 64 * NB;
  for (int i = 0; i < taps; ++i) {
    const int t = tap_list[i];
    const uint8_t* source[NP];
    for (int p = 0; p < NP; ++p) source[p] = window[p] + tap_offsets[t];
    const int8_t* weights = block_weights + t * tap_bytes;
    for (int g = 0; g < groups; ++g, weights += 64 * NB) {
      __m512i w[NB];
      for (int b = 0; b < NB; ++b) w[b] = _mm512_loadu_si512(weights + 64 * b);
      for (int p = 0; p < NP; ++p) {
        int32_t four;
        memcpy(&four, source[p] + 4 * g, 4);
        const __m512i x = _mm512_set1_epi32(four);
        for (int b = 0; b < NB; ++b) acc[b][p] = _mm512_dpbusd_epi32(acc[b][p], x, w[b]);
      }
    }
  }
}

template <int NB, int NP>
__attribute__((always_inline)) inline void clear(__m512i (&acc)[NB][NP]) {
  for (int b = 0; b < NB; ++b) {
    for (int p = 0; p < NP; ++p) acc[b][p] = _mm512_setzero_si512();
  }
}

template <int NB, int NP, Output kOutput>
void tile(const ConvKernelArgs& a, const OutputStore<kOutput>& store, const PixelRun& run,
          int block0, int index0);

// A tile's shortcut conv (ResidualArgs::shortcut_conv) for its pixels (rows and columns of the
// main conv's row lists) and blocks [block0, block0 + NB), requantized into shortcut[p][b * 16 ..]:
// the same tile as any conv's, over NP rows of one pixel each, with the blocks counted from
// block0 so that its outputs land in the tile's own rows. Not inlined: with two dot-product
// loops in one function GCC 12 spills accumulators in both.
template <int NB, int NP>
__attribute__((noinline)) void shortcut_tile(const ConvKernelArgs& a, const int (&row)[NP],
                                             const int (&column)[NP], int block0,
                                             int32_t (&shortcut)[NP][NB * 16]) {
  const ShortcutConvArgs& conv = *a.residual->shortcut_conv;
  const uint8_t* input_rows[NP];
  int32_t* out_rows[NP];
  int32_t window_sums[NP] = {};
  for (int p = 0; p < NP; ++p) {
    input_rows[p] = conv.input_rows[row[p]] + column[p] * conv.in_col_step;
    out_rows[p] = shortcut[p];
    if (conv.dot_shift) window_sums[p] = conv.window_sums[row[p] * a.out_width + column[p]];
  }
  RequantArgs requant = *conv.requant;
  requant.lanes += block0 * kRequantLanes * 8;
  // The one tap's count and offset come from the arguments: as compile-time constants they let
  // GCC 12 fold the tap loop away and then spill accumulators in the one left.
  const PixelRun run{0, NP, 0, 1, 0, conv.taps};
  ConvKernelArgs args{};
  args.weights = conv.weights + block0 * int64_t{conv.groups} * 64;
  args.out_blocks = NB;
  args.panel_blocks = NB;
  args.out_channels = a.out_channels - block0 * 16;
  args.taps = conv.taps;
  args.groups = conv.groups;
  args.tap_offsets = conv.tap_offsets;
  args.tap_list = conv.tap_offsets;
  args.runs = &run;
  args.run_count = 1;
  args.input_rows = input_rows;
  args.out_width = 1;
  args.dot_shift = conv.dot_shift;
  args.window_sums = window_sums;
  args.requant = &requant;
  args.out_rows_i32 = out_rows;
  const OutputStore<Output::Requantized> store(args);
  tile<NB, NP>(args, store, run, 0, 0);
}

// Pixels [index0, index0 + NP) of `run` (row-major) times output blocks [block0, block0 + NB).
template <int NB, int NP, Output kOutput>
void tile(const ConvKernelArgs& a, const OutputStore<kOutput>& store, const PixelRun& run,
          int block0, int index0) {
  int row[NP], column[NP];
  const uint8_t* window[NP];
  // One division per tile: the pixels after the first step along the run's rows.
  int at_row = index0 / run.columns, at_column = index0 % run.columns;
  for (int p = 0; p < NP; ++p) {
    row[p] = run.first_row + at_row;
    column[p] = run.first_column + at_column;
    window[p] = a.input_rows[row[p]] + column[p] * a.in_col_step;
    if (++at_column == run.columns) {
      at_column = 0;
      ++at_row;
    }
  }
  // A shortcut conv first, requantized into the tile's own int32 shortcut rows.
  alignas(64) int32_t shortcut[kOutput == Output::ResidualAddConv ? NP : 1][NB * 16];
  if constexpr (kOutput == Output::ResidualAddConv) {
    shortcut_tile<NB, NP>(a, row, column, block0, shortcut);
  }
  __m512i acc[NB][NP];
  clear(acc);
  accumulate(acc, a.weights + block0 * a.taps * int64_t{a.groups} * 64, a.groups,
             a.tap_list + run.first_tap, run.taps, a.tap_offsets, window);
  if constexpr (kOutput == Output::PartialSums) {
    for (int b = 0; b < NB; ++b) {
      for (int p = 0; p < NP; ++p) store.raw(acc[b][p], row[p], column[p], block0 + b);
    }
  } else {
    PixelTarget targets[NP];
    for (int p = 0; p < NP; ++p) {
      targets[p] = store.target(row[p], column[p]);
      if constexpr (kOutput == Output::ResidualAddConv) {
        targets[p].shortcut_i32 = shortcut[p];
        targets[p].shortcut_first_channel = block0 * 16;
      }
    }
    for (int b = 0; b < NB; ++b) store.block(acc[b], targets, block0 + b);
  }
}

template <int NB, Output kOutput, int NP = kAccumulators / NB>
void tile_any(const ConvKernelArgs& a, const OutputStore<kOutput>& store, const PixelRun& run,
              int block0, int index0, int pixels) {
  if constexpr (NP > 1) {
    if (pixels < NP) return tile_any<NB, kOutput, NP - 1>(a, store, run, block0, index0, pixels);
  }
  tile<NB, NP>(a, store, run, block0, index0);
}

// Each run in tiles of near-equal size: a tile of one or two pixels would leave too few
// independent accumulator chains to hide vpdpbusd's latency.
template <int NB, Output kOutput>
void run_blocks(const ConvKernelArgs& a) {
  const OutputStore<kOutput> store(a);
  for (int block0 = 0; block0 < a.out_blocks; block0 += NB) {
    for (int r = 0; r < a.run_count; ++r) {
      const PixelRun& run = a.runs[r];
      const int pixels = run.rows * run.columns;
      constexpr int max_pixels = kAccumulators / NB;
      const int tiles = (pixels + max_pixels - 1) / max_pixels;
      for (int t = 0; t < tiles; ++t) {
        const int index0 = pixels * t / tiles;
        tile_any<NB>(a, store, run, block0, index0, pixels * (t + 1) / tiles - index0);
      }
    }
  }
}

template <Output kOutput>
void run_all_blocks(const ConvKernelArgs& args) {
  if (args.panel_blocks == 4) {
    run_blocks<4, kOutput>(args);
  } else if (args.panel_blocks == 2) {
    run_blocks<2, kOutput>(args);
  } else {
    run_blocks<1, kOutput>(args);
  }
}

}  // namespace

void conv_kernel_avx512(const ConvKernelArgs& args) {
  if (!args.requant) {
    run_all_blocks<Output::PartialSums>(args);
  } else if (args.residual) {
    const ResidualArgs& r = *args.residual;
    if (r.shortcut_conv) {
      run_all_blocks<Output::ResidualAddConv>(args);
    } else if (r.shortcut_rows_u8 && r.mult >= 0 && r.bounded) {
      run_all_blocks<Output::ResidualAddBytes>(args);
    } else if (r.shortcut_rows_i32 && r.mult == 1 && r.shift == 0) {
      run_all_blocks<Output::ResidualAddWords>(args);
    } else {
      run_all_blocks<Output::ResidualAdd>(args);
    }
  } else if (args.requant->low >= 0) {
    run_all_blocks<Output::RequantizedNonNegative>(args);
  } else {
    run_all_blocks<Output::Requantized>(args);
  }
}

namespace {

template <bool kNonNegativeLow>
void requant_rows(const RequantRowArgs& a) {
  const __m512i low = _mm512_set1_epi64(a.requant->low), high = _mm512_set1_epi64(a.requant->high);
  // Block by block: a block's parameters stay in registers for the row's pixels.
  for (int channel = 0; channel < a.channels; channel += 16) {
    const __mmask16 mask = channel_mask(a.channels - channel);
    const BlockRequant requant(a.requant->lanes, channel / 16);
    for (int pixel = 0; pixel < a.pixels; ++pixel) {
      const int32_t* acc = a.acc + static_cast<int64_t>(pixel) * a.channels;
      const __m512i result = interleave(clamp16(
          requant16<kNonNegativeLow>(_mm512_maskz_loadu_epi32(mask, acc + channel), requant), low,
          high));
      const int64_t at = pixel * a.out_pixel_pitch + channel;
      if (a.out_u8) {
        _mm_mask_storeu_epi8(a.out_u8 + at, mask, _mm512_cvtepi32_epi8(result));
      } else {
        _mm512_mask_storeu_epi32(a.out_i32 + at, mask, result);
      }
    }
  }
}

}  // namespace

void requant_rows_avx512(const RequantRowArgs& args) {
  if (args.requant->low >= 0) {
    requant_rows<true>(args);
  } else {
    requant_rows<false>(args);
  }
}

void pixel_sums_avx512(const uint8_t* pixels, int count, int channels, int32_t* sums) {
  const __m512i zero = _mm512_setzero_si512();
  // vpsadbw sums each 8 bytes of a vector into a qword: 8 qwords per pixel after its channels.
  const auto qword_sums = [&](const uint8_t* source) {
    __m512i total = zero;
    for (int c = 0; c < channels; c += 64) {
      const int lanes = channels - c < 64 ? channels - c : 64;
      const __mmask64 mask = lanes == 64 ? ~__mmask64{0} : (__mmask64{1} << lanes) - 1;
      total =
          _mm512_add_epi64(total, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(mask, source + c), zero));
    }
    return total;
  };
  // The 8 qwords of each of 8 such vectors summed, in pairs: adjacent qwords (within 128-bit
  // lanes), then lanes 0 + 1 and 2 + 3, then again; qword i of the result is vector i's sum.
  const auto add_pairs_qwords = [](__m512i a, __m512i b) {
    return _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
  };
  const auto add_pairs_lanes = [](__m512i a, __m512i b) {
    return _mm512_add_epi64(_mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm512_shuffle_i64x2(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  int pixel = 0;
  for (; pixel + 8 <= count; pixel += 8) {
    __m512i v[8];
    for (int i = 0; i < 8; ++i)
      v[i] = qword_sums(pixels + static_cast<int64_t>(pixel + i) * channels);
    const __m512i p01 = add_pairs_qwords(v[0], v[1]), p23 = add_pairs_qwords(v[2], v[3]);
    const __m512i p45 = add_pairs_qwords(v[4], v[5]), p67 = add_pairs_qwords(v[6], v[7]);
    const __m512i q0 = add_pairs_lanes(p01, p23), q1 = add_pairs_lanes(p45, p67);
    const __m512i total = add_pairs_lanes(q0, q1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + pixel), _mm512_cvtepi64_epi32(total));
  }
  for (; pixel < count; ++pixel) {
    sums[pixel] = static_cast<int32_t>(
        _mm512_reduce_add_epi64(qword_sums(pixels + static_cast<int64_t>(pixel) * channels)));
  }
}

void add_kernel_avx512(const AddKernelArgs& a) {
  const __m512i zero = _mm512_setzero_si512(), high = _mm512_set1_epi64(a.high);
  const ScaledShortcut scale(a.mult, a.shift, a.half);
  for (int i = 0; i < a.count; i += 16) {
    const __mmask16 mask = channel_mask(a.count - i);
    const __m512i shortcut =
        a.shortcut_u8 ? _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(mask, a.shortcut_u8 + i))
                      : _mm512_maskz_loadu_epi32(mask, a.shortcut_i32 + i);
    const Halves scaled = scale(shortcut);
    const __m512i residual = _mm512_maskz_loadu_epi32(mask, a.residual + i);
    // The residual's even and odd int32 lanes sign-extended in place.
    const __m512i even = _mm512_srai_epi64(_mm512_slli_epi64(residual, 32), 32);
    const __m512i odd = _mm512_srai_epi64(residual, 32);
    const Halves sum = {clamp64(_mm512_add_epi64(even, scaled.even), zero, high),
                        clamp64(_mm512_add_epi64(odd, scaled.odd), zero, high)};
    _mm_mask_storeu_epi8(a.out + i, mask, _mm512_cvtepi32_epi8(interleave(sum)));
  }
}

}  // namespace bsnpu::detail
