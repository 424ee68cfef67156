// Shared pieces of the SystemC test benches: a test initiator, a recording target, and the
// gtest entry point. SystemC elaborates once per process, so each bench builds its modules once
// (on first use), elaborates with sc_start(SC_ZERO_TIME), and the tests then call b_transport
// directly: the targets annotate delays and never wait(), so no process is needed.
#pragma once

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <string>
#include <systemc>
#include <vector>

#include "tlm/payload.h"

namespace bsnpu::tlm::testing {

inline Timebase& test_timebase() {
  static Timebase timebase;  // 2 ns cycles from time 0
  return timebase;
}

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  explicit Initiator(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}
  NpuPayload send(NpuPayload payload) {
    transport(socket, payload, test_timebase());
    return payload;
  }
  // The raw response status of a transaction with the given (possibly missing) extension.
  ::tlm::tlm_response_status status(NpuPayload* payload) {
    ::tlm::tlm_generic_payload transaction;
    if (payload) transaction.set_extension(payload);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    socket->b_transport(transaction, delay);
    if (payload) transaction.clear_extension(payload);
    return transaction.get_response_status();
  }
};

// Answers every transaction with done = start + latency and remembers what it saw.
struct Recorder : sc_core::sc_module {
  tlm_utils::simple_target_socket<Recorder> socket;
  uint64_t latency = 0;
  std::vector<NpuPayload> seen;
  explicit Recorder(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_b_transport(this, &Recorder::b_transport);
  }
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time&) {
    NpuPayload* payload = payload_of(transaction);
    if (!payload) return;
    payload->done_cycle = payload->start_cycle + latency;
    seen.push_back(*payload);
  }
};

inline void elaborate() { sc_core::sc_start(sc_core::SC_ZERO_TIME); }

inline NpuPayload request(Command command, uint64_t bits, uint64_t start, int layer = 0) {
  NpuPayload payload;
  payload.command = command;
  payload.bits = bits;
  payload.start_cycle = start;
  payload.layer = layer;
  return payload;
}

inline uint64_t count(const ModuleStats& stats, Action action, int layer = 0) {
  return stats.layers().at(static_cast<size_t>(layer)).actions[static_cast<size_t>(action)];
}

}  // namespace bsnpu::tlm::testing
