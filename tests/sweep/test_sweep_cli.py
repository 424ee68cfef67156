"""bsnpu sweep and bsnpu merge end to end, on small spaces and few images: a sweep killed with a
real SIGKILL and started again gives the same bytes as an uninterrupted one; shards 0/3, 1/3, 2/3
cover every point once and merge into the same bytes; accuracy is computed once per (model, k) and
the hardware points never touch the data; bad sweep files and mismatched directories stop with one
line. Run by CTest (tests/sweep/CMakeLists.txt), which sets BSNPU to the executable."""

import json
import os
import signal
import subprocess
import time

import pytest

BSNPU = os.environ.get("BSNPU", "")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPUTS = ["points.csv", "points.json", "pareto.csv", "pareto.json"]
IMAGES = "16"


@pytest.fixture(scope="session", autouse=True)
def executable():
    assert BSNPU and os.access(BSNPU, os.X_OK), "set BSNPU to the bsnpu executable"


def write_space(path, axes, **extra):
    space = {"format": "bsnpu-sweep", "version": 1, "name": "test",
             "base": os.path.join(REPO, "configs", "default.json"), "bits": [1, 8], "axes": axes}
    space.update(extra)
    path.write_text(json.dumps(space))
    return str(path)


# 18 points: 3 x 3 x 2.
AXES = [{"field": "mac_array.rows", "values": [16, 32, 64]},
        {"zip": [{"field": "mac_array.cols", "values": [16, 32, 64]},
                 {"field": "accumulator.postproc_lanes", "values": [16, 32, 64]}]},
        {"field": "dram.technology", "values": ["ddr4", "hbm2"]}]


def sweep(space, out, *args, env=None, images=IMAGES):
    return subprocess.run([BSNPU, "sweep", "--space", space, "--out", str(out), "--images", images,
                           *args], capture_output=True, text=True, timeout=600, env=env)


def outputs(directory):
    return {name: (directory / name).read_bytes() for name in OUTPUTS}


