"""The command-line scripts fail early, with status 1 and one line on stderr naming the bad path,
instead of a traceback."""

import os
import subprocess

import pytest

from conftest import PYTHON, REPO_ROOT

MISSING = "/nonexistent/bsnpu-test-path"


def run_script(script, *args, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    return subprocess.run([PYTHON, os.path.join(REPO_ROOT, "scripts", script), *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=REPO_ROOT)


def assert_one_line_error(result, prefix, *needles):
    assert result.returncode != 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_quantize_missing_float_model(tmp_path):
    r = run_script("quantize.py", "--float-model", MISSING + ".safetensors", "--out", str(tmp_path / "m"))
    assert_one_line_error(r, "quantize: error:", MISSING)
    assert not os.listdir(tmp_path)


def test_quantize_missing_data(tmp_path, float_model_path):
    r = run_script("quantize.py", "--data", MISSING, "--float-model", float_model_path, "--out", str(tmp_path / "m"))
    assert_one_line_error(r, "quantize: error:", MISSING)
    assert not os.listdir(tmp_path)


def test_quantize_missing_data_from_environment(tmp_path, float_model_path):
    r = run_script("quantize.py", "--out", str(tmp_path / "m"),
                   env_extra={"BSNPU_DATA": MISSING, "BSNPU_FLOAT_MODEL": float_model_path})
    assert_one_line_error(r, "quantize: error:", MISSING)


def test_quantize_rejects_bad_act_bits(tmp_path):
    r = run_script("quantize.py", "--act-bits", "9", "--out", str(tmp_path / "m"))
    assert r.returncode != 0 and "--act-bits" in r.stderr


def test_make_golden_missing_model(tmp_path):
    r = run_script("make_golden.py", "--model", MISSING, "--out", str(tmp_path / "g"))
    assert_one_line_error(r, "make_golden: error:", MISSING + ".json")
    assert not os.path.exists(tmp_path / "g")


def test_accuracy_missing_data(tmp_path):
    r = run_script("accuracy.py", "--data", MISSING, "--out", str(tmp_path / "acc"))
    assert_one_line_error(r, "accuracy: error:", MISSING)


def test_train_missing_data(tmp_path):
    r = run_script("train.py", "--data", MISSING, "--out", str(tmp_path / "f.safetensors"))
    assert_one_line_error(r, "train: error:", MISSING)
    assert not os.listdir(tmp_path)


def test_ablation_refuses_a_work_folder_inside_the_repository():
    r = run_script("ablation.py", "--work", os.path.join(REPO_ROOT, "models", "ablation"))
    assert r.returncode == 2 and "--work must be outside the repository" in r.stderr


def test_quantize_ablation_switches_are_flags():
    r = run_script("quantize.py", "--help")
    assert "--no-bn-reestimation" in r.stdout and "--no-fc-affine" in r.stdout


@pytest.mark.parametrize("script", ["quantize.py", "make_golden.py", "accuracy.py", "ablation.py", "train.py"])
def test_help(script):
    r = run_script(script, "--help")
    assert r.returncode == 0 and "usage" in r.stdout
