// Per-column MSB-first shift-accumulate (r <- 2r + S for each plane, depth entries per column),
// partial sums across row tiles, then the integer post-processing of each finished output tile:
// requantization with the BN set of the k in force, ReLU/clamp, and the fused residual add and
// average pool, writing the results to the ActivationBuffer.
//  - Timing: Accumulate takes a pass's column sums into the partial-sum SRAM (a read-modify-write
//    of each column's word per pixel; answered when absorbed, later if the port is narrow or a
//    tile's first pass finds no free buffer); on a tile's last pass its outputs are
//    post-processed, postproc_lanes per cycle, overlapping the array's next passes, and its
//    buffer is free again when that is done; Drain answers when every post-processing issued so
//    far is done.
//  - Functional: PartialSumTarget names the map the MacArray writes the partial sums S of planes
//    (from, to] of a batch into: r itself from plane 0 (r <- S), a staging map otherwise;
//    AccumulatePlanes then continues r <- 2^(to - from) r + S, so a layer's accumulation can
//    resume with more planes; PostProcess runs the output stage of a layer with the
//    requantization the payload names (its k's BN set, re-targeted under a mixed precision) and
//    every op fused into it.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "arch/workload.h"
#include "core/fast_conv.h"
#include "core/model.h"
#include "core/worker_pool.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

class Accumulator : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Accumulator> array_port;          // from MacArray
  tlm_utils::simple_target_socket<Accumulator> control_port;        // from Controller
  tlm_utils::simple_initiator_socket<Accumulator> activation_port;  // to ActivationBuffer

  Accumulator(sc_core::sc_module_name name, const arch::AccumulatorConfig& config,
              const Model& model, const arch::Workload& workload, WorkerPool& workers,
              const Timebase& timebase);

  void reset(size_t layers);
  arch::ModuleStats stats;

 private:
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay);
  uint64_t accumulate(const NpuPayload& payload, uint64_t start);
  uint64_t post_process_timing(const NpuPayload& payload, uint64_t start,
                               arch::ModuleLayerStats& layer);
  void partial_sum_target(NpuPayload& payload);
  void accumulate_planes(const NpuPayload& payload);
  // Throws unless r of the payload's layer holds `planes` planes.
  void check_planes(const NpuPayload& payload, int planes) const;
  void post_process(const NpuPayload& payload);
  NpuPayload map_of(int op);

  arch::AccumulatorConfig config_;
  const Model& model_;
  const arch::Workload& workload_;
  WorkerPool& workers_;
  const Timebase& timebase_;
  uint64_t postproc_free_ = 0;
  std::vector<uint64_t> buffer_free_;  // by partial-sum buffer: read out by post-processing
  size_t next_buffer_ = 0, tile_buffer_ = 0;
  // r of the batch: a layer that reads the image keeps its own (an escalation continues it);
  // the others share one map per output shape, as they use it only between their ComputePlanes
  // and their PostProcess (a per-layer map for every layer would not stay in the host's caches).
  // Taking a shared map over marks its previous layer's r as gone (check_planes then refuses it).
  WordMap& sums_of(size_t layer);
  struct SharedSums {
    WordMap map;
    size_t layer;  // whose r it holds
  };
  std::vector<WordMap> sums_;  // by layer, for the layers that read the image
  std::vector<SharedSums> shared_sums_;
  std::vector<WordMap> staging_;  // by layer: S of planes after the first
  std::vector<int> planes_;       // by layer: planes accumulated into r
};

}  // namespace bsnpu::tlm
