#include "arch/workload.h"

#include "core/error.h"

namespace bsnpu::arch {

Workload Workload::from_model(const Model& model) {
  Workload workload;
  workload.act_bits = model.act_bits();
  workload.accumulator_bits = model.accumulator_bits();
  for (const Op& op : model.ops()) {
    Layer layer;
    layer.name = op.name;
    layer.kind = op.kind;
    layer.inputs = op.inputs;
    layer.in_channels = op.in_channels;
    layer.out_channels = op.out_channels;
    layer.kernel = op.kernel;
    layer.stride = op.stride;
    layer.pad = op.pad;
    layer.in_hw = op.in_hw;
    layer.out_hw = op.out_hw;
    layer.relu = op.relu;
    layer.rescale_shortcut = op.rescale_shortcut;
    workload.layers.push_back(std::move(layer));
  }
  workload.finalize();
  return workload;
}

void Workload::finalize() {
  int last_weighted = -1;
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer& layer = layers[i];
    const bool signed_output =
        (layer.kind == OpKind::Conv && !layer.relu) || layer.kind == OpKind::Fc;
    layer.output_bits = signed_output ? accumulator_bits : act_bits;
    if (layer.kind == OpKind::Add || layer.kind == OpKind::AvgPool) {
      if (last_weighted < 0) throw Error(layer.name + ": no weighted layer before it to fuse into");
      layer.fused_into = last_weighted;
    } else if (layer.weighted()) {
      last_weighted = static_cast<int>(i);
    }
  }
}

uint64_t Workload::total_weights() const {
  uint64_t total = 0;
  for (const Layer& layer : layers) total += layer.weights();
  return total;
}

bool Workload::reads_image(size_t layer) const {
  const Layer& op = layers.at(layer);
  return op.weighted() && layers.at(static_cast<size_t>(op.inputs.at(0))).kind == OpKind::Input;
}

uint64_t Workload::total_macs() const {
  uint64_t total = 0;
  for (const Layer& layer : layers) total += layer.macs();
  return total;
}

uint64_t Workload::ideal_cycles(int passes, int rows, int cols) const {
  return ideal_cycles(std::vector<int>(layers.size(), passes), rows, cols);
}

uint64_t Workload::ideal_cycles(const std::vector<int>& passes, int rows, int cols) const {
  if (passes.size() != layers.size()) {
    throw Error("ideal_cycles: passes for " + std::to_string(passes.size()) + " of " +
                std::to_string(layers.size()) + " layers");
  }
  uint64_t cycles = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& layer = layers[i];
    if (!layer.weighted()) continue;
    const uint64_t row_tiles = (layer.reduction() + rows - 1) / rows;
    const uint64_t col_tiles = (static_cast<uint64_t>(layer.out_channels) + cols - 1) / cols;
    cycles += layer.pixels() * static_cast<uint64_t>(passes[i]) * row_tiles * col_tiles;
  }
  return cycles;
}

}  // namespace bsnpu::arch
