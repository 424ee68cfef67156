"""Traces (docs/trace-format.md): the C++ renderer (`bsnpu frames`) and the Python twin
(scripts/bsnpu/frames.py) give the same bytes for every frame of every committed trace; the
committed traces are exactly what scripts/make_traces.py makes; the Python parser is as strict as
the document."""

import glob
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import PYTHON, REPO_ROOT

from bsnpu import fileio, frames  # noqa: E402

sys.path.insert(0, os.path.join(REPO_ROOT, "scripts"))
import make_traces  # noqa: E402

BSNPU = os.path.join(REPO_ROOT, "build", "bsnpu")
TRACES = sorted(glob.glob(os.path.join(REPO_ROOT, "traces", "*.json"))
                + glob.glob(os.path.join(REPO_ROOT, "traces", "heldout", "*.json")))


@pytest.fixture(scope="module")
def test_set(data_dir):
    return fileio.load_cifar(data_dir, "test")


def bsnpu(*args):
    assert os.path.exists(BSNPU), f"{BSNPU} missing: run 'bash scripts/setup.sh'"
    return subprocess.run([BSNPU, *args], capture_output=True, text=True, timeout=300)


def test_every_character_is_committed_with_a_heldout_twin():
    names = [os.path.relpath(p, os.path.join(REPO_ROOT, "traces")) for p in TRACES]
    assert names == ["cuts.json", "drift.json", "hard.json",
                     "heldout/cuts.json", "heldout/drift.json", "heldout/hard.json"]


@pytest.mark.parametrize("path", TRACES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_cpp_and_python_frames_are_identical(path, test_set, data_dir, tmp_path):
    images, labels = test_set
    trace = frames.Trace.load(path)
    batch = tmp_path / "test_batch.bin"
    r = bsnpu("frames", "--trace", path, "--data", data_dir, "--sha256", "--out-cifar", str(batch))
    assert r.returncode == 0, r.stderr
    python_sha256 = frames.sha256(trace, images)
    assert f"sha256 {python_sha256} of {trace.frames} frames" in r.stdout, r.stdout
    # The same bytes frame by frame (a mismatch names the first frame that differs) and the labels.
    records = np.frombuffer(batch.read_bytes(), dtype=np.uint8).reshape(-1, fileio.CIFAR_RECORD_BYTES)
    rendered = frames.render(trace, images).reshape(trace.frames, -1)
    differ = np.nonzero((records[:, 1:] != rendered).any(axis=1))[0]
    assert differ.size == 0, f"frame {differ[0]} (scene {trace.scene_of(differ[0])}) differs"
    assert np.array_equal(records[:, 0], frames.labels(trace, labels))


def test_clean_frames_are_the_source_images(test_set, data_dir, tmp_path):
    images, labels = test_set
    path = os.path.join(REPO_ROOT, "traces", "hard.json")
    trace = frames.Trace.load(path)
    batch = tmp_path / "test_batch.bin"
    r = bsnpu("frames", "--trace", path, "--data", data_dir, "--clean", "--out-cifar", str(batch))
    assert r.returncode == 0, r.stderr
    records = np.frombuffer(batch.read_bytes(), dtype=np.uint8).reshape(-1, fileio.CIFAR_RECORD_BYTES)
    sources = np.repeat([s["image"] for s in trace.scenes], [s["frames"] for s in trace.scenes])
    assert np.array_equal(records[:, 1:], images[sources].reshape(trace.frames, -1))
    assert np.array_equal(records[:, 0], labels[sources])
    assert "hard: 5000 frames," in r.stdout


def test_image_outside_the_test_set_is_one_line_and_keeps_the_old_output(data_dir, tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"format": "bsnpu-trace", "version": 1, "name": "t", "source": "cifar10-test",
                                 "scenes": [{"image": 1, "frames": 2}, {"image": 99999, "frames": 1}]}))
    out = tmp_path / "b.bin"
    out.write_bytes(b"old")
    r = bsnpu("frames", "--trace", str(trace), "--data", data_dir, "--out-cifar", str(out))
    assert r.returncode == 1
    assert r.stderr == f"bsnpu: error: {trace}: scenes[1].image: 99999 is outside the test set (10000 images)\n"
    assert out.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["b.bin", "t.json"]


def test_out_cifar_refuses_more_frames_than_a_batch_holds(data_dir, tmp_path):
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"format": "bsnpu-trace", "version": 1, "name": "t", "source": "cifar10-test",
                                 "scenes": [{"image": 0, "frames": 100001}]}))
    r = bsnpu("frames", "--trace", str(trace), "--data", data_dir, "--out-cifar", str(tmp_path / "b.bin"))
    assert r.returncode == 1
    assert r.stderr.startswith(f"bsnpu: error: --out-cifar: {trace} has 100001 frames, more than the 100000")
    assert sorted(os.listdir(tmp_path)) == ["t.json"]


def test_frames_output_is_a_batch_bsnpu_eval_reads(test_set, data_dir, tmp_path):
    """bsnpu eval --data on a folder holding a trace's batch measures accuracy on its frames."""
    trace = tmp_path / "t.json"
    trace.write_text(json.dumps({"format": "bsnpu-trace", "version": 1, "name": "t", "source": "cifar10-test",
                                 "scenes": [{"image": i, "frames": 3, "noise": 4} for i in range(6)]}))
    assert bsnpu("frames", "--trace", str(trace), "--data", data_dir, "--out-cifar",
                 str(tmp_path / "test_batch.bin")).returncode == 0
    r = bsnpu("eval", "--data", str(tmp_path), "--bits", "8", "--threads", "1", "--json", str(tmp_path / "e.json"))
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "e.json").read_text())["per_bits"]["8"]["images"] == 18


