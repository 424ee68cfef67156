"""scripts/train.py and bsnpu/train.py: schedule, augmentation, architecture (the same network
as torchmodel's and the shared float model's), a tiny run through the CLI, and bit-exact resume."""

import json
import math
import os
import subprocess

import numpy as np
import pytest
import torch

from bsnpu import fileio, torchmodel, train
from conftest import PYTHON, REPO_ROOT

TINY = ["--train-images", "16", "--batch", "8", "--threads", "2"]


def test_lr_schedule():
    cfg = train.default_config()
    spe = 100  # 7 epochs of phase 1 = 700 steps, warm-up over round(0.15 * 700) = 105
    lr = [train.lr_at(s, spe, cfg) for s in range(1000)]
    assert lr[0] == pytest.approx(0.015)
    assert lr[52] == pytest.approx(0.015 + 0.135 * 52 / 105)
    assert lr[105] == pytest.approx(0.15)
    assert max(lr) == pytest.approx(0.15)
    assert all(a < b for a, b in zip(lr[:105], lr[1:106]))          # warm-up rises
    assert all(a >= b for a, b in zip(lr[105:699], lr[106:700]))    # cosine falls
    assert lr[699] < 1e-5
    assert lr[700] == pytest.approx(0.05)                            # warm restart at epoch 8
    assert lr[850] == pytest.approx(0.025)
    assert all(a >= b for a, b in zip(lr[700:999], lr[701:1000])) and 0 < lr[999] < 1e-5
    assert train.resolution(0, cfg) == train.resolution(2, cfg) == 24 and train.resolution(3, cfg) == 32
    short = dict(cfg, epochs=1)  # a run shorter than the restart epoch is all phase 1
    assert train.lr_at(0, 4, short) == pytest.approx(0.015) and train.lr_at(1, 4, short) == pytest.approx(0.15)


def test_train_batch_augmentation():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 3, 32, 32), dtype=np.uint8)
    a = train.train_batch(images, 0, 5, 32)
    assert a.shape == (6, 3, 32, 32) and a.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(a, train.train_batch(images, 0, 5, 32))      # (seed, step) fixes the batch
    assert not torch.equal(a, train.train_batch(images, 0, 6, 32))
    assert not torch.equal(a, train.train_batch(images, 1, 5, 32))
    low = train.train_batch(images, 0, 5, 24)
    assert low.shape == (6, 3, 24, 24)
    # every augmented image is a window of the reflect-padded normalized image, maybe flipped
    # (one offset for the whole batch)
    padded = torch.nn.functional.pad(train.normalize(images), (4, 4, 4, 4), mode="reflect")
    found = []
    for dy in range(9):
        for dx in range(9):
            crop = padded[:, :, dy:dy + 32, dx:dx + 32]
            ok = [(torch.equal(a[i], crop[i]) or torch.equal(a[i], crop[i].flip(2))) for i in range(6)]
            if all(ok):
                found.append((dy, dx))
    assert len(found) == 1, found
    # and the 24x24 batch is the antialiased downscale of the same 32x32 batch
    ref = torch.nn.functional.interpolate(a.contiguous(), size=(24, 24), mode="bilinear",
                                          align_corners=False, antialias=True)
    assert torch.allclose(low, ref, atol=1e-6)


def test_architecture_matches_torchmodel_and_shared_model(float_model_path, data_dir):
    """Names and shapes equal the shared model's; loaded with its weights, the nn.Module computes
    what torchmodel's functional float net computes."""
    shared, _ = fileio.load_safetensors(float_model_path)
    model = train.ResNet18()
    exported = train.export_tensors(model)
    assert {n: a.shape for n, a in exported.items()} == {n: a.shape for n, a in shared.items()}
    assert all(a.dtype == np.float32 for a in exported.values())
    missing, unexpected = model.load_state_dict({n: torch.from_numpy(np.array(a)) for n, a in shared.items()},
                                                strict=False)
    assert not unexpected and all(n.endswith("num_batches_tracked") for n in missing)
    model = model.eval().to(memory_format=torch.channels_last)
    with open(float_model_path.rsplit(".", 1)[0] + ".json") as f:
        card = json.load(f)
    assert list(train.MEAN) == card["input"]["mean"] and list(train.STD) == card["input"]["std"]
    images, _ = fileio.load_cifar(data_dir, "test", 4)
    with torch.no_grad():
        ours = model(train.normalize(images).contiguous(memory_format=torch.channels_last))
        theirs = torchmodel.float_net(torchmodel.load_float_params(shared), card).forward(torch.from_numpy(images))
    assert torch.allclose(ours, theirs, atol=1e-3, rtol=1e-4), (ours - theirs).abs().max()


