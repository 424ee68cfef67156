#include "core/trace.h"

#include <algorithm>

#include "core/error.h"
#include "core/files.h"
#include "core/json_fields.h"

namespace bsnpu {

namespace {

using nlohmann::json;

// Floor division (rounds toward minus infinity, like Python's //); `divisor` > 0.
int64_t floor_div(int64_t value, int64_t divisor) {
  const int64_t quotient = value / divisor;
  return quotient - (value % divisor < 0 ? 1 : 0);
}

// The output of splitmix64 number `index` + 1 from state `seed`: the state after index + 1 steps
// of adding the golden-ratio increment, through the splitmix64 finalizer (all mod 2^64).
uint64_t splitmix64(uint64_t seed, uint64_t index) {
  uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// An integer in low..high, or an array [start, end] of two such integers; absent: `fallback`.
Ramp read_ramp(FieldReader& reader, const std::string& key, int64_t low, int64_t high,
               int64_t fallback) {
  const json* value = reader.find(key);
  if (!value) return {fallback, fallback};
  if (value->is_array()) {
    const std::vector<int64_t> ends = reader.integers(key, low, high, 2, 2);
    return {ends[0], ends[1]};
  }
  if (!value->is_number_integer()) {
    reader.fail(key, "must be an integer in " + std::to_string(low) + ".." + std::to_string(high) +
                         " or an array [start, end] of two");
  }
  const int64_t constant = reader.integer_in(key, low, high);
  return {constant, constant};
}

Scene read_scene(FieldReader& reader) {
  Scene scene;
  scene.image = static_cast<size_t>(reader.integer_in("image", 0, kMaxCifarRecords - 1));
  scene.frames = static_cast<size_t>(reader.integer_in("frames", 1, kMaxTraceFrames));
  scene.shift_x = read_ramp(reader, "shift_x", -kMaxShift, kMaxShift, 0);
  scene.shift_y = read_ramp(reader, "shift_y", -kMaxShift, kMaxShift, 0);
  scene.contrast = read_ramp(reader, "contrast", 0, kMaxContrast, 256);
  scene.brightness = read_ramp(reader, "brightness", -255, 255, 0);
  scene.noise = read_ramp(reader, "noise", 0, 255, 0);
  if (reader.find("noise_seed")) {
    scene.noise_seed = static_cast<uint64_t>(reader.integer_in("noise_seed", 0, kMaxNoiseSeed));
  }
  if (reader.find("occlusion")) {
    FieldReader occlusion = reader.object("occlusion");
    scene.occluded = true;
    for (const char* key : {"x", "y", "width", "height"}) occlusion.require(key);
    scene.occlusion.x = read_ramp(occlusion, "x", -kImageSide, kImageSide, 0);
    scene.occlusion.y = read_ramp(occlusion, "y", -kImageSide, kImageSide, 0);
    scene.occlusion.width = read_ramp(occlusion, "width", 0, kImageSide, 0);
    scene.occlusion.height = read_ramp(occlusion, "height", 0, kImageSide, 0);
    const std::vector<int64_t> fill = occlusion.integers("fill", 0, 255, 3, 3);
    for (size_t c = 0; c < 3; ++c) scene.occlusion.fill[c] = static_cast<uint8_t>(fill[c]);
    occlusion.finish();
  }
  reader.finish();
  return scene;
}

}  // namespace

int64_t Ramp::at(size_t i, size_t frames) const {
  if (frames < 2) return start;
  return start +
         floor_div((end - start) * static_cast<int64_t>(i), static_cast<int64_t>(frames - 1));
}

Trace Trace::load(const std::string& path) {
  return parse(read_text_file(path, kMaxJsonFileBytes, "a trace descriptor"), path);
}

Trace Trace::parse(const std::string& text, const std::string& path) {
  const json document = parse_json(text, path);
  FieldReader reader(document, path, "");
  reader.header("bsnpu-trace", 1);
  Trace trace;
  trace.path_ = path;
  trace.name_ = reader.string("name", "", true);
  if (trace.name_.empty()) reader.fail("name", "must not be empty");
  trace.description_ = reader.string("description", "");
  reader.expect_constant("source", "cifar10-test");
  reader.object("generator");  // informational: any object, its keys are not read
  for (FieldReader& scene_reader :
       reader.objects("scenes", 1, "must be a non-empty array of scene objects")) {
    trace.scenes_.push_back(read_scene(scene_reader));
    const size_t total = trace.scene_starts_.back() + trace.scenes_.back().frames;
    if (total > kMaxTraceFrames) {
      reader.fail("scenes", "more than " + std::to_string(kMaxTraceFrames) + " frames in all");
    }
    trace.scene_starts_.push_back(total);
  }
  reader.finish();
  return trace;
}

size_t Trace::scene(size_t t) const {
  if (t >= frames()) {
    throw Error(path_ + ": frame " + std::to_string(t) + " is outside the trace's " +
                std::to_string(frames()) + " frames");
  }
  return static_cast<size_t>(std::upper_bound(scene_starts_.begin(), scene_starts_.end(), t) -
                             scene_starts_.begin()) -
         1;
}

const uint8_t* Trace::source(size_t s, const CifarSet& test) const {
  if (scenes_[s].image >= test.size()) {
    throw Error(path_ + ": scenes[" + std::to_string(s) +
                "].image: " + std::to_string(scenes_[s].image) + " is outside the test set (" +
                std::to_string(test.size()) + " images)");
  }
  return test.image(scenes_[s].image);
}

void Trace::check_images(const CifarSet& test) const {
  for (size_t s = 0; s < scenes_.size(); ++s) source(s, test);
}

int Trace::label(size_t t, const CifarSet& test) const {
  const size_t s = scene(t);
  source(s, test);
  return test.labels[scenes_[s].image];
}

void Trace::render(size_t t, const CifarSet& test, uint8_t* out) const {
  constexpr int64_t kSide = kImageSide;
  const size_t s = scene(t);
  const Scene& scene = scenes_[s];
  const uint8_t* image = source(s, test);
  const size_t i = t - scene_starts_[s], n = scene.frames;
  const int64_t shift_x = scene.shift_x.at(i, n), shift_y = scene.shift_y.at(i, n);
  const int64_t gain = scene.contrast.at(i, n), offset = scene.brightness.at(i, n);
  const int64_t noise = scene.noise.at(i, n);
  int64_t left = 0, top = 0, right = 0,
          bottom = 0;  // occluded: left <= x < right, top <= y < bottom
  if (scene.occluded) {
    left = scene.occlusion.x.at(i, n);
    top = scene.occlusion.y.at(i, n);
    right = left + scene.occlusion.width.at(i, n);
    bottom = top + scene.occlusion.height.at(i, n);
  }
  // Bilinear taps of one output coordinate: source positions p0, p0 + 1 (clamped to the image:
  // edge replication) and the weight of the second, in 1/16.
  struct Taps {
    int64_t first, second, weight;
  };
  const auto taps = [&](int64_t coordinate, int64_t shift) {
    const int64_t position = 16 * coordinate - shift;
    const int64_t whole = floor_div(position, 16);
    return Taps{std::clamp<int64_t>(whole, 0, kSide - 1),
                std::clamp<int64_t>(whole + 1, 0, kSide - 1), position - 16 * whole};
  };
  for (int64_t c = 0; c < kImageChannels; ++c) {
    const uint8_t* plane = image + c * kSide * kSide;
    int64_t sum = 0;
    for (int64_t p = 0; p < kSide * kSide; ++p) sum += plane[p];
    const int64_t mean = (sum + 512) >> 10;
    for (int64_t y = 0; y < kSide; ++y) {
      const Taps row = taps(y, shift_y);
      for (int64_t x = 0; x < kSide; ++x) {
        const Taps column = taps(x, shift_x);
        const auto at = [&](int64_t r, int64_t q) -> int64_t { return plane[r * kSide + q]; };
        int64_t value = ((16 - column.weight) * (16 - row.weight) * at(row.first, column.first) +
                         column.weight * (16 - row.weight) * at(row.first, column.second) +
                         (16 - column.weight) * row.weight * at(row.second, column.first) +
                         column.weight * row.weight * at(row.second, column.second) + 128) >>
                        8;
        if (x >= left && x < right && y >= top && y < bottom) value = scene.occlusion.fill[c];
        value = mean + floor_div((value - mean) * gain + 128, 256) + offset;
        if (noise > 0) {
          const uint64_t index =
              i * kImageBytes + static_cast<uint64_t>((c * kSide + y) * kSide + x);
          value += static_cast<int64_t>(splitmix64(scene.noise_seed, index) %
                                        static_cast<uint64_t>(2 * noise + 1)) -
                   noise;
        }
        out[(c * kSide + y) * kSide + x] = static_cast<uint8_t>(std::clamp<int64_t>(value, 0, 255));
      }
    }
  }
}

}  // namespace bsnpu
