// Traces: video-like sequences of frames synthesized from CIFAR-10 test images (format and
// arithmetic in docs/trace-format.md). A trace is a list of scenes; each scene shows one test image
// for a number of frames under transforms (shift, occlusion, contrast, brightness, noise) whose
// parameters move linearly from a start to an end value. Every step is integer arithmetic, so the
// C++ here and the Python twin (scripts/bsnpu/frames.py) render the same bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cifar.h"

namespace bsnpu {

// A parameter that moves from `start` (first frame of its scene) to `end` (last frame).
struct Ramp {
  int64_t start = 0;
  int64_t end = 0;
  // The value at frame `i` of `frames`: start + floor((end - start) * i / (frames - 1)).
  int64_t at(size_t i, size_t frames) const;
};

// A filled rectangle in front of the image, in whole pixels (x, y: top-left corner).
struct Occlusion {
  Ramp x, y, width, height;
  std::array<uint8_t, 3> fill{};  // R, G, B
};

struct Scene {
  size_t image = 0;         // index into the CIFAR-10 test set
  size_t frames = 1;        // >= 1
  Ramp shift_x, shift_y;    // in 1/16 pixel; positive moves the content right / down
  Ramp contrast{256, 256};  // gain in 1/256 around the source image's channel mean
  Ramp brightness;          // added to every pixel
  Ramp noise;               // amplitude a: uniform integer noise in -a..a
  uint64_t noise_seed = 0;  // splitmix64 seed of the scene's noise
  bool occluded = false;    // whether `occlusion` applies
  Occlusion occlusion;
};

// Limits of a descriptor, checked when it is parsed.
constexpr size_t kMaxTraceFrames = 1000000;                // frames of a whole trace
constexpr int64_t kMaxShift = 512;                         // |shift| in 1/16 pixel (32 pixels)
constexpr int64_t kMaxContrast = 1024;                     // gain 4.0
constexpr int64_t kMaxNoiseSeed = (int64_t{1} << 53) - 1;  // exact in a JSON double

class Trace {
 public:
  // Reads and parses a descriptor file; every error is one line "PATH: FIELD: why".
  static Trace load(const std::string& path);
  // Parses descriptor text; `path` names it in errors.
  static Trace parse(const std::string& text, const std::string& path);

  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  const std::string& description() const { return description_; }
  const std::vector<Scene>& scenes() const { return scenes_; }

  size_t frames() const { return scene_starts_.back(); }
  // The scene of frame t (0-based) and the first frame of scene s.
  size_t scene(size_t t) const;
  size_t first_frame(size_t s) const { return scene_starts_.at(s); }
  // The test-set index of frame t's source image.
  size_t image(size_t t) const { return scenes_[scene(t)].image; }

  // Throws "PATH: scenes[S].image: I is outside the test set (N images)" for the first scene whose
  // image `test` does not hold. render() and label() make the same check for their frame.
  void check_images(const CifarSet& test) const;
  // The label of frame t: that of its source image in `test`.
  int label(size_t t, const CifarSet& test) const;
  // Frame t as 3x32x32 bytes, channel-major like a CIFAR-10 image, into `out`.
  void render(size_t t, const CifarSet& test, uint8_t* out) const;

 private:
  const uint8_t* source(size_t s, const CifarSet& test) const;

  std::string path_, name_, description_;
  std::vector<Scene> scenes_;
  std::vector<size_t> scene_starts_{0};  // first frame of each scene, then frames()
};

}  // namespace bsnpu