def one_line_error(result, *needles):
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("bsnpu: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def journal_lines(directory):
    path = directory / "points.jsonl"
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_uninterrupted_sweep_outputs(tmp_path):
    space = write_space(tmp_path / "s.json", AXES, constraints=["pes <= 2048", "cycles <= 2000000"])
    result = sweep(space, tmp_path / "a", "-j", "2")
    assert result.returncode == 0, result.stderr
    points = json.loads((tmp_path / "a" / "points.json").read_text())
    assert points["fields"] == ["mac_array.rows", "mac_array.cols", "accumulator.postproc_lanes",
                                "dram.technology"]
    assert [p["index"] for p in points["points"]] == list(range(18))
    assert points["counts"]["ok"] + points["counts"]["filtered"] == 18
    assert points["counts"]["filtered"] == 2  # 64 x 64 PEs, with ddr4 and hbm2
    rows = (tmp_path / "a" / "points.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * points["counts"]["ok"]  # one row per point per k
    header = rows[0].split(",")
    for row in rows[1:]:
        cells = dict(zip(header, row.split(",")))
        assert int(cells["mac_array.rows"]) * int(cells["mac_array.cols"]) <= 2048
        assert cells["feasible"] == ("1" if int(cells["cycles"]) <= 2000000 else "0")
        assert cells["pareto"] in "01" and not (cells["pareto"] == "1" and cells["feasible"] == "0")
    front = json.loads((tmp_path / "a" / "pareto.json").read_text())["front"]
    assert front and len(front) == sum(r.endswith(",1") for r in rows[1:])
    # Filtered points are recorded with the constraint that excluded them.
    filtered = [p for p in points["points"] if p["status"] == "filtered"]
    assert all(p["reason"] == "constraint pes <= 2048" for p in filtered)
    assert not (tmp_path / "a" / "work").exists()


def test_sigkill_then_resume_is_byte_identical(tmp_path):
    space = write_space(tmp_path / "s.json", AXES)
    reference = sweep(space, tmp_path / "ref", "-j", "1")
    assert reference.returncode == 0, reference.stderr
    killed_dir = tmp_path / "killed"
    process = subprocess.Popen([BSNPU, "sweep", "--space", space, "--out", str(killed_dir), "--images",
                                IMAGES, "-j", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while journal_lines(killed_dir) < 4 and process.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    assert process.poll() is None, "the sweep finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = journal_lines(killed_dir)
    assert 4 <= done < 18
    assert not (killed_dir / "points.csv").exists()  # no outputs from an unfinished sweep
    # A kill in the middle of a record's write leaves a torn last line: dropped on resume.
    with open(killed_dir / "points.jsonl", "ab") as journal:
        journal.write(b'{"index": 17, "id": "17-')
    resumed = sweep(space, killed_dir, "-j", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{18 - done} simulated, {done} done before" in resumed.stdout, resumed.stdout
    # The accuracy computed before the kill is reused, not recomputed.
    assert "accuracy of 2 (model, k) on 16 images: 0 computed, 2 cached" in resumed.stdout
    assert outputs(killed_dir) == outputs(tmp_path / "ref")
    indices = [json.loads(line)["index"] for line in (killed_dir / "points.jsonl").read_text().splitlines()]
    assert sorted(indices) == list(range(18))  # nothing lost, nothing twice


def test_shards_cover_every_point_once_and_merge_byte_identical(tmp_path):
    space = write_space(tmp_path / "s.json", AXES)
    whole = sweep(space, tmp_path / "whole", "-j", "2")
    assert whole.returncode == 0, whole.stderr
    seen = []
    for shard in range(3):
        result = sweep(space, tmp_path / f"shard{shard}", "-j", "2", "--shard", f"{shard}/3")
        assert result.returncode == 0, result.stderr
        indices = [json.loads(line)["index"]
                   for line in (tmp_path / f"shard{shard}" / "points.jsonl").read_text().splitlines()]
        assert all(i % 3 == shard for i in indices)
        seen += indices
    assert sorted(seen) == list(range(18))
    merged = subprocess.run([BSNPU, "merge", str(tmp_path / "shard2"), str(tmp_path / "shard0"),
                             str(tmp_path / "shard1"), "--out", str(tmp_path / "merged")],
                            capture_output=True, text=True, timeout=120)
    assert merged.returncode == 0, merged.stderr
    assert outputs(tmp_path / "merged") == outputs(tmp_path / "whole")
    # The merged directory is a finished unsharded sweep: running it again simulates nothing.
    again = sweep(space, tmp_path / "merged", "-j", "2")
    assert again.returncode == 0, again.stderr
    assert "0 simulated, 18 done before" in again.stdout
    assert outputs(tmp_path / "merged") == outputs(tmp_path / "whole")


def test_merge_names_missing_incomplete_and_foreign_shards(tmp_path):
    space = write_space(tmp_path / "s.json", AXES[:1])
    for shard in range(2):
        assert sweep(space, tmp_path / f"s{shard}", "-j", "2", "--shard", f"{shard}/2").returncode == 0

    def merge(*dirs):
        return subprocess.run([BSNPU, "merge", *map(str, dirs), "--out", str(tmp_path / "m")],
                              capture_output=True, text=True, timeout=120)

    one_line_error(merge(tmp_path / "s0"), "shard 1/2 is missing")
    one_line_error(merge(tmp_path / "s0", tmp_path / "s0"), "shard 0/2 is also")
    (tmp_path / "s1" / "points.jsonl").write_text("")
    one_line_error(merge(tmp_path / "s0", tmp_path / "s1"), "shard 1/2 is incomplete: 1 of 1",
                   "missing (first: point 1)")
    other = write_space(tmp_path / "other.json", [{"field": "mac_array.rows", "values": [8, 16, 32]}])
    assert sweep(other, tmp_path / "o1", "-j", "2", "--shard", "1/2").returncode == 0
    one_line_error(merge(tmp_path / "s0", tmp_path / "o1"), "not the same sweep", "other.json")
    assert not (tmp_path / "m").exists()


def test_hardware_points_never_run_the_datapath(tmp_path):
    # The workers get no --data and find none in the environment: a worker that loaded images
    # would fail. Accuracy is computed by the driver once per k, whatever the number of points.
    space = write_space(tmp_path / "s.json", AXES)
    env = dict(os.environ)
    data_dir = env.get("BSNPU_DATA") or os.path.join(REPO, "..", "shared", "datasets", "cifar10",
                                                     "cifar-10-batches-bin")
    env["BSNPU_DATA"] = "/nonexistent/bsnpu-no-data"
    result = sweep(space, tmp_path / "a", "-j", "2", "--data", data_dir, env=env)
    assert result.returncode == 0, result.stderr
    assert "18 simulated" in result.stdout
    assert "accuracy of 2 (model, k) on 16 images: 2 computed, 0 cached" in result.stdout
    assert len(os.listdir(tmp_path / "a" / "accuracy")) == 2
    # bsnpu run --timing-only itself refuses images and reports no accuracy.
    report = tmp_path / "r.json"
    run = subprocess.run([BSNPU, "run", "--timing-only", "--bits", "1", "--out", str(report)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    document = json.loads(report.read_text())
    assert document["data"] is None and "accuracy" not in document["results"][0]
    one_line_error(subprocess.run([BSNPU, "run", "--timing-only", "--images", "4"], capture_output=True,
                                  text=True, timeout=60), "--timing-only")


def test_resume_refuses_another_space_or_shard(tmp_path):
    space = write_space(tmp_path / "first.json", AXES[:1])
    assert sweep(space, tmp_path / "d", "-j", "2").returncode == 0
    before = outputs(tmp_path / "d")
    other = write_space(tmp_path / "second.json", [{"field": "mac_array.rows", "values": [8]}])
    one_line_error(sweep(other, tmp_path / "d"), "holds another sweep", "first.json", "second.json")
    one_line_error(sweep(space, tmp_path / "d", "--shard", "0/2"), "holds shard 0/1, not 0/2")
    one_line_error(sweep(space, tmp_path / "d", images="8"), "images: 16 here, 8 there")
    assert outputs(tmp_path / "d") == before
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x").write_text("x")
    one_line_error(sweep(space, tmp_path / "junk"), "is not empty and holds no sweep.json")


def test_invalid_points_stop_the_sweep_unless_skipped(tmp_path):
    axes = [{"field": "mac_array.rows", "values": [16, 0]}]
    space = write_space(tmp_path / "s.json", axes)
    one_line_error(sweep(space, tmp_path / "d"), "s.json point 1 {\"mac_array.rows\":0}: mac_array.rows",
                   "skip_invalid")
    assert not (tmp_path / "d").exists()  # nothing written before the check
    skipping = write_space(tmp_path / "k.json", axes, skip_invalid=True)
    result = sweep(skipping, tmp_path / "k", "-j", "2")
    assert result.returncode == 0, result.stderr
    points = json.loads((tmp_path / "k" / "points.json").read_text())["points"]
    assert [p["status"] for p in points] == ["ok", "invalid"]
    assert "mac_array.rows: must be" in points[1]["reason"]
    all_bad = write_space(tmp_path / "b.json", [{"field": "mac_array.rows", "values": [0]}], skip_invalid=True)
    one_line_error(sweep(all_bad, tmp_path / "b"), "every point is invalid")


@pytest.mark.parametrize("text, needles", [
    ("{", ["s.json: invalid JSON"]),
    ('{"format": "bsnpu-sweep", "version": 1, "name": "x", "base": "nope.json", '
     '"axes": [{"field": "clock_mhz", "values": [500]}]}', ["nope.json: no such file"]),
    ('{"format": "bsnpu-sweep", "version": 1, "name": "x", "base": "BASE", '
     '"axes": [{"field": "clock_mhz", "values": [500]}], "extra": 1}', ["s.json: extra: unknown key"]),
    ('{"format": "bsnpu-sweep", "version": 1, "name": "x", "base": "BASE", '
     '"axes": [{"field": "mac_array.rowz", "values": [8]}]}', ["mac_array.rowz: unknown key"]),
    ('{"format": "bsnpu-sweep", "version": 1, "name": "x", "base": "BASE", '
     '"axes": [{"field": "model", "values": ["/nonexistent/m"]}]}', ["/nonexistent/m.json: no such file"]),
    ('{"format": "bsnpu-sweep", "version": 1, "name": "x", "base": "BASE", '
     '"axes": [{"field": "clock_mhz", "values": [500]}], "constraints": ["speed > 1"]}',
     ["s.json: constraints[0]: 'speed > 1' names no metric"]),
])
def test_bad_sweep_files_stop_with_one_line(tmp_path, text, needles):
    path = tmp_path / "s.json"
    path.write_text(text.replace("BASE", os.path.join(REPO, "configs", "default.json")))
    one_line_error(sweep(str(path), tmp_path / "d"), *needles)
    assert not (tmp_path / "d").exists()


def test_bad_options_stop_with_one_line(tmp_path):
    space = write_space(tmp_path / "s.json", AXES[:1])
    one_line_error(sweep(space, tmp_path / "d", "--shard", "3/3"), "--shard: '3/3'")
    one_line_error(sweep(space, tmp_path / "d", "-j", "0"), "--jobs")
    one_line_error(subprocess.run([BSNPU, "sweep", "--out", str(tmp_path / "d")], capture_output=True,
                                  text=True), "--space: required")
    one_line_error(subprocess.run([BSNPU, "merge", "--out", str(tmp_path / "m")], capture_output=True,
                                  text=True), "no shard directories")
    one_line_error(sweep(space, tmp_path / "no" / "such" / "dir"), "--out:", "cannot create")
