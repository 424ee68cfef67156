// Subcommands of the bsnpu executable. Each parses its own options and returns the exit status.
#pragma once

namespace bsnpu::cli {

int eval_command(int argc, char** argv);  // bit-exact accuracy sweep (src/cli/eval.cpp)
int run_command(int argc, char** argv);   // SystemC simulation: energy, latency, accuracy (run.cpp)

}  // namespace bsnpu::cli
