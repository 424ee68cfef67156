"""The accuracy table of docs/accuracy.md: float model, BWB weights with float activations
(without and with BN retraining), and the full integer datapath (the NumPy reference), per k.

Results go to docs/accuracy.json as they are measured, so an interrupted run resumes where it
stopped; the Markdown table is rewritten from it at the end.
"""

import json
import os
import platform
import sys
import time

import numpy as np
import torch

from . import fileio, quantize, reference, torchmodel

VARIANTS = [
    ("bwb_float_act", "BWB weights, float activations, float BN (no retraining)"),
    ("bwb_float_act_bn", "BWB weights, float activations, BN retrained for k"),
    ("integer", "full integer datapath (NumPy reference, the C++ contract)"),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def measure(float_path, data_dir, model_prefix, out_json, images_limit=None, variants=None, threads=2,
            bits=range(1, 9)):
    """Measures the rows of `variants` (default: all) at `bits` not yet in out_json."""
    torch.set_num_threads(threads)
    wanted = set(variants or [key for key, _ in VARIANTS])
    results = {}
    if os.path.exists(out_json):
        with open(out_json) as f:
            results = json.load(f)
    test_images, test_labels = fileio.load_cifar(data_dir, "test", images_limit)
    n = len(test_labels)
    if results.get("images") != n:
        results = {"images": n, "rows": {}, "seconds": {}}

    def record(key, predictions, seconds):
        correct = int((predictions == test_labels).sum())
        results["rows"][key] = {"correct": correct, "accuracy": correct / n}
        results["seconds"][key] = round(seconds, 1)
        with open(out_json, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        log(f"accuracy: {key}: {correct}/{n} = {100.0 * correct / n:.2f} % ({seconds:.0f} s)")

    float_tensors, _ = fileio.load_safetensors(float_path)
    with open(float_path.rsplit(".", 1)[0] + ".json") as f:
        card = json.load(f)
    params = torchmodel.load_float_params(float_tensors)
    if "float" not in results["rows"]:
        t0 = time.time()
        record("float", torchmodel.predict(torchmodel.float_net(params, card), test_images), time.time() - t0)

    with open(model_prefix + ".json") as f:
        recipe = json.load(f)["recipe"]
    needed = max(recipe["bn_images"], recipe["calibration_images"], recipe["fc_fit_images"])
    train_images, train_labels = fileio.load_cifar(data_dir, "train", needed)
    builder = quantize.Builder(float_tensors, card, train_images, train_labels, recipe)
    model = reference.Model(model_prefix)
    # The integer rows first: they carry the bars and the C++ engine's contract.
    for k in bits:
        key = f"integer/k{k}"
        if "integer" in wanted and key not in results["rows"]:
            t0 = time.time()
            record(key, reference.predict(model, test_images, k, batch=8), time.time() - t0)
    for k in bits:
        key = f"bwb_float_act_bn/k{k}"
        if "bwb_float_act_bn" in wanted and key not in results["rows"]:
            t0 = time.time()
            net = builder.calibrate(k)
            net.act_scales = None
            record(key, torchmodel.predict(net, test_images), time.time() - t0)
    for k in bits:
        key = f"bwb_float_act/k{k}"
        if "bwb_float_act" in wanted and key not in results["rows"]:
            t0 = time.time()
            record(key, torchmodel.predict(builder.quantized_net(k), test_images), time.time() - t0)
    results["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, torch {torch.__version__}"
    with open(out_json, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    return results


def markdown(results, command):
    rows = results["rows"]
    n = results["images"]
    lines = [
        "# Accuracy per bit-width",
        "",
        (f"Top-1 on all {n} images of `test_batch.bin`. " if n == 10000 else
         f"Top-1 on the first {n} images of `test_batch.bin` (not the whole test set). ") +
        "k is the number of BWB weight planes used by every layer (first conv and fc included); "
        "activations are 8-bit in the integer row. Made by:",
        "",
        f"    {command}",
        "",
        f"Float model: **{100 * rows['float']['accuracy']:.2f} %**.",
        "",
        "| variant | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |",
        "|---|" + "---:|" * 8,
    ]
    for key, title in VARIANTS:
        cells = []
        for k in range(1, 9):
            row = rows.get(f"{key}/k{k}")
            cells.append(f"{100 * row['accuracy']:.2f}" if row else "n/a")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    integer = [rows.get(f"integer/k{k}") for k in range(1, 9)]
    if all(integer):
        acc = [100 * row["accuracy"] for row in integer]
        dips = [acc[i] - acc[i + 1] for i in range(7)]
        lines += ["", "Against the bars (integer datapath):", "",
                  f"- k = 8 vs float: {acc[7] - 100 * rows['float']['accuracy']:+.2f} points (bar: within 0.5)",
                  f"- k = 1: {acc[0]:.2f} % (bar: at least 65 %, aim 80 %)",
                  f"- largest drop from k to k+1: {max(max(dips), 0.0):.2f} points (bar: rises with k, "
                  "a dip of at most 0.3 near the top is noise)"]
    seconds = results["seconds"]
    lines += ["", "Wall time of each step on this machine "
              f"({results.get('machine', 'unknown')}), seconds:", "",
              "| step | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |",
              "|---|" + "---:|" * 8]
    for key, title in VARIANTS:
        lines.append(f"| {key} | " + " | ".join(str(seconds.get(f'{key}/k{k}', 'n/a')) for k in range(1, 9)) + " |")
    lines += ["", f"The float row took {seconds.get('float')} s. The BN-retrained row's time includes "
              "re-estimating BN, calibrating activations and fitting the fc affine for that k. Times are "
              "wall clock and grow when other jobs share the machine. The C++ engine computes the integer "
              "row in about 5 minutes (`build/bsnpu eval --images all`, docs/performance.md) and must "
              "give exactly these counts.", ""]
    return "\n".join(lines)
