// libFuzzer target: the model loader (Model::parse, the checks of Model::load on a manifest and a
// tensors file in memory). Input: the manifest's text, a NUL byte, the safetensors bytes.
//
// So that mutations of the tensors reach the graph checks rather than stopping at the sha256
// check every time, the manifest's sha256 fields are set to the tensors' real digests first
// (the checksum path itself is covered by tests/cpp/test_loaders.cpp). A model the loader accepts
// is then run, on one image, through the reference kernels (plane-serial and fast) and the
// engine for its first and last k: a geometry the loader let through that makes a kernel read
// out of bounds shows up here under AddressSanitizer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/arith.h"
#include "core/engine.h"
#include "core/json_fields.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "fuzz_support.h"

namespace {

using namespace bsnpu;

std::string with_real_checksums(const std::string& manifest, const std::vector<uint8_t>& tensors) {
  try {
    nlohmann::json document = parse_json(manifest, "fuzz/m.json");  // depth-limited
    const SafetensorsFile file = SafetensorsFile::parse(tensors, "fuzz/m.safetensors");
    if (!document.is_object() || !document.contains("tensors") ||
        !document["tensors"].is_object()) {
      return manifest;
    }
    for (auto& [name, info] : document["tensors"].items()) {
      auto found = file.tensors().find(name);
      if (info.is_object() && found != file.tensors().end()) {
        info["sha256"] = sha256_hex(found->second.data, found->second.bytes);
      }
    }
    return document.dump();
  } catch (const Error&) {
    return manifest;
  }
}

// Bounds the work per input: the fuzzer may build models far larger than the seeds.
bool small_enough(const Model& model) {
  uint64_t macs = 0, activations = 0;
  for (const Op& op : model.ops()) {
    const uint64_t outputs = static_cast<uint64_t>(op.out_c()) * op.out_spatial();
    activations += outputs;
    if (op.kind == OpKind::Conv || op.kind == OpKind::Fc) {
      macs += outputs * static_cast<uint64_t>(op.fan_in());
    }
  }
  return macs <= 2000000 && activations <= 300000 && model.ops().size() <= 64;
}

void run_model(const Model& model) {
  if (!small_enough(model)) return;
  std::vector<uint8_t> pixels(kImageBytes);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37 + 11);
  for (int k : {model.bits().front(), model.bits().back()}) {
    // Each path may refuse the model (accumulator overflow, act_bits > 8, a pad wider than the
    // engine's border, ...) with an Error; it must never read or write out of bounds.
    try {
      (void)run_graph(model, pixels.data(), k, MacKernel::PlaneSerial);
    } catch (const Error&) {
    }
    try {
      (void)run_graph(model, pixels.data(), k, MacKernel::Fast);
    } catch (const Error&) {
    }
    try {
      const Network network(model, k);
      (void)classify(network, pixels.data(), 1, 1);
    } catch (const Error&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* end = data + size;
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const std::string text(reinterpret_cast<const char*>(data),
                         static_cast<size_t>((nul ? nul : end) - data));
  const std::vector<uint8_t> tensors(nul ? nul + 1 : end, end);
  const std::string manifest = with_real_checksums(text, tensors);
  Model model;
  try {
    model = Model::parse(manifest, "fuzz/m.json", tensors);
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz/");
    return 0;
  }
  run_model(model);
  return 0;
}
