// The loaders reject truncated, corrupt, wrong-shape and wrong-checksum files with one-line
// errors that name the file. Each case damages a private copy of the real model or data.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/arith.h"
#include "core/cifar.h"
#include "core/error.h"
#include "core/files.h"
#include "core/kernels.h"
#include "core/model.h"
#include "core/safetensors.h"
#include "core/sha256.h"
#include "test_support.h"

namespace bsnpu {
namespace {

using Bytes = std::vector<uint8_t>;

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

Bytes text_bytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

// A scratch copy of the model: PREFIX.json + PREFIX.safetensors in a fresh temporary directory.
class ModelCopy {
 public:
  ModelCopy() {
    char pattern[] = "/tmp/bsnpu_loader_XXXXXX";
    directory_ = mkdtemp(pattern);
    const std::string source = test::model_prefix();
    manifest_ = nlohmann::json::parse(read_text(source + ".json"));
    tensors_ = read_file(source + ".safetensors");
    manifest_["tensors_file"] = "m.safetensors";
  }
  ~ModelCopy() {
    std::remove((prefix() + ".json").c_str());
    std::remove((prefix() + ".safetensors").c_str());
    rmdir(directory_.c_str());
  }
  std::string prefix() const { return directory_ + "/m"; }
  nlohmann::json& manifest() { return manifest_; }
  Bytes& tensors() { return tensors_; }
  size_t header_end() const {
    uint64_t length = 0;
    for (int i = 7; i >= 0; --i) length = (length << 8) | tensors_[static_cast<size_t>(i)];
    return 8 + static_cast<size_t>(length);
  }
  // Writes the (possibly damaged) copy and returns Model::load's error message ("" if none).
  std::string load_error() const {
    write_file(prefix() + ".json", text_bytes(manifest_.dump()));
    write_file(prefix() + ".safetensors", tensors_);
    try {
      Model::load(prefix());
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }

 private:
  static std::string read_text(const std::string& path) {
    const Bytes bytes = read_file(path);
    return std::string(bytes.begin(), bytes.end());
  }
  std::string directory_;
  nlohmann::json manifest_;
  Bytes tensors_;
};

void expect_error(const std::string& message, const std::vector<std::string>& fragments) {
  ASSERT_FALSE(message.empty()) << "the damaged file was accepted";
  EXPECT_EQ(message.find('\n'), std::string::npos) << "not one line: " << message;
  for (const std::string& fragment : fragments) {
    EXPECT_NE(message.find(fragment), std::string::npos)
        << "'" << fragment << "' not in: " << message;
  }
}

TEST(ModelLoader, AcceptsTheIntactCopy) {
  ModelCopy copy;
  EXPECT_EQ(copy.load_error(), "");
}

TEST(ModelLoader, RejectsAMissingManifest) {
  try {
    Model::load("/nonexistent/model");
    FAIL();
  } catch (const Error& e) {
    expect_error(e.what(), {"/nonexistent/model.json", "no such file"});
  }
}

TEST(ModelLoader, RejectsAMalformedManifest) {
  ModelCopy copy;
  copy.load_error();
  write_file(copy.prefix() + ".json", text_bytes("{\"format\": \"bsnpu-bwb-model\", "));
  try {
    Model::load(copy.prefix());
    FAIL();
  } catch (const Error& e) {
    expect_error(e.what(), {"m.json: invalid JSON: ", "parse error at line 1"});
  }
}

TEST(ModelLoader, RejectsAWrongFormatField) {
  ModelCopy copy;
  copy.manifest()["format"] = "something-else";
  expect_error(copy.load_error(), {"m.json", "format"});
}

TEST(ModelLoader, RejectsATruncatedTensorsFile) {
  ModelCopy copy;
  copy.tensors().resize(copy.tensors().size() - 100);
  expect_error(copy.load_error(), {"m.safetensors", "truncated"});
  copy.tensors().resize(5);
  expect_error(copy.load_error(), {"m.safetensors", "truncated"});
}

TEST(ModelLoader, RejectsTrailingBytes) {
  ModelCopy copy;
  copy.tensors().push_back(0);
  expect_error(copy.load_error(), {"m.safetensors", "trailing"});
}

TEST(ModelLoader, RejectsAnOversizedHeaderLength) {
  ModelCopy copy;
  copy.tensors()[6] = 0x7f;
  expect_error(copy.load_error(), {"m.safetensors", "header length"});
}

TEST(ModelLoader, RejectsACorruptHeader) {
  ModelCopy copy;
  copy.tensors()[9] = '!';
  expect_error(copy.load_error(), {"m.safetensors", "corrupt safetensors header"});
}

TEST(ModelLoader, RejectsCorruptTensorData) {
  ModelCopy copy;
  copy.tensors()[copy.header_end() + 1000] ^= 0x10;
  expect_error(copy.load_error(), {"m.safetensors", "sha256"});
}

TEST(ModelLoader, RejectsAWrongChecksumInTheManifest) {
  ModelCopy copy;
  copy.manifest()["tensors"]["fc.codes"]["sha256"] = std::string(64, '0');
  expect_error(copy.load_error(), {"m.safetensors", "fc.codes", "sha256"});
}

TEST(ModelLoader, RejectsAWrongShapeInTheManifest) {
  ModelCopy copy;
  copy.manifest()["tensors"]["fc.codes"]["shape"] = {512, 10};
  expect_error(copy.load_error(), {"m.safetensors", "fc.codes", "shape"});
}

TEST(ModelLoader, RejectsATensorMissingFromTheFile) {
  ModelCopy copy;
  copy.manifest()["tensors"]["extra.codes"] = {{"dtype", "U8"}, {"shape", {1}}, {"sha256", ""}};
  expect_error(copy.load_error(), {"m.safetensors", "extra.codes", "missing"});
}

TEST(ModelLoader, RejectsAGraphThatDoesNotMatchItsTensors) {
  ModelCopy copy;
  for (auto& op : copy.manifest()["graph"]) {
    if (op["name"] == "fc") op["in_features"] = 256;
  }
  expect_error(copy.load_error(), {"m.json", "graph["});
}

TEST(ModelLoader, ErrorsNameTheDottedFieldPath) {
  ModelCopy copy;
  copy.manifest()["graph"][1]["kernel"] = 2.5;
  EXPECT_EQ(copy.load_error(),
            copy.prefix() + ".json: graph[1].kernel: must be an integer in 1..15");
  copy.manifest()["graph"][1]["kernel"] = 3;
  copy.manifest()["graph"][1].erase("relu");
  EXPECT_EQ(copy.load_error(), copy.prefix() + ".json: graph[1].relu: missing");
  copy.manifest()["graph"][1]["relu"] = true;
  copy.manifest()["input"].erase("zero_point");
  EXPECT_EQ(copy.load_error(), copy.prefix() + ".json: input.zero_point: missing");
}

TEST(ModelLoader, ToleratesKeysItDoesNotRead) {
  ModelCopy copy;
  copy.manifest()["comment"] = "not read by the loader";
  copy.manifest()["graph"][0]["note"] = 1;
  copy.manifest().erase("logit_scale");
  EXPECT_EQ(copy.load_error(), "");
}

class CifarFiles : public testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/bsnpu_cifar_XXXXXX";
    directory_ = mkdtemp(pattern);
    records_ = read_file(test::data_dir() + "/test_batch.bin");
    records_.resize(4 * kCifarRecordBytes);
  }
  void TearDown() override {
    std::remove(path().c_str());
    rmdir(directory_.c_str());
  }
  std::string path() const { return directory_ + "/test_batch.bin"; }
  std::string load_error() const {
    write_file(path(), records_);
    try {
      load_cifar_test(directory_);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  std::string directory_;
  Bytes records_;
};

TEST_F(CifarFiles, ReadsWholeRecords) {
  write_file(path(), records_);
  const CifarSet set = load_cifar_test(directory_);
  ASSERT_EQ(set.size(), 4u);
  EXPECT_EQ(set.labels[1], records_[kCifarRecordBytes]);
  EXPECT_EQ(set.image(1)[0], records_[kCifarRecordBytes + 1]);
  EXPECT_EQ(load_cifar_test(directory_, 2).size(), 2u);
}

TEST_F(CifarFiles, RejectsATruncatedFile) {
  records_.pop_back();
  expect_error(load_error(), {"test_batch.bin: truncated: record 3 has only 3072 of its 3073 bytes",
                              "whole number"});
  records_.resize(10);
  expect_error(load_error(), {"test_batch.bin: truncated: record 0 has only 10 of its 3073 bytes"});
  records_.clear();
  expect_error(load_error(), {"test_batch.bin: empty file"});
}

TEST_F(CifarFiles, ReadsOnlyTheRecordsItNeeds) {
  // A bad label past the limit is never read, so never seen.
  records_[3 * kCifarRecordBytes] = 200;
  write_file(path(), records_);
  EXPECT_EQ(load_cifar_file(path(), 2).size(), 2u);
  expect_error(load_error(), {"test_batch.bin", "record 3", "label 200"});
}

TEST_F(CifarFiles, InMemoryParserMatchesTheFileLoader) {
  write_file(path(), records_);
  const CifarSet from_file = load_cifar_file(path(), 3);
  const CifarSet in_memory = parse_cifar(records_.data(), records_.size(), "batch", 3);
  EXPECT_EQ(from_file.labels, in_memory.labels);
  EXPECT_EQ(from_file.pixels, in_memory.pixels);
  try {
    parse_cifar(records_.data(), 5, "batch");
    FAIL();
  } catch (const Error& e) {
    expect_error(e.what(), {"batch: truncated: record 0"});
  }
}

TEST_F(CifarFiles, RejectsABadLabel) {
  records_[2 * kCifarRecordBytes] = 10;
  expect_error(load_error(), {"test_batch.bin", "record 2", "label 10"});
}

TEST_F(CifarFiles, MissingDirectoryTellsHowToGetTheData) {
  try {
    load_cifar_test("/nonexistent/cifar");
    FAIL();
  } catch (const Error& e) {
    expect_error(e.what(), {"/nonexistent/cifar", "cifar-10-binary.tar.gz"});
  }
}

// ---- The bad-input corpus: one case per class of malformed input (issue "Nothing lost, nothing
// silent"). Each asserts a one-line message that names the file and the field or tensor.

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A scratch directory, removed (with what the test put in it) at the end.
class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/bsnpu_bad_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~ScratchDir() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) std::remove(it->c_str());
    rmdir(path_.c_str());
  }
  std::string file(const std::string& name, const Bytes& bytes) {
    write_file(path_ + "/" + name, bytes);
    made_.push_back(path_ + "/" + name);
    return made_.back();
  }
  std::string directory(const std::string& name) {
    const std::string path = path_ + "/" + name;
    mkdir(path.c_str(), 0700);
    made_.push_back(path);
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> made_;
};

struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  Bytes data;
};

