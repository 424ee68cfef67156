// Trace descriptors (docs/trace-format.md): every class of bad descriptor is a one-line error
// naming the file and the field, and hand-made descriptors render the bytes the document defines.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/error.h"
#include "core/sha256.h"
#include "core/trace.h"

namespace bsnpu {
namespace {

// A test set of `count` images of pseudo-random pixels, labels 0, 1, 2, ...
CifarSet synthetic_set(size_t count) {
  CifarSet set;
  uint32_t state = 12345;
  for (size_t i = 0; i < count; ++i) {
    set.labels.push_back(static_cast<uint8_t>(i % 10));
    for (size_t p = 0; p < kImageBytes; ++p) {
      state = state * 1103515245u + 12345u;
      set.pixels.push_back(static_cast<uint8_t>(state >> 23));
    }
  }
  return set;
}

std::string descriptor(const std::string& scenes, const std::string& extra = "") {
  return R"({"format": "bsnpu-trace", "version": 1, "name": "t", "source": "cifar10-test", )" +
         extra + R"("scenes": [)" + scenes + "]}";
}

std::vector<uint8_t> render(const Trace& trace, size_t t, const CifarSet& test) {
  std::vector<uint8_t> frame(kImageBytes);
  trace.render(t, test, frame.data());
  return frame;
}

int pixel(const uint8_t* image, int c, int y, int x) {
  return image[(c * kImageSide + y) * kImageSide + x];
}

// The error `text` raises, which must be one line starting with "t.json: FIELD: ".
std::string parse_error(const std::string& text) {
  try {
    Trace::parse(text, "t.json");
  } catch (const Error& error) {
    const std::string what = error.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_EQ(what.rfind("t.json: ", 0), 0u) << what;
    return what;
  }
  ADD_FAILURE() << "accepted: " << text;
  return "";
}

TEST(TraceParse, ReadsScenesAndFrameIndex) {
  const Trace trace = Trace::parse(
      descriptor(R"({"image": 2, "frames": 3}, {"image": 0, "frames": 1}, {"image": 1, "frames": 2,
                    "shift_x": [-16, 32], "contrast": 300, "noise": [0, 5], "noise_seed": 9,
                    "occlusion": {"x": [-4, 4], "y": 1, "width": 5, "height": [0, 8],
                                  "fill": [1, 2, 3]}})",
                 R"("description": "d", "generator": {"anything": [1, {"goes": null}]}, )"),
      "t.json");
  EXPECT_EQ(trace.name(), "t");
  EXPECT_EQ(trace.description(), "d");
  ASSERT_EQ(trace.frames(), 6u);
  ASSERT_EQ(trace.scenes().size(), 3u);
  const std::vector<size_t> scenes = {0, 0, 0, 1, 2, 2}, images = {2, 2, 2, 0, 1, 1};
  for (size_t t = 0; t < 6; ++t) {
    EXPECT_EQ(trace.scene(t), scenes[t]) << t;
    EXPECT_EQ(trace.image(t), images[t]) << t;
  }
  EXPECT_EQ(trace.first_frame(2), 4u);
  const Scene& last = trace.scenes()[2];
  EXPECT_EQ(last.shift_x.start, -16);
  EXPECT_EQ(last.shift_x.end, 32);
  EXPECT_EQ(last.shift_y.start, 0);
  EXPECT_EQ(last.contrast.start, 300);
  EXPECT_EQ(last.contrast.end, 300);
  EXPECT_EQ(last.noise_seed, 9u);
  EXPECT_TRUE(last.occluded);
  EXPECT_EQ(last.occlusion.height.end, 8);
  EXPECT_EQ(last.occlusion.fill[2], 3);
  EXPECT_FALSE(trace.scenes()[0].occluded);
  EXPECT_EQ(trace.scenes()[0].contrast.start, 256);
  const CifarSet test = synthetic_set(3);
  EXPECT_EQ(trace.label(0, test), 2);
  EXPECT_EQ(trace.label(5, test), 1);
  EXPECT_THROW(trace.scene(6), Error);
}

TEST(TraceParse, RampsInterpolateWithFloor) {
  const Ramp up{0, 10}, down{0, -10}, flat{7, 7};
  const std::vector<int64_t> expected_up = {0, 3, 6, 10}, expected_down = {0, -4, -7, -10};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(up.at(i, 4), expected_up[i]);
    EXPECT_EQ(down.at(i, 4), expected_down[i]);
    EXPECT_EQ(flat.at(i, 4), 7);
  }
  EXPECT_EQ(up.at(0, 1), 0);  // a one-frame scene has the start value
}

