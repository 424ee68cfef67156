// The loaders reject truncated, corrupt, wrong-shape and wrong-checksum files with one-line
// errors that name the file. Each case damages a private copy of the real model or data.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/error.h"
#include "core/model.h"
#include "core/safetensors.h"
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
    expect_error(e.what(), {"m.json: invalid JSON: ", "parse error"});
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
  expect_error(load_error(), {"test_batch.bin", "whole number"});
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

}  // namespace
}  // namespace bsnpu
