#include "tlm/dram.h"

#include <algorithm>
#include <cstring>

namespace bsnpu::tlm {

std::vector<uint64_t> weight_addresses(const Model& model) {
  std::vector<uint64_t> addresses;
  uint64_t next = 0;
  for (const Op& op : model.ops()) {
    addresses.push_back(next);
    next += op.codes.size();
  }
  addresses.push_back(next);
  return addresses;
}

Dram::Dram(sc_core::sc_module_name name, const arch::DramConfig& config, const Model& model,
           const Timebase& timebase)
    : sc_module(name),
      weight_port("weight_port"),
      activation_port("activation_port"),
      timebase_(timebase),
      channel_(config.bandwidth, static_cast<uint64_t>(config.latency_cycles)) {
  image_.reserve(weight_addresses(model).back());
  for (const Op& op : model.ops()) image_.insert(image_.end(), op.codes.begin(), op.codes.end());
  weight_port.register_b_transport(this, &Dram::b_transport);
  activation_port.register_b_transport(this, &Dram::b_transport);
}

void Dram::reset(size_t layers) {
  stats.reset(layers);
  channel_.reset();
}

void Dram::read_image(::tlm::tlm_generic_payload& transaction) {
  const uint64_t address = transaction.get_address();
  const uint64_t length = transaction.get_data_length();
  if (address > image_.size() || length > image_.size() - address) {
    transaction.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  std::memcpy(transaction.get_data_ptr(), image_.data() + address, length);
  transaction.set_response_status(::tlm::TLM_OK_RESPONSE);
}

void Dram::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = nullptr;
  transaction.get_extension(payload);
  if (!payload) {
    if (transaction.get_command() == ::tlm::TLM_READ_COMMAND) {
      read_image(transaction);
    } else {
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    }
    return;
  }
  transaction.set_response_status(::tlm::TLM_OK_RESPONSE);
  if (payload->command != Command::DramRead && payload->command != Command::DramWrite) {
    transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  // Requests are served in arrival order; the latency of back-to-back requests overlaps.
  const arch::Port::Grant grant =
      channel_.serve(timebase_.start_cycle(delay), payload->bits, stats.layer(payload->layer),
                     payload->command == Command::DramWrite ? arch::Action::DramWriteBits
                                                            : arch::Action::DramReadBits);
  delay = timebase_.delay_until(grant.done);
}

}  // namespace bsnpu::tlm
