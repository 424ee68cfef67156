// The fast whole-network path of `bsnpu eval`: the model prepared once for one precision (weights
// of planes 1..k of each layer in the kernel layout, output stages), run layer-major: each worker
// thread takes its own batch of images through one layer before the next layer starts, so each
// layer's weights are reused across the batch while they are in cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/fast_conv.h"
#include "core/layer_ops.h"
#include "core/model.h"
#include "core/precision.h"

namespace bsnpu {

struct Classification {
  std::vector<int32_t> logits;   // [images][classes]
  std::vector<int> predictions;  // first index of the maximum logit
};

class Network {
 public:
  // Throws bsnpu::Error if the model has no parameters at k, or a layer could overflow.
  Network(const Model& model, int k);
  // Each layer at its own k, requantized as core/precision.h describes.
  Network(const Model& model, const Precision& precision);

  const Precision& precision() const { return precision_; }
  const Model& model() const { return *model_; }
  int num_classes() const { return model_->num_classes(); }
  // Runs op `index` for images [begin, end) of `maps` (its inputs already computed); `pixels`
  // holds image `begin` first, for the input op.
  void forward_op(size_t index, OpMaps& maps, const uint8_t* pixels, int begin, int end,
                  ConvScratch& scratch) const;

 private:
  friend Classification classify(const Network& network, const uint8_t* pixels, size_t count,
                                 int threads, const std::function<void(size_t)>& progress);
  // forward_op, except that a block's last conv (and its downsample) runs with its add, in one
  // pass at the add.
  void forward_fused(size_t index, OpMaps& maps, const uint8_t* pixels, int begin, int end,
                     ConvScratch& scratch) const;

  const Model* model_;
  Precision precision_;
  std::vector<Requant> requant_;      // by op index: what each op runs with
  std::vector<ConvWeights> weights_;  // by op index (empty for other ops)
  std::vector<OutputStage> stages_;
  std::vector<bool> runs_with_add_;  // by op index: a conv whose only consumer is an add
  // by op index: the add's 1x1 shortcut conv (a downsample), computed in the same pass
  std::vector<bool> shortcut_with_add_;
};

// Images per worker's layer-major batch: their largest feature maps stay within a core's L2 cache.
constexpr int kBatchImages = 8;

// Runs `count` images (consecutive 3x32x32 uint8) on `threads` worker threads. `progress`, when
// set, is called with the number of images done after each batch.
Classification classify(const Network& network, const uint8_t* pixels, size_t count, int threads,
                        const std::function<void(size_t)>& progress = nullptr);

}  // namespace bsnpu
