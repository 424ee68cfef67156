// The golden vectors of tests/golden (written by scripts/make_golden.py from the NumPy
// reference), with the model and the images they were made from.
#pragma once

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "test_support.h"

namespace bsnpu::test {

// Model, golden vectors and images, loaded and cross-checked once per test program.
class Golden {
 public:
  static const Golden& get() {
    static const Golden golden;
    return golden;
  }
  const Model& model() const { return model_; }
  const nlohmann::json& manifest() const { return manifest_; }
  const SafetensorsFile& tensors() const { return tensors_; }
  const CifarSet& images() const { return images_; }

  // A golden tensor as int32, whatever integer dtype it was stored in.
  std::vector<int32_t> values(const std::string& name) const {
    const TensorView& view = tensors_.get(
        name, tensors_.tensors().count(name) ? tensors_.tensors().at(name).dtype : "I32");
    std::vector<int32_t> result(static_cast<size_t>(view.elements()));
    for (size_t i = 0; i < result.size(); ++i) {
      if (view.dtype == "U8") {
        result[i] = view.data[i];
      } else if (view.dtype == "I16") {
        int16_t value;
        std::memcpy(&value, view.data + 2 * i, 2);
        result[i] = value;
      } else if (view.dtype == "I32") {
        std::memcpy(&result[i], view.data + 4 * i, 4);
      } else {
        throw std::runtime_error(name + ": unexpected golden dtype " + view.dtype);
      }
    }
    return result;
  }

 private:
  Golden()
      : model_(Model::load(model_prefix())),
        manifest_(load_manifest()),
        tensors_(SafetensorsFile::load(golden_dir() + "/golden.safetensors")),
        images_(load_cifar_test(data_dir(), manifest_["images"]["first"].get<size_t>())) {}

  static nlohmann::json load_manifest() {
    std::ifstream in(golden_dir() + "/golden.json");
    if (!in)
      throw std::runtime_error(golden_dir() + "/golden.json: missing (scripts/make_golden.py)");
    return nlohmann::json::parse(in);
  }

  Model model_;
  nlohmann::json manifest_;
  SafetensorsFile tensors_;
  CifarSet images_;
};

}  // namespace bsnpu::test