// A safetensors file of these tensors, packed in name order.
Bytes safetensors_bytes(const std::map<std::string, RawTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  Bytes data;
  for (const auto& [name, tensor] : tensors) {
    header[name] = {{"dtype", tensor.dtype},
                    {"shape", tensor.shape},
                    {"data_offsets", {data.size(), data.size() + tensor.data.size()}}};
    data.insert(data.end(), tensor.data.begin(), tensor.data.end());
  }
  const std::string text = header.dump();
  std::string file;
  for (int i = 0; i < 8; ++i) file += static_cast<char>(text.size() >> (8 * i));
  file += text;
  file.append(data.begin(), data.end());
  return Bytes(file.begin(), file.end());
}

// The fuzzers' tiny seed model (tests/fuzz/corpus/model/tiny.bin: manifest, NUL, tensors), to
// damage in memory: the manifest's tensors section is rewritten to match `tensors` on load, so a
// case can change a tensor's size without tripping the sha256 check first.
class TinyModel {
 public:
  explicit TinyModel(const std::string& seed_name = "tiny") {
    const Bytes seed =
        read_file(test::source_dir() + "/tests/fuzz/corpus/model/" + seed_name + ".bin");
    const auto nul = std::find(seed.begin(), seed.end(), uint8_t{0});
    manifest = nlohmann::json::parse(std::string(seed.begin(), nul));
    const SafetensorsFile file = SafetensorsFile::parse(Bytes(nul + 1, seed.end()), "seed");
    for (const auto& [name, view] : file.tensors()) {
      tensors[name] = {view.dtype, view.shape, Bytes(view.data, view.data + view.bytes)};
    }
  }
  Model load() const {
    nlohmann::json document = manifest;
    document["tensors"] = nlohmann::json::object();
    for (const auto& [name, tensor] : tensors) {
      if (unlisted.count(name)) continue;
      document["tensors"][name] = {{"dtype", tensor.dtype},
                                   {"shape", tensor.shape},
                                   {"sha256", sha256_hex(tensor.data.data(), tensor.data.size())}};
    }
    return Model::parse(document.dump(), "tiny/m.json", safetensors_bytes(tensors));
  }
  std::string load_error() const {
    return error_of([&] { load(); });
  }
  nlohmann::json& op(const std::string& name) {
    for (auto& node : manifest["graph"]) {
      if (node["name"] == name) return node;
    }
    throw std::logic_error("no op " + name);
  }
  nlohmann::json manifest;
  std::map<std::string, RawTensor> tensors;
  std::set<std::string> unlisted;  // in the file, not in the manifest's tensors section
};

