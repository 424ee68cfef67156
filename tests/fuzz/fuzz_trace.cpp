// libFuzzer target: the trace descriptor parser (Trace::parse) on arbitrary bytes, and the renderer
// on what it accepts: the first and last frame of every accepted trace are rendered from a
// two-image test set (UBSan watches the integer arithmetic), and a scene whose image lies outside
// that set must be refused with a one-line error naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/trace.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bsnpu;
  static const CifarSet test = [] {
    CifarSet set;
    set.labels = {3, 7};
    for (size_t p = 0; p < 2 * kImageBytes; ++p) set.pixels.push_back(static_cast<uint8_t>(p * 37));
    return set;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  Trace trace;
  try {
    trace = Trace::parse(text, "fuzz.json");
  } catch (const Error& error) {
    fuzz::check_error(error, "fuzz.json: ");
    return 0;
  }
  if (trace.frames() == 0 || trace.frames() > kMaxTraceFrames || trace.scenes().empty()) {
    fuzz::finding("accepted trace with no frames or too many");
  }
  std::vector<uint8_t> frame(kImageBytes);
  for (size_t t : {size_t{0}, trace.frames() - 1}) {
    const bool in_set = trace.image(t) < test.size();
    try {
      trace.render(t, test, frame.data());
      if (!in_set) fuzz::finding("rendered a frame whose image is outside the test set");
      if (trace.label(t, test) != test.labels[trace.image(t)]) fuzz::finding("wrong label");
    } catch (const Error& error) {
      if (in_set)
        fuzz::finding(std::string("refused a frame of an image in the set: ") + error.what());
      fuzz::check_error(error, "fuzz.json: scenes[");
    }
  }
  return 0;
}
