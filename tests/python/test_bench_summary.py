"""bench/summarize.py on a crafted benchmark directory with two interleaved repeats: rates are
medians with their range, each bsnpu rate is divided by PyTorch int8's rate of the same repeat
(not by a median of other repeats), and run / eval pairs the wall times of one repeat."""

import json
import os
import subprocess

from conftest import PYTHON, REPO_ROOT

SUMMARIZE = os.path.join(REPO_ROOT, "bench", "summarize.py")


def write(path, payload):
    with open(path, "w") as f:
        if isinstance(payload, str):
            f.write(payload)
        else:
            json.dump(payload, f)


def time_file(wall_seconds, rss_kb=1024):
    return (f"\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:{wall_seconds:05.2f}\n"
            f"\tMaximum resident set size (kbytes): {rss_kb}\n")


def bsnpu_json(rates):
    per_bits = {str(k): {"images": 100, "correct": 90, "images_per_second": rate}
                for k, rate in rates.items()}
    return {"images": 100, "seconds": 100 * len(rates) / sum(rates.values()), "per_bits": per_bits}


def test_repeats_are_paired_and_summarized_by_their_median(tmp_path):
    out = str(tmp_path)
    write(os.path.join(out, "mac_peak.json"), {"gmacs_per_second": 1000.0})
    write(os.path.join(out, "threads.txt"), "2\n")
    # Repeat 1 is a slow spell for both sides, repeat 2 a fast one: paired ratios are 1.10 and 1.05.
    torch = {1: 1000.0, 2: 2000.0}
    bsnpu = {1: {1: 1100.0, 8: 1100.0}, 2: {1: 2100.0, 8: 1900.0}}
    for r in (1, 2):
        write(os.path.join(out, f"torch_int8_{r}.json"),
              {"batch": 100, "calibration_images": 500, "images": 100, "correct": 91,
               "images_per_second": torch[r]})
        write(os.path.join(out, f"torch_int8_{r}.time"), time_file(1.0))
        write(os.path.join(out, f"bsnpu_{r}.json"), bsnpu_json(bsnpu[r]))
        write(os.path.join(out, f"bsnpu_{r}.time"), time_file(1.0))
        write(os.path.join(out, f"eval_small_{r}.json"), bsnpu_json(bsnpu[r]))
        write(os.path.join(out, f"eval_small_{r}.time"), time_file(2.0 * r))
        write(os.path.join(out, f"run_small_{r}.json"),
              {"results": [{"bits": 1, "images": 50}, {"bits": 8, "images": 50}]})
        write(os.path.join(out, f"run_small_{r}.time"), time_file(3.0 * r))
    result = subprocess.run([PYTHON, SUMMARIZE, out], capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    torch_row = next(line for line in lines if line.startswith("| PyTorch FX"))
    assert "| 1500.0 (1000.0-2000.0) | 1.00x |" in torch_row
    k1 = next(line for line in lines if line.startswith("| bsnpu eval fast k=1 "))
    assert "| 1600.0 (1100.0-2100.0) | 1.08x (1.05-1.10) |" in k1
    k8 = next(line for line in lines if line.startswith("| bsnpu eval fast k=8 "))
    # Median over median k = 8 would read 1500 / 1500 = 1.00x; paired it is the median of 1.10
    # and 0.95.
    assert "| 1500.0 (1100.0-1900.0) | 1.02x (0.95-1.10) |" in k8
    assert "median 1.50x (1.50-1.50)" in result.stdout
    assert "Repeats: 2 of bsnpu eval, 2 of PyTorch int8" in result.stdout