TEST(BadInput, TheFuzzSeedModelsLoadAndRun) {
  for (const char* seed : {"tiny", "act4", "downsample"}) {
    const Model model = TinyModel(seed).load();
    ASSERT_GE(model.ops().size(), 8u) << seed;
    std::vector<uint8_t> pixels(kImageBytes);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 37 + 11);
    for (int k : model.bits()) {
      EXPECT_EQ(run_graph(model, pixels.data(), k, MacKernel::PlaneSerial).back(),
                run_graph(model, pixels.data(), k, MacKernel::Fast).back())
          << seed;
    }
  }
}

TEST(BadInput, ADirectoryInsteadOfAFile) {
  ScratchDir scratch;
  const std::string directory = scratch.directory("d");
  expect_error(error_of([&] { SafetensorsFile::load(directory); }),
               {directory + ": is a directory, not a file"});
  expect_error(error_of([&] { load_cifar_file(directory); }),
               {directory + ": is a directory, not a file"});
  scratch.directory("m.json");
  expect_error(error_of([&] { Model::load(scratch.path() + "/m"); }),
               {scratch.path() + "/m.json: is a directory, not a file"});
  scratch.directory("test_batch.bin");
  expect_error(error_of([&] { load_cifar_test(scratch.path()); }),
               {scratch.path() + "/test_batch.bin: is a directory, not a file"});
}

