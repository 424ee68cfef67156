#include "tlm/accumulator.h"

#include <algorithm>

namespace bsnpu::tlm {

Accumulator::Accumulator(sc_core::sc_module_name name, const AccumulatorConfig& config,
                         const Timebase& timebase)
    : sc_module(name),
      array_port("array_port"),
      control_port("control_port"),
      activation_port("activation_port"),
      config_(config),
      timebase_(timebase) {
  array_port.register_b_transport(this, &Accumulator::b_transport);
  control_port.register_b_transport(this, &Accumulator::b_transport);
}

void Accumulator::reset(size_t layers) {
  stats.reset(layers);
  postproc_free_ = 0;
}

uint64_t Accumulator::post_process(NpuPayload& payload, ModuleLayerStats& layer) {
  const uint64_t outputs = payload.pixels * static_cast<uint64_t>(payload.cols_used);
  layer.add(Action::Requantize, outputs);
  layer.add(Action::ResidualAdd, payload.residual_adds);
  layer.add(Action::ShortcutRescale, payload.shortcut_rescales);
  layer.add(Action::PoolAdd, payload.pool_adds);
  // Outputs emerge from the tile's last pass: post-processing starts with it.
  const uint64_t start = std::max(payload.start_cycle, postproc_free_);
  const uint64_t lanes = static_cast<uint64_t>(config_.postproc_lanes);
  uint64_t done = start + (outputs + lanes - 1) / lanes;
  NpuPayload access = payload;
  access.start_cycle = start;
  if (payload.operand_read_bits > 0) {
    access.command = Command::ActivationRead;
    access.bits = payload.operand_read_bits;
    transport(activation_port, access, timebase_);
    done = std::max(done, access.done_cycle);
  }
  if (payload.result_write_bits > 0) {
    access.command = Command::ActivationWrite;
    access.bits = payload.result_write_bits;
    transport(activation_port, access, timebase_);
    done = std::max(done, access.done_cycle);
  }
  layer.record(start, done);
  postproc_free_ = done;
  return done;
}

void Accumulator::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  if (payload->command == Command::Accumulate) {
    ModuleLayerStats& layer = stats.layer(payload->layer);
    const uint64_t sums = payload->pixels * static_cast<uint64_t>(payload->cols_used);
    const uint64_t bits = static_cast<uint64_t>(config_.bits);
    layer.add(Action::ShiftAccumulate, sums);
    layer.add(Action::PartialSumBits, 2 * bits * sums);  // column register read + write
    if (payload->last_plane) {
      if (payload->first_row_tile) {
        layer.add(Action::PartialSumBits, bits * sums);  // the first row tile initializes it
      } else {
        layer.add(Action::PartialSumAdd, sums);
        layer.add(Action::PartialSumBits, 2 * bits * sums);
      }
    }
    payload->done_cycle = payload->start_cycle + payload->pixels;
    layer.record(payload->start_cycle, payload->done_cycle);
    if (payload->finalize)
      payload->done_cycle = std::max(payload->done_cycle, post_process(*payload, layer));
  } else {
    transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  delay = timebase_.delay_until(payload->done_cycle);
}

}  // namespace bsnpu::tlm
