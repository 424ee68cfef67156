// Bit-exactness against the NumPy reference (tests/golden, written by scripts/make_golden.py):
// logits of 64 images at every k through the fast engine, and every layer's output of 2 images
// through both MAC kernels.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/engine.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "golden.h"
#include "test_support.h"

namespace bsnpu {
namespace {

using test::Golden;

TEST(Golden, InputsAreTheOnesTheVectorsWereMadeFrom) {
  const Golden& golden = Golden::get();
  ASSERT_EQ(golden.model().tensors_sha256(), golden.manifest()["model_tensors_sha256"])
      << "the golden vectors were made from another model file: regenerate them with "
         "/usr/bin/python3 scripts/make_golden.py";
  ASSERT_EQ(sha256_hex(golden.images().pixels.data(), golden.images().pixels.size()),
            golden.manifest()["images"]["sha256"])
      << "the CIFAR-10 test batch in " << test::data_dir()
      << " differs from the one the golden vectors were made from";
  const auto labels = golden.manifest()["images"]["labels"].get<std::vector<int>>();
  EXPECT_EQ(std::vector<int>(golden.images().labels.begin(), golden.images().labels.end()), labels);
}

class GoldenLogits : public testing::TestWithParam<int> {};

TEST_P(GoldenLogits, FastEngineMatchesEveryImage) {
  const Golden& golden = Golden::get();
  const int k = GetParam();
  const Network network(golden.model(), k);
  const size_t count = golden.images().size();
  const Classification result = classify(network, golden.images().pixels.data(), count, 2);
  const std::vector<int32_t> expected = golden.values("logits.k" + std::to_string(k));
  ASSERT_EQ(result.logits.size(), expected.size());
  const size_t classes = static_cast<size_t>(golden.model().num_classes());
  for (size_t image = 0; image < count; ++image) {
    const std::vector<int32_t> got(
        result.logits.begin() + static_cast<long>(image * classes),
        result.logits.begin() + static_cast<long>((image + 1) * classes));
    const std::vector<int32_t> want(expected.begin() + static_cast<long>(image * classes),
                                    expected.begin() + static_cast<long>((image + 1) * classes));
    ASSERT_EQ(got, want) << "image " << image << " at k=" << k;
  }
}

INSTANTIATE_TEST_SUITE_P(AllBits, GoldenLogits, testing::Range(1, 9),
                         [](const testing::TestParamInfo<int>& test_info) {
                           return "k" + std::to_string(test_info.param);
                         });

struct LayerCase {
  int k;
  MacKernel kernel;
};

void PrintTo(const LayerCase& layer_case, std::ostream* out) {
  *out << (layer_case.kernel == MacKernel::Fast ? "fast" : "plane-serial") << " k=" << layer_case.k;
}

class GoldenLayers : public testing::TestWithParam<LayerCase> {};

// Every op's output of the golden images, op by op through run_op; both kernels also report the
// same action counts.
TEST_P(GoldenLayers, EveryLayerMatches) {
  const Golden& golden = Golden::get();
  const auto [k, kernel] = GetParam();
  const auto& layer_bits = golden.manifest()["layers"]["bits"];
  if (std::find(layer_bits.begin(), layer_bits.end(), k) == layer_bits.end()) {
    GTEST_SKIP() << "no golden layer outputs at k=" << k;
  }
  const int images = golden.manifest()["layers"]["images"].get<int>();
  const std::vector<Op>& ops = golden.model().ops();
  for (int image = 0; image < images; ++image) {
    std::vector<OpCounts> counts, fast_counts;
    const std::vector<Tensor> outputs = run_graph(
        golden.model(), golden.images().image(static_cast<size_t>(image)), k, kernel, &counts);
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].kind == OpKind::Input) continue;  // the golden vectors start after the input
      const std::vector<int32_t> all =
          golden.values("layers.k" + std::to_string(k) + "." + ops[i].output);
      const size_t size = all.size() / static_cast<size_t>(images);
      const std::vector<int32_t> want(all.begin() + static_cast<long>(image * size),
                                      all.begin() + static_cast<long>((image + 1) * size));
      ASSERT_EQ(outputs[i], want) << ops[i].output << " of image " << image << " at k=" << k;
    }
    if (kernel == MacKernel::PlaneSerial) {
      run_graph(golden.model(), golden.images().image(static_cast<size_t>(image)), k,
                MacKernel::Fast, &fast_counts);
      for (size_t i = 0; i < ops.size(); ++i) {
        EXPECT_TRUE(counts[i] == fast_counts[i]) << "action counts of " << ops[i].name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    BothKernels, GoldenLayers,
    testing::Values(LayerCase{1, MacKernel::Fast}, LayerCase{8, MacKernel::Fast},
                    LayerCase{1, MacKernel::PlaneSerial}, LayerCase{8, MacKernel::PlaneSerial}),
    [](const testing::TestParamInfo<LayerCase>& test_info) {
      return std::string(test_info.param.kernel == MacKernel::Fast ? "Fast" : "PlaneSerial") +
             "_k" + std::to_string(test_info.param.k);
    });

}  // namespace
}  // namespace bsnpu
