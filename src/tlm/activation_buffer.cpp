#include "tlm/activation_buffer.h"

#include <algorithm>

namespace bsnpu::tlm {

ActivationBuffer::ActivationBuffer(sc_core::sc_module_name name, const MemoryConfig& config,
                                   const Timebase& timebase)
    : sc_module(name),
      control_port("control_port"),
      array_port("array_port"),
      accumulator_port("accumulator_port"),
      dram_port("dram_port"),
      config_(config),
      timebase_(timebase) {
  control_port.register_b_transport(this, &ActivationBuffer::b_transport);
  array_port.register_b_transport(this, &ActivationBuffer::b_transport);
  accumulator_port.register_b_transport(this, &ActivationBuffer::b_transport);
}

void ActivationBuffer::reset(size_t layers) {
  stats.reset(layers);
  read_port_free_ = 0;
  write_port_free_ = 0;
}

uint64_t ActivationBuffer::read(ModuleLayerStats& layer, uint64_t start, uint64_t bits) {
  const uint64_t begin = std::max(start, read_port_free_);
  read_port_free_ = begin + config_.port.cycles(bits);
  layer.add(Action::ActivationSramReadBits, bits);
  layer.record(begin, read_port_free_);
  return read_port_free_;
}

uint64_t ActivationBuffer::write(ModuleLayerStats& layer, uint64_t start, uint64_t bits) {
  const uint64_t begin = std::max(start, write_port_free_);
  write_port_free_ = begin + config_.port.cycles(bits);
  layer.add(Action::ActivationSramWriteBits, bits);
  layer.record(begin, write_port_free_);
  return write_port_free_;
}

uint64_t ActivationBuffer::dram(NpuPayload& payload, Command command, uint64_t start,
                                uint64_t bits) {
  NpuPayload request = payload;
  request.command = command;
  request.start_cycle = start;
  request.bits = bits;
  transport(dram_port, request, timebase_);
  return request.done_cycle;
}

void ActivationBuffer::b_transport(::tlm::tlm_generic_payload& transaction,
                                   sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  ModuleLayerStats& layer = stats.layer(payload->layer);
  const uint64_t start = payload->start_cycle;
  switch (payload->command) {
    case Command::ActivationRead:
      payload->done_cycle = read(layer, start, payload->bits);
      break;
    case Command::ActivationWrite:
      payload->done_cycle = write(layer, start, payload->bits);
      break;
    case Command::InputLoad: {
      const uint64_t arrived = dram(*payload, Command::DramRead, start, payload->bits);
      payload->done_cycle = std::max(arrived, write(layer, start, payload->bits));
      break;
    }
    case Command::Reserve: {
      payload->done_cycle = start;
      if (payload->bits <= config_.capacity_bits) break;
      // The excess is read out, written to DRAM, read back and written again before its use.
      const uint64_t excess = payload->bits - config_.capacity_bits;
      const uint64_t out = dram(*payload, Command::DramWrite, read(layer, start, excess), excess);
      const uint64_t back = dram(*payload, Command::DramRead, out, excess);
      payload->done_cycle = write(layer, back, excess);
      break;
    }
    default:
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
  }
  delay = timebase_.delay_until(payload->done_cycle);
}

}  // namespace bsnpu::tlm
