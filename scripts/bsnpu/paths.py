"""Where bsnpu finds its inputs: command-line option, then environment variable, then the
read-only ../shared/ folder beside the repository."""

import os

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(REPO_ROOT), "shared")


def data_dir(option=None):
    return option or os.environ.get("BSNPU_DATA") or os.path.join(
        SHARED, "datasets", "cifar10", "cifar-10-batches-bin")


def float_model(option=None):
    return option or os.environ.get("BSNPU_FLOAT_MODEL") or os.path.join(
        SHARED, "models", "resnet18_cifar10_float.safetensors")


def model_prefix(option=None):
    """The project's quantized model: PREFIX.safetensors + PREFIX.json."""
    return option or os.environ.get("BSNPU_MODEL") or os.path.join(REPO_ROOT, "models", "resnet18_cifar10")


def golden_dir():
    return os.path.join(REPO_ROOT, "tests", "golden")
