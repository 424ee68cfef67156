// The op-by-op reference walk of the bsnpu datapath (docs/arithmetic.md), one image at a time in
// channel-major int32 tensors: the plane-serial kernel that does what the hardware does (one
// +-1 plane at a time, MSB first, acc <- 2 acc + S) and counts it, and the same op through the
// fast kernels. Tests hold the fast batch paths (engine, NPU modules) to it. No SystemC here.
#pragma once

#include <cstdint>
#include <vector>

#include "core/model.h"

namespace bsnpu {

// Feature maps are channel-major per image: [C][H][W], int32 values.
using Tensor = std::vector<int32_t>;

// What a layer's work costs, independent of the hardware's dimensions. "terms" are single-bit
// multiply-accumulates: one ±1 weight bit applied to one activation. Both MAC kernels report the
// same counts (the plane-serial one by counting as it goes, the fast one from the shapes).
struct OpCounts {
  uint64_t macs = 0;               // weight x activation products at full precision (per image)
  uint64_t pe_addsub = 0;          // ±x operations: macs * k (one per plane)
  uint64_t plane_passes = 0;       // (output, plane) pairs: one pass of S = sum(±x) each
  uint64_t shift_accumulates = 0;  // acc <- 2 acc + S, one per output per plane
  uint64_t requant_ops = 0;        // multiply-add-shift: per conv/fc output, per rescaled
                                   // shortcut element, per pooled channel
  uint64_t residual_adds = 0;      // add-op element additions
  uint64_t pool_adds = 0;          // average-pool additions: one per input element
  uint64_t weight_bits = 0;        // weight bits the layer needs at k: k per weight
  OpCounts& operator+=(const OpCounts& other);
  bool operator==(const OpCounts& other) const;
};

enum class MacKernel {
  PlaneSerial,  // the hardware's way: per plane S = sum(±x), acc = 2 acc + S; counts actions
  Fast,         // sum_j q_kj x_j with vectorized integer dot products (core/fast_conv.h)
};

// Weight levels q_k = 2 (u >> (8-k)) + 1 - 2^k for a whole code array (int16: |q_8| <= 255).
std::vector<int16_t> weight_levels(const std::vector<uint8_t>& codes, int k);

// Runs one op on one image. `inputs` are the op's input tensors (in Op::inputs order; none for
// the input op, which reads `pixels` instead). Conv/fc inputs must be codes in [0, 2^a - 1].
// Throws bsnpu::Error on accumulator overflow (never wraps) and on malformed inputs.
Tensor run_op(const Model& model, const Op& op, const std::vector<const Tensor*>& inputs, int k,
              MacKernel kernel, OpCounts* counts = nullptr);

// Input codes of one CIFAR image (3x32x32 uint8 pixels, channel-major) at act_bits.
Tensor input_codes(const uint8_t* pixels, int act_bits);

// Every op's output for one image (index = op index; the input op's entry is input_codes),
// op by op through run_op. `counts`, when given, receives one entry per op.
std::vector<Tensor> run_graph(const Model& model, const uint8_t* pixels, int k, MacKernel kernel,
                              std::vector<OpCounts>* counts = nullptr);

}  // namespace bsnpu
