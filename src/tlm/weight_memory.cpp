#include "tlm/weight_memory.h"

#include <algorithm>

namespace bsnpu::tlm {

WeightMemory::WeightMemory(sc_core::sc_module_name name, const MemoryConfig& config,
                           const Timebase& timebase)
    : sc_module(name),
      target("target"),
      dram_port("dram_port"),
      config_(config),
      timebase_(timebase) {
  target.register_b_transport(this, &WeightMemory::b_transport);
}

void WeightMemory::reset(size_t layers) {
  stats.reset(layers);
  read_port_free_ = 0;
  write_port_free_ = 0;
}

void WeightMemory::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  ModuleLayerStats& layer = stats.layer(payload->layer);
  if (payload->command == Command::WeightFill) {
    NpuPayload refill = *payload;
    refill.command = Command::DramRead;
    transport(dram_port, refill, timebase_);
    // The write port absorbs the DRAM stream as it arrives.
    const uint64_t write_start = std::max(payload->start_cycle, write_port_free_);
    write_port_free_ = write_start + config_.port.cycles(payload->bits);
    payload->done_cycle = std::max(refill.done_cycle, write_port_free_);
    layer.add(Action::WeightSramWriteBits, payload->bits);
    layer.record(write_start, write_port_free_);
  } else if (payload->command == Command::WeightRead) {
    const uint64_t read_start = std::max(payload->start_cycle, read_port_free_);
    read_port_free_ = read_start + config_.port.cycles(payload->bits);
    payload->done_cycle = read_port_free_ + static_cast<uint64_t>(config_.latency_cycles);
    layer.add(Action::WeightSramReadBits, payload->bits);
    layer.record(read_start, read_port_free_);
  } else {
    transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  delay = timebase_.delay_until(payload->done_cycle);
}

}  // namespace bsnpu::tlm
