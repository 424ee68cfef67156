"""scripts/plot.py on a crafted report and sweep CSV: the three figures are written as PNG files,
and bad input (an unknown metric, a k the report lacks, a missing file, a non-number) is one line on
stderr, status 1, and no file written or harmed."""

import csv
import json
import os
import subprocess

import pytest

from conftest import PYTHON, REPO_ROOT

import plot  # scripts/plot.py (conftest puts scripts/ on sys.path)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MODULES = ["mac_array", "accumulator", "weight_memory", "activation_buffer", "dram"]
REASONS = ["dram", "weight_sram_room", "weight_load", "activation_port", "accumulator", "spill", "drain"]


def layer(name, op, cycles, stall, energy):
    return {"name": name, "op": op, "cycles": cycles + stall, "compute_cycles": cycles, "stall_cycles": stall,
            "stall_breakdown": {r: (stall if r == "dram" else 0) for r in REASONS},
            "energy_j": energy, "energy_breakdown_j": {m: energy / len(MODULES) for m in MODULES}}


def result(k, accuracy):
    layers = [layer("input", "input", 0, 100, 1e-7), layer("conv1", "conv", 1000 * k, 50, 2e-6 * k),
              layer("add", "add", 0, 0, 0.0), layer("fc", "fc", 10 * k, 5, 1e-7 * k)]
    cycles = sum(entry["cycles"] for entry in layers)
    energy = sum(entry["energy_j"] for entry in layers)
    return {"bits": k, "images": 100, "correct": round(100 * accuracy), "accuracy": accuracy, "cycles": cycles,
            "latency_s": cycles * 2e-9, "energy_j": energy,
            "energy_breakdown_j": {m: energy / len(MODULES) for m in MODULES}, "layers": layers}


@pytest.fixture
def report(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(json.dumps({"format": "bsnpu-report", "version": 1, "config": {"name": "crafted"},
                                "results": [result(1, 0.7), result(4, 0.85), result(8, 0.9)]}))
    return str(path)


@pytest.fixture
def points(tmp_path):
    path = tmp_path / "points.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["point", "k", "accuracy", "cycles", "latency_s", "energy_j", "area_mm2"])
        for point in range(6):
            for k in (1, 8):
                writer.writerow([point, k, 0.8 + 0.01 * k, 1000 * (point + 1) * k, 2e-6 * (point + 1) * k,
                                 1e-4 * (6 - point) * k, 1.5 + point])
    return str(path)


def run(*args):
    return subprocess.run([PYTHON, os.path.join(REPO_ROOT, "scripts", "plot.py"), *args], capture_output=True,
                          text=True, timeout=120)


def assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    assert os.path.getsize(path) > 10000


def assert_one_line_error(result, *needles):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("plot: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_report_vs_k(report, tmp_path):
    out = tmp_path / "k.png"
    r = run("report", report, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert_png(out)
    assert sorted(os.listdir(tmp_path)) == ["k.png", "report.json"]  # no temporary left behind


def test_layers(report, tmp_path):
    out = tmp_path / "layers.png"
    r = run("layers", report, "--k", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert_png(out)


def test_layers_unknown_k(report, tmp_path):
    out = tmp_path / "layers.png"
    assert_one_line_error(run("layers", report, "--k", "2", "--out", str(out)), "no k = 2", "k = 1, 4, 8")
    assert not out.exists()


def test_pareto(points, tmp_path):
    out = tmp_path / "pareto.png"
    r = run("pareto", points, "--x", "latency_s", "--y", "energy_j", "--color", "area_mm2", "--k", "8", "--out",
            str(out))
    assert r.returncode == 0, r.stderr
    assert_png(out)


@pytest.mark.parametrize("option", ["--x", "--y", "--color"])
def test_pareto_unknown_metric_keeps_the_output(points, tmp_path, option):
    out = tmp_path / "pareto.png"
    out.write_text("old")
    metrics = {"--x": "latency_s", "--y": "energy_j", "--color": "accuracy"}
    metrics[option] = "energy_uj"
    args = [a for key, value in metrics.items() for a in (key, value)]
    assert_one_line_error(run("pareto", points, *args, "--out", str(out)),
                          f"{option}: {points} has no metric 'energy_uj' (columns: point, k, accuracy, cycles")
    assert out.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["pareto.png", "points.csv"]


def test_pareto_bad_value(points, tmp_path):
    with open(points, "a") as f:
        f.write("9,8,0.9,n/a,1e-6,1e-4,2\n")
    assert_one_line_error(run("pareto", points, "--x", "cycles", "--y", "accuracy", "--out", str(tmp_path / "p.png")),
                          "line 14: cycles: 'n/a' is not a number")


def test_pareto_k_needs_a_k_column(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("a,b\n1,2\n")
    assert_one_line_error(run("pareto", str(path), "--x", "a", "--y", "b", "--k", "8", "--out",
                              str(tmp_path / "p.png")), "no column 'k' or 'bits'")


def test_missing_and_wrong_files(tmp_path, points):
    assert_one_line_error(run("report", str(tmp_path / "none.json"), "--out", str(tmp_path / "a.png")),
                          "none.json: no such file")
    assert_one_line_error(run("report", points, "--out", str(tmp_path / "a.png")), "points.csv: invalid JSON")
    config = os.path.join(REPO_ROOT, "configs", "default.json")
    assert_one_line_error(run("report", config, "--out", str(tmp_path / "a.png")), "not a bsnpu run report")
    assert_one_line_error(run("pareto", str(tmp_path / "none.csv"), "--x", "a", "--y", "b", "--out",
                              str(tmp_path / "a.png")), "none.csv: no such file")
    assert not (tmp_path / "a.png").exists()


def test_missing_field_is_named(report, tmp_path):
    with open(report) as f:
        document = json.load(f)
    del document["results"][1]["latency_s"]
    with open(report, "w") as f:
        json.dump(document, f)
    assert_one_line_error(run("report", report, "--out", str(tmp_path / "a.png")), "results[1].latency_s: missing")


def test_pareto_front_directions():
    xs = [1.0, 2.0, 3.0, 2.0]  # e.g. latency: lower is better
    ys = [0.5, 0.8, 0.9, 0.6]  # e.g. accuracy: higher is better
    assert plot.pareto_front(xs, ys, False, True) == [0, 1, 2]
    assert plot.pareto_front(xs, ys, False, False) == [0]
    assert plot.higher_is_better("accuracy") and plot.higher_is_better("images_per_s_per_mm2")
    assert not plot.higher_is_better("energy_j")