TEST(TraceParse, RefusesEachClassOfBadDescriptor) {
  const std::string ok_scene = R"({"image": 0, "frames": 1})";
  struct Case {
    std::string text, expected;
  };
  const std::vector<Case> cases = {
      {"{", "t.json: invalid JSON"},
      {"[]", "t.json: (top level): must be an object"},
      {R"({"version": 1, "name": "t", "source": "cifar10-test", "scenes": []})",
       "t.json: format: missing"},
      {descriptor(ok_scene).replace(descriptor(ok_scene).find("\"version\": 1"), 12,
                                    "\"version\": 2"),
       "t.json: version: must be the integer 1"},
      {descriptor(ok_scene, R"("colour": 1, )"), "t.json: colour: unknown key"},
      {descriptor(ok_scene, R"("generator": 3, )"), "t.json: generator: must be an object"},
      {descriptor(ok_scene).replace(descriptor(ok_scene).find("\"t\""), 3, "\"\""),
       "t.json: name: must not be empty"},
      {descriptor(ok_scene).replace(descriptor(ok_scene).find("cifar10-test"), 12, "imagenet"),
       "t.json: source: must be \"cifar10-test\""},
      {descriptor(""), "t.json: scenes: must be a non-empty array of scene objects"},
      {descriptor("3"), "t.json: scenes[0]: must be an object"},
      {descriptor(R"({"image": 0})"), "t.json: scenes[0].frames: missing"},
      {descriptor(R"({"image": 0, "frames": "3"})"),
       "t.json: scenes[0].frames: must be an integer in 1..1000000"},
      {descriptor(R"({"image": 0, "frames": 0})"),
       "t.json: scenes[0].frames: must be an integer in 1..1000000"},
      {descriptor(R"({"image": 0, "frames": 1.0})"),
       "t.json: scenes[0].frames: must be an integer in 1..1000000"},
      {descriptor(R"({"image": 100000, "frames": 1})"),
       "t.json: scenes[0].image: must be an integer in 0..99999"},
      {descriptor(R"({"image": 0, "frames": 1, "zoom": 2})"),
       "t.json: scenes[0].zoom: unknown key"},
      {descriptor(R"({"image": 0, "frames": 1, "noise": 256})"),
       "t.json: scenes[0].noise: must be an integer in 0..255"},
      {descriptor(R"({"image": 0, "frames": 1, "shift_x": [0, 513]})"),
       "t.json: scenes[0].shift_x: must be an array of 2 integers in -512..512"},
      {descriptor(R"({"image": 0, "frames": 1, "shift_y": [0, 1, 2]})"),
       "t.json: scenes[0].shift_y: must be an array of 2 integers in -512..512"},
      {descriptor(R"({"image": 0, "frames": 1, "contrast": "high"})"),
       "t.json: scenes[0].contrast: must be an integer in 0..1024 or an array [start, end] of "
       "two"},
      {descriptor(R"({"image": 0, "frames": 1, "brightness": -256})"),
       "t.json: scenes[0].brightness: must be an integer in -255..255"},
      {descriptor(R"({"image": 0, "frames": 1, "noise_seed": -1})"),
       "t.json: scenes[0].noise_seed: must be an integer in 0..9007199254740991"},
      {descriptor(R"({"image": 0, "frames": 1, "occlusion": null})"),
       "t.json: scenes[0].occlusion: must be an object"},
      {descriptor(
           R"({"image": 0, "frames": 1, "occlusion": {"x": 0, "y": 0, "width": 4, "fill": [0, 0, 0]}})"),
       "t.json: scenes[0].occlusion.height: missing"},
      {descriptor(
           R"({"image": 0, "frames": 1, "occlusion": {"x": 0, "y": 0, "width": 4, "height": 4}})"),
       "t.json: scenes[0].occlusion.fill: missing"},
      {descriptor(
           R"({"image": 0, "frames": 1, "occlusion": {"x": 0, "y": 0, "width": 4, "height": 4, "fill": [0, 0, 256]}})"),
       "t.json: scenes[0].occlusion.fill: must be an array of 3 integers in 0..255"},
      {descriptor(
           R"({"image": 0, "frames": 1, "occlusion": {"x": 33, "y": 0, "width": 4, "height": 4, "fill": [0, 0, 0]}})"),
       "t.json: scenes[0].occlusion.x: must be an integer in -32..32"},
      {descriptor(
           R"({"image": 0, "frames": 1, "occlusion": {"x": 0, "y": 0, "width": 4, "height": 4, "fill": [0, 0, 0], "shape": 1}})"),
       "t.json: scenes[0].occlusion.shape: unknown key"},
      {descriptor(R"({"image": 0, "frames": 600000}, {"image": 0, "frames": 600000})"),
       "t.json: scenes: more than 1000000 frames in all"},
  };
  for (const Case& c : cases) {
    const std::string what = parse_error(c.text);
    EXPECT_EQ(what.rfind(c.expected, 0), 0u) << "got: " << what << "\nexpected: " << c.expected;
  }
}

