// Subcommands of the bsnpu executable. Each parses its own options and returns the exit status;
// errors are thrown (bsnpu::Error) and reported by main as one line.
#pragma once

namespace bsnpu::cli {

int eval_command(int argc, char** argv);  // bit-exact accuracy sweep (src/cli/eval.cpp)
int run_command(int argc, char** argv);   // SystemC simulation: energy, latency, accuracy (run.cpp)
int frontier_command(int argc, char** argv);  // per-layer precision frontier (frontier.cpp)
int sweep_command(int argc, char** argv);  // design-space sweep, resumable, sharded (sweep.cpp)
int merge_command(int argc, char** argv);  // merges the directories of a sharded sweep (sweep.cpp)

}  // namespace bsnpu::cli
