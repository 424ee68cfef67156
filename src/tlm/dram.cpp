#include "tlm/dram.h"

#include <algorithm>

namespace bsnpu::tlm {

Dram::Dram(sc_core::sc_module_name name, const DramConfig& config, const Timebase& timebase)
    : sc_module(name),
      weight_port("weight_port"),
      activation_port("activation_port"),
      config_(config),
      timebase_(timebase) {
  weight_port.register_b_transport(this, &Dram::b_transport);
  activation_port.register_b_transport(this, &Dram::b_transport);
}

void Dram::reset(size_t layers) {
  stats.reset(layers);
  channel_free_ = 0;
}

void Dram::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  // Requests are served in arrival order; the latency of back-to-back requests overlaps.
  const uint64_t start = std::max(payload->start_cycle, channel_free_);
  channel_free_ = start + config_.bandwidth.cycles(payload->bits);
  payload->done_cycle = channel_free_ + static_cast<uint64_t>(config_.latency_cycles);
  ModuleLayerStats& layer = stats.layer(payload->layer);
  layer.add(payload->command == Command::DramWrite ? Action::DramWriteBits : Action::DramReadBits,
            payload->bits);
  layer.record(start, channel_free_);
  delay = timebase_.delay_until(payload->done_cycle);
}

}  // namespace bsnpu::tlm
