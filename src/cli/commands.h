// Subcommands of the bsnpu executable. Each parses its own options and returns the exit status;
// errors are thrown (bsnpu::Error) and reported by main as one line (exit status 1; regress: 2).
#pragma once

namespace bsnpu::cli {

int eval_command(int argc, char** argv);  // bit-exact accuracy sweep (src/cli/eval.cpp)
int run_command(int argc, char** argv);   // SystemC simulation: energy, latency, accuracy (run.cpp)
int frames_command(int argc, char** argv);   // the frames of a trace: summary, sha256, CIFAR batch
int compare_command(int argc, char** argv);  // configs or reports side by side (compare.cpp)
int regress_command(int argc, char** argv);  // a report gated against a baseline (regress.cpp)
int sweep_command(int argc, char** argv);    // design-space sweep, resumable, sharded (sweep.cpp)
int merge_command(int argc, char** argv);  // merges the directories of a sharded sweep (sweep.cpp)
int frontier_command(int argc, char** argv);  // per-layer precision frontier (frontier.cpp)
int stream_command(int argc, char** argv);  // a trace under a dynamic-precision policy (stream.cpp)

}  // namespace bsnpu::cli
