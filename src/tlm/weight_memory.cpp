#include "tlm/weight_memory.h"

namespace bsnpu::tlm {
namespace {

// Plane ranges kept per layer in the array's layout: a static run uses one, a dynamic one a few.
constexpr size_t kServedRanges = 4;

}  // namespace

WeightMemory::WeightMemory(sc_core::sc_module_name name, const arch::MemoryConfig& config,
                           const Model& model, const Timebase& timebase)
    : sc_module(name),
      target("target"),
      array_port("array_port"),
      dram_port("dram_port"),
      model_(model),
      timebase_(timebase),
      addresses_(weight_addresses(model)),
      codes_(model.ops().size()),
      served_(model.ops().size()),
      read_port_(config.port, static_cast<uint64_t>(config.latency_cycles)),
      write_port_(config.port, 0, 1) {
  target.register_b_transport(this, &WeightMemory::b_transport);
  array_port.register_b_transport(this, &WeightMemory::b_transport);
}

void WeightMemory::reset(size_t layers) {
  stats.reset(layers);
  fills_.clear();
  read_port_.reset();
  write_port_.reset();
}

const ConvWeights& WeightMemory::serve_planes(int layer, int from_plane, int to_plane) {
  const size_t index = static_cast<size_t>(layer);
  std::deque<ConvWeights>& served = served_.at(index);
  for (const ConvWeights& weights : served) {
    if (weights.first_plane == from_plane && weights.last_plane == to_plane) return weights;
  }
  std::vector<uint8_t>& codes = codes_[index];
  if (codes.empty()) {
    codes.resize(addresses_[index + 1] - addresses_[index]);
    ::tlm::tlm_generic_payload read;
    read.set_command(::tlm::TLM_READ_COMMAND);
    read.set_address(addresses_[index]);
    read.set_data_ptr(codes.data());
    read.set_data_length(static_cast<unsigned>(codes.size()));
    read.set_streaming_width(static_cast<unsigned>(codes.size()));
    read.set_response_status(::tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time no_delay = sc_core::SC_ZERO_TIME;
    dram_port->b_transport(read, no_delay);
    if (read.is_response_error()) {
      throw Error(std::string(dram_port.name()) + ": " + read.get_response_string());
    }
  }
  Op planes = model_.op(layer);  // the layer's geometry, with the codes as this memory holds them
  planes.codes = codes;
  if (served.size() == kServedRanges) served.pop_front();
  served.push_back(
      prepare_weights(planes, from_plane, to_plane, model_.act_bits(), model_.accumulator_bits()));
  return served.back();
}

void WeightMemory::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  switch (payload->command) {
    case Command::ServePlanes:
      payload->weights = &serve_planes(payload->layer, payload->from_plane, payload->to_plane);
      return;
    case Command::WeightFill: {
      NpuPayload prefetch = *payload;
      prefetch.command = Command::DramPrefetch;
      transport(dram_port, prefetch, timebase_, timebase_.start_cycle(delay));
      payload->ticket = prefetch.ticket;
      fills_.push_back({payload->layer, payload->bits, UINT64_MAX});
      return;
    }
    case Command::WeightFillWait: {
      if (payload->ticket >= fills_.size()) {
        transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
        return;
      }
      Fill& fill = fills_[payload->ticket];
      if (fill.done == UINT64_MAX) {
        NpuPayload wait = *payload;
        wait.command = Command::DramPrefetchWait;
        wait.layer = fill.layer;
        const uint64_t arrived = transport(dram_port, wait, timebase_, timebase_.start_cycle(delay));
        // The write port absorbs the DRAM stream as it arrives.
        const arch::Port::Grant write = write_port_.serve(
            wait.transfer_start, fill.bits, stats, fill.layer, arch::Action::WeightSramWriteBits);
        fill.done = std::max(arrived, write.done);
      }
      delay = timebase_.delay_until(std::max(timebase_.start_cycle(delay), fill.done));
      return;
    }
    case Command::WeightRead: {
      const arch::Port::Grant read =
          read_port_.serve(timebase_.start_cycle(delay), payload->bits, stats, payload->layer,
                           arch::Action::WeightSramReadBits);
      delay = timebase_.delay_until(read.done);
      return;
    }
    default:
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
  }
}

}  // namespace bsnpu::tlm