TEST(TraceParse, LoadNamesMissingFile) {
  try {
    Trace::load("/nonexistent/t.json");
    FAIL() << "loaded a missing file";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "/nonexistent/t.json: no such file");
  }
}

TEST(TraceRender, ImageOutsideTheTestSetIsAnErrorNamingTheScene) {
  const Trace trace =
      Trace::parse(descriptor(R"({"image": 0, "frames": 1}, {"image": 3, "frames": 1})"), "t.json");
  const CifarSet test = synthetic_set(3);
  const std::string expected = "t.json: scenes[1].image: 3 is outside the test set (3 images)";
  for (const auto& call : std::vector<std::function<void()>>{[&] { trace.check_images(test); },
                                                             [&] { render(trace, 1, test); },
                                                             [&] { trace.label(1, test); }}) {
    try {
      call();
      ADD_FAILURE() << "no error";
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()), expected);
    }
  }
  EXPECT_NO_THROW(render(trace, 0, test));
}

TEST(TraceRender, UntransformedFrameIsTheSourceImage) {
  const CifarSet test = synthetic_set(3);
  const Trace trace = Trace::parse(
      descriptor(R"({"image": 1, "frames": 2, "shift_x": 0, "contrast": 256, "noise": 0})"),
      "t.json");
  for (size_t t = 0; t < 2; ++t) {
    const std::vector<uint8_t> frame = render(trace, t, test);
    EXPECT_TRUE(std::equal(frame.begin(), frame.end(), test.image(1)));
  }
}

TEST(TraceRender, WholePixelShiftCopiesPixelsAndReplicatesEdges) {
  const CifarSet test = synthetic_set(1);
  // Frame 0: 2 pixels right and 1 up; frame 1: 3 left and 1 down (a ramp of two frames).
  const Trace trace = Trace::parse(
      descriptor(R"({"image": 0, "frames": 2, "shift_x": [32, -48], "shift_y": [-16, 16]})"),
      "t.json");
  const struct { int dx, dy; } shifts[] = {{2, -1}, {-3, 1}};
  for (size_t t = 0; t < 2; ++t) {
    const std::vector<uint8_t> frame = render(trace, t, test);
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < kImageSide; ++y) {
        for (int x = 0; x < kImageSide; ++x) {
          const int sy = std::clamp(y - shifts[t].dy, 0, kImageSide - 1);
          const int sx = std::clamp(x - shifts[t].dx, 0, kImageSide - 1);
          ASSERT_EQ(pixel(frame.data(), c, y, x), pixel(test.image(0), c, sy, sx))
              << "t=" << t << " c=" << c << " y=" << y << " x=" << x;
        }
      }
    }
  }
}

TEST(TraceRender, HalfPixelShiftAveragesNeighboursRoundingUp) {
  const CifarSet test = synthetic_set(1);
  const Trace trace =
      Trace::parse(descriptor(R"({"image": 0, "frames": 1, "shift_x": 8})"), "t.json");
  const std::vector<uint8_t> frame = render(trace, 0, test);
  const uint8_t* source = test.image(0);
  for (int y = 0; y < kImageSide; ++y) {
    EXPECT_EQ(pixel(frame.data(), 1, y, 0), pixel(source, 1, y, 0));  // both taps clamp to x = 0
    for (int x = 1; x < kImageSide; ++x) {
      ASSERT_EQ(pixel(frame.data(), 1, y, x),
                (pixel(source, 1, y, x - 1) + pixel(source, 1, y, x) + 1) >> 1);
    }
  }
}

