// bsnpu: bit-serial NPU simulator. `bsnpu eval` sweeps accuracy with the bit-exact fast kernels;
// `bsnpu run` simulates the SystemC model; `bsnpu compare` and `bsnpu regress` read its reports.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/commands.h"

namespace {

void print_usage(std::FILE* stream) {
  std::fputs(
      "usage: bsnpu <command> [options]\n"
      "  eval     bit-exact accuracy of every weight bit-width k (bsnpu eval --help)\n"
      "  run      SystemC simulation: energy, latency, accuracy (bsnpu run --help)\n"
      "  frames   the frames of a trace: summary, sha256, CIFAR-10 batch (bsnpu frames --help)\n"
      "  sweep    design-space sweep over configs, resumable and sharded (bsnpu sweep --help)\n"
      "  merge    merge the directories of a sharded sweep (bsnpu merge --help)\n"
      "  frontier greedy per-layer precision search: accuracy vs energy (bsnpu frontier --help)\n"
      "  compare  NPU configs or run reports side by side (bsnpu compare --help)\n"
      "  regress  a run report gated against a baseline: exit 0 pass, 1 regression, 2 bad input\n"
      "           (bsnpu regress --help)\n"
      "  stream   a trace under a dynamic-precision policy (bsnpu stream --help)\n",
      stream);
}

}  // namespace

namespace {

// Every subcommand's failure is one line on stderr and exit status `error_status`: 1, except for
// regress, whose 1 means a regression and whose errors (bad input) are 2.
int guarded(int (*command)(int, char**), int argc, char** argv, int error_status = 1) {
  try {
    return command(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bsnpu: error: %s\n", e.what());
    return error_status;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Past a file-size limit (ulimit -f) a write fails with EFBIG, reported as an error, instead
  // of the signal killing the process with the output half written.
  std::signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char* command = argv[1];
  if (std::strcmp(command, "eval") == 0)
    return guarded(bsnpu::cli::eval_command, argc - 1, argv + 1);
  if (std::strcmp(command, "run") == 0) return guarded(bsnpu::cli::run_command, argc - 1, argv + 1);
  if (std::strcmp(command, "frames") == 0)
    return guarded(bsnpu::cli::frames_command, argc - 1, argv + 1);
  if (std::strcmp(command, "compare") == 0)
    return guarded(bsnpu::cli::compare_command, argc - 1, argv + 1);
  if (std::strcmp(command, "regress") == 0)
    return guarded(bsnpu::cli::regress_command, argc - 1, argv + 1, 2);
  if (std::strcmp(command, "sweep") == 0)
    return guarded(bsnpu::cli::sweep_command, argc - 1, argv + 1);
  if (std::strcmp(command, "merge") == 0)
    return guarded(bsnpu::cli::merge_command, argc - 1, argv + 1);
  if (std::strcmp(command, "frontier") == 0)
    return guarded(bsnpu::cli::frontier_command, argc - 1, argv + 1);
  if (std::strcmp(command, "stream") == 0)
    return guarded(bsnpu::cli::stream_command, argc - 1, argv + 1);
  if (std::strcmp(command, "--help") == 0 || std::strcmp(command, "-h") == 0) {
    print_usage(stdout);
    return 0;
  }
  std::fprintf(stderr,
               "bsnpu: error: unknown command '%s' (commands: eval, run, frames, sweep, merge, "
               "frontier, compare, regress, stream; see "
               "bsnpu --help)\n",
               command);
  return 2;
}
