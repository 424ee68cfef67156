#include "tlm/mac_array.h"

#include <algorithm>

namespace bsnpu::tlm {

MacArray::MacArray(sc_core::sc_module_name name, const MacArrayConfig& config, int act_bits,
                   const Timebase& timebase)
    : sc_module(name),
      target("target"),
      activation_port("activation_port"),
      accumulator_port("accumulator_port"),
      config_(config),
      act_bits_(act_bits),
      timebase_(timebase) {
  target.register_b_transport(this, &MacArray::b_transport);
}

void MacArray::reset(size_t layers) { stats.reset(layers); }

void MacArray::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  if (payload->command == Command::Functional) {
    FunctionalBatch& batch = *payload->batch;
    batch.result = bsnpu::classify(*batch.network, batch.pixels, batch.images, batch.threads);
    payload->done_cycle = payload->start_cycle;
    delay = timebase_.delay_until(payload->done_cycle);
    return;
  }
  if (payload->command != Command::Compute || payload->rows_used < 1 ||
      payload->rows_used > config_.rows || payload->cols_used < 1 ||
      payload->cols_used > config_.cols) {
    transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  const uint64_t start = payload->start_cycle;
  const uint64_t pixels = payload->pixels;
  const uint64_t rows = static_cast<uint64_t>(payload->rows_used);
  const uint64_t cols = static_cast<uint64_t>(payload->cols_used);

  // The row activations stream from the buffer alongside the pass; a narrow port stretches it.
  NpuPayload activations = *payload;
  activations.command = Command::ActivationRead;
  activations.bits = pixels * rows * static_cast<uint64_t>(act_bits_);
  transport(activation_port, activations, timebase_);

  NpuPayload column_sums = *payload;
  column_sums.command = Command::Accumulate;
  transport(accumulator_port, column_sums, timebase_);

  ModuleLayerStats& layer = stats.layer(payload->layer);
  layer.add(Action::PeAddSub, pixels * rows * cols);
  layer.add(Action::AdderTreeAdd, pixels * cols * (rows - 1));
  layer.add(Action::PeWeightRegisterBits, rows * cols);
  payload->done_cycle = std::max(start + pixels, activations.done_cycle);
  payload->postproc_done_cycle = column_sums.done_cycle;
  layer.record(start, payload->done_cycle);
  delay = timebase_.delay_until(payload->done_cycle);
}

}  // namespace bsnpu::tlm
