// The one resource primitive of the timing model: a port that moves bits one request after
// another at a bandwidth (a DRAM channel, an SRAM read or write port), plus an access latency
// that back-to-back requests overlap. Cycles are counted from the start of the job.
#pragma once

#include <cstdint>

#include "arch/actions.h"
#include "arch/config.h"

namespace bsnpu::arch {

class Port {
 public:
  // `track`: the module's trace track this port's busy time goes to (see track_name).
  Port(const Bandwidth& bandwidth, uint64_t latency_cycles, int track = 0)
      : bandwidth_(bandwidth), latency_cycles_(latency_cycles), track_(track) {}

  struct Grant {
    uint64_t start = 0;  // the transfer begins: max(ready, port free)
    uint64_t end = 0;    // the last bit has passed the port (it is free again)
    uint64_t done = 0;   // end + latency: the data is usable
  };
  // Serves `bits` that are ready at cycle `ready`.
  Grant serve(uint64_t ready, uint64_t bits) {
    Grant grant;
    grant.start = ready > free_at_ ? ready : free_at_;
    grant.end = grant.start + bandwidth_.cycles(bits);
    grant.done = grant.end + latency_cycles_;
    free_at_ = grant.end;
    return grant;
  }
  // The same, counting the bits as `action` of layer `layer` and the transfer as the port's busy
  // time in `stats`.
  Grant serve(uint64_t ready, uint64_t bits, ModuleStats& stats, int layer, Action action) {
    const Grant grant = serve(ready, bits);
    stats.layer(layer).add(action, bits);
    stats.record(grant.start, grant.end, track_);
    return grant;
  }
  void reset() { free_at_ = 0; }
  uint64_t free_at() const { return free_at_; }

 private:
  Bandwidth bandwidth_;
  uint64_t latency_cycles_;
  int track_;
  uint64_t free_at_ = 0;
};

}  // namespace bsnpu::arch
