#include "tlm/accumulator.h"

#include <algorithm>

#include "core/layer_ops.h"

namespace bsnpu::tlm {

Accumulator::Accumulator(sc_core::sc_module_name name, const arch::AccumulatorConfig& config,
                         const Model& model, const arch::Workload& workload, WorkerPool& workers,
                         const Timebase& timebase)
    : sc_module(name),
      array_port("array_port"),
      control_port("control_port"),
      activation_port("activation_port"),
      config_(config),
      model_(model),
      workload_(workload),
      workers_(workers),
      timebase_(timebase),
      buffer_free_(static_cast<size_t>(config.buffers), 0),
      sums_(model.ops().size()),
      staging_(model.ops().size()),
      planes_(model.ops().size(), 0) {
  array_port.register_b_transport(this, &Accumulator::b_transport);
  control_port.register_b_transport(this, &Accumulator::b_transport);
}

void Accumulator::reset(size_t layers) {
  stats.reset(layers);
  postproc_free_ = 0;
  buffer_free_.assign(static_cast<size_t>(config_.buffers), 0);
  next_buffer_ = tile_buffer_ = 0;
}

uint64_t Accumulator::post_process_timing(const NpuPayload& payload, uint64_t start,
                                          arch::ModuleLayerStats& layer) {
  const uint64_t outputs = payload.pixels * static_cast<uint64_t>(payload.cols_used);
  layer.add(arch::Action::Requantize, outputs);
  layer.add(arch::Action::ResidualAdd, payload.residual_adds);
  layer.add(arch::Action::ShortcutRescale, payload.shortcut_rescales);
  layer.add(arch::Action::PoolAdd, payload.pool_adds);
  // Outputs emerge from the tile's last pass: post-processing starts with it.
  const uint64_t begin = std::max(start, postproc_free_);
  const uint64_t lanes = static_cast<uint64_t>(config_.postproc_lanes);
  uint64_t done = begin + (outputs + lanes - 1) / lanes;
  NpuPayload access = payload;
  if (payload.operand_read_bits > 0) {
    access.command = Command::ActivationRead;
    access.bits = payload.operand_read_bits;
    done = std::max(done, transport(activation_port, access, timebase_, begin));
  }
  if (payload.result_write_bits > 0) {
    access.command = Command::ActivationWrite;
    access.bits = payload.result_write_bits;
    done = std::max(done, transport(activation_port, access, timebase_, begin));
  }
  stats.record(begin, done, 1);
  postproc_free_ = done;
  return done;
}

uint64_t Accumulator::accumulate(const NpuPayload& payload, uint64_t start) {
  arch::ModuleLayerStats& layer = stats.layer(payload.layer);
  const uint64_t sums = payload.pixels * static_cast<uint64_t>(payload.cols_used);
  const uint64_t bits = static_cast<uint64_t>(config_.bits);
  layer.add(arch::Action::ShiftAccumulate, sums);
  layer.add(arch::Action::PartialSumBits, 2 * bits * sums);  // column register read + write
  if (payload.last_plane) {
    if (payload.first_row_tile) {
      layer.add(arch::Action::PartialSumBits, bits * sums);  // the first row tile initializes it
    } else {
      layer.add(arch::Action::PartialSumAdd, sums);
      layer.add(arch::Action::PartialSumBits, 2 * bits * sums);
    }
  }
  // A tile's first pass needs a free buffer: the one `buffers` tiles back must have been read out
  // by its post-processing (back-pressure on the array).
  if (payload.first_plane && payload.first_row_tile) {
    tile_buffer_ = next_buffer_;
    next_buffer_ = (next_buffer_ + 1) % buffer_free_.size();
    start = std::max(start, buffer_free_[tile_buffer_]);
  }
  // Every column reads and writes its entry's word each pixel; a narrow port stretches the pass.
  const uint64_t word_bits = 2 * bits * sums;
  const uint64_t absorbed = start + std::max(payload.pixels, config_.port.cycles(word_bits));
  stats.record(start, absorbed);
  if (payload.finalize) buffer_free_[tile_buffer_] = post_process_timing(payload, start, layer);
  return absorbed;
}

WordMap& Accumulator::sums_of(size_t layer) {
  if (workload_.reads_image(layer)) return sums_[layer];
  const Op& op = model_.ops()[layer];
  for (SharedSums& shared : shared_sums_) {
    if (shared.map.height == op.out_hw && shared.map.channels == op.out_channels) {
      if (shared.layer != layer) planes_[shared.layer] = -1;
      shared.layer = layer;
      return shared.map;
    }
  }
  shared_sums_.push_back({WordMap(0, op.out_hw, op.out_hw, op.out_channels), layer});
  return shared_sums_.back().map;
}

void Accumulator::partial_sum_target(NpuPayload& payload) {
  const size_t layer = static_cast<size_t>(payload.layer);
  const Op& op = model_.op(payload.layer);
  if (payload.images < 1) throw Error(op.name + ": a batch of no images");
  const auto fits = [&](const WordMap& map) {
    return map.images >= payload.images && map.height == op.out_hw && map.width == op.out_hw &&
           map.channels == op.out_channels;
  };
  if (payload.from_plane == 0) {
    WordMap& sums = sums_of(layer);
    if (!fits(sums)) sums = WordMap(payload.images, op.out_hw, op.out_hw, op.out_channels);
    planes_[layer] = 0;  // r is about to be overwritten with S
    payload.sums = &sums;
  } else {
    if (!fits(staging_[layer])) {
      staging_[layer] = WordMap(payload.images, op.out_hw, op.out_hw, op.out_channels);
    }
    payload.sums = &staging_[layer];
  }
}

void Accumulator::check_planes(const NpuPayload& payload, int planes) const {
  const int held = planes_[static_cast<size_t>(payload.layer)];
  if (held < 0) {
    throw Error(model_.op(payload.layer).name +
                ": its partial sums were overwritten by a later layer of the same shape");
  }
  if (held != planes) {
    throw Error(model_.op(payload.layer).name + ": the accumulator holds " + std::to_string(held) +
                " planes, not " + std::to_string(planes));
  }
}

void Accumulator::accumulate_planes(const NpuPayload& payload) {
  const size_t layer = static_cast<size_t>(payload.layer);
  check_planes(payload, payload.from_plane);
  if (payload.from_plane > 0) {
    workers_.run(payload.images, [&](int begin, int end, int) {
      shift_accumulate(sums_of(layer), staging_[layer], payload.to_plane - payload.from_plane,
                       model_.accumulator_bits(), begin, end);
    });
  }
  planes_[layer] = payload.to_plane;
}

NpuPayload Accumulator::map_of(int op) {
  NpuPayload access;
  access.command = Command::MapAccess;
  access.layer = op;
  transport(activation_port, access, timebase_);
  return access;
}

void Accumulator::post_process(const NpuPayload& payload) {
  const int layer = payload.layer;
  const size_t index = static_cast<size_t>(layer);
  const Op& op = model_.op(layer);
  check_planes(payload, payload.k);
  if (!payload.requant || payload.requant->size() != model_.ops().size()) {
    throw Error(op.name + ": post-processing without the requantization of every op");
  }
  const std::vector<Requant>& requant = *payload.requant;
  const OutputStage stage = output_stage(op, requant[index], model_.act_bits());
  const NpuPayload out = map_of(layer);
  const WordMap& sums = sums_of(index);
  // The ops fused into this layer's output stage, in graph order (the residual add, the pool),
  // with the maps they read and write.
  struct Fused {
    const Op* op;
    size_t index;
    NpuPayload result, first, second;
  };
  std::vector<Fused> fused;
  for (size_t i = 0; i < workload_.layers.size(); ++i) {
    if (workload_.layers[i].fused_into != layer) continue;
    const Op& next = model_.ops()[i];
    if (next.kind != OpKind::Add && next.kind != OpKind::AvgPool) {
      throw Error(next.name + ": cannot be fused into " + op.name);
    }
    fused.push_back({&next, i, map_of(static_cast<int>(i)), map_of(next.inputs.at(0)),
                     next.kind == OpKind::Add ? map_of(next.inputs.at(1)) : NpuPayload{}});
  }
  // One parallel pass per layer: each worker post-processes its own images end to end, one
  // image at a time, so that the fused ops read the requantized map while it is in cache.
  workers_.run(payload.images, [&](int begin, int end, int) {
    for (int image = begin; image < end; ++image) {
      requantize_map(sums, stage, image, image + 1, out.bytes, out.bytes ? nullptr : out.words);
      for (const Fused& next : fused) {
        if (next.op->kind == OpKind::Add) {
          residual_add(*next.op, requant[next.index], model_.act_bits(), *next.first.words,
                       next.second.bytes, next.second.bytes ? nullptr : next.second.words, image,
                       image + 1, *next.result.bytes);
        } else {
          average_pool(*next.op, model_.act_bits(), *next.first.bytes, image, image + 1,
                       *next.result.bytes);
        }
      }
    }
  });
}

void Accumulator::b_transport(::tlm::tlm_generic_payload& transaction, sc_core::sc_time& delay) {
  NpuPayload* payload = payload_of(transaction);
  if (!payload) return;
  switch (payload->command) {
    case Command::PartialSumTarget:
      return partial_sum_target(*payload);
    case Command::AccumulatePlanes:
      return accumulate_planes(*payload);
    case Command::PostProcess:
      return post_process(*payload);
    case Command::Accumulate:
      delay = timebase_.delay_until(accumulate(*payload, timebase_.start_cycle(delay)));
      return;
    case Command::Drain:
      delay = timebase_.delay_until(std::max(timebase_.start_cycle(delay), postproc_free_));
      return;
    default:
      transaction.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
  }
}

}  // namespace bsnpu::tlm