def test_splitmix64_reference_outputs():
    """Vigna's reference: the first outputs of splitmix64 from seed 1234567."""
    outputs = frames.splitmix64(1234567, np.arange(3, dtype=np.uint64))
    assert outputs.tolist() == [6457827717110365317, 3203168211198807973, 9817491932198370423]


def test_ramps_floor_toward_minus_infinity():
    i = np.arange(4)
    assert frames.ramp_values((0, 10), i, 4).tolist() == [0, 3, 6, 10]
    assert frames.ramp_values((0, -10), i, 4).tolist() == [0, -4, -7, -10]
    assert frames.ramp_values((5, 9), np.arange(1), 1).tolist() == [5]


def test_whole_pixel_shift_copies_pixels_with_edge_replication():
    image = np.arange(3 * 32 * 32, dtype=np.int64).reshape(3, 32, 32) % 251
    image = image.astype(np.uint8)
    trace = frames.Trace.parse(json.dumps({"format": "bsnpu-trace", "version": 1, "name": "t",
                                           "source": "cifar10-test",
                                           "scenes": [{"image": 0, "frames": 1, "shift_x": 32, "shift_y": -16}]}),
                               "t.json")
    frame = frames.render(trace, image[None])[0]
    rows = np.clip(np.arange(32) + 1, 0, 31)
    cols = np.clip(np.arange(32) - 2, 0, 31)
    assert np.array_equal(frame, image[:, rows][:, :, cols])


BASE = {"format": "bsnpu-trace", "version": 1, "name": "t", "source": "cifar10-test",
        "scenes": [{"image": 0, "frames": 1}]}


@pytest.mark.parametrize("change, message", [
    ({"version": 1.0}, "t.json: version: must be 1"),
    ({"extra": 1}, "t.json: extra: unknown key"),
    ({"generator": []}, "t.json: generator: must be an object"),
    ({"scenes": []}, "t.json: scenes: must be a non-empty array"),
    ({"scenes": [{"image": 0, "frames": True}]}, "t.json: scenes[0].frames: must be an integer in 1..1000000"),
    ({"scenes": [{"image": 0, "frames": 1, "blur": 1}]}, "t.json: scenes[0].blur: unknown key"),
    ({"scenes": [{"image": 0, "frames": 1, "noise": [0, 256]}]}, "t.json: scenes[0].noise: must be an array of 2"),
    ({"scenes": [{"image": 0, "frames": 1, "occlusion": {"x": 0, "y": 0, "width": 1, "height": 1}}]},
     "t.json: scenes[0].occlusion.fill: missing"),
    ({"scenes": [{"image": 0, "frames": 600000}, {"image": 0, "frames": 400001}]},
     "t.json: scenes: more than 1000000 frames"),
])
def test_python_parser_refuses_what_the_document_refuses(change, message):
    with pytest.raises(fileio.FormatError) as error:
        frames.Trace.parse(json.dumps({**BASE, **change}), "t.json")
    assert str(error.value).startswith(message), str(error.value)


def test_generator_is_deterministic_and_seeded():
    first = make_traces.dumps(make_traces.make_trace("cuts", "dev", 7))
    assert make_traces.dumps(make_traces.make_trace("cuts", "dev", 7)) == first
    assert make_traces.dumps(make_traces.make_trace("cuts", "dev", 8)) != first


def test_committed_traces_are_what_the_generator_makes(tmp_path):
    r = subprocess.run([PYTHON, os.path.join(REPO_ROOT, "scripts", "make_traces.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for path in TRACES:
        made = tmp_path / os.path.relpath(path, os.path.join(REPO_ROOT, "traces"))
        with open(path, "rb") as committed:
            assert hashlib.sha256(committed.read()).hexdigest() == hashlib.sha256(made.read_bytes()).hexdigest(), \
                f"{path} differs from what make_traces.py makes: regenerate with it"


@pytest.mark.parametrize("path", TRACES, ids=lambda p: os.path.relpath(p, REPO_ROOT))
def test_trace_characters(path):
    """Each trace has the character its name promises (issue 10): >= 5,000 frames; cuts: mean
    scene under 20 frames; drift: long scenes; hard: noise everywhere and occluders."""
    trace = frames.Trace.load(path)
    assert trace.frames >= 5000
    mean_scene = trace.frames / len(trace.scenes)
    images = [s["image"] for s in trace.scenes]
    assert len(set(images)) == len(images)
    name = os.path.basename(path)
    if name == "cuts.json":
        assert mean_scene < 20
    if name == "drift.json":
        assert mean_scene >= 60
    if name == "hard.json":
        assert all(max(s["noise"]) > 0 for s in trace.scenes)
        assert sum(s["occlusion"] is not None for s in trace.scenes) >= len(trace.scenes) // 3


def test_heldout_traces_use_other_seeds_and_other_images():
    dev_images = set()
    for name in ("drift", "cuts", "hard"):
        dev_images.update(s["image"] for s in frames.Trace.load(os.path.join(REPO_ROOT, "traces", name + ".json")).scenes)
    for name in ("drift", "cuts", "hard"):
        dev = frames.Trace.load(os.path.join(REPO_ROOT, "traces", name + ".json"))
        heldout = frames.Trace.load(os.path.join(REPO_ROOT, "traces", "heldout", name + ".json"))
        with open(os.path.join(REPO_ROOT, "traces", name + ".json")) as f:
            dev_seed = json.load(f)["generator"]["seed"]
        with open(os.path.join(REPO_ROOT, "traces", "heldout", name + ".json")) as f:
            heldout_seed = json.load(f)["generator"]["seed"]
        assert dev_seed != heldout_seed
        assert not dev_images & {s["image"] for s in heldout.scenes}
        assert dev.frames == heldout.frames
