#include "core/engine.h"

#include <algorithm>
#include <atomic>

#include "core/arith.h"
#include "core/error.h"
#include "core/worker_pool.h"

namespace bsnpu {

Network::Network(const Model& model, int k) : Network(model, Precision::uniform(model, k)) {}

Network::Network(const Model& model, const Precision& precision)
    : model_(&model), precision_(precision), requant_(requantization(model, precision)) {
  if (model.act_bits() > 8) {
    throw Error(model.manifest_path() + ": act_bits " + std::to_string(model.act_bits()) +
                " exceeds the 8 bits of the fast kernels");
  }
  for (size_t i = 0; i < model.ops().size(); ++i) {
    const Op& op = model.ops()[i];
    weights_.emplace_back();
    stages_.emplace_back();
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      weights_.back() =
          prepare_weights(op, 0, precision.k(i), model.act_bits(), model.accumulator_bits());
      stages_.back() = output_stage(op, requant_[i], model.act_bits());
    }
  }
  // The int32 output of a conv without ReLU that only an add reads need never reach memory.
  const std::vector<Op>& ops = model.ops();
  std::vector<int> consumers(ops.size(), 0);
  for (const Op& op : ops) {
    for (int input : op.inputs) ++consumers[static_cast<size_t>(input)];
  }
  // Nor need that of a 1x1 shortcut conv (a block's downsample) that the add takes as it is.
  runs_with_add_.assign(ops.size(), false);
  shortcut_with_add_.assign(ops.size(), false);
  for (const Op& op : ops) {
    if (op.kind != OpKind::Add) continue;
    const size_t residual = static_cast<size_t>(op.inputs[0]);
    const size_t shortcut = static_cast<size_t>(op.inputs[1]);
    const auto add_only = [&](size_t conv) {
      return ops[conv].kind == OpKind::Conv && !writes_bytes(ops[conv]) && consumers[conv] == 1;
    };
    runs_with_add_[residual] = add_only(residual);
    shortcut_with_add_[shortcut] = runs_with_add_[residual] && add_only(shortcut) &&
                                   !op.rescale_shortcut && ops[shortcut].kernel == 1 &&
                                   ops[shortcut].pad == 0 &&
                                   ops[shortcut].out_hw == ops[residual].out_hw &&
                                   ops[shortcut].out_channels == ops[residual].out_channels;
  }
}

void Network::forward_fused(size_t index, OpMaps& maps, const uint8_t* pixels, int begin, int end,
                            ConvScratch& scratch) const {
  if (runs_with_add_[index] || shortcut_with_add_[index]) return;
  const Op& op = model_->ops()[index];
  const size_t residual = op.kind == OpKind::Add ? static_cast<size_t>(op.inputs[0]) : 0;
  if (op.kind != OpKind::Add || !runs_with_add_[residual]) {
    forward_op(index, maps, pixels, begin, end, scratch);
    return;
  }
  const size_t shortcut = static_cast<size_t>(op.inputs[1]);
  const Op& conv = model_->ops()[residual];
  const int64_t high = (int64_t{1} << model_->act_bits()) - 1;
  if (shortcut_with_add_[shortcut]) {
    conv_residual_add(weights_[residual], stages_[residual],
                      maps.bytes[static_cast<size_t>(conv.inputs[0])], begin, end,
                      weights_[shortcut], stages_[shortcut],
                      maps.bytes[static_cast<size_t>(model_->ops()[shortcut].inputs[0])], high,
                      maps.bytes[index], scratch);
    return;
  }
  const bool shortcut_bytes = writes_bytes(model_->ops()[shortcut]);
  int32_t mult = 1, shift = 0;
  if (op.rescale_shortcut) {
    mult = requant_[index].mult[0];
    shift = requant_[index].shift[0];
  }
  conv_residual_add(weights_[residual], stages_[residual],
                    maps.bytes[static_cast<size_t>(conv.inputs[0])], begin, end,
                    shortcut_bytes ? &maps.bytes[shortcut] : nullptr,
                    shortcut_bytes ? nullptr : &maps.words[shortcut], mult, shift, high,
                    maps.bytes[index], scratch);
}

