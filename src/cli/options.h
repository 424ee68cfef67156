// What `bsnpu eval` and `bsnpu run` share: the common options (--bits or --precision, --images,
// --threads, --model, --data), the command-line parsing with its one-line errors, loading the model and the
// test images, and a progress bar.
#pragma once

#include <boost/program_options.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "core/cifar.h"
#include "core/model.h"
#include "core/precision.h"

namespace bsnpu::cli {

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

// Parses the command line into `values`; stray positional arguments are errors. Returns false
// when --help was asked for (the help is printed).
bool parse_command_line(int argc, char** argv,
                        const boost::program_options::options_description& options,
                        const std::string& command, boost::program_options::variables_map& values);

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
// file and the first --images test images; throws bsnpu::Error naming the option or the file.
Inputs load_inputs(const CommonOptions& common,
                   const boost::program_options::variables_map& values);

// A one-line progress bar on stderr, shown only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar(const std::string& label, size_t total);
  void update(size_t done) const;
  void finish() const;

 private:
  bool enabled_;
  std::string label_;
  size_t total_;
};

}  // namespace bsnpu::cli
