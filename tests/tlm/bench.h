// Shared pieces of the SystemC test benches: a test initiator, a recording target, a tiny model,
// and the gtest entry point. SystemC elaborates once per process, so each bench builds its
// modules once (on first use), elaborates with sc_start(SC_ZERO_TIME), and the tests then call
// b_transport directly: the targets annotate delays and never wait(), so no process is needed.
#pragma once

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <string>
#include <systemc>
#include <vector>

#include "arch/actions.h"
#include "arch/config.h"
#include "core/model.h"
#include "tlm/payload.h"

namespace bsnpu::tlm::testing {

using namespace bsnpu::arch;

inline Timebase& test_timebase() {
  static Timebase timebase;  // 2 ns cycles from time 0
  return timebase;
}

// A timing request ready at `start`, and what came back.
struct Request {
  NpuPayload payload;
  uint64_t start = 0;
};
struct Response {
  NpuPayload payload;
  uint64_t done_cycle = 0;
};

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> socket;
  explicit Initiator(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}
  Response send(Request request) {
    const uint64_t done = transport(socket, request.payload, test_timebase(), request.start);
    return {request.payload, done};
  }
  // A functional request: no time passes.
  NpuPayload call(NpuPayload payload) {
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

// Answers every transaction `latency` cycles after it is ready and remembers what it saw.
struct Recorder : sc_core::sc_module {
  tlm_utils::simple_target_socket<Recorder> socket;
  uint64_t latency = 0;
  std::vector<NpuPayload> seen;
  std::vector<uint64_t> ready;
  explicit Recorder(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_b_transport(this, &Recorder::b_transport);
  }
  void b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
    NpuPayload* payload = payload_of(transaction);
    if (!payload) return;
    const uint64_t start = test_timebase().start_cycle(delay);
    delay = test_timebase().delay_until(start + latency);
    seen.push_back(*payload);
    ready.push_back(start);
  }
};

inline void elaborate() { sc_core::sc_start(sc_core::SC_ZERO_TIME); }

inline Request request(Command command, uint64_t bits, uint64_t start, int layer = 0) {
  Request request;
  request.payload.command = command;
  request.payload.bits = bits;
  request.payload.layer = layer;
  request.start = start;
  return request;
}

inline uint64_t count(const ModuleStats& stats, Action action, int layer = 0) {
  return stats.layers().at(static_cast<size_t>(layer)).count(action);
}

// input (3x32x32) -> conv 3->8, 3x3 pad 1, ReLU -> avgpool -> fc 8->10, with deterministic
// pseudo-random codes and requantization parameters for every k: small enough for unit benches,
// shaped like the real network's ends.
Model tiny_model();

}  // namespace bsnpu::tlm::testing
