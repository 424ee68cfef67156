#include "core/kernels.h"

#include <algorithm>
#include <cstdlib>

#include "core/arith.h"
#include "core/error.h"
#include "core/fast_conv.h"

namespace bsnpu {

namespace {

const Tensor& single_input(const Op& op, const std::vector<const Tensor*>& inputs, size_t count) {
  if (inputs.size() != count || !inputs[0]) {
    throw Error(op.name + ": expected " + std::to_string(count) + " input tensor(s)");
  }
  for (const Tensor* input : inputs) {
    if (!input) throw Error(op.name + ": null input tensor");
  }
  return *inputs[0];
}

void check_size(const Op& op, const Tensor& tensor, int64_t expected) {
  if (static_cast<int64_t>(tensor.size()) != expected) {
    throw Error(op.name + ": input has " + std::to_string(tensor.size()) + " values, expected " +
                std::to_string(expected));
  }
}

void check_codes(const Op& op, const Tensor& tensor, int act_bits) {
  const int32_t high = (1 << act_bits) - 1;
  for (int32_t value : tensor) {
    if (value < 0 || value > high) {
      throw Error(op.name + ": input value " + std::to_string(value) + " outside the unsigned " +
                  std::to_string(act_bits) + "-bit activation range");
    }
  }
}

int64_t output_clamp_high(const Op& op, int act_bits) {
  return op.kind == OpKind::Conv && op.relu ? (int64_t{1} << act_bits) - 1 : INT32_MAX;
}

int64_t output_clamp_low(const Op& op) {
  return op.kind == OpKind::Conv && op.relu ? 0 : INT32_MIN;
}

// Shape-derived counts of a conv/fc at k (identical to what the plane-serial kernel counts).
OpCounts mac_counts(const Op& op, int k) {
  OpCounts counts;
  const uint64_t outputs = static_cast<uint64_t>(op.out_channels) * op.out_spatial();
  counts.macs = outputs * static_cast<uint64_t>(op.fan_in());
  counts.pe_addsub = counts.macs * static_cast<uint64_t>(k);
  counts.plane_passes = outputs * static_cast<uint64_t>(k);
  counts.shift_accumulates = outputs * static_cast<uint64_t>(k);
  counts.requant_ops = outputs;
  counts.weight_bits = static_cast<uint64_t>(op.out_channels) * op.fan_in() * k;
  return counts;
}

// The hardware's schedule, literally: for each output channel and plane i = 1..k, S = sum of
// b_ij x_j with b = ±1 from bit 8-i of the code, then acc = 2 acc + S for every output pixel.
// Inner loops run over output pixels so the compiler can vectorize the ±x additions.
Tensor mac_plane_serial(const Model& model, const Op& op, const Tensor& input, int k,
                        OpCounts* counts) {
  const int in_hw = op.in_hw, out_hw = op.out_hw, kernel = op.kernel, stride = op.stride;
  const int padded_hw = in_hw + 2 * op.pad;
  // Input with its padding made explicit (pad_value per channel: the zero point for conv1).
  std::vector<int32_t> padded(static_cast<size_t>(op.in_channels) * padded_hw * padded_hw);
  for (int c = 0; c < op.in_channels; ++c) {
    int32_t* plane = padded.data() + static_cast<size_t>(c) * padded_hw * padded_hw;
    std::fill(plane, plane + padded_hw * padded_hw, op.pad_value[static_cast<size_t>(c)]);
    for (int y = 0; y < in_hw; ++y) {
      std::copy_n(input.data() + (static_cast<size_t>(c) * in_hw + y) * in_hw, in_hw,
                  plane + (y + op.pad) * padded_hw + op.pad);
    }
  }
  const int taps = kernel * kernel;
  const int out_spatial = out_hw * out_hw;
  const Requant& requant = op.requant_at(k);
  const int64_t limit = int64_t{1} << (model.accumulator_bits() - 1);
  const int64_t low = output_clamp_low(op), high = output_clamp_high(op, model.act_bits());
  Tensor output(static_cast<size_t>(op.out_channels) * out_spatial);
  std::vector<int64_t> acc(static_cast<size_t>(out_spatial));
  std::vector<int64_t> plane_sum(static_cast<size_t>(out_spatial));
  OpCounts local;
  for (int o = 0; o < op.out_channels; ++o) {
    std::fill(acc.begin(), acc.end(), 0);
    for (int plane = 1; plane <= k; ++plane) {
      std::fill(plane_sum.begin(), plane_sum.end(), 0);
      for (int c = 0; c < op.in_channels; ++c) {
        const int32_t* source = padded.data() + static_cast<size_t>(c) * padded_hw * padded_hw;
        for (int t = 0; t < taps; ++t) {
          const uint8_t code = op.codes[(static_cast<size_t>(o) * op.in_channels + c) * taps + t];
          const bool plus = (code >> (8 - plane)) & 1;
          const int ky = t / kernel, kx = t % kernel;
          for (int y = 0; y < out_hw; ++y) {
            const int32_t* row = source + (y * stride + ky) * padded_hw + kx;
            int64_t* sums = plane_sum.data() + y * out_hw;
            if (plus) {
              for (int x = 0; x < out_hw; ++x) sums[x] += row[x * stride];
            } else {
              for (int x = 0; x < out_hw; ++x) sums[x] -= row[x * stride];
            }
          }
          local.pe_addsub += static_cast<uint64_t>(out_spatial);
        }
      }
      for (int p = 0; p < out_spatial; ++p)
        acc[static_cast<size_t>(p)] =
            2 * acc[static_cast<size_t>(p)] + plane_sum[static_cast<size_t>(p)];
      local.plane_passes += static_cast<uint64_t>(out_spatial);
      local.shift_accumulates += static_cast<uint64_t>(out_spatial);
    }
    for (int p = 0; p < out_spatial; ++p) {
      const int64_t value = acc[static_cast<size_t>(p)];
      if (value >= limit || value <= -limit) {
        throw Error(op.name + ": accumulator " + std::to_string(value) + " overflows the signed " +
                    std::to_string(model.accumulator_bits()) +
                    "-bit accumulator at k=" + std::to_string(k));
      }
      const size_t channel = static_cast<size_t>(o);
      output[channel * out_spatial + p] = static_cast<int32_t>(std::clamp(
          requantize(value, requant.mult[channel], requant.offset[channel], requant.shift[channel]),
          low, high));
      ++local.requant_ops;
    }
  }
  local.macs = local.pe_addsub / static_cast<uint64_t>(k);
  local.weight_bits = static_cast<uint64_t>(op.out_channels) * op.fan_in() * k;
  if (counts) *counts += local;
  return output;
}

Tensor mac_fast(const Model& model, const Op& op, const Tensor& input, int k, OpCounts* counts) {
  const ConvWeights weights =
      prepare_weights(op, 0, k, model.act_bits(), model.accumulator_bits());
  ByteMap buffer(1, op.in_hw, op.in_hw, op.in_channels, op.pad);
  buffer.fill_border(op.pad_value);
  const int in_spatial = op.in_hw * op.in_hw;
  for (int c = 0; c < op.in_channels; ++c) {
    for (int p = 0; p < in_spatial; ++p) {
      buffer.at(0, p / op.in_hw, p % op.in_hw)[c] =
          static_cast<uint8_t>(input[static_cast<size_t>(c) * in_spatial + p]);
    }
  }
  WordMap nhwc(1, op.out_hw, op.out_hw, op.out_channels);
  ConvScratch scratch;
  conv_requantized(weights, output_stage(op, k, model.act_bits()), buffer, 0, 1, nullptr, &nhwc,
                   scratch);
  const int out_spatial = op.out_spatial();
  Tensor output(nhwc.data.size());
  for (int p = 0; p < out_spatial; ++p) {
    for (int o = 0; o < op.out_channels; ++o) {
      output[static_cast<size_t>(o) * out_spatial + p] =
          nhwc.data[static_cast<size_t>(p) * op.out_channels + o];
    }
  }
  if (counts) *counts += mac_counts(op, k);
  return output;
}

}  // namespace

OpCounts& OpCounts::operator+=(const OpCounts& other) {
  macs += other.macs;
  pe_addsub += other.pe_addsub;
  plane_passes += other.plane_passes;
  shift_accumulates += other.shift_accumulates;
  requant_ops += other.requant_ops;
  residual_adds += other.residual_adds;
  pool_adds += other.pool_adds;
  weight_bits += other.weight_bits;
  return *this;
}

bool OpCounts::operator==(const OpCounts& other) const {
  return macs == other.macs && pe_addsub == other.pe_addsub && plane_passes == other.plane_passes &&
         shift_accumulates == other.shift_accumulates && requant_ops == other.requant_ops &&
         residual_adds == other.residual_adds && pool_adds == other.pool_adds &&
         weight_bits == other.weight_bits;
}

std::vector<int16_t> weight_levels(const std::vector<uint8_t>& codes, int k) {
  if (k < 1 || k > 8) throw Error("weight_levels: k=" + std::to_string(k) + " outside 1..8");
  std::vector<int16_t> levels(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    levels[i] = static_cast<int16_t>(plane_level(codes[i], 0, k));
  }
  return levels;
}

Tensor input_codes(const uint8_t* pixels, int act_bits) {
  Tensor codes(kImageBytes);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = quantize_pixel(pixels[i], act_bits);
  return codes;
}

Tensor run_op(const Model& model, const Op& op, const std::vector<const Tensor*>& inputs, int k,
              MacKernel kernel, OpCounts* counts) {
  if (k < 1 || k > 8 || !model.has_bits(k)) {
    throw Error(op.name + ": the model has no parameters for k=" + std::to_string(k));
  }
  const int act_bits = model.act_bits();
  const int64_t act_max = (int64_t{1} << act_bits) - 1;
  switch (op.kind) {
    case OpKind::Input:
      throw Error(op.name + ": the input op takes pixels: use input_codes");
    case OpKind::Conv:
    case OpKind::Fc: {
      const Tensor& input = single_input(op, inputs, 1);
      check_size(op, input, int64_t{op.in_channels} * op.in_hw * op.in_hw);
      check_codes(op, input, act_bits);
      return kernel == MacKernel::PlaneSerial ? mac_plane_serial(model, op, input, k, counts)
                                              : mac_fast(model, op, input, k, counts);
    }
    case OpKind::Add: {
      const Tensor& residual = single_input(op, inputs, 2);
      const Tensor& shortcut = *inputs[1];
      const int64_t elements = int64_t{op.out_channels} * op.out_spatial();
      check_size(op, residual, elements);
      check_size(op, shortcut, elements);
      int32_t mult = 1, shift = 0;
      if (op.rescale_shortcut) {
        mult = op.requant_at(k).mult[0];
        shift = op.requant_at(k).shift[0];
      }
      Tensor output(residual.size());
      for (size_t i = 0; i < output.size(); ++i) {
        const int64_t scaled = op.rescale_shortcut ? round_shift(int64_t{shortcut[i]} * mult, shift)
                                                   : int64_t{shortcut[i]};
        output[i] = static_cast<int32_t>(std::clamp<int64_t>(residual[i] + scaled, 0, act_max));
      }
      if (counts) {
        counts->residual_adds += output.size();
        if (op.rescale_shortcut) counts->requant_ops += output.size();
      }
      return output;
    }
    case OpKind::AvgPool: {
      const Tensor& input = single_input(op, inputs, 1);
      const int spatial = op.in_hw * op.in_hw;
      check_size(op, input, int64_t{op.in_channels} * spatial);
      Tensor output(static_cast<size_t>(op.out_channels));
      for (size_t c = 0; c < output.size(); ++c) {
        int64_t sum = 0;
        for (int p = 0; p < spatial; ++p) sum += input[c * spatial + static_cast<size_t>(p)];
        output[c] = static_cast<int32_t>(round_shift(sum * op.pool_mult, op.pool_shift));
      }
      if (counts) {
        counts->pool_adds += input.size();
        counts->requant_ops += output.size();
      }
      return output;
    }
  }
  throw Error(op.name + ": unknown op kind");
}

std::vector<Tensor> run_graph(const Model& model, const uint8_t* pixels, int k, MacKernel kernel,
                              std::vector<OpCounts>* counts) {
  const std::vector<Op>& ops = model.ops();
  std::vector<Tensor> outputs(ops.size());
  if (counts) counts->assign(ops.size(), OpCounts{});
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].kind == OpKind::Input) {
      outputs[i] = input_codes(pixels, model.act_bits());
      continue;
    }
    std::vector<const Tensor*> inputs;
    for (int source : ops[i].inputs) inputs.push_back(&outputs[static_cast<size_t>(source)]);
    outputs[i] = run_op(model, ops[i], inputs, k, kernel, counts ? &(*counts)[i] : nullptr);
  }
  return outputs;
}

}  // namespace bsnpu