TEST(BadInput, ATensorsFileThatIsADirectoryOrOutsideTheModelFolder) {
  ModelCopy copy;
  copy.manifest()["tensors_file"] = ".";
  expect_error(copy.load_error(),
               {"m.json: tensors_file: must be a file name beside the manifest"});
  copy.manifest()["tensors_file"] = "../../dev/zero";
  expect_error(copy.load_error(),
               {"m.json: tensors_file: must be a file name beside the manifest"});
}

TEST(BadInput, DevZeroFailsAtOnce) {
  // Each would otherwise read (or allocate) without end.
  expect_error(error_of([] { SafetensorsFile::load("/dev/zero"); }),
               {"/dev/zero: not a regular file"});
  expect_error(error_of([] { load_cifar_file("/dev/zero"); }), {"/dev/zero: not a regular file"});
  expect_error(error_of([] { read_file("/dev/zero"); }), {"/dev/zero: not a regular file"});
}

TEST(BadInput, AShapeWhoseElementCountOverflows) {
  // 2^32 x 2^32 one-byte elements: the product wraps to 0 in 64 bits, matching empty offsets.
  const int64_t big = int64_t{1} << 32;
  const Bytes bytes = safetensors_bytes({{"x", {"U8", {big, big}, {}}}});
  EXPECT_EQ(error_of([&] { SafetensorsFile::parse(bytes, "t.safetensors"); }),
            "t.safetensors: tensor 'x': shape: [4294967296, 4294967296] of U8 overflows a 64-bit "
            "element or byte count");
  ScratchDir scratch;
  const std::string path = scratch.file("t.safetensors", bytes);
  expect_error(error_of([&] { SafetensorsFile::load(path); }), {path + ": tensor 'x': shape:"});
  // 2^31 x 2^31 x 4-byte elements: the element count fits, the byte count does not.
  const Bytes wide = safetensors_bytes({{"y", {"I32", {big / 2, big / 2, 4}, {}}}});
  expect_error(error_of([&] { SafetensorsFile::parse(wide, "t.safetensors"); }),
               {"t.safetensors: tensor 'y': shape:", "overflows"});
  TensorView view;
  view.shape = {big, big};
  expect_error(error_of([&] { view.elements(); }), {"[4294967296, 4294967296]"});
}

TEST(BadInput, AnInputOpThatIsNotOneImage) {
  TinyModel tiny;
  tiny.op("input")["shape"] = {3, 16, 16};
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.json: graph[0].shape: must be [3, 32, 32] (one CIFAR-10 image), not [3,16,16]");
  tiny.op("input")["shape"] = {4, 32, 32};
  expect_error(tiny.load_error(), {"tiny/m.json: graph[0].shape: must be [3, 32, 32]"});
  ModelCopy copy;  // the same on the real model
  copy.manifest()["graph"][0]["shape"] = {3, 64, 64};
  expect_error(copy.load_error(), {"m.json: graph[0].shape: must be [3, 32, 32]"});
}

