// Walks the graph layer by layer and issues the transactions. One SC_THREAD serves jobs posted
// between sc_start calls (SystemC elaborates once per process):
//  - a timing job simulates one inference at k from its schedule (layer -> pixel tile -> column
//    tile -> row tile -> plane, MSB first): weight refills run ahead of the array as far as the
//    weight SRAM allows (double buffering), so a pass waits only when bandwidth or space is
//    short; the thread's local time runs ahead of SystemC time under a tlm_quantumkeeper;
//  - a functional job runs a batch of real images: the ActivationBuffer loads them, then for
//    each conv and fc the MacArray computes planes 1..k of that layer's k and the Accumulator
//    post-processes with the requantization the precision gives it (the BN set of its k,
//    re-targeted for a mixed vector); the logits come back from the ActivationBuffer;
//  - a stream job runs frames one at a time (batch of one: a policy's choice for frame t depends
//    on frame t-1) under a dynamic-precision policy (arch/policy.h): each frame's first run at the
//    policy's k, then, while the policy asks, an escalation from k_a to k_b that continues the
//    first conv's accumulator (r <- 2^(k_b - k_a) r + S of planes (k_a, k_b]: its input is the
//    unchanged image) and recomputes every later layer at k_b.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include <exception>
#include <functional>
#include <systemc>
#include <tuple>
#include <vector>

#include "arch/config.h"
#include "arch/policy.h"
#include "arch/schedule.h"
#include "arch/timing.h"
#include "arch/workload.h"
#include "core/precision.h"
#include "tlm/payload.h"

namespace bsnpu::tlm {

// A batch of real images through the NPU at a precision (both pointers outlive the job).
struct FunctionalJob {
  const uint8_t* pixels = nullptr;  // images x 3 x 32 x 32, channel-major
  int images = 0;
  const Precision* precision = nullptr;
  const std::vector<Requant>* requant = nullptr;  // requantization(model, *precision)
  std::vector<int32_t> logits;                    // out: [images][classes]
};

// One run of a frame: every weighted layer at k planes, except the layers reading the image,
// which continue from conv1_from planes (0: a fresh run). keep_sums: the policy may escalate
// after this run, so the first conv's r is kept (its cost: docs/dynamic-precision.md).
struct FrameRun {
  int conv1_from = 0;
  int k = 8;
  bool keep_sums = false;
  bool operator<(const FrameRun& other) const {
    return std::tie(conv1_from, k, keep_sums) <
           std::tie(other.conv1_from, other.k, other.keep_sums);
  }
};

struct FrameResult {
  std::vector<FrameRun> runs;   // in order; the last one's k is the frame's final k
  std::vector<int32_t> logits;  // of the last run
  int prediction = -1;          // the policy's output
  bool carried = false;         // a held prediction, not the last run's
  double margin = 0;            // of the last run, logit units
};

// Frames 0..frames-1 through the NPU under `policy`. `render(t, pixels)` writes frame t (3 x 32 x
// 32 uint8, channel-major). `memo`, when set, holds logits by frame * 8 + k - 1 across jobs (a
// sweep): a frame's logits at k do not depend on the path that reached k (escalation to k gives
// exactly static k, tests/tlm/test_stream.cpp), so a hit skips the datapath and a miss after a
// hit runs k fresh; the runs recorded are the policy's either way.
struct StreamJob {
  size_t frames = 0;
  // By k - 1, up to the policy's highest k: every layer at k, and its requantization
  // (Npu::stream fills them).
  std::vector<Precision> precisions;
  std::vector<std::vector<Requant>> requants;
  std::function<void(size_t, uint8_t*)> render;
  arch::Policy* policy = nullptr;
  std::vector<std::vector<int32_t>>* memo = nullptr;
  std::function<void(size_t)> progress;  // frames done
  std::vector<FrameResult> results;      // out
};

class Controller : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Controller> weight_port;
  tlm_utils::simple_initiator_socket<Controller> array_port;
  tlm_utils::simple_initiator_socket<Controller> accumulator_port;
  tlm_utils::simple_initiator_socket<Controller> activation_port;

  SC_HAS_PROCESS(Controller);
  Controller(sc_core::sc_module_name name, const arch::NpuConfig& config,
             const arch::Workload& workload, Timebase& timebase);

  // Post a job; the caller then runs sc_start() until the thread waits for the next one.
  // For the first conv's accumulator r: `restore_sums` brings it back from DRAM before that conv
  // (an escalation), `save_sums` writes it to DRAM after it (a run the policy may escalate).
  void post_timing(const arch::Schedule* schedule, std::vector<arch::LayerTiming>* layers,
                   bool restore_sums = false, bool save_sums = false);
  void post_functional(FunctionalJob* job);
  void post_stream(StreamJob* job);
  // Rethrows what the last job threw.
  void check();

 private:
  void serve();
  void run_timing(const arch::Schedule& schedule, std::vector<arch::LayerTiming>& layers);
  void run_functional(FunctionalJob& job);
  void run_stream(StreamJob& job);
  // Every weighted layer of the loaded batch at its k of `precision`, the layers reading the
  // image continuing from conv1_from planes; returns the logits.
  std::vector<int32_t> run_layers(int images, const Precision& precision,
                                  const std::vector<Requant>& requant, int conv1_from);
  void issue_fetches(const arch::Schedule& schedule, uint64_t when);
  // When fetch `fetch` is in the weight SRAM (placing its DRAM transfer on first use).
  uint64_t fetch_done(size_t fetch);
  void advance_to(uint64_t cycle);

  const arch::NpuConfig& config_;
  const arch::Workload& workload_;
  Timebase& timebase_;
  tlm_utils::tlm_quantumkeeper keeper_;
  sc_core::sc_event job_posted_;
  const arch::Schedule* schedule_ = nullptr;
  bool restore_sums_ = false, save_sums_ = false;
  std::vector<arch::LayerTiming>* layers_ = nullptr;
  FunctionalJob* job_ = nullptr;
  StreamJob* stream_ = nullptr;
  // SumsSave or SumsRestore of `layer`'s r (its outputs x accumulator bits) through the
  // ActivationBuffer's DRAM port, from `when`; returns when it is done.
  uint64_t move_sums(Command command, int layer, uint64_t when);
  std::exception_ptr failure_;
  // Weight refill state of the running timing job.
  uint64_t free_weight_bits_ = 0;
  size_t next_fetch_ = 0;
  std::vector<uint64_t> fetch_done_;    // UINT64_MAX until waited for
  std::vector<size_t> fill_tickets_;    // the WeightMemory's ticket of each issued fetch
  std::vector<uint64_t> fetch_issued_;  // when each fetch was issued (room in the SRAM)
};

}  // namespace bsnpu::tlm
