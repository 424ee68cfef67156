#include "tlm/activation_buffer.h"

#include <algorithm>

namespace bsnpu::tlm {

ActivationBuffer::ActivationBuffer(sc_core::sc_module_name name, const arch::MemoryConfig& config,
                                   const Model& model, const Timebase& timebase)
    : sc_module(name),
      control_port("control_port"),
      array_port("array_port"),
      accumulator_port("accumulator_port"),
      dram_port("dram_port"),
      config_(config),
      model_(model),
      timebase_(timebase),
      read_port_(config.port, 0),
      write_port_(config.port, 0, 1) {
  control_port.register_b_transport(this, &ActivationBuffer::b_transport);
  array_port.register_b_transport(this, &ActivationBuffer::b_transport);
  accumulator_port.register_b_transport(this, &ActivationBuffer::b_transport);
}

void ActivationBuffer::reset(size_t layers) {
  stats.reset(layers);
  read_port_.reset();
  write_port_.reset();
}

uint64_t ActivationBuffer::read(int layer, uint64_t ready, uint64_t bits) {
  return read_port_.serve(ready, bits, stats, layer, arch::Action::ActivationSramReadBits).done;
}

uint64_t ActivationBuffer::write(int layer, uint64_t ready, uint64_t bits) {
  return write_port_.serve(ready, bits, stats, layer, arch::Action::ActivationSramWriteBits).done;
}

uint64_t ActivationBuffer::dram(const NpuPayload& payload, Command command, uint64_t ready,
                                uint64_t bits) {
  NpuPayload request = payload;
  request.command = command;
  request.bits = bits;
  return transport(dram_port, request, timebase_, ready);
}

void ActivationBuffer::load_images(const NpuPayload& payload) {
  if (maps_.bytes.empty() || maps_.bytes[0].images < payload.images) {
    maps_ = allocate_op_maps(model_, payload.images);
  }
  quantize_images(payload.image_pixels, 0, payload.images, model_.act_bits(), maps_.bytes[0]);
}

void ActivationBuffer::map_access(NpuPayload& payload) {
  const size_t op = static_cast<size_t>(payload.layer);
  if (op >= maps_.bytes.size()) throw Error(std::string(name()) + ": no batch loaded");
  payload.bytes = maps_.bytes[op].data.empty() ? nullptr : &maps_.bytes[op];
  payload.words = maps_.words[op].data.empty() ? nullptr : &maps_.words[op];
}

void ActivationBuffer::b_transport(::tlm::tlm_generic_payload& transaction,
                                   sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  if (payload->command == Command::LoadImages) return load_images(*payload);
  if (payload->command == Command::MapAccess) return map_access(*payload);
  const int layer = payload->layer;
  stats.layer(layer);  // checks the index
  const uint64_t start = timebase_.start_cycle(delay);
  uint64_t done = start;
  switch (payload->command) {
    case Command::ActivationRead:
      done = read(layer, start, payload->bits);
      break;
    case Command::ActivationWrite:
      done = write(layer, start, payload->bits);
      break;
    case Command::InputLoad:
      done = std::max(dram(*payload, Command::DramRead, start, payload->bits),
                      write(layer, start, payload->bits));
      break;
    case Command::Reserve: {
      if (payload->bits <= config_.capacity_bits) break;
      // The excess is read out, written to DRAM, read back and written again before its use.
      const uint64_t excess = payload->bits - config_.capacity_bits;
      const uint64_t out = dram(*payload, Command::DramWrite, read(layer, start, excess), excess);
      const uint64_t back = dram(*payload, Command::DramRead, out, excess);
      done = write(layer, back, excess);
      break;
    }
    case Command::SumsSave:
      done = dram(*payload, Command::DramWrite, start, payload->bits);
      break;
    case Command::SumsRestore:
      done = dram(*payload, Command::DramRead, start, payload->bits);
      break;
    default:
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return;
  }
  delay = timebase_.delay_until(done);
}

}  // namespace bsnpu::tlm
