// Subcommands of the bsnpu executable. Each parses its own options and returns the exit status;
// errors are thrown (bsnpu::Error) and reported by main as one line.
#pragma once

namespace bsnpu::cli {

int eval_command(int argc, char** argv);  // bit-exact accuracy sweep (src/cli/eval.cpp)
int run_command(int argc, char** argv);   // SystemC simulation: energy, latency, accuracy (run.cpp)
int frames_command(int argc, char** argv);  // the frames of a trace: summary, sha256, CIFAR batch
int stream_command(int argc, char** argv);  // a trace under a dynamic-precision policy (stream.cpp)

}  // namespace bsnpu::cli
