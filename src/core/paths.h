// Where bsnpu finds its inputs: the command-line option, then an environment variable, then a
// default relative to the repository (found from the executable's location, then the current
// directory, then the source tree it was built from).
#pragma once

#include <string>

namespace bsnpu {

// The repository root: the nearest directory above the executable (then the current directory)
// that holds docs/arithmetic.md; else the source directory of the build.
std::string repo_root();
// --data, else $BSNPU_DATA, else <repo>/../shared/datasets/cifar10/cifar-10-batches-bin.
std::string data_dir(const std::string& option);
// --model, else $BSNPU_MODEL, else <repo>/models/resnet18_cifar10: a prefix for .json and
// .safetensors (a trailing .json or .safetensors is dropped).
std::string model_prefix(const std::string& option);

}  // namespace bsnpu