TEST(TraceRender, ContrastBrightnessAndOcclusionFollowTheDocument) {
  CifarSet test;
  test.labels = {0};
  for (size_t p = 0; p < kImageBytes; ++p) test.pixels.push_back(p % 2 ? 200 : 100);  // mean 150
  const Trace trace = Trace::parse(
      descriptor(R"({"image": 0, "frames": 3, "contrast": [0, 512], "brightness": [0, 100],
                     "occlusion": {"x": [0, 30], "y": 2, "width": [1, 3], "height": 2,
                                   "fill": [10, 20, 30]}})"),
      "t.json");
  // Frame 0: gain 0 -> every pixel the mean 150, the occluder too; box x 0..0, y 2..3.
  std::vector<uint8_t> frame = render(trace, 0, test);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < kImageSide * kImageSide; ++p) {
      ASSERT_EQ(frame[static_cast<size_t>(c * kImageSide * kImageSide + p)], 150);
    }
  }
  // Frame 1: gain 256, brightness 50, box x 15..16, y 2..3: 100 -> 150, 200 -> 250, fill + 50.
  frame = render(trace, 1, test);
  EXPECT_EQ(pixel(frame.data(), 0, 0, 0), 150);
  EXPECT_EQ(pixel(frame.data(), 0, 0, 1), 250);
  EXPECT_EQ(pixel(frame.data(), 2, 2, 15), 80);
  EXPECT_EQ(pixel(frame.data(), 2, 3, 16), 80);
  EXPECT_EQ(pixel(frame.data(), 2, 3, 17), 250);
  EXPECT_EQ(pixel(frame.data(), 2, 4, 16), 150);
  // Frame 2: gain 512, brightness 100, box x 30..32 (clipped), y 2..3: 100 -> 150 (= 150 +
  // (-50 * 2) + 100), 200 -> 350 clamped to 255; the fill 10 -> 150 + (-140 * 2) + 100 -> 0.
  frame = render(trace, 2, test);
  EXPECT_EQ(pixel(frame.data(), 1, 0, 0), 150);
  EXPECT_EQ(pixel(frame.data(), 1, 0, 1), 255);
  EXPECT_EQ(pixel(frame.data(), 0, 2, 31), 0);
  EXPECT_EQ(pixel(frame.data(), 0, 2, 29), 255);  // x odd: source 200
}

TEST(TraceRender, NoiseIsSplitmix64ModuloTheAmplitude) {
  CifarSet test;
  test.labels = {0};
  test.pixels.assign(kImageBytes, 128);
  const Trace trace = Trace::parse(
      descriptor(R"({"image": 0, "frames": 2, "noise": [100, 0], "noise_seed": 1234567})"),
      "t.json");
  // The first outputs of splitmix64 from seed 1234567 (Vigna's reference values): pixel j of frame
  // 0 gets 128 + (output_j mod 201) - 100.
  const uint64_t reference[] = {6457827717110365317ULL, 3203168211198807973ULL,
                                9817491932198370423ULL};
  std::vector<uint8_t> frame = render(trace, 0, test);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(frame[j], 128 + static_cast<int>(reference[j] % 201) - 100) << j;
  }
  int lowest = 255, highest = 0;
  for (uint8_t value : frame) {
    lowest = std::min<int>(lowest, value);
    highest = std::max<int>(highest, value);
  }
  EXPECT_EQ(lowest, 28);  // 3072 draws of 201 values reach both ends
  EXPECT_EQ(highest, 228);
  frame = render(trace, 1, test);  // amplitude 0 on the last frame: no noise
  EXPECT_TRUE(std::all_of(frame.begin(), frame.end(), [](uint8_t v) { return v == 128; }));
}

// bsnpu frames --sha256 hashes a trace frame by frame: pieces must give the digest of the whole.
TEST(Sha256, PiecesGiveTheDigestOfTheWhole) {
  const std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  EXPECT_EQ(sha256_hex(text.data(), text.size()), expected);
  Sha256 digest;
  digest.update(text.data(), 5);
  digest.update(text.data() + 5, 0);
  digest.update(text.data() + 5, text.size() - 5);
  EXPECT_EQ(digest.hex(), expected);
}

}  // namespace
}  // namespace bsnpu
