// Cycles <-> SystemC time for one job: cycle c of the job is origin + c x period, in exact
// integer multiples of the time resolution, so a cycle survives the round trip through sc_time.
#pragma once

#include <cstdint>
#include <systemc>

namespace bsnpu::tlm {

struct Timebase {
  sc_core::sc_time period = sc_core::sc_time(2, sc_core::SC_NS);
  sc_core::sc_time origin = sc_core::SC_ZERO_TIME;

  sc_core::sc_time at(uint64_t cycle) const {
    return sc_core::sc_time::from_value(origin.value() + cycle * period.value());
  }
  // The first cycle boundary at or after `time`.
  uint64_t cycle_of(const sc_core::sc_time& time) const {
    const uint64_t since = time > origin ? time.value() - origin.value() : 0;
    return (since + period.value() - 1) / period.value();
  }
  // The cycle a transaction annotated with `delay` starts at: now + delay.
  uint64_t start_cycle(const sc_core::sc_time& delay) const {
    return cycle_of(sc_core::sc_time_stamp() + delay);
  }
  // The delay a target annotates for completion at `cycle`, relative to the current time.
  sc_core::sc_time delay_until(uint64_t cycle) const {
    const sc_core::sc_time when = at(cycle);
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    return when > now ? when - now : sc_core::SC_ZERO_TIME;
  }
};

}  // namespace bsnpu::tlm
