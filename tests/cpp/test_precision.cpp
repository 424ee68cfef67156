// Per-layer precision (core/precision.h): the JSON forms and their errors, the requantization of
// a uniform vector (exactly the per-k parameters), the re-targeting of a mixed one and its bounds.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model.h"
#include "core/precision.h"
#include "test_support.h"

namespace bsnpu {
namespace {

using nlohmann::json;

const Model& model() {
  static const Model loaded = Model::load(test::model_prefix());
  return loaded;
}

std::vector<size_t> weighted_ops(const Model& m) {
  std::vector<size_t> out;
  for (size_t i = 0; i < m.ops().size(); ++i) {
    if (m.ops()[i].kind == OpKind::Conv || m.ops()[i].kind == OpKind::Fc) out.push_back(i);
  }
  return out;
}

// The error message of parsing `text`, "" when it parses.
std::string parse_error(const std::string& text) {
  try {
    Precision::parse(json::parse(text), model(), "p.json");
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(Precision, TheModelCarriesItsActivationScales) {
  ASSERT_TRUE(model().has_scales());
  for (const Op& op : model().ops()) {
    if (op.kind == OpKind::Fc) continue;
    ASSERT_EQ(op.scale.size(), 8u) << op.name;
    for (double scale : op.scale) EXPECT_GT(scale, 0) << op.name;
  }
}

TEST(Precision, UniformRequantizationIsExactlyThePerKParameters) {
  for (int k = 1; k <= 8; ++k) {
    const Precision precision = Precision::uniform(model(), k);
    const std::vector<Requant> requant = requantization(model(), precision);
    ASSERT_EQ(requant.size(), model().ops().size());
    for (size_t i = 0; i < model().ops().size(); ++i) {
      const Op& op = model().ops()[i];
      if (op.requant.empty()) {
        EXPECT_TRUE(requant[i].mult.empty()) << op.name;
        continue;
      }
      const Requant& own = op.requant_at(k);
      EXPECT_EQ(requant[i].mult, own.mult) << op.name << " k=" << k;
      EXPECT_EQ(requant[i].offset, own.offset) << op.name << " k=" << k;
      EXPECT_EQ(requant[i].shift, own.shift) << op.name << " k=" << k;
    }
  }
}

TEST(Precision, TheThreeJsonFormsAgree) {
  const std::vector<size_t> weighted = weighted_ops(model());
  ASSERT_EQ(weighted.size(), 21u);
  json array = json::array();
  for (size_t i = 0; i < weighted.size(); ++i)
    array.push_back(i == 0 || i + 1 == weighted.size() ? 8 : 2);
  const json object = {{"default", 2}, {"layers", {{"conv1", 8}, {"fc", 8}}}};
  const Precision from_array = Precision::parse(array, model(), "a.json");
  const Precision from_object = Precision::parse(object, model(), "o.json");
  EXPECT_TRUE(from_array == from_object);
  EXPECT_FALSE(from_array.is_uniform());
  EXPECT_EQ(from_array.max_k(), 8);
  EXPECT_EQ(from_array.label(), "8-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-2-8");
  EXPECT_EQ(from_array.to_json(), array);
  EXPECT_TRUE(Precision::parse(from_array.to_json(), model(), "r.json") == from_array);
  for (size_t i = 0; i < model().ops().size(); ++i) {
    const Op& op = model().ops()[i];
    const bool weighted_op = op.kind == OpKind::Conv || op.kind == OpKind::Fc;
    const int expected = !weighted_op ? 0 : (op.name == "conv1" || op.name == "fc") ? 8 : 2;
    EXPECT_EQ(from_array.k(i), expected) << op.name;
  }
  const Precision five = Precision::parse(json(5), model(), "i.json");
  EXPECT_TRUE(five == Precision::uniform(model(), 5));
  EXPECT_TRUE(five.is_uniform());
  EXPECT_EQ(five.label(), "5");
  EXPECT_EQ(five.to_json(), json(5));
  // An object naming every layer needs no default; one naming none is a uniform default.
  json all = {{"layers", json::object()}};
  for (size_t i : weighted) all["layers"][model().ops()[i].name] = 3;
  EXPECT_TRUE(Precision::parse(all, model(), "l.json") == Precision::uniform(model(), 3));
  EXPECT_TRUE(Precision::parse(json{{"default", 4}}, model(), "d.json") ==
              Precision::uniform(model(), 4));
}

TEST(Precision, MeanPlanesWeighsLayersByTheirMacs) {
  EXPECT_DOUBLE_EQ(Precision::uniform(model(), 3).mean_planes(model()), 3.0);
  const Precision mixed =
      Precision::parse(json{{"default", 1}, {"layers", {{"conv1", 8}}}}, model(), "m.json");
  double macs = 0, conv1 = 0;
  for (const Op& op : model().ops()) {
    if (op.kind != OpKind::Conv && op.kind != OpKind::Fc) continue;
    const double op_macs = static_cast<double>(op.out_channels) * op.fan_in() * op.out_spatial();
    macs += op_macs;
    if (op.name == "conv1") conv1 = op_macs;
  }
  EXPECT_DOUBLE_EQ(mixed.mean_planes(model()), (conv1 * 8 + (macs - conv1)) / macs);
  const std::vector<PlaneRange> ranges = mixed.plane_ranges();
  ASSERT_EQ(ranges.size(), model().ops().size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_EQ(ranges[i].first, 0);
    EXPECT_EQ(ranges[i].last, mixed.k(i));
  }
}

TEST(Precision, BadValuesAreOneLineErrorsNamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"9", "p.json: must be an integer k in 1..8"},
      {"0", "p.json: must be an integer k in 1..8"},
      {"8.0", "p.json: must be an integer k in 1..8"},
      {"true", "p.json: must be an integer k, an array of k"},
      {"\"8\"", "p.json: must be an integer k, an array of k"},
      {"null", "p.json: must be an integer k, an array of k"},
      {"[8, 8]", "p.json: an array of k must have one entry per conv and fc of the model (21)"},
      {"[8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,-1]", "p.json: [20]: must be an integer k"},
      {"[8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,18446744073709551615]",
       "p.json: [20]: must be an integer k"},
      {"{\"default\": 2, \"layer\": {}}", "p.json: layer: unknown key"},
      {"{\"default\": 2, \"layers\": {\"conv9\": 2}}", "p.json: layers.conv9: not a conv or fc"},
      {"{\"default\": 2, \"layers\": {\"layer1.0.add\": 2}}",
       "p.json: layers.layer1.0.add: not a conv or fc"},
      {"{\"default\": 2, \"layers\": [2]}", "p.json: layers: must be an object"},
      {"{\"default\": 2, \"layers\": {\"fc\": 2.5}}", "p.json: layers.fc: must be an integer k"},
      {"{\"layers\": {\"fc\": 2}}", "p.json: default: missing, and layers does not name every"},
      {"{\"default\": \"2\"}", "p.json: default: must be an integer k"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = parse_error(text);
    EXPECT_EQ(message.rfind(expected, 0), 0u) << text << " -> " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << text;
  }
}

TEST(Precision, LoadNamesTheFile) {
  EXPECT_THROW(
      {
        try {
          Precision::load("/nonexistent/p.json", model());
        } catch (const Error& error) {
          EXPECT_EQ(std::string(error.what()).rfind("/nonexistent/p.json: no such file", 0), 0u);
          throw;
        }
      },
      Error);
}

TEST(Precision, AModelWithoutScalesRunsOnlyUniformVectors) {
  std::vector<Op> ops = model().ops();
  for (Op& op : ops) op.scale.clear();
  const Model bare =
      Model::from_ops(ops, model().act_bits(), model().accumulator_bits(), model().bits());
  EXPECT_FALSE(bare.has_scales());
  EXPECT_NO_THROW(Precision::parse(json(3), bare, "u.json"));
  try {
    Precision::parse(json{{"default", 2}, {"layers", {{"conv1", 8}}}}, bare, "m.json");
    ADD_FAILURE() << "a mixed vector without scales was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()).rfind("m.json: a mixed precision needs the activation", 0),
              0u)
        << error.what();
  }
}

// A mixed vector: every op's parameters are its own k's, scaled by the ratio of the scales its
// tensors really have to the ones its k assumes, within the rounding of one LSB of M' (and C'),
// and inside the overflow bounds of docs/arithmetic.md.
TEST(Precision, MixedVectorsRetargetToTheRealScales) {
  const std::vector<Op>& ops = model().ops();
  json array = json::array();
  const std::vector<int> pattern = {8, 3, 5, 1, 7, 2, 6, 4};
  for (size_t i = 0; i < 21; ++i) array.push_back(pattern[i % pattern.size()]);
  const Precision precision = Precision::parse(array, model(), "m.json");
  const std::vector<Requant> requant = requantization(model(), precision);
  size_t changed = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (requant[i].mult.empty()) continue;
    // The k of this op (an add: its residual conv's) and the real-scale factors.
    const bool add = op.kind == OpKind::Add;
    const int k = precision.k(add ? static_cast<size_t>(op.inputs[0]) : i);
    const Requant& own = op.requant_at(k);
    for (size_t o = 0; o < requant[i].mult.size(); ++o) {
      const int64_t m = requant[i].mult[o];
      const int s = requant[i].shift[o];
      ASSERT_LT(std::llabs(m), int64_t{1} << 31) << op.name;
      ASSERT_GE(s, 0);
      ASSERT_LE(s, 62);
      ASSERT_LE(s, own.shift[o]) << op.name;
      if (!add) {
        ASSERT_LT(std::llabs(requant[i].offset[o]), int64_t{1} << 62) << op.name;
      }
      changed += m != own.mult[o] || s != own.shift[o];
    }
  }
  EXPECT_GT(changed, 0u);
  // conv1 reads the image (the same codes at every k) and its own k's parameters stand.
  EXPECT_EQ(requant[1].mult, ops[1].requant_at(precision.k(1)).mult);
  EXPECT_EQ(requant[1].offset, ops[1].requant_at(precision.k(1)).offset);
  // layer1.0.conv1 (k = 3) reads the stem made at k = 8: M' = round(M * s8 / s3).
  const size_t conv = 2;
  ASSERT_EQ(ops[conv].name, "layer1.0.conv1");
  const double factor = ops[1].scale[7] / ops[1].scale[2];
  const Requant& own = ops[conv].requant_at(3);
  for (size_t o = 0; o < own.mult.size(); ++o) {
    const double exact =
        own.mult[o] * factor * std::ldexp(1.0, requant[conv].shift[o] - own.shift[o]);
    EXPECT_LE(std::fabs(requant[conv].mult[o] - exact), 0.5) << o;
    EXPECT_EQ(requant[conv].offset[o] == own.offset[o], requant[conv].shift[o] == own.shift[o]);
  }
}

TEST(Precision, RetargetKeepsTheBounds) {
  Requant requant;
  requant.mult = {(int32_t{1} << 30) + 12345, -((int32_t{1} << 30) + 7), 1000};
  requant.offset = {int64_t{1} << 60, -(int64_t{3} << 58), 5};
  requant.shift = {40, 40, 3};
  // A factor of exactly 1 changes nothing.
  const Requant same = retarget(requant, 1.0, 1.0, "x");
  EXPECT_EQ(same.mult, requant.mult);
  EXPECT_EQ(same.offset, requant.offset);
  EXPECT_EQ(same.shift, requant.shift);
  // x 2.5: the first two multipliers pass 2^31 and lose one bit of shift, their offsets with
  // them; the third keeps its shift (12.5 rounds away from zero to 13).
  const Requant scaled = retarget(requant, 2.5, 2.5, "x");
  EXPECT_EQ(scaled.shift, (std::vector<int32_t>{39, 39, 3}));
  EXPECT_EQ(scaled.mult[0], std::llround(requant.mult[0] * 2.5 / 2));
  EXPECT_EQ(scaled.mult[1], -std::llround(-requant.mult[1] * 2.5 / 2));
  EXPECT_EQ(scaled.mult[2], 2500);
  EXPECT_EQ(scaled.offset[0], std::llround(static_cast<double>(requant.offset[0]) * 2.5 / 2));
  EXPECT_EQ(scaled.offset[1], -std::llround(static_cast<double>(-requant.offset[1]) * 2.5 / 2));
  EXPECT_EQ(scaled.offset[2], 13);
  // Half-way values round away from zero: 1000 * 1.0005 = 1000.5 -> 1001; -1000.5 -> -1001.
  Requant half;
  half.mult = {1000, -1000};
  half.shift = {0, 0};
  const Requant rounded = retarget(half, 1.0005, 1.0, "x");
  EXPECT_EQ(rounded.mult, (std::vector<int32_t>{1001, -1001}));
  // An offset past 2^61 costs shift too, even when M fits.
  Requant wide;
  wide.mult = {1 << 20};
  wide.offset = {(int64_t{1} << 61) - 1};
  wide.shift = {10};
  const Requant fitted = retarget(wide, 1.0, 1.5, "x");
  EXPECT_EQ(fitted.shift[0], 9);
  EXPECT_EQ(fitted.mult[0], 1 << 19);
  EXPECT_LT(std::llabs(fitted.offset[0]), int64_t{1} << 61);
  // No shift left to give: an error naming the layer.
  Requant tight;
  tight.mult = {(int32_t{1} << 30)};
  tight.offset = {0};
  tight.shift = {0};
  try {
    retarget(tight, 3.0, 1.0, "model.json: layer9");
    ADD_FAILURE() << "an unrepresentable re-targeting was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()).rfind("model.json: layer9: re-targeted", 0), 0u);
  }
  EXPECT_THROW(retarget(requant, std::nan(""), 1.0, "x"), Error);
  EXPECT_THROW(retarget(requant, 1.0, 0.0, "x"), Error);
}

}  // namespace
}  // namespace bsnpu
