#include "arch/schedule.h"

#include <algorithm>

#include "core/error.h"

namespace bsnpu::arch {
namespace {

uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// The layer whose hardware step computes `index`: itself, or the layer it is fused into.
int executor(const Workload& workload, int index) {
  const Layer& layer = workload.layers[static_cast<size_t>(index)];
  return layer.fused_into >= 0 ? layer.fused_into : index;
}

// Feature-map bits live while each weighted layer runs: every materialized tensor produced at or
// before that step and still to be consumed at or after it. A tensor whose consumers all run in
// its producer's step (a residual fused into its own add) never reaches the buffer.
std::vector<uint64_t> live_feature_map_bits(const Workload& workload) {
  const size_t count = workload.layers.size();
  std::vector<int> last_use(count, -1);
  std::vector<bool> materialized(count, false);
  for (size_t i = 0; i < count; ++i) {
    for (int input : workload.layers[i].inputs) {
      const int consumer_step = executor(workload, static_cast<int>(i));
      last_use[static_cast<size_t>(input)] =
          std::max(last_use[static_cast<size_t>(input)], consumer_step);
      if (consumer_step != executor(workload, input))
        materialized[static_cast<size_t>(input)] = true;
    }
  }
  materialized[count - 1] = true;  // the logits
  std::vector<uint64_t> live(count, 0);
  for (size_t step = 0; step < count; ++step) {
    if (!workload.layers[step].weighted()) continue;
    for (size_t i = 0; i < count; ++i) {
      const int produced = executor(workload, static_cast<int>(i));
      const int until = std::max(last_use[i], produced);
      if (materialized[i] && produced <= static_cast<int>(step) &&
          until >= static_cast<int>(step)) {
        live[step] += workload.layers[i].output_tensor_bits();
      }
    }
  }
  return live;
}

void check_planes(const Workload& workload, const std::vector<PlaneRange>& planes) {
  if (planes.size() != workload.layers.size()) {
    throw Error("planes: " + std::to_string(planes.size()) + " ranges for " +
                std::to_string(workload.layers.size()) + " layers");
  }
  for (size_t i = 0; i < planes.size(); ++i) {
    const PlaneRange& range = planes[i];
    if (workload.layers[i].weighted() &&
        (range.first < 0 || range.first >= range.last || range.last > 8)) {
      throw Error(workload.layers[i].name + ": planes (" + std::to_string(range.first) + ", " +
                  std::to_string(range.last) + "] are not a range within (0, 8]");
    }
  }
}

// The layer's planes as the schedule runs them: "k=5" for (0, 5], else "planes (2, 5]".
std::string planes_text(const std::vector<PlaneRange>& planes, const Workload& workload) {
  int top = 0;
  bool plain = true;
  for (size_t i = 0; i < planes.size(); ++i) {
    if (!workload.layers[i].weighted()) continue;
    if (top != 0 && planes[i].last != top) plain = false;
    plain = plain && planes[i].first == 0;
    top = std::max(top, planes[i].last);
  }
  return plain ? "k=" + std::to_string(top) : "the given per-layer planes";
}

}  // namespace

std::vector<PlaneRange> uniform_planes(const Workload& workload, int k) {
  if (k < 1 || k > 8) throw Error("bits: k must be in 1..8, got " + std::to_string(k));
  std::vector<PlaneRange> planes;
  for (const Layer& layer : workload.layers) {
    planes.push_back(layer.weighted() ? PlaneRange{0, k} : PlaneRange{0, 0});
  }
  return planes;
}

uint64_t count_passes(const Workload& workload, const NpuConfig& config,
                      const std::vector<PlaneRange>& planes) {
  check_planes(workload, planes);
  const uint64_t rows = static_cast<uint64_t>(config.mac_array.rows);
  const uint64_t cols = static_cast<uint64_t>(config.mac_array.cols);
  const uint64_t depth = static_cast<uint64_t>(config.accumulator.depth);
  uint64_t passes = 0;
  for (size_t i = 0; i < workload.layers.size(); ++i) {
    const Layer& layer = workload.layers[i];
    if (!layer.weighted()) continue;
    passes += ceil_div(layer.pixels(), depth) *
              ceil_div(static_cast<uint64_t>(layer.out_channels), cols) *
              ceil_div(layer.reduction(), rows) *
              static_cast<uint64_t>(config.mac_array.passes_per_tile(planes[i].planes()));
  }
  return passes;
}

uint64_t count_passes(const Workload& workload, const NpuConfig& config, int k) {
  return count_passes(workload, config, uniform_planes(workload, k));
}

void check_schedule_size(const Workload& workload, const NpuConfig& config,
                         const std::vector<PlaneRange>& planes) {
  const uint64_t passes = count_passes(workload, config, planes);
  if (passes <= kMaxSchedulePasses) return;
  throw Error(config.file + ": mac_array.rows, mac_array.cols, accumulator.depth: " +
              std::to_string(config.mac_array.rows) + " x " +
              std::to_string(config.mac_array.cols) + " PEs with depth " +
              std::to_string(config.accumulator.depth) + " need " + std::to_string(passes) +
              " passes per inference at " + planes_text(planes, workload) + ", over the limit of " +
              std::to_string(kMaxSchedulePasses) + "; raise these fields (docs/configuration.md)");
}

void check_schedule_size(const Workload& workload, const NpuConfig& config, int k) {
  check_schedule_size(workload, config, uniform_planes(workload, k));
}

Schedule build_schedule(const Workload& workload, const NpuConfig& config, int k) {
  return build_schedule(workload, config, uniform_planes(workload, k));
}

Schedule build_schedule(const Workload& workload, const NpuConfig& config,
                        const std::vector<PlaneRange>& planes) {
  check_schedule_size(workload, config, planes);
  Schedule schedule;
  schedule.passes.reserve(static_cast<size_t>(count_passes(workload, config, planes)));
  schedule.planes = planes;
  schedule.k = 0;
  for (size_t i = 0; i < planes.size(); ++i) {
    if (workload.layers[i].weighted()) schedule.k = std::max(schedule.k, planes[i].last);
  }
  schedule.live_bits = live_feature_map_bits(workload);
  schedule.pinned_bits.assign(workload.layers.size(), 0);
  const uint64_t rows = static_cast<uint64_t>(config.mac_array.rows);
  const uint64_t cols = static_cast<uint64_t>(config.mac_array.cols);
  const uint64_t depth = static_cast<uint64_t>(config.accumulator.depth);
  const uint64_t capacity = config.weight_memory.capacity_bits;
  const uint64_t weight_bits = static_cast<uint64_t>(config.mac_array.weight_bits);
  schedule.weights_resident = workload.total_weights() * 8 <= capacity;
  if (!workload.layers.empty() && workload.layers[0].kind == OpKind::Input) {
    schedule.input_bits = workload.layers[0].output_tensor_bits();
  }

  for (size_t index = 0; index < workload.layers.size(); ++index) {
    const Layer& layer = workload.layers[index];
    if (!layer.weighted()) continue;
    const int layer_index = static_cast<int>(index);
    // Passes per tile: one per plane of the range (bit-serial) or one for all (bit-parallel).
    const int passes_per_tile = config.mac_array.passes_per_tile(planes[index].planes());
    const int k = planes[index].last;
    const uint64_t reduction = layer.reduction();
    const uint64_t out_channels = static_cast<uint64_t>(layer.out_channels);
    const uint64_t row_tiles = ceil_div(reduction, rows);
    const uint64_t col_tiles = ceil_div(out_channels, cols);
    const uint64_t pixel_tiles = ceil_div(layer.pixels(), depth);
    // A layer whose planes fit in half the SRAM is fetched once and reused by every pixel
    // tile; the other half prefetches the next layer. Larger layers stream tile by tile.
    const bool pinned =
        !schedule.weights_resident &&
        layer.weights() * weight_bits * static_cast<uint64_t>(passes_per_tile) * 2 <= capacity;

    // Post-processing fused into this layer's step.
    const Layer* fused_add = nullptr;
    const Layer* fused_pool = nullptr;
    for (const Layer& other : workload.layers) {
      if (other.fused_into != layer_index) continue;
      if (other.kind == OpKind::Add) fused_add = &other;
      if (other.kind == OpKind::AvgPool) fused_pool = &other;
    }
    int operand_bits = 0;
    if (fused_add) {
      for (int input : fused_add->inputs) {
        if (executor(workload, input) != layer_index) {
          operand_bits = workload.layers[static_cast<size_t>(input)].output_bits;
        }
      }
    }
    const int result_bits = fused_add ? fused_add->output_bits : layer.output_bits;

    std::vector<int> pinned_fetch(
        static_cast<size_t>(row_tiles * col_tiles * static_cast<uint64_t>(passes_per_tile)), -1);
    for (uint64_t pixel_tile = 0; pixel_tile < pixel_tiles; ++pixel_tile) {
      const uint64_t pixels = std::min(depth, layer.pixels() - pixel_tile * depth);
      for (uint64_t col_tile = 0; col_tile < col_tiles; ++col_tile) {
        const int cols_used = static_cast<int>(std::min(cols, out_channels - col_tile * cols));
        for (uint64_t row_tile = 0; row_tile < row_tiles; ++row_tile) {
          const int rows_used = static_cast<int>(std::min(rows, reduction - row_tile * rows));
          // A bit-parallel array takes all the planes of a tile in one pass (plane = k).
          for (int plane = k - passes_per_tile + 1; plane <= k; ++plane) {
            Pass pass;
            pass.layer = layer_index;
            pass.plane = plane;
            pass.rows_used = rows_used;
            pass.cols_used = cols_used;
            pass.pixels = pixels;
            pass.first_plane = plane == k - passes_per_tile + 1;
            pass.last_plane = plane == k;
            pass.first_row_tile = row_tile == 0;
            pass.finalize = pass.last_plane && row_tile + 1 == row_tiles;
            const uint64_t unit_bits =
                static_cast<uint64_t>(rows_used) * static_cast<uint64_t>(cols_used) * weight_bits;
            if (!schedule.weights_resident) {
              int& slot = pinned_fetch[static_cast<size_t>(
                  (col_tile * row_tiles + row_tile) * static_cast<uint64_t>(passes_per_tile) +
                  static_cast<uint64_t>(plane - (k - passes_per_tile + 1)))];
              if (!pinned || slot < 0) {
                schedule.fetches.push_back(WeightFetch{layer_index, unit_bits, pinned});
                if (pinned) schedule.pinned_bits[index] += unit_bits;
                slot = static_cast<int>(schedule.fetches.size() - 1);
              }
              pass.fetch = slot;
            }
            if (pass.finalize) {
              const uint64_t outputs = pixels * static_cast<uint64_t>(cols_used);
              if (fused_add) {
                pass.residual_adds = outputs;
                pass.shortcut_rescales = fused_add->rescale_shortcut ? outputs : 0;
                pass.operand_read_bits = outputs * static_cast<uint64_t>(operand_bits);
              }
              if (fused_pool) {
                pass.pool_adds = outputs;
                const bool last_pixel_tile = pixel_tile + 1 == pixel_tiles;
                pass.result_write_bits =
                    last_pixel_tile ? static_cast<uint64_t>(cols_used * fused_pool->output_bits)
                                    : 0;
              } else {
                pass.result_write_bits = outputs * static_cast<uint64_t>(result_bits);
              }
            }
            schedule.passes.push_back(pass);
          }
        }
      }
    }
    if (schedule.passes.empty() || schedule.passes.back().layer != layer_index) {
      throw Error(layer.name + ": layer without work");
    }
    const size_t first =
        schedule.passes.size() - static_cast<size_t>(pixel_tiles * col_tiles * row_tiles *
                                                     static_cast<uint64_t>(passes_per_tile));
    schedule.passes[first].layer_begin = true;
    schedule.passes.back().layer_end = true;
  }
  return schedule;
}

}  // namespace bsnpu::arch
