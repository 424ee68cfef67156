#include "core/fast_conv.h"

#include <algorithm>
#include <array>
#include <atomic>

#include "core/arith.h"
#include "core/error.h"
#include "core/fast_conv_args.h"

namespace bsnpu {

namespace {

int round_up(int value, int multiple) { return (value + multiple - 1) / multiple * multiple; }

int64_t requantized(int64_t acc, const detail::RequantArgs& r, int channel) {
  return std::clamp(requantize(acc, static_cast<int32_t>(r.mult[channel]), r.offset[channel],
                               static_cast<int>(r.shift[channel])),
                    r.low, r.high);
}

// The same arithmetic as conv_kernel_avx512, one output at a time.
void conv_kernel_portable(const detail::ConvKernelArgs& a) {
  const int64_t panel_bytes = int64_t{a.taps} * a.groups * 64 * a.panel_blocks;
  for (int r = 0; r < a.run_count; ++r) {
    const detail::PixelRun& run = a.runs[r];
    for (int row = run.first_row; row < run.first_row + run.rows; ++row) {
      for (int column = run.first_column; column < run.first_column + run.columns; ++column) {
        const uint8_t* window = a.input_rows[row] + column * a.in_col_step;
        for (int channel = 0; channel < a.out_channels; ++channel) {
          const int block = channel / 16;
          const int8_t* weights = a.weights + block / a.panel_blocks * panel_bytes +
                                  block % a.panel_blocks * 64 + (channel % 16) * 4;
          int32_t dot = 0;
          for (int i = 0; i < run.taps; ++i) {
            const int t = a.tap_list[run.first_tap + i];
            const uint8_t* source = window + a.tap_offsets[t];
            for (int g = 0; g < a.groups; ++g) {
              const int8_t* w = weights + (int64_t{t} * a.groups + g) * 64 * a.panel_blocks;
              for (int j = 0; j < 4; ++j) dot += int32_t{w[j]} * int32_t{source[4 * g + j]};
            }
          }
          int64_t acc = dot;
          if (a.dot_shift) acc = 2 * acc + a.window_sums[row * a.out_width + column];
          const int64_t at = column * a.out_pixel_pitch + channel;
          if (!a.requant) {
            a.out_rows_i32[row][at] = static_cast<int32_t>(acc);
          } else if (a.residual) {
            const detail::ResidualArgs& res = *a.residual;
            const int64_t from = column * res.shortcut_pixel_pitch + channel;
            const int64_t shortcut = res.shortcut_rows_u8
                                         ? int64_t{res.shortcut_rows_u8[row][from]}
                                         : int64_t{res.shortcut_rows_i32[row][from]};
            a.out_rows_u8[row][at] = static_cast<uint8_t>(std::clamp<int64_t>(
                requantized(acc, *a.requant, channel) +
                    round_shift(shortcut * res.mult, static_cast<int>(res.shift)),
                0, res.high));
          } else if (a.out_rows_u8) {
            a.out_rows_u8[row][at] = static_cast<uint8_t>(requantized(acc, *a.requant, channel));
          } else {
            a.out_rows_i32[row][at] = static_cast<int32_t>(requantized(acc, *a.requant, channel));
          }
        }
      }
    }
  }
}

void requant_rows_portable(const detail::RequantRowArgs& a) {
  for (int pixel = 0; pixel < a.pixels; ++pixel) {
    for (int channel = 0; channel < a.channels; ++channel) {
      const int64_t value =
          requantized(a.acc[int64_t{pixel} * a.channels + channel], *a.requant, channel);
      const int64_t at = pixel * a.out_pixel_pitch + channel;
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

detail::RequantArgs requant_args(const OutputStage& stage) {
  return {stage.mult.data(),  stage.offset.data(), stage.shift.data(),
          stage.lanes.data(), stage.low,           stage.high};
}

// Consecutive output rows (the same for columns: maps are square) whose windows see the same
// kernel rows [inside_first, inside_last) inside the image.
struct Segment {
  int first, count, inside_first, inside_last;
};

// Where padding is not zero every kernel row counts: one segment.
std::vector<Segment> segments(const ConvWeights& conv) {
  if (!conv.zero_padding) return {{0, conv.out_hw, 0, conv.kernel}};
  std::vector<Segment> result;
  for (int at = 0; at < conv.out_hw; ++at) {
    const int origin = at * conv.stride - conv.pad;
    const int first = std::max(0, -origin);
    const int last = std::max(first, std::min(conv.kernel, conv.in_hw - origin));
    if (!result.empty() && result.back().inside_first == first &&
        result.back().inside_last == last) {
      ++result.back().count;
    } else {
      result.push_back({at, 1, first, last});
    }
  }
  return result;
}

// The kernel's view of images [begin, end): the output rows in the order of its row lists,
// grouped by row segment so that a run is a rectangle of them, and the runs.
struct ConvPlan {
  std::vector<int> row_image, row_y;
  std::vector<detail::PixelRun> runs;
  std::vector<int32_t> tap_list;
  int rows() const { return static_cast<int>(row_image.size()); }
};

ConvPlan plan_conv(const ConvWeights& conv, int begin, int end) {
  ConvPlan plan;
  const std::vector<Segment> spans = segments(conv);
  for (const Segment& rows : spans) {
    const int first_row = plan.rows();
    for (int image = begin; image < end; ++image) {
      for (int y = rows.first; y < rows.first + rows.count; ++y) {
        plan.row_image.push_back(image);
        plan.row_y.push_back(y);
      }
    }
    for (const Segment& columns : spans) {
      const int first_tap = static_cast<int>(plan.tap_list.size());
      for (int ky = rows.inside_first; ky < rows.inside_last; ++ky) {
        for (int kx = columns.inside_first; kx < columns.inside_last; ++kx)
          plan.tap_list.push_back(ky * conv.kernel + kx);
      }
      plan.runs.push_back({first_row, plan.rows() - first_row, columns.first, columns.count,
                           first_tap, static_cast<int>(plan.tap_list.size()) - first_tap});
    }
  }
  return plan;
}

// The sums of every output's whole input window (padding adds its value, zero or not), in plan
// row order, into the first plan.rows() * out_hw entries of `sums` (the rest is its working
// space): per image, the channel sum of each pixel of the bordered buffer, then the kernel's
// columns summed along each buffer row, then its rows down each column.
void window_sums(const ConvWeights& conv, const ConvPlan& plan, const ByteMap& input,
                 std::vector<int32_t>& sums) {
  const int rows = plan.rows();
  const int begin = plan.row_image.front(), images = plan.row_image.back() - begin + 1;
  const int buffer_width = input.width + 2 * input.border;
  const int buffer_height = input.height + 2 * input.border;
  const int buffer_pixels = buffer_height * buffer_width;
  const size_t window_count = static_cast<size_t>(rows) * static_cast<size_t>(conv.out_hw);
  const size_t row_sums_count =
      static_cast<size_t>(buffer_height) * static_cast<size_t>(conv.out_hw);
  sums.resize(window_count + static_cast<size_t>(images) * row_sums_count +
              static_cast<size_t>(buffer_pixels));
  int32_t* row_sums = sums.data() + window_count;  // [images][buffer rows][out_hw]
  int32_t* pixel_sums = row_sums + static_cast<size_t>(images) * row_sums_count;
  const int origin = input.border - conv.pad;
  for (int image = 0; image < images; ++image) {
    const uint8_t* pixels = input.data.data() + (begin + image) * input.image_bytes();
    if (fast_conv_uses_avx512()) {
      detail::pixel_sums_avx512(pixels, buffer_pixels, input.channels, pixel_sums);
    } else {
      for (int pixel = 0; pixel < buffer_pixels; ++pixel) {
        const uint8_t* source = pixels + static_cast<int64_t>(pixel) * input.channels;
        int32_t sum = 0;
        for (int c = 0; c < input.channels; ++c) sum += source[c];
        pixel_sums[pixel] = sum;
      }
    }
    int32_t* image_row_sums = row_sums + static_cast<size_t>(image) * row_sums_count;
    for (int y = 0; y < buffer_height; ++y) {
      const int32_t* line = pixel_sums + y * buffer_width + origin;
      int32_t* out = image_row_sums + y * conv.out_hw;
      std::fill(out, out + conv.out_hw, 0);
      for (int kx = 0; kx < conv.kernel; ++kx) {
        if (conv.stride == 1) {  // the common case, in a loop the compiler vectorizes
          for (int x = 0; x < conv.out_hw; ++x) out[x] += line[x + kx];
        } else {
          for (int x = 0; x < conv.out_hw; ++x) out[x] += line[x * conv.stride + kx];
        }
      }
    }
  }
  for (size_t row = 0; row < static_cast<size_t>(rows); ++row) {
    const int32_t* image_row_sums =
        row_sums + static_cast<size_t>(plan.row_image[row] - begin) * row_sums_count;
    const int top = origin + plan.row_y[row] * conv.stride;
    int32_t* out = sums.data() + row * static_cast<size_t>(conv.out_hw);
    std::fill(out, out + conv.out_hw, 0);
    for (int ky = 0; ky < conv.kernel; ++ky) {
      const int32_t* line = image_row_sums + (top + ky) * conv.out_hw;
      for (int x = 0; x < conv.out_hw; ++x) out[x] += line[x];
    }
  }
}

// The plan's rows through the layer into the rows the caller's pointers name (in plan order).
void run_conv(const ConvWeights& conv, const ConvPlan& plan, const detail::RequantArgs* requant,
              const detail::ResidualArgs* residual, const ByteMap& input, ConvScratch& scratch,
              bool u8_out, int64_t out_pixel_pitch) {
  const int taps = conv.kernel * conv.kernel;
  std::vector<int32_t> tap_offsets(static_cast<size_t>(taps));
  for (int ky = 0; ky < conv.kernel; ++ky) {
    for (int kx = 0; kx < conv.kernel; ++kx) {
      tap_offsets[static_cast<size_t>(ky * conv.kernel + kx)] =
          static_cast<int32_t>(ky * input.row_bytes() + kx * input.channels);
    }
  }
  const int rows = plan.rows();
  scratch.input_rows.resize(static_cast<size_t>(rows));
  for (size_t row = 0; row < static_cast<size_t>(rows); ++row) {
    scratch.input_rows[row] =
        input.at(plan.row_image[row], plan.row_y[row] * conv.stride - conv.pad, -conv.pad);
  }
  detail::ConvKernelArgs args{};
  args.weights = conv.weights.data();
  args.out_blocks = conv.out_blocks;
  args.panel_blocks = conv.panel_blocks;
  args.out_channels = conv.out_channels;
  args.taps = taps;
  args.groups = conv.groups;
  args.tap_offsets = tap_offsets.data();
  args.tap_list = plan.tap_list.data();
  args.runs = plan.runs.data();
  args.run_count = static_cast<int>(plan.runs.size());
  args.input_rows = scratch.input_rows.data();
  args.in_col_step = int64_t{conv.stride} * input.channels;
  args.out_width = conv.out_hw;
  args.dot_shift = conv.dot_shift;
  args.requant = requant;
  args.residual = residual;
  args.out_pixel_pitch = out_pixel_pitch;
  if (u8_out) {
    args.out_rows_u8 = scratch.out_rows_u8.data();
  } else {
    args.out_rows_i32 = scratch.out_rows_i32.data();
  }
  if (conv.dot_shift) {
    window_sums(conv, plan, input, scratch.window_sums);
    args.window_sums = scratch.window_sums.data();
  }
  if (fast_conv_uses_avx512()) {
    detail::conv_kernel_avx512(args);
  } else {
    conv_kernel_portable(args);
  }
}

void check_input(const ConvWeights& conv, const ByteMap& input, int begin, int end) {
  if (input.border < conv.pad || input.height != conv.in_hw || input.width != conv.in_hw ||
      input.channels != 4 * conv.groups || begin < 0 || end > input.images || begin >= end) {
    throw Error(conv.name + ": input feature map does not match the layer");
  }
}

void check_output(const ConvWeights& conv, int images, int height, int width, int channels,
                  int end) {
  if (height != conv.out_hw || width != conv.out_hw || channels < conv.out_channels ||
      end > images) {
    throw Error(conv.name + ": output feature map does not match the layer");
  }
}

}  // namespace

bool fast_conv_uses_avx512() {
  static const bool has_avx512 = cpu_has_avx512_vnni();
  return has_avx512 && !portable_forced;
}

void force_portable_fast_conv(bool portable) { portable_forced = portable; }

ConvWeights prepare_weights(const Op& op, int first_plane, int last_plane, int act_bits,
                            int accumulator_bits) {
  if (op.kind != OpKind::Conv && op.kind != OpKind::Fc) {
    throw Error(op.name + ": not a conv or fc layer");
  }
  if (act_bits > 8) {
    throw Error(op.name + ": the fast kernel takes activations of at most 8 bits (act_bits = " +
                std::to_string(act_bits) + ")");
  }
  if (first_plane < 0 || first_plane >= last_plane || last_plane > 8) {
    throw Error(op.name + ": planes " + std::to_string(first_plane + 1) + ".." +
                std::to_string(last_plane) + " outside 1..8");
  }
  ConvWeights conv;
  conv.name = op.name;
  conv.in_channels = op.in_channels;
  conv.groups = round_up(op.in_channels, 4) / 4;
  conv.out_channels = op.out_channels;
  conv.out_blocks = round_up(op.out_channels, 16) / 16;
  conv.panel_blocks = conv.out_blocks % 4 == 0 ? 4 : conv.out_blocks % 2 == 0 ? 2 : 1;
  conv.kernel = op.kernel;
  conv.stride = op.stride;
  conv.pad = op.pad;
  conv.zero_padding = std::all_of(op.pad_value.begin(), op.pad_value.end(),
                                  [](int32_t value) { return value == 0; });
  conv.in_hw = op.in_hw;
  conv.out_hw = op.out_hw;
  conv.first_plane = first_plane;
  conv.last_plane = last_plane;
  const int planes = last_plane - first_plane;
  conv.dot_shift = planes == 8 ? 1 : 0;

  // Static overflow check: every |accumulator| up to last_plane is at most
  // K * (2^last_plane - 1) * max input, and the kernel's int32 dot product reaches
  // K * 127 * max input (K * 256 * max input for the doubled sum of all 8 planes).
  int64_t max_input = (int64_t{1} << act_bits) - 1;
  for (int32_t value : op.pad_value) max_input = std::max<int64_t>(max_input, value);
  const int64_t fan_in = op.fan_in();
  const int64_t limit = int64_t{1} << (accumulator_bits - 1);
  const int64_t worst = fan_in * ((int64_t{1} << last_plane) - 1) * max_input;
  const int64_t worst_kernel = fan_in * (planes == 8 ? 256 : 127) * max_input;
  if (worst >= limit || worst_kernel >= (int64_t{1} << 31)) {
    throw Error(op.name + ": worst-case accumulator " +
                std::to_string(std::max(worst, worst_kernel)) +
                " at k=" + std::to_string(last_plane) + " overflows the signed " +
                std::to_string(accumulator_bits) + "-bit accumulator");
  }

  // Each of the 256 codes' level once, not once per weight: eval prepares every layer per k.
  std::array<int8_t, 256> levels{};
  for (int code = 0; code < 256; ++code) {
    levels[static_cast<size_t>(code)] = static_cast<int8_t>(
        planes == 8 ? code - 128
                    : plane_level(static_cast<uint8_t>(code), first_plane, last_plane));
  }
  const int taps = op.kernel * op.kernel;
  const size_t panel = static_cast<size_t>(conv.panel_blocks);
  const size_t tap_stride = static_cast<size_t>(conv.groups) * 64 * panel;
  conv.weights.assign(static_cast<size_t>(conv.out_blocks) * taps * conv.groups * 64, 0);
  const uint8_t* codes = op.codes.data();
  for (int o = 0; o < op.out_channels; ++o) {
    const size_t block = static_cast<size_t>(o / 16);
    for (int c = 0; c < op.in_channels; ++c, codes += taps) {
      int8_t* target = conv.weights.data() + block / panel * taps * tap_stride +
                       static_cast<size_t>(c / 4) * 64 * panel + block % panel * 64 + (o % 16) * 4 +
                       c % 4;
      for (int t = 0; t < taps; ++t) target[static_cast<size_t>(t) * tap_stride] = levels[codes[t]];
    }
  }
  return conv;
}

OutputStage output_stage(const Op& op, int k, int act_bits) {
  return output_stage(op, op.requant_at(k), act_bits);
}

OutputStage output_stage(const Op& op, const Requant& requant, int act_bits) {
  if (op.kind != OpKind::Conv && op.kind != OpKind::Fc) {
    throw Error(op.name + ": not a conv or fc layer");
  }
  const size_t channels = static_cast<size_t>(op.out_channels);
  if (requant.mult.size() != channels || requant.offset.size() != channels ||
      requant.shift.size() != channels) {
    throw Error(op.name + ": requantization parameters do not match its channels");
  }
  OutputStage stage;
  const size_t padded_channels = static_cast<size_t>(round_up(op.out_channels, 16));
  stage.mult.assign(padded_channels, 0);
  stage.offset.assign(padded_channels, 0);
  stage.shift.assign(padded_channels, 0);
  stage.lanes.assign(padded_channels / 16 * detail::kRequantLanes * 8, 0);
  for (size_t o = 0; o < static_cast<size_t>(op.out_channels); ++o) {
    stage.mult[o] = requant.mult[o];
    stage.offset[o] = requant.offset[o];
    stage.shift[o] = requant.shift[o];
    const int64_t half = requant.shift[o] > 0 ? int64_t{1} << (requant.shift[o] - 1) : 0;
    int64_t* lanes =
        stage.lanes.data() + o / 16 * detail::kRequantLanes * 8 + o % 2 * 8 + o % 16 / 2;
    lanes[detail::kLaneMult * 8] = requant.mult[o];
    lanes[detail::kLaneRounded * 8] = requant.offset[o] + half;
    lanes[detail::kLaneNegativeBelow * 8] = requant.shift[o] > 0 ? half : INT64_MIN;
    lanes[detail::kLaneShift * 8] = requant.shift[o];
  }
  if (op.kind == OpKind::Conv && op.relu) {
    stage.low = 0;
    stage.high = (int64_t{1} << act_bits) - 1;
  } else {
    stage.low = INT32_MIN;
    stage.high = INT32_MAX;
  }
  return stage;
}

void conv_partial_sums(const ConvWeights& weights, const ByteMap& input, int begin, int end,
                       WordMap& sums, ConvScratch& scratch) {
  check_input(weights, input, begin, end);
  check_output(weights, sums.images, sums.height, sums.width, sums.channels, end);
  if (sums.channels != weights.out_channels) {
    throw Error(weights.name + ": partial-sum map does not match the layer");
  }
  const ConvPlan plan = plan_conv(weights, begin, end);
  scratch.out_rows_i32.resize(static_cast<size_t>(plan.rows()));
  for (size_t row = 0; row < scratch.out_rows_i32.size(); ++row)
    scratch.out_rows_i32[row] = sums.at(plan.row_image[row], plan.row_y[row], 0);
  run_conv(weights, plan, nullptr, nullptr, input, scratch, false, sums.channels);
}

void conv_requantized(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                      int begin, int end, ByteMap* out_u8, WordMap* out_i32, ConvScratch& scratch) {
  if ((out_u8 == nullptr) == (out_i32 == nullptr)) {
    throw Error(weights.name + ": exactly one output map expected");
  }
  check_input(weights, input, begin, end);
  if (out_u8) {
    check_output(weights, out_u8->images, out_u8->height, out_u8->width, out_u8->channels, end);
  } else {
    check_output(weights, out_i32->images, out_i32->height, out_i32->width, out_i32->channels, end);
  }
  const ConvPlan plan = plan_conv(weights, begin, end);
  const size_t rows = static_cast<size_t>(plan.rows());
  scratch.out_rows_u8.resize(out_u8 ? rows : 0);
  scratch.out_rows_i32.resize(out_u8 ? 0 : rows);
  for (size_t row = 0; row < rows; ++row) {
    if (out_u8) {
      scratch.out_rows_u8[row] = out_u8->at(plan.row_image[row], plan.row_y[row], 0);
    } else {
      scratch.out_rows_i32[row] = out_i32->at(plan.row_image[row], plan.row_y[row], 0);
    }
  }
  const detail::RequantArgs requant = requant_args(stage);
  run_conv(weights, plan, &requant, nullptr, input, scratch, out_u8 != nullptr,
           out_u8 ? out_u8->channels : out_i32->channels);
}

void conv_residual_add(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                       int begin, int end, const ByteMap* shortcut_u8, const WordMap* shortcut_i32,
                       int32_t mult, int shift, int64_t high, ByteMap& out, ConvScratch& scratch) {
  check_input(weights, input, begin, end);
  check_output(weights, out.images, out.height, out.width, out.channels, end);
  const auto matches = [&](const auto& map) {
    return map.height == out.height && map.width == out.width &&
           map.channels >= weights.out_channels && end <= map.images;
  };
  if ((shortcut_u8 == nullptr) == (shortcut_i32 == nullptr) ||
      !(shortcut_u8 ? matches(*shortcut_u8) : matches(*shortcut_i32))) {
    throw Error(weights.name + ": the shortcut does not match the layer");
  }
  const ConvPlan plan = plan_conv(weights, begin, end);
  const size_t rows = static_cast<size_t>(plan.rows());
  scratch.out_rows_u8.resize(rows);
  scratch.shortcut_rows_u8.resize(shortcut_u8 ? rows : 0);
  scratch.shortcut_rows_i32.resize(shortcut_i32 ? rows : 0);
  for (size_t row = 0; row < rows; ++row) {
    const int image = plan.row_image[row], y = plan.row_y[row];
    scratch.out_rows_u8[row] = out.at(image, y, 0);
    if (shortcut_u8) {
      scratch.shortcut_rows_u8[row] = shortcut_u8->at(image, y, 0);
    } else {
      scratch.shortcut_rows_i32[row] = shortcut_i32->at(image, y, 0);
    }
  }
  const detail::RequantArgs requant = requant_args(stage);
  detail::ResidualArgs residual{};
  residual.shortcut_rows_u8 = shortcut_u8 ? scratch.shortcut_rows_u8.data() : nullptr;
  residual.shortcut_rows_i32 = shortcut_i32 ? scratch.shortcut_rows_i32.data() : nullptr;
  residual.shortcut_pixel_pitch = shortcut_u8 ? shortcut_u8->channels : shortcut_i32->channels;
  residual.mult = mult;
  residual.shift = shift;
  residual.half = shift > 0 ? int64_t{1} << (shift - 1) : 0;
  residual.high = high;
  // The scaled shortcut's range: round_shift is monotone, so its ends are those of the shortcut's
  // range (0..255 for bytes, the int32 range for words) scaled.
  const int64_t ends[2] = {round_shift((shortcut_u8 ? 0 : int64_t{INT32_MIN}) * mult, shift),
                           round_shift((shortcut_u8 ? 255 : int64_t{INT32_MAX}) * mult, shift)};
  residual.bounded = std::min(ends[0], ends[1]) >= high - INT32_MAX &&
                     std::max(ends[0], ends[1]) <= (int64_t{1} << 31);
  run_conv(weights, plan, &requant, &residual, input, scratch, true, out.channels);
}

void conv_residual_add(const ConvWeights& weights, const OutputStage& stage, const ByteMap& input,
                       int begin, int end, const ConvWeights& shortcut_weights,
                       const OutputStage& shortcut_stage, const ByteMap& shortcut_input,
                       int64_t high, ByteMap& out, ConvScratch& scratch) {
  const ConvWeights& conv = shortcut_weights;
  if (conv.kernel != 1 || conv.pad != 0 || conv.out_hw != weights.out_hw ||
      conv.out_channels != weights.out_channels || conv.panel_blocks != weights.panel_blocks ||
      shortcut_stage.low != INT32_MIN || shortcut_stage.high != INT32_MAX) {
    throw Error(conv.name + ": cannot run as the shortcut of " + weights.name);
  }
  check_input(conv, shortcut_input, begin, end);
  if (!fast_conv_uses_avx512()) {
    // The portable loops compute the shortcut's map first: the same arithmetic, unfused.
    WordMap shortcut(end, conv.out_hw, conv.out_hw, conv.out_channels);
    conv_requantized(conv, shortcut_stage, shortcut_input, begin, end, nullptr, &shortcut, scratch);
    conv_residual_add(weights, stage, input, begin, end, nullptr, &shortcut, 1, 0, high, out,
                      scratch);
    return;
  }
  check_input(weights, input, begin, end);
  check_output(weights, out.images, out.height, out.width, out.channels, end);
  const ConvPlan plan = plan_conv(weights, begin, end);
  const size_t rows = static_cast<size_t>(plan.rows());
  scratch.out_rows_u8.resize(rows);
  scratch.shortcut_input_rows.resize(rows);
  for (size_t row = 0; row < rows; ++row) {
    const int image = plan.row_image[row], y = plan.row_y[row];
    scratch.out_rows_u8[row] = out.at(image, y, 0);
    scratch.shortcut_input_rows[row] = shortcut_input.at(image, y * conv.stride, 0);
  }
  static constexpr int32_t kOneTap[1] = {0};
  const detail::RequantArgs shortcut_requant = requant_args(shortcut_stage);
  detail::ShortcutConvArgs shortcut{};
  shortcut.weights = conv.weights.data();
  shortcut.groups = conv.groups;
  shortcut.taps = 1;
  shortcut.tap_offsets = kOneTap;
  shortcut.input_rows = scratch.shortcut_input_rows.data();
  shortcut.in_col_step = int64_t{conv.stride} * shortcut_input.channels;
  shortcut.dot_shift = conv.dot_shift;
  if (conv.dot_shift) {
    window_sums(conv, plan, shortcut_input, scratch.shortcut_window_sums);
    shortcut.window_sums = scratch.shortcut_window_sums.data();
  }
  shortcut.requant = &shortcut_requant;
  const detail::RequantArgs requant = requant_args(stage);
  detail::ResidualArgs residual{};
  residual.shortcut_conv = &shortcut;
  residual.mult = 1;
  residual.high = high;
  run_conv(weights, plan, &requant, &residual, input, scratch, true, out.channels);
}

void requantize_map(const WordMap& acc, const OutputStage& stage, int begin, int end,
                    ByteMap* out_u8, WordMap* out_i32) {
  if ((out_u8 == nullptr) == (out_i32 == nullptr) || end > acc.images ||
      static_cast<size_t>(acc.channels) > stage.mult.size()) {
    throw Error("requantize_map: maps do not match");
  }
  const detail::RequantArgs requant = requant_args(stage);
  for (int image = begin; image < end; ++image) {
    for (int y = 0; y < acc.height; ++y) {
      detail::RequantRowArgs args{};
      args.acc = acc.at(image, y, 0);
      args.pixels = acc.width;
      args.channels = acc.channels;
      args.requant = &requant;
      if (out_u8) {
        args.out_u8 = out_u8->at(image, y, 0);
        args.out_pixel_pitch = out_u8->channels;
      } else {
        args.out_i32 = out_i32->at(image, y, 0);
        args.out_pixel_pitch = out_i32->channels;
      }
      if (fast_conv_uses_avx512()) {
        detail::requant_rows_avx512(args);
      } else {
        requant_rows_portable(args);
      }
    }
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