def run_train(*args):
    return subprocess.run([PYTHON, os.path.join(REPO_ROOT, "scripts", "train.py"), *args], capture_output=True,
                          text=True, timeout=300, cwd=REPO_ROOT)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory, data_dir):
    """2 steps = the first epoch of 16 images in batches of 8, checkpointed."""
    d = tmp_path_factory.mktemp("train")
    out, ck = str(d / "tiny.safetensors"), str(d / "ck.pt")
    r = run_train(*TINY, "--max-steps", "2", "--test-images", "8", "--log-every", "1", "--data", data_dir,
                  "--out", out, "--checkpoint", ck)
    return r, out, ck


@pytest.fixture(scope="module")
def cli_resumed(cli_run, data_dir):
    """The checkpoint of cli_run resumed for one more step (into the second epoch)."""
    r, out, ck = cli_run
    assert r.returncode == 0, r.stderr
    step_before = torch.load(ck)["step"]
    out2 = out.replace("tiny", "resumed")
    r2 = run_train(*TINY, "--max-steps", "3", "--test-images", "0", "--log-every", "1", "--data", data_dir,
                   "--out", out2, "--checkpoint", ck, "--resume")
    return r2, out2, ck, step_before


def test_cli_tiny_run(cli_run, float_model_path):
    r, out, ck = cli_run
    assert r.returncode == 0, r.stderr
    losses = [float(line.split(" loss ")[1].split()[0]) for line in r.stderr.splitlines() if " loss " in line]
    assert len(losses) == 2 and all(math.isfinite(v) for v in losses), r.stderr
    assert any(line.startswith("EPOCH 1 res 24 ") for line in r.stderr.splitlines()), r.stderr
    tensors, meta = fileio.load_safetensors(out)
    shared, shared_meta = fileio.load_safetensors(float_model_path)
    assert {n: (a.shape, a.dtype) for n, a in tensors.items()} == {n: (a.shape, a.dtype) for n, a in shared.items()}
    assert meta == shared_meta
    assert list(tensors) == sorted(tensors)
    assert all(np.isfinite(a).all() for a in tensors.values())
    with open(out.rsplit(".", 1)[0] + ".json") as f:
        card = json.load(f)
    assert card["sha256"] == fileio.sha256_file(out)
    assert card["input"]["mean"] == list(train.MEAN) and card["training"]["batch"] == 8
    assert card["log"] and card["log"][0].startswith("EPOCH 1 ")


def test_cli_resume_continues_at_the_saved_step(cli_resumed, data_dir):
    r2, out2, ck, step_before = cli_resumed
    assert step_before == 2
    assert r2.returncode == 0, r2.stderr
    assert "resumed" in r2.stderr and "at step 2/" in r2.stderr
    steps = [line.split("step ")[1].split("/")[0] for line in r2.stderr.splitlines() if line.startswith("train: step")]
    assert steps == ["3"], r2.stderr
    assert torch.load(ck)["step"] == 3
    # a different trajectory option is refused, in one line naming the checkpoint
    r3 = run_train("--train-images", "16", "--batch", "4", "--max-steps", "5", "--test-images", "0", "--data",
                   data_dir, "--out", out2 + ".x", "--checkpoint", ck, "--resume")
    assert r3.returncode == 1 and len(r3.stderr.strip().splitlines()) == 1 and ck in r3.stderr, r3.stderr
    assert "batch=8" in r3.stderr
    assert not os.path.exists(out2 + ".x")


def test_resume_is_bit_exact(cli_resumed, tmp_path, data_dir):
    """2 steps + checkpoint + resume for 1 more step (across an epoch boundary, in other
    processes) == 3 uninterrupted steps, to the last bit."""
    r2, out2, _, _ = cli_resumed
    assert r2.returncode == 0, r2.stderr
    cfg = dict(train.default_config(), train_images=16, batch=8)
    straight, step, _ = train.train(cfg, data_dir, str(tmp_path / "a.safetensors"), max_steps=3, test_images=0,
                                    log_every=0)
    assert step == 3
    a, _ = fileio.load_safetensors(str(tmp_path / "a.safetensors"))
    b, _ = fileio.load_safetensors(out2)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    # and training did move the weights (the comparison above is not between two fresh inits)
    fresh = train.export_tensors(train.ResNet18())
    assert not np.array_equal(fresh["fc.weight"], a["fc.weight"])
    assert not np.array_equal(fresh["layer1.0.conv1.weight"], a["layer1.0.conv1.weight"])


def test_resume_errors(tmp_path, data_dir):
    cfg = dict(train.default_config(), train_images=16, batch=8)
    with pytest.raises(fileio.FormatError, match="no such checkpoint"):
        train.train(cfg, data_dir, None, checkpoint=str(tmp_path / "none.pt"), resume=True, max_steps=1,
                    test_images=0)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(fileio.FormatError, match="junk.pt"):
        train.train(cfg, data_dir, None, checkpoint=str(junk), resume=True, max_steps=1, test_images=0)


def test_too_few_images(tmp_path, data_dir):
    cfg = dict(train.default_config(), train_images=4, batch=8)
    with pytest.raises(fileio.FormatError, match="fewer than one batch"):
        train.train(cfg, data_dir, None, max_steps=1, test_images=0)
