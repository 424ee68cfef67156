#include "tlm/controller.h"

#include <algorithm>

#include "core/arith.h"
#include "core/error.h"

namespace bsnpu::tlm {

Controller::Controller(sc_core::sc_module_name name, const arch::NpuConfig& config,
                       const arch::Workload& workload, Timebase& timebase)
    : sc_module(name),
      weight_port("weight_port"),
      array_port("array_port"),
      accumulator_port("accumulator_port"),
      activation_port("activation_port"),
      config_(config),
      workload_(workload),
      timebase_(timebase) {
  SC_THREAD(serve);
}

void Controller::post_timing(const arch::Schedule* schedule, std::vector<arch::LayerTiming>* layers,
                             bool restore_sums, bool save_sums) {
  schedule_ = schedule;
  layers_ = layers;
  restore_sums_ = restore_sums;
  save_sums_ = save_sums;
  job_posted_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::post_functional(FunctionalJob* job) {
  job_ = job;
  job_posted_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::post_stream(StreamJob* job) {
  stream_ = job;
  job_posted_.notify(sc_core::SC_ZERO_TIME);
}

void Controller::check() {
  if (failure_) {
    std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
}

void Controller::serve() {
  for (;;) {
    while (!schedule_ && !job_ && !stream_) sc_core::wait(job_posted_);
    try {
      if (schedule_) run_timing(*schedule_, *layers_);
      if (job_) run_functional(*job_);
      if (stream_) run_stream(*stream_);
    } catch (...) {
      failure_ = std::current_exception();
    }
    schedule_ = nullptr;
    layers_ = nullptr;
    job_ = nullptr;
    stream_ = nullptr;
  }
}

void Controller::advance_to(uint64_t cycle) {
  keeper_.set(timebase_.at(cycle) - sc_core::sc_time_stamp());
  if (keeper_.need_sync()) keeper_.sync();
}

// Refills run ahead in consumption order while the SRAM has room: `when` is the moment room
// appeared (the job start, a plane tile moving into the array, or a layer's end).
void Controller::issue_fetches(const arch::Schedule& schedule, uint64_t when) {
  while (next_fetch_ < schedule.fetches.size() &&
         schedule.fetches[next_fetch_].bits <= free_weight_bits_) {
    const arch::WeightFetch& fetch = schedule.fetches[next_fetch_];
    free_weight_bits_ -= fetch.bits;
    NpuPayload refill;
    refill.command = Command::WeightFill;
    refill.layer = fetch.layer;
    refill.bits = fetch.bits;
    transport(weight_port, refill, timebase_, when);
    fetch_issued_[next_fetch_] = when;
    fill_tickets_[next_fetch_++] = refill.ticket;
  }
}

uint64_t Controller::fetch_done(size_t fetch) {
  if (fetch_done_[fetch] == UINT64_MAX) {
    NpuPayload wait;
    wait.command = Command::WeightFillWait;
    wait.layer = schedule_->fetches[fetch].layer;
    wait.ticket = fill_tickets_[fetch];
    fetch_done_[fetch] = transport(weight_port, wait, timebase_, 0);
  }
  return fetch_done_[fetch];
}

void Controller::run_timing(const arch::Schedule& schedule,
                            std::vector<arch::LayerTiming>& layers) {
  timebase_.origin = sc_core::sc_time_stamp();
  keeper_.reset();
  layers.assign(workload_.layers.size(), arch::LayerTiming{});
  free_weight_bits_ = config_.weight_memory.capacity_bits;
  next_fetch_ = 0;
  fetch_done_.assign(schedule.fetches.size(), UINT64_MAX);
  fill_tickets_.assign(schedule.fetches.size(), 0);
  fetch_issued_.assign(schedule.fetches.size(), 0);
  uint64_t layer_ready = 0;  // the previous layer's outputs are complete
  if (schedule.input_bits > 0) {
    NpuPayload input;
    input.command = Command::InputLoad;
    input.layer = 0;
    input.bits = schedule.input_bits;
    layer_ready = transport(activation_port, input, timebase_, 0);
    layers[0].end_cycle = layers[0].cycles = layers[0].stall_cycles = layer_ready;
    layers[0].stall(arch::Stall::Dram, layer_ready);
  }
  // Weight refills queue on the DRAM channel behind the image.
  if (!schedule.weights_resident) issue_fetches(schedule, 0);

  const uint64_t drain = config_.mac_array.layer_drain_cycles() +
                         static_cast<uint64_t>(config_.accumulator.pipeline_cycles +
                                               config_.activation_buffer.latency_cycles);
  uint64_t previous_start = 0;  // the array's current pass began (its shadow registers are free)
  uint64_t previous_done = 0;
  uint64_t layer_end = 0;
  uint64_t spill_done = 0;  // the current layer's spill is back
  for (const arch::Pass& pass : schedule.passes) {
    arch::LayerTiming& row = layers[static_cast<size_t>(pass.layer)];
    if (pass.layer_begin) {
      row.start_cycle = layer_ready;
      if (restore_sums_ && workload_.reads_image(static_cast<size_t>(pass.layer))) {
        // An escalation continues r: it comes back from DRAM before the layer's first pass.
        const uint64_t restored = move_sums(Command::SumsRestore, pass.layer, layer_ready);
        row.stall(arch::Stall::Dram, restored - layer_ready);
        layer_ready = restored;
      }
      NpuPayload reserve;
      reserve.command = Command::Reserve;
      reserve.layer = pass.layer;
      reserve.bits = schedule.live_bits[static_cast<size_t>(pass.layer)];
      spill_done = layer_end = transport(activation_port, reserve, timebase_, previous_start);
    }
    uint64_t weights_ready = 0;
    if (pass.fetch >= 0) {
      if (static_cast<size_t>(pass.fetch) >= next_fetch_) {
        throw Error(config_.file + ": weight_memory.capacity_kib: too small to refill layer " +
                    workload_.layers[static_cast<size_t>(pass.layer)].name);
      }
      weights_ready = fetch_done(static_cast<size_t>(pass.fetch));
    }
    const uint64_t tile_bits = static_cast<uint64_t>(pass.rows_used) *
                               static_cast<uint64_t>(pass.cols_used) *
                               static_cast<uint64_t>(config_.mac_array.weight_bits);
    NpuPayload load;
    load.command = Command::WeightRead;
    load.layer = pass.layer;
    load.bits = tile_bits;
    // Shadow registers take the next tile while the current pass runs; without them the load
    // waits for the pass to finish. A systolic array then shifts the tile down its rows.
    const uint64_t load_ready =
        std::max(weights_ready, config_.mac_array.double_buffered ? previous_start : previous_done);
    const uint64_t loaded = std::max(transport(weight_port, load, timebase_, load_ready),
                                     load_ready + config_.mac_array.weight_load_cycles());
    if (pass.fetch >= 0 && !schedule.fetches[static_cast<size_t>(pass.fetch)].pinned) {
      free_weight_bits_ += tile_bits;  // a streamed plane tile leaves once it is in the array
      issue_fetches(schedule, loaded);
    }

    NpuPayload compute;
    compute.command = Command::Compute;
    compute.layer = pass.layer;
    compute.rows_used = pass.rows_used;
    compute.cols_used = pass.cols_used;
    compute.pixels = pass.pixels;
    compute.first_plane = pass.first_plane;
    compute.last_plane = pass.last_plane;
    compute.first_row_tile = pass.first_row_tile;
    compute.finalize = pass.finalize;
    compute.residual_adds = pass.residual_adds;
    compute.shortcut_rescales = pass.shortcut_rescales;
    compute.pool_adds = pass.pool_adds;
    compute.operand_read_bits = pass.operand_read_bits;
    compute.result_write_bits = pass.result_write_bits;
    const uint64_t array_free = std::max(previous_done, layer_ready);
    const uint64_t start = std::max(loaded, array_free);
    // The array idles from array_free to start while the tile is not in the PEs: first while its
    // fill is outstanding (issued late for lack of room, then in flight), then while it loads.
    if (start > array_free) {
      const uint64_t idle = start - array_free;
      uint64_t waiting = 0;
      if (pass.fetch >= 0 && weights_ready > array_free) {
        waiting = std::min(idle, weights_ready - array_free);
        const uint64_t issued = fetch_issued_[static_cast<size_t>(pass.fetch)];
        const uint64_t room = issued > array_free ? std::min(waiting, issued - array_free) : 0;
        row.stall(arch::Stall::WeightSramRoom, room);
        row.stall(arch::Stall::Dram, waiting - room);
      }
      row.stall(arch::Stall::WeightLoad, idle - waiting);
    }
    previous_done = transport(array_port, compute, timebase_, start);
    previous_start = start;
    row.stall(arch::Stall::Drain, compute.fill_cycles);
    row.stall(arch::Stall::ActivationPort, compute.port_cycles);
    row.stall(arch::Stall::Accumulator, compute.accumulator_cycles);

    row.compute_cycles += pass.pixels;
    ++row.passes;
    layer_end = std::max(layer_end, previous_done);
    advance_to(previous_start);

    if (pass.layer_end) {
      // After the last pass: the spill's remainder, then post-processing and the pipelines.
      const uint64_t passes_done = previous_done;
      row.stall(arch::Stall::Spill, spill_done > passes_done ? spill_done - passes_done : 0);
      NpuPayload drain_request;
      drain_request.command = Command::Drain;
      drain_request.layer = pass.layer;
      const uint64_t drained = transport(accumulator_port, drain_request, timebase_, layer_end);
      row.stall(arch::Stall::Drain, drained - layer_end + drain);
      layer_end = drained + drain;
      if (save_sums_ && workload_.reads_image(static_cast<size_t>(pass.layer))) {
        // r stays in DRAM for a possible escalation: written out before the next layer starts.
        const uint64_t saved = move_sums(Command::SumsSave, pass.layer, layer_end);
        row.stall(arch::Stall::Spill, saved - layer_end);
        layer_end = saved;
      }
      row.end_cycle = layer_end;
      row.cycles = layer_end - row.start_cycle;
      row.stall_cycles = row.cycles - row.compute_cycles;
      layer_ready = layer_end;
      // A pinned layer's plane tiles leave the SRAM with the layer.
      free_weight_bits_ += schedule.pinned_bits[static_cast<size_t>(pass.layer)];
      issue_fetches(schedule, layer_end);
    }
  }
  advance_to(layer_ready);
  keeper_.sync();
}

uint64_t Controller::move_sums(Command command, int layer, uint64_t when) {
  NpuPayload move;
  move.command = command;
  move.layer = layer;
  move.bits = workload_.layers[static_cast<size_t>(layer)].output_elements() *
              static_cast<uint64_t>(workload_.accumulator_bits);
  return transport(activation_port, move, timebase_, when);
}

std::vector<int32_t> Controller::run_layers(int images, const Precision& precision,
                                            const std::vector<Requant>& requant, int conv1_from) {
  for (size_t index = 0; index < workload_.layers.size(); ++index) {
    const arch::Layer& layer = workload_.layers[index];
    if (!layer.weighted()) continue;
    NpuPayload step;
    step.layer = static_cast<int>(index);
    step.images = images;
    step.command = Command::ComputePlanes;
    // The image is unchanged: a layer reading it continues its accumulator.
    step.from_plane = workload_.reads_image(index) ? conv1_from : 0;
    step.to_plane = precision.k(index);
    transport(array_port, step, timebase_);
    step.command = Command::PostProcess;
    step.k = step.to_plane;
    step.requant = &requant;
    transport(accumulator_port, step, timebase_);
  }
  NpuPayload logits;
  logits.command = Command::MapAccess;
  logits.layer = static_cast<int>(workload_.layers.size()) - 1;
  transport(activation_port, logits, timebase_);
  if (!logits.words) throw Error(std::string(name()) + ": the last op leaves no logits");
  const size_t values = static_cast<size_t>(images * logits.words->image_words());
  return {logits.words->data.begin(), logits.words->data.begin() + static_cast<long>(values)};
}

void Controller::run_functional(FunctionalJob& job) {
  if (!job.precision || !job.requant)
    throw Error(std::string(name()) + ": a job without precision");
  NpuPayload load;
  load.command = Command::LoadImages;
  load.image_pixels = job.pixels;
  load.images = job.images;
  transport(activation_port, load, timebase_);
  job.logits = run_layers(job.images, *job.precision, *job.requant, 0);
}

void Controller::run_stream(StreamJob& job) {
  arch::Policy& policy = *job.policy;
  std::vector<uint8_t> pixels(kImageBytes);
  job.results.assign(job.frames, FrameResult{});
  for (size_t frame = 0; frame < job.frames; ++frame) {
    FrameResult& result = job.results[frame];
    bool loaded = false;
    int held = 0;  // planes the first conv's accumulator holds for this frame
    int k = policy.begin_frame();
    for (int from = 0; k != 0;) {
      const bool reuse = policy.config().reuse_first_conv;
      result.runs.push_back({reuse ? from : 0, k, reuse && policy.may_escalate(k)});
      std::vector<int32_t>* memo =
          job.memo ? &job.memo->at(frame * 8 + static_cast<size_t>(k - 1)) : nullptr;
      if (memo && !memo->empty()) {
        result.logits = *memo;
      } else {
        if (!loaded) {
          job.render(frame, pixels.data());
          NpuPayload load;
          load.command = Command::LoadImages;
          load.image_pixels = pixels.data();
          load.images = 1;
          transport(activation_port, load, timebase_);
          loaded = true;
        }
        // Continue the accumulator when it holds this frame's planes (a memo hit computed none).
        const size_t at = static_cast<size_t>(k - 1);
        const int continued = result.runs.back().conv1_from;
        result.logits = run_layers(1, job.precisions.at(at), job.requants.at(at),
                                   held == continued ? continued : 0);
        held = k;
        if (memo) *memo = result.logits;
      }
      from = k;
      k = policy.after_run(from, result.logits.data());
    }
    result.prediction = policy.prediction();
    result.carried = policy.carried();
    result.margin = policy.margin();
    if (job.progress) job.progress(frame + 1);
  }
}

}  // namespace bsnpu::tlm
