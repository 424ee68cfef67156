#include "tlm/mac_array.h"

#include <algorithm>
#include <cmath>

namespace bsnpu::tlm {

MacArray::MacArray(sc_core::sc_module_name name, const arch::MacArrayConfig& config,
                   const Model& model, WorkerPool& workers, const Timebase& timebase)
    : sc_module(name),
      target("target"),
      weight_port("weight_port"),
      activation_port("activation_port"),
      accumulator_port("accumulator_port"),
      config_(config),
      model_(model),
      workers_(workers),
      timebase_(timebase),
      scratch_(static_cast<size_t>(workers.threads())) {
  target.register_b_transport(this, &MacArray::b_transport);
}

void MacArray::reset(size_t layers) { stats.reset(layers); }

void MacArray::compute_planes(const NpuPayload& request) {
  NpuPayload planes = request;
  planes.command = Command::ServePlanes;
  transport(weight_port, planes, timebase_);
  const Op& op = model_.op(request.layer);
  NpuPayload input = request;
  input.command = Command::MapAccess;
  input.layer = op.inputs.at(0);
  transport(activation_port, input, timebase_);
  if (!planes.weights || !input.bytes) {
    throw Error(op.name + ": the MacArray got no weights or no unsigned input map");
  }
  // The column sums go straight into the Accumulator's storage, as in the hardware.
  NpuPayload destination = request;
  destination.command = Command::PartialSumTarget;
  transport(accumulator_port, destination, timebase_);
  if (!destination.sums) throw Error(op.name + ": the Accumulator gave no partial-sum map");
  workers_.run(request.images, [&](int begin, int end, int worker) {
    conv_partial_sums(*planes.weights, *input.bytes, begin, end, *destination.sums,
                      scratch_[static_cast<size_t>(worker)]);
  });
  NpuPayload accumulate = request;
  accumulate.command = Command::AccumulatePlanes;
  transport(accumulator_port, accumulate, timebase_);
}

void MacArray::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  if (payload->command == Command::ComputePlanes) return compute_planes(*payload);
  if (payload->command != Command::Compute || payload->rows_used < 1 ||
      payload->rows_used > config_.rows || payload->cols_used < 1 ||
      payload->cols_used > config_.cols) {
    transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  const uint64_t start = timebase_.start_cycle(delay);
  const uint64_t pixels = payload->pixels;
  const uint64_t rows = static_cast<uint64_t>(payload->rows_used);
  const uint64_t cols = static_cast<uint64_t>(payload->cols_used);

  // The row activations stream from the buffer alongside the pass; a narrow port stretches it.
  NpuPayload activations = *payload;
  activations.command = Command::ActivationRead;
  activations.bits = pixels * rows * static_cast<uint64_t>(model_.act_bits());
  const uint64_t streamed = transport(activation_port, activations, timebase_, start);

  // The pass holds the array until the Accumulator has absorbed its column sums.
  NpuPayload column_sums = *payload;
  column_sums.command = Command::Accumulate;
  const uint64_t absorbed = transport(accumulator_port, column_sums, timebase_, start);

  arch::ModuleLayerStats& layer = stats.layer(payload->layer);
  const uint64_t weight_bits = static_cast<uint64_t>(config_.weight_bits);
  layer.add(config_.bit_parallel() ? arch::Action::PeMultiply : arch::Action::PeAddSub,
            pixels * rows * cols);
  // A column's rows - 1 additions: the tree's, or the systolic chain's (its top PE starts the
  // partial sum).
  layer.add(arch::Action::AdderTreeAdd, pixels * cols * (rows - 1));
  if (config_.organisation == arch::ArrayOrganisation::Systolic) {
    // Each pixel's activation steps right through a row and its partial sum down a column: a
    // register per PE for each, the partial sum at the column's widest.
    const uint64_t partial_sum_bits =
        static_cast<uint64_t>(model_.act_bits()) + weight_bits +
        static_cast<uint64_t>(std::ceil(std::log2(static_cast<double>(config_.rows))));
    layer.add(arch::Action::ArrayPipelineRegisterBits,
              pixels * rows * cols * (static_cast<uint64_t>(model_.act_bits()) + partial_sum_bits));
    // The tile shifts down through the array's rows: every row's registers written each step.
    layer.add(arch::Action::PeWeightRegisterBits,
              rows * cols * weight_bits * static_cast<uint64_t>(config_.rows));
  } else {
    layer.add(arch::Action::PeWeightRegisterBits, rows * cols * weight_bits);
  }
  const uint64_t filled = start + pixels + config_.pass_fill_cycles();
  const uint64_t fed = std::max(filled, streamed);
  const uint64_t done = std::max(fed, absorbed);
  payload->fill_cycles = filled - start - pixels;
  payload->port_cycles = fed - filled;
  payload->accumulator_cycles = done - fed;
  stats.record(start, done);
  delay = timebase_.delay_until(done);
}

}  // namespace bsnpu::tlm
