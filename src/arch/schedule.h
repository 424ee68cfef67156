// The Controller's schedule for one inference: the ordered passes of the MAC array (layer ->
// pixel tile -> column tile -> row tile -> plane, MSB first) over each weighted layer's weight
// planes (first, last] (all of them (0, k] for a run at k; a later range continues an
// accumulation, e.g. an escalation from k_a to k_b: (k_a, k_b]), and the weight refills from DRAM
// they need. Pure data, built before simulation; it depends on the config, the graph and the
// plane ranges, never on the images.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/config.h"
#include "arch/workload.h"
#include "core/precision.h"

namespace bsnpu::arch {

struct WeightFetch {
  int layer = 0;
  uint64_t bits = 0;    // a weight tile: rows x cols x weight_bits
  bool pinned = false;  // kept in the SRAM for the whole layer (reused by every pixel tile)
};

struct Pass {
  int layer = 0;
  int fetch = -1;  // index into Schedule::fetches; -1 when the weights are resident
  int plane = 1;
  int rows_used = 0;
  int cols_used = 0;
  uint64_t pixels = 0;
  bool first_plane = false;
  bool last_plane = false;
  bool first_row_tile = false;
  bool finalize = false;  // last pass of a (pixel tile, column tile): post-process its outputs
  bool layer_begin = false;
  bool layer_end = false;
  uint64_t residual_adds = 0, shortcut_rescales = 0, pool_adds = 0;
  uint64_t operand_read_bits = 0, result_write_bits = 0;
};

struct Schedule {
  int k = 8;                       // the largest last plane of any layer
  std::vector<PlaneRange> planes;  // by layer: the planes its passes run
  bool weights_resident = false;   // all 8 planes of every layer fit in the weight SRAM
  std::vector<Pass> passes;
  std::vector<WeightFetch> fetches;
  std::vector<uint64_t> pinned_bits;  // per layer: SRAM bits its pinned plane tiles hold
  std::vector<uint64_t> live_bits;    // per layer: feature-map bits live while it runs (weighted)
  uint64_t input_bits = 0;            // the image, loaded from DRAM before the first layer
};

// The most passes one schedule may hold. build_schedule keeps every pass in memory (~100 bytes
// each with its weight fetch), and the Controller simulates them one transaction at a time, so a
// tiny array or accumulator on ResNet-18 (1 x 1 PEs, depth 1: ~555 M passes per k, ~44 GB) would
// exhaust memory long before it finished. See docs/configuration.md ("Schedule size").
constexpr uint64_t kMaxSchedulePasses = 20'000'000;

// `planes` holds one range per layer of the workload (ignored for layers without weights); every
// weighted layer's must satisfy 0 <= first < last <= 8, else bsnpu::Error. The int-k overloads
// run every weighted layer over (0, k].

// Passes of one inference, computed without building the schedule: the sum over weighted layers
// of ceil(P / depth) x ceil(C_out / cols) x ceil(K / rows) x passes per tile (the layer's planes
// for a bit-serial array, 1 for a bit-parallel one).
uint64_t count_passes(const Workload& workload, const NpuConfig& config,
                      const std::vector<PlaneRange>& planes);
uint64_t count_passes(const Workload& workload, const NpuConfig& config, int k);

// Throws bsnpu::Error, one line naming config.file, mac_array.rows, mac_array.cols and
// accumulator.depth, when count_passes exceeds kMaxSchedulePasses.
void check_schedule_size(const Workload& workload, const NpuConfig& config,
                         const std::vector<PlaneRange>& planes);
void check_schedule_size(const Workload& workload, const NpuConfig& config, int k);

// Throws check_schedule_size's error before allocating anything.
Schedule build_schedule(const Workload& workload, const NpuConfig& config,
                        const std::vector<PlaneRange>& planes);
Schedule build_schedule(const Workload& workload, const NpuConfig& config, int k);

// (0, k] for every layer of the workload; throws bsnpu::Error unless k is in 1..8.
std::vector<PlaneRange> uniform_planes(const Workload& workload, int k);

}  // namespace bsnpu::arch
