// The DRAM channel's schedule: which cycles carry which request. Two classes of request, as a
// memory controller with a demand queue and a prefetch queue serves them:
//  - demand (the input image, activation spills and their read-back) is placed when it is
//    issued, in the earliest idle cycles at or after it is ready;
//  - weight prefetches are queued when issued and placed only when their completion is needed,
//    in issue order, in the idle cycles that the demand placed until then has left: a demand
//    request never waits behind a prefetch that had not started. At most `prefetch_queue`
//    prefetches are outstanding: the next is ready no earlier than the end of the one that many
//    places before it.
// A request may be split across idle intervals (the controller issues it burst by burst), so
// idle time before a later reservation is back-filled. Cycles count from the start of the job;
// the channel keeps its time in DramConfig::kDramTicksPerCycle ticks per cycle, so that a stream
// of requests costs its exact total and grants round to whole cycles only on the way out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"

namespace bsnpu::arch {

class DramChannel {
 public:
  explicit DramChannel(const DramConfig& config) : config_(config) {}

  struct Grant {
    uint64_t start = 0;  // its first cycle on the channel
    uint64_t end = 0;    // after its last cycle on the channel
    uint64_t done = 0;   // end + latency: the data is usable (or written)
  };
  Grant demand(uint64_t ready, uint64_t bits, bool write);
  // Queues a prefetch read; returns its ticket (0, 1, ... in issue order).
  size_t enqueue_prefetch(uint64_t ready, uint64_t bits);
  // Places every queued prefetch up to `ticket` (if not yet placed) and returns its grant.
  // Throws bsnpu::Error for a ticket never issued.
  const Grant& prefetch(size_t ticket);
  // Each placed prefetch from its issue to the end of its transfer.
  Timeline prefetch_queue() const;
  void reset();

 private:
  // Reserves `ticks` of channel time from cycle `ready` on; the grant in cycles, and its end tick.
  Grant place(uint64_t ready, uint64_t ticks, uint64_t* end_tick);

  struct Queued {
    uint64_t ready = 0, bits = 0;
  };
  DramConfig config_;
  std::map<uint64_t, uint64_t> busy_;  // reserved ticks [start, end), disjoint, not adjacent
  std::vector<Queued> queued_;
  std::vector<Grant> placed_;        // grants of prefetches 0 .. placed_.size() - 1
  std::vector<uint64_t> placed_end_;  // their end ticks
};

}  // namespace bsnpu::arch