void Network::forward_op(size_t index, OpMaps& maps, const uint8_t* pixels, int begin, int end,
                         ConvScratch& scratch) const {
  const Op& op = model_->ops()[index];
  const auto input = [&](size_t position) { return static_cast<size_t>(op.inputs[position]); };
  switch (op.kind) {
    case OpKind::Input:
      quantize_images(pixels, begin, end, model_->act_bits(), maps.bytes[index]);
      break;
    case OpKind::Conv:
    case OpKind::Fc: {
      const bool bytes = writes_bytes(op);
      conv_requantized(weights_[index], stages_[index], maps.bytes[input(0)], begin, end,
                       bytes ? &maps.bytes[index] : nullptr, bytes ? nullptr : &maps.words[index],
                       scratch);
      break;
    }
    case OpKind::Add: {
      const size_t shortcut = input(1);
      const bool shortcut_bytes = writes_bytes(model_->ops()[shortcut]);
      residual_add(op, requant_[index], model_->act_bits(), maps.words[input(0)],
                   shortcut_bytes ? &maps.bytes[shortcut] : nullptr,
                   shortcut_bytes ? nullptr : &maps.words[shortcut], begin, end, maps.bytes[index]);
      break;
    }
    case OpKind::AvgPool:
      average_pool(op, model_->act_bits(), maps.bytes[input(0)], begin, end, maps.bytes[index]);
      break;
  }
}

Classification classify(const Network& network, const uint8_t* pixels, size_t count, int threads,
                        const std::function<void(size_t)>& progress) {
  const Model& model = network.model();
  const size_t classes = static_cast<size_t>(network.num_classes());
  const size_t logits_op = model.ops().size() - 1;
  Classification result;
  result.logits.resize(count * classes);
  result.predictions.resize(count);
  WorkerPool pool(threads);
  const size_t workers = static_cast<size_t>(pool.threads());
  std::vector<ConvScratch> scratch(workers);
  // Each worker takes batches from a shared counter and runs each through the whole network:
  // no barrier between layers or batches, so one worker's slow batch never leaves the other
  // waiting.
  std::vector<OpMaps> maps(workers);
  for (OpMaps& worker_maps : maps) worker_maps = allocate_op_maps(model, kBatchImages);
  const size_t batches = (count + kBatchImages - 1) / kBatchImages;
  std::atomic<size_t> next_batch{0}, images_done{0};
  pool.run(static_cast<int>(workers), [&](int, int, int worker) {
    OpMaps& own = maps[static_cast<size_t>(worker)];
    for (size_t batch = next_batch++; batch < batches; batch = next_batch++) {
      const size_t first = batch * kBatchImages;
      const int images = static_cast<int>(std::min<size_t>(kBatchImages, count - first));
      for (size_t op = 0; op < model.ops().size(); ++op) {
        network.forward_fused(op, own, pixels + first * kImageBytes, 0, images,
                              scratch[static_cast<size_t>(worker)]);
      }
      const WordMap& logits = own.words[logits_op];
      for (int image = 0; image < images; ++image) {
        const int32_t* row = logits.at(image, 0, 0);
        const size_t at = first + static_cast<size_t>(image);
        std::copy(row, row + classes,
                  result.logits.begin() + static_cast<std::ptrdiff_t>(at * classes));
        result.predictions[at] = argmax(row, static_cast<int>(classes));
      }
      const size_t done = images_done += static_cast<size_t>(images);
      // Worker 0 is the calling thread: only it reports progress.
      if (progress && worker == 0) progress(done);
    }
  });
  if (progress) progress(count);
  return result;
}

}  // namespace bsnpu
