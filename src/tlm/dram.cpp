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
      model_(model),
      timebase_(timebase),
      channel_(config) {
  weight_port.register_b_transport(this, &Dram::b_transport);
  activation_port.register_b_transport(this, &Dram::b_transport);
}

void Dram::reset(size_t layers) {
  stats.reset(layers);
  channel_.reset();
  prefetch_layers_.clear();
  prefetch_bits_.clear();
  prefetches_recorded_ = 0;
}

void Dram::record_prefetches(size_t ticket) {
  for (; prefetches_recorded_ <= ticket; ++prefetches_recorded_) {
    const size_t placed = prefetches_recorded_;
    const arch::DramChannel::Grant& grant = channel_.prefetch(placed);
    const int layer = prefetch_layers_[placed];
    stats.layer(layer).add(arch::Action::DramReadBits, prefetch_bits_[placed]);
    stats.record(grant.start, grant.end, 1);
  }
}

void Dram::read_image(::tlm::tlm_generic_payload& transaction) {
  if (image_.empty()) {  // written on the first read: a timing-only NPU never holds a copy
    image_.reserve(weight_addresses(model_).back());
    for (const Op& op : model_.ops()) image_.insert(image_.end(), op.codes.begin(), op.codes.end());
  }
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
  const uint64_t ready = timebase_.start_cycle(delay);
  switch (payload->command) {
    case Command::DramRead:
    case Command::DramWrite: {
      const bool write = payload->command == Command::DramWrite;
      const arch::DramChannel::Grant grant = channel_.demand(ready, payload->bits, write);
      stats.layer(payload->layer)
          .add(write ? arch::Action::DramWriteBits : arch::Action::DramReadBits, payload->bits);
      stats.record(grant.start, grant.end);
      delay = timebase_.delay_until(grant.done);
      return;
    }
    case Command::DramPrefetch:
      stats.layer(payload->layer);  // checks the layer before it is queued
      payload->ticket = channel_.enqueue_prefetch(ready, payload->bits);
      prefetch_layers_.push_back(payload->layer);
      prefetch_bits_.push_back(payload->bits);
      return;
    case Command::DramPrefetchWait: {
      if (payload->ticket >= prefetch_layers_.size()) {
        transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
      }
      const arch::DramChannel::Grant grant = channel_.prefetch(payload->ticket);
      record_prefetches(payload->ticket);
      payload->transfer_start = grant.start;
      delay = timebase_.delay_until(std::max(ready, grant.done));
      return;
    }
    default:
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
  }
}

}  // namespace bsnpu::tlm