TEST(BadInput, AnOpGeometryThatDoesNotFollowFromItsInput) {
  TinyModel tiny;
  tiny.op("block.conv")["in_channels"] = 8;
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: graph[2].input: shape does not match the op's input");
  tiny = TinyModel();
  tiny.op("conv1")["out_hw"] = 17;
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.json: graph[1].out_hw: inconsistent with in_hw, kernel, stride and pad");
  tiny = TinyModel();
  tiny.op("block2.conv")["pad"] = 1;  // a 1x1 kernel with padding 1
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: graph[4].pad: must be less than kernel");
  tiny = TinyModel();
  tiny.op("avgpool")["in_hw"] = 8;
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: graph[6].input: shape does not match the op's input");
  tiny = TinyModel();
  tiny.op("fc")["input"] = "block2.residual";  // signed int32 words where codes are read
  expect_error(tiny.load_error(), {"tiny/m.json: graph[7].input:"});
}

TEST(BadInput, CodesAndRequantizationOfTheWrongSize) {
  TinyModel tiny;
  tiny.tensors["conv1.codes"].data.pop_back();
  tiny.tensors["conv1.codes"].shape = {107};
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.safetensors: tensor 'conv1.codes': 107 elements, expected 108");
  tiny = TinyModel();
  tiny.tensors["k8.block.conv.mult"].data.resize(12);
  tiny.tensors["k8.block.conv.mult"].shape = {3};
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.safetensors: tensor 'k8.block.conv.mult': 3 elements, expected 4");
  tiny = TinyModel();
  tiny.tensors["k1.block.add.shift"].data.resize(8);
  tiny.tensors["k1.block.add.shift"].shape = {2};
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.safetensors: tensor 'k1.block.add.shift': 2 elements, expected 1");
  tiny = TinyModel();
  tiny.tensors["k1.fc.offset"].data.assign(80,
                                           0x7f);  // offsets near 2^63 overflow acc x M + offset
  expect_error(tiny.load_error(), {"tiny/m.safetensors: tensor 'k1.fc.offset':", "outside"});
  tiny = TinyModel();
  tiny.tensors["stray"] = {"U8", {1}, {0}};
  tiny.unlisted.insert("stray");
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.safetensors: tensor 'stray' is not listed in the manifest's tensors");
}

TEST(BadInput, ManifestNumbersAndVersion) {
  TinyModel tiny;
  tiny.manifest["version"] = 1.0;
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: version: must be the integer 1");
  tiny = TinyModel();
  tiny.manifest["input"]["zero_point"] = {125, 123, 4294967297.0};
  EXPECT_EQ(tiny.load_error(),
            "tiny/m.json: input.zero_point: must be an array of 3 integers in 0..255");
  tiny = TinyModel();
  tiny.manifest["act_bits"] = 9;  // codes are bytes: quantize_pixel would truncate them
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: act_bits: must be an integer in 1..8");
  tiny = TinyModel();
  tiny.manifest["bits"] = {8, 1};
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: bits: must list each k once, in ascending order");
  tiny = TinyModel();
  tiny.op("conv1")["accumulator_bound_k8"] = 1e300;  // was an undefined float-to-int conversion
  EXPECT_EQ(
      tiny.load_error(),
      "tiny/m.json: graph[1].accumulator_bound_k8: must be an integer in 0..4611686018427387904");
  // A number too large for a double: the JSON library's error, with the file and the field.
  std::string text = TinyModel().manifest.dump();
  text.replace(text.find("\"act_bits\":8"), 12, "\"act_bits\":1e999");
  expect_error(error_of([&] { Model::parse(text, "tiny/m.json", {}); }),
               {"tiny/m.json: invalid JSON at act_bits: number overflow parsing '1e999'"});
}

TEST(BadInput, NamesFromTheFileStayOnOneLine) {
  TinyModel tiny;
  tiny.op("conv1")["op"] = "conv\nrm -rf";
  EXPECT_EQ(tiny.load_error(), "tiny/m.json: graph[1].op: unknown op 'conv\\x0arm -rf'");
  const Bytes bytes = safetensors_bytes({{std::string(1000, 'x') + "\r", {"U8", {1}, {0}}}});
  Bytes damaged = bytes;
  damaged.pop_back();  // truncated: the message quotes the (long, odd) tensor name
  const std::string message = error_of([&] { SafetensorsFile::parse(damaged, "t.safetensors"); });
  expect_error(message, {"t.safetensors: truncated: tensor 'xxx", "...'"});
  EXPECT_LT(message.size(), 300u);
}

}  // namespace
}  // namespace bsnpu
