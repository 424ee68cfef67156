"""Shared fixtures of the Python tests: scripts/ on sys.path, the paths of the shared inputs and of
the committed model. Tests that need ../shared data skip (with the reason) when it is absent; the
committed model and golden vectors are project files, so their absence is a failure."""

import json
import os
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(REPO_ROOT, "scripts")
if SCRIPTS not in sys.path:
    sys.path.insert(0, SCRIPTS)

from bsnpu import fileio, paths  # noqa: E402

PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.fixture(scope="session")
def data_dir():
    d = paths.data_dir()
    if not os.path.exists(os.path.join(d, fileio.CIFAR_TEST_FILE)):
        pytest.skip(f"CIFAR-10 binaries not found at {d} (set BSNPU_DATA)")
    return d


@pytest.fixture(scope="session")
def float_model_path():
    p = paths.float_model()
    if not os.path.exists(p):
        pytest.skip(f"float model not found at {p} (set BSNPU_FLOAT_MODEL)")
    return p


@pytest.fixture(scope="session")
def model_prefix():
    """The committed BWB model (BSNPU_MODEL overrides); missing is a failure, not a skip."""
    prefix = paths.model_prefix()
    assert os.path.exists(prefix + ".json"), f"{prefix}.json missing: run scripts/quantize.py"
    return prefix


@pytest.fixture(scope="session")
def model(model_prefix):
    from bsnpu import reference
    return reference.Model(model_prefix)


@pytest.fixture(scope="session")
def golden():
    d = os.environ.get("BSNPU_GOLDEN") or paths.golden_dir()
    manifest_path = os.path.join(d, "golden.json")
    assert os.path.exists(manifest_path), f"{manifest_path} missing: run scripts/make_golden.py"
    with open(manifest_path) as f:
        manifest = json.load(f)
    tensors, _ = fileio.load_safetensors(os.path.join(d, "golden.safetensors"))
    return manifest, tensors
