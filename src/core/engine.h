// The fast whole-network path: the model prepared once for one k (weight layouts, requantization
// vectors), then run image by image on per-thread workspaces, over many threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/fast_conv.h"
#include "core/model.h"

namespace bsnpu {

// Per-thread buffers for one image: one per op output, allocated once.
struct Workspace {
  std::vector<ActivationBuffer> unsigned_maps;    // relu conv, add, input, pool (by op index)
  std::vector<std::vector<int32_t>> signed_maps;  // conv without relu, fc logits (NHWC)
  std::vector<int32_t> window_sums;
};

class Network {
 public:
  // Throws bsnpu::Error if the model has no parameters at k, or a layer could overflow.
  Network(const Model& model, int k);

  int k() const { return k_; }
  int num_classes() const { return model_->num_classes(); }
  Workspace make_workspace() const;
  // Logits (num_classes int32) of one 3x32x32 uint8 image.
  void infer(const uint8_t* pixels, Workspace& workspace, int32_t* logits) const;

 private:
  const Model* model_;
  int k_;
  std::vector<std::unique_ptr<PreparedConv>> convs_;  // by op index (null for other ops)
};

struct Classification {
  std::vector<int32_t> logits;   // [images][classes]
  std::vector<int> predictions;  // first index of the maximum logit
};

// Runs `count` images (consecutive 3x32x32 uint8) on `threads` worker threads. `progress`, when
// set, is called on the calling thread with the number of images done, a few times a second.
Classification classify(const Network& network, const uint8_t* pixels, size_t count, int threads,
                        const std::function<void(size_t)>& progress = nullptr);

}  // namespace bsnpu
