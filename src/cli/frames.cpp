// bsnpu frames: the frames of a trace (docs/trace-format.md) as the simulator sees them: a
// summary, the sha256 of all their bytes (to compare with scripts/bsnpu/frames.py) and a CIFAR-10
// binary batch that `bsnpu eval --data` measures static accuracy on.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/output.h"
#include "core/cifar.h"
#include "core/error.h"
#include "core/paths.h"
#include "core/sha256.h"
#include "core/trace.h"

namespace bsnpu::cli {

int frames_command(int argc, char** argv) {
  namespace po = boost::program_options;
  std::string trace_path, data, cifar_path;
  po::options_description options(
      "usage: bsnpu frames --trace T.json [options]\n"
      "Renders the frames of a trace from the CIFAR-10 test images (docs/trace-format.md) and\n"
      "prints the trace's frames, scenes and mean scene length");
  options.add_options()("help,h", "show this help")("trace", po::value(&trace_path),
                                                    "trace descriptor (JSON), required")(
      "data", po::value(&data), kDataHelp)(
      "sha256", po::bool_switch(), "print the sha256 of all frames' bytes, frame after frame")(
      "clean", po::bool_switch(),
      "render each frame's source image untransformed (the same images without the trace's "
      "transforms)")("out-cifar", po::value(&cifar_path),
                     "write the frames as a CIFAR-10 binary batch (label byte + 3072 pixel bytes "
                     "per frame); name it test_batch.bin in a folder for bsnpu eval --data");
  po::variables_map values;
  if (!parse_command_line(argc, argv, options, "frames", values)) return 0;
  if (!values.count("trace")) throw Error("--trace: missing (see bsnpu frames --help)");
  Outputs outputs;
  if (values.count("out-cifar")) outputs.add("--out-cifar", cifar_path);
  const Trace trace = Trace::load(trace_path);
  if (values.count("out-cifar") && trace.frames() > kMaxCifarRecords) {
    throw Error("--out-cifar: " + trace_path + " has " + std::to_string(trace.frames()) +
                " frames, more than the " + std::to_string(kMaxCifarRecords) +
                " records of a CIFAR-10 binary batch");
  }
  const CifarSet test = load_cifar_test(data_dir(data));
  trace.check_images(test);

  const bool clean = values["clean"].as<bool>();
  Sha256 digest;
  std::vector<uint8_t> batch;
  std::vector<uint8_t> frame(kImageBytes);
  const ProgressBar bar("frames", trace.frames());
  for (size_t t = 0; t < trace.frames(); ++t) {
    if (clean) {
      const uint8_t* source = test.image(trace.image(t));
      frame.assign(source, source + kImageBytes);
    } else {
      trace.render(t, test, frame.data());
    }
    digest.update(frame.data(), frame.size());
    if (values.count("out-cifar")) {
      batch.push_back(static_cast<uint8_t>(trace.label(t, test)));
      batch.insert(batch.end(), frame.begin(), frame.end());
    }
    if (t % 1024 == 0) bar.update(t);
  }
  bar.finish();

  const size_t scenes = trace.scenes().size();
  std::printf("%s: %zu frames, %zu scenes, mean scene %.1f frames\n", trace.name().c_str(),
              trace.frames(), scenes,
              static_cast<double>(trace.frames()) / static_cast<double>(scenes));
  if (values["sha256"].as<bool>()) {
    std::printf("sha256 %s of %zu %sframes\n", digest.hex().c_str(), trace.frames(),
                clean ? "clean " : "");
  }
  if (values.count("out-cifar")) {
    outputs.stage_bytes("--out-cifar", batch.data(), batch.size());
    outputs.commit();
  }
  return 0;
}

}  // namespace bsnpu::cli
