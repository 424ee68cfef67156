// The graph the Controller walks, reduced to the geometry the timing and energy models need.
// Built from a bsnpu::Model (or by hand in tests): no weights, no data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model.h"

namespace bsnpu::arch {

struct Layer {
  std::string name;
  OpKind kind = OpKind::Input;
  std::vector<int> inputs;  // indices into Workload::layers
  int in_channels = 0, out_channels = 0, kernel = 1, stride = 1, pad = 0;
  int in_hw = 1, out_hw = 1;
  bool relu = false;
  bool rescale_shortcut = false;
  // Add/AvgPool run in the post-processing pipeline of the weighted layer that precedes them in
  // graph order (the residual add and the pool are fused into that layer's requantization).
  int fused_into = -1;
  int output_bits = 8;  // bits per stored output element: act_bits, or accumulator bits if signed

  bool weighted() const { return kind == OpKind::Conv || kind == OpKind::Fc; }
  uint64_t pixels() const { return static_cast<uint64_t>(out_hw) * static_cast<uint64_t>(out_hw); }
  uint64_t reduction() const {
    return static_cast<uint64_t>(in_channels) * static_cast<uint64_t>(kernel * kernel);
  }
  uint64_t weights() const {
    return weighted() ? reduction() * static_cast<uint64_t>(out_channels) : 0;
  }
  uint64_t macs() const { return weights() * pixels(); }
  uint64_t output_elements() const { return static_cast<uint64_t>(out_channels) * pixels(); }
  uint64_t output_tensor_bits() const {
    return output_elements() * static_cast<uint64_t>(output_bits);
  }
};

struct Workload {
  std::vector<Layer> layers;
  int act_bits = 8;
  int accumulator_bits = 32;

  static Workload from_model(const Model& model);
  // Sets fused_into and output_bits from the graph; called by from_model and by hand-built tests.
  void finalize();
  uint64_t total_weights() const;
  uint64_t total_macs() const;
  // Whether weighted layer `layer` reads the network's input image (the first conv): its input is
  // the same for every run of a frame, so an escalation continues its accumulator.
  bool reads_image(size_t layer) const;
  // Analytic ideal cycles with `passes` passes per tile (k planes bit-serial, 1 bit-parallel) on
  // rows x cols PEs (pixel tiling does not change it): sum over weighted layers of
  // P * passes * ceil(K/rows) * ceil(Cout/cols).
  uint64_t ideal_cycles(int passes, int rows, int cols) const;
  // The same with each layer's own passes per tile (by layer index; layers without weights
  // ignored).
  uint64_t ideal_cycles(const std::vector<int>& passes, int rows, int cols) const;
};

}  // namespace bsnpu::arch
