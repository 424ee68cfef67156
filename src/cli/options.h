// What `bsnpu eval` and `bsnpu run` share: the common options (--bits or --precision, --images,
// --threads, --model, --data), the command-line parsing with its one-line errors, loading the model
// and the test images, and a progress bar.
#pragma once

#include <boost/program_options.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/model.h"
#include "core/precision.h"

namespace bsnpu::cli {

// The help of --model and --data, the same for every command that reads the model or the images.
extern const char* const kModelHelp;
extern const char* const kDataHelp;

struct CommonOptions {
  std::string bits = "1-8";
  std::string precision;  // a JSON file holding one precision (core/precision.h)
  std::string images;
  int threads = 1;
  std::string model;
  std::string data;
};

// Adds the common options to `options`; `images` is the --images default ("all" or a count).
void add_common_options(boost::program_options::options_description& options, CommonOptions& common,
                        const std::string& images);

// Parses the command line into `values`; positional arguments go to `positionals`, or are errors
// when it is null. Returns false when --help was asked for (the help is printed).
bool parse_command_line(int argc, char** argv,
                        const boost::program_options::options_description& options,
                        const std::string& command, boost::program_options::variables_map& values,
                        std::vector<std::string>* positionals = nullptr);

// An image count option: "all" -> 0 (every image), else a positive count; throws bsnpu::Error
// naming `option` otherwise.
size_t parse_images(const std::string& text, const std::string& option);

// "1-8", "1,2,8", "4", "1-3,8" -> sorted distinct k in 1..8; throws bsnpu::Error otherwise.
std::vector<int> parse_bits(const std::string& text);

// The validated common options and what they name, loaded.
struct Inputs {
  // What to run, one row each: every k of --bits as a uniform precision, or the one of
  // --precision.
  std::vector<Precision> precisions;
  int threads = 1;
  Model model;
  std::string data_dir;
  CifarSet images;
};
// Checks the options first (--bits and --precision exclude each other; `values` tells whether
// --bits was given), then loads the model (every k of --bits must have parameters), the precision
// file and, when `with_images`, the first --images test images; throws bsnpu::Error naming the
// option or the file.
Inputs load_inputs(const CommonOptions& common, const boost::program_options::variables_map& values,
                   bool with_images = true);

// SHA-256 of the images' labels then pixels: the `data.sha256` of reports, and the data part of
// the sweep's accuracy cache key.
std::string images_sha256(const CifarSet& images);

// A one-line progress bar on stderr, shown only when stderr is a terminal. With `eta`, it also
// shows the estimated time left, from the rate since construction: `already_done` units (e.g.
// the points a resumed sweep skips) count as done but not towards the rate.
class ProgressBar {
 public:
  ProgressBar(const std::string& label, size_t total, bool eta = false, size_t already_done = 0);
  void update(size_t done) const;
  void finish() const;

 private:
  bool enabled_;
  std::string label_;
  size_t total_;
  bool eta_;
  size_t already_done_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace bsnpu::cli
