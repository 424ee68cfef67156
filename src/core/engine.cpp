#include "core/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/kernels.h"

namespace bsnpu {

namespace {

// Conv/fc outputs that feed other convs (relu) are unsigned bytes; the rest stay int32.
bool writes_unsigned(const Op& op) {
  return op.kind == OpKind::Input || op.kind == OpKind::Add || op.kind == OpKind::AvgPool ||
         (op.kind == OpKind::Conv && op.relu);
}

}  // namespace

Network::Network(const Model& model, int k) : model_(&model), k_(k) {
  if (!model.has_bits(k)) {
    throw Error(model.manifest_path() + ": no parameters for k=" + std::to_string(k));
  }
  if (model.act_bits() > 8) {
    throw Error(model.manifest_path() + ": act_bits " + std::to_string(model.act_bits()) +
                " exceeds the 8 bits of the fast kernels");
  }
  for (const Op& op : model.ops()) {
    convs_.emplace_back();
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      convs_.back() = std::make_unique<PreparedConv>(
          prepare_conv(op, k, model.act_bits(), model.accumulator_bits()));
    }
  }
}

Workspace Network::make_workspace() const {
  Workspace workspace;
  const std::vector<Op>& ops = model_->ops();
  workspace.unsigned_maps.resize(ops.size());
  workspace.signed_maps.resize(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (writes_unsigned(op)) {
      // A border of one pixel serves every consumer: 3x3 convs pad 1, 1x1 convs pad 0.
      const int border = op.kind == OpKind::AvgPool ? 0 : 1;
      workspace.unsigned_maps[i] = ActivationBuffer(op.out_hw, op.out_hw, op.out_channels, border);
      if (op.kind == OpKind::Input)
        workspace.unsigned_maps[i].fill_border(op.zero_point, op.out_channels);
    } else {
      workspace.signed_maps[i].resize(static_cast<size_t>(op.out_channels) * op.out_spatial());
    }
  }
  return workspace;
}

void Network::infer(const uint8_t* pixels, Workspace& workspace, int32_t* logits) const {
  const std::vector<Op>& ops = model_->ops();
  const int64_t act_max = (int64_t{1} << model_->act_bits()) - 1;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    switch (op.kind) {
      case OpKind::Input: {
        ActivationBuffer& out = workspace.unsigned_maps[i];
        const int spatial = op.out_hw * op.out_hw;
        for (int c = 0; c < op.out_channels; ++c) {
          for (int p = 0; p < spatial; ++p) {
            const int64_t pixel = pixels[c * spatial + p];
            out.at(p / op.out_hw, p % op.out_hw)[c] =
                static_cast<uint8_t>((pixel * act_max * 2 + 255) / 510);
          }
        }
        break;
      }
      case OpKind::Conv:
      case OpKind::Fc: {
        const ActivationBuffer& in = workspace.unsigned_maps[static_cast<size_t>(op.inputs[0])];
        if (writes_unsigned(op)) {
          conv_forward(*convs_[i], in, &workspace.unsigned_maps[i], nullptr, workspace.window_sums);
        } else {
          conv_forward(*convs_[i], in, nullptr, workspace.signed_maps[i].data(),
                       workspace.window_sums);
        }
        break;
      }
      case OpKind::Add: {
        const int32_t* residual = workspace.signed_maps[static_cast<size_t>(op.inputs[0])].data();
        const size_t shortcut_op = static_cast<size_t>(op.inputs[1]);
        const bool shortcut_unsigned = writes_unsigned(ops[shortcut_op]);
        const int32_t* shortcut_signed = workspace.signed_maps[shortcut_op].data();
        const ActivationBuffer& shortcut_unsigned_map = workspace.unsigned_maps[shortcut_op];
        int32_t mult = 1, shift = 0;
        if (op.rescale_shortcut) {
          mult = op.requant_at(k_).mult[0];
          shift = op.requant_at(k_).shift[0];
        }
        ActivationBuffer& out = workspace.unsigned_maps[i];
        const int channels = op.out_channels;
        for (int y = 0; y < op.out_hw; ++y) {
          for (int x = 0; x < op.out_hw; ++x) {
            const size_t pixel = static_cast<size_t>(y * op.out_hw + x) * channels;
            add_forward(residual + pixel,
                        shortcut_unsigned ? shortcut_unsigned_map.at(y, x) : nullptr,
                        shortcut_unsigned ? nullptr : shortcut_signed + pixel, channels, mult,
                        shift, act_max, out.at(y, x));
          }
        }
        break;
      }
      case OpKind::AvgPool: {
        const ActivationBuffer& in = workspace.unsigned_maps[static_cast<size_t>(op.inputs[0])];
        int64_t sums[4096];
        if (op.in_channels > 4096) throw Error(op.name + ": too many channels");
        std::fill(sums, sums + op.in_channels, 0);
        for (int y = 0; y < op.in_hw; ++y) {
          for (int x = 0; x < op.in_hw; ++x) {
            const uint8_t* source = in.at(y, x);
            for (int c = 0; c < op.in_channels; ++c) sums[c] += source[c];
          }
        }
        uint8_t* target = workspace.unsigned_maps[i].at(0, 0);
        for (int c = 0; c < op.in_channels; ++c) {
          const int64_t value = round_shift(sums[c] * op.pool_mult, op.pool_shift);
          // The fc reads bytes: a pool value outside the activation range would be a model error.
          if (value < 0 || value > act_max) {
            throw Error(op.name + ": pooled value " + std::to_string(value) +
                        " outside the activation range");
          }
          target[c] = static_cast<uint8_t>(value);
        }
        break;
      }
    }
  }
  const std::vector<int32_t>& result = workspace.signed_maps.back();
  std::copy(result.begin(), result.end(), logits);
}

Classification classify(const Network& network, const uint8_t* pixels, size_t count, int threads,
                        const std::function<void(size_t)>& progress) {
  constexpr size_t kImageBytes = 3 * 32 * 32;
  const size_t classes = static_cast<size_t>(network.num_classes());
  Classification result;
  result.logits.resize(count * classes);
  result.predictions.resize(count);
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    try {
      Workspace workspace = network.make_workspace();
      for (size_t i = next++; i < count; i = next++) {
        int32_t* logits = result.logits.data() + i * classes;
        network.infer(pixels + i * kImageBytes, workspace, logits);
        result.predictions[i] =
            static_cast<int>(std::max_element(logits, logits + classes) - logits);
        ++done;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
      next = count;  // stop the other workers
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < std::max(threads, 1); ++t) workers.emplace_back(worker);
  if (progress) {
    // The calling thread reports progress while the workers run, then joins the pool.
    std::thread last(worker);
    while (done < count && !failed) {
      progress(done);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    last.join();
  } else {
    worker();
  }
  for (std::thread& thread : workers) thread.join();
  if (failure) std::rethrow_exception(failure);
  if (progress) progress(done);
  return result;
}

}  // namespace bsnpu
