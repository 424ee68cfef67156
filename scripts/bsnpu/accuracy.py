"""The accuracy table of docs/accuracy.md: float model, BWB weights with float activations
(without and with the per-k calibration), the full integer datapath (the NumPy reference), per k,
and the ablation rows that scripts/ablation.py adds (integer models without BN re-estimation
and/or without the fc affine, measured by the C++ engine).

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
    ("bwb_float_act", "BWB weights, float activations, float BN, no fc affine"),
    ("bwb_float_act_bn", "BWB weights, float activations, BN re-estimated for k + fc affine for k"),
    ("integer", "integer datapath, BN re-estimated + fc affine: the shipped model (NumPy reference)"),
]

# (key, row title, scripts/quantize.py switches): made and measured by scripts/ablation.py.
ABLATIONS = [
    ("integer_no_fc_affine", "integer datapath, BN re-estimated, no fc affine", ["--no-fc-affine"]),
    ("integer_float_bn", "integer datapath, float BN, fc affine", ["--no-bn-reestimation"]),
]

# The held-out slice of the ablation table: training images 40,000-49,999. No recipe step reads
# them (the quantizer reads the first max(bn_images, calibration_images, fc_fit_images) = 2,000),
# but the float model was trained on them.
HELDOUT_FILE = "data_batch_5.bin"


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
    train_images, train_labels = fileio.load_cifar(data_dir, "train", quantize.training_images_needed(recipe))
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


def _cells(rows, key):
    cells = []
    for k in range(1, 9):
        row = rows.get(f"{key}/k{k}")
        cells.append(f"{100 * row['accuracy']:.2f}" if row else "n/a")
    return cells


def markdown(results, command=None):
    rows = results["rows"]
    n = results["images"]
    commands = results.get("commands", {})
    command = command or commands.get("accuracy", "/usr/bin/python3 scripts/accuracy.py")
    lines = [
        "# Accuracy per bit-width",
        "",
        "This file and accuracy.json are generated: `bash scripts/regenerate.sh --accuracy` runs both "
        "commands below.",
        "",
        (f"Top-1 on all {n} images of `test_batch.bin`. " if n == 10000 else
         f"Top-1 on the first {n} images of `test_batch.bin` (not the whole test set). ") +
        "k is the number of BWB weight planes used by every layer (first conv and fc included); "
        "activations are 8-bit in the integer rows. The float model and the first three rows are made by:",
        "",
        f"    {command}",
        "",
        f"Float model: **{100 * rows['float']['accuracy']:.2f} %**. The recipe (BN re-estimation, "
        "activation calibration, fc affine) is in [quantization.md](quantization.md).",
        "",
        "| variant | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |",
        "|---|" + "---:|" * 8,
    ]
    for key, title in VARIANTS:
        lines.append(f"| {title} | " + " | ".join(_cells(rows, key)) + " |")
    ablations = [(key, title) for key, title, _ in ABLATIONS if f"{key}/k1" in rows]
    if ablations:
        lines += ["", "## Ablations: what BN re-estimation and the fc affine each do (integer datapath)", "",
                  "Each row is a model made by the quantizer with one step switched off "
                  "(`--no-bn-reestimation`: BN keeps the float model's running statistics; `--no-fc-affine`: "
                  "gain 1, bias 0 after fc); everything else (BWB codes, activation calibration on the same "
                  "500 training images, integer folding) is the shipped recipe. Counted by the C++ engine on "
                  f"the same {n} test images; all rows are made by `{commands.get('ablation', 'scripts/ablation.py')}`, "
                  "which writes the models outside the repository and runs, per row:", ""]
        for key, title in ablations:
            lines.append(f"- {title}:")
            lines += [f"  `{c}`" for c in commands.get(key, [])]
        lines += ["", "| variant | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |", "|---|" + "---:|" * 8]
        lines.append(f"| {VARIANTS[-1][1]} | " + " | ".join(_cells(rows, 'integer')) + " |")
        for key, title in ablations:
            lines.append(f"| {title} | " + " | ".join(_cells(rows, key)) + " |")
        if "integer/eval" in commands:
            lines += ["", f"The same script checks that `{commands['integer/eval'][-1]}` counts exactly the "
                      f"shipped model's row above (it did, in {results['seconds'].get('integer/eval')} s)."]
    heldout = results.get("heldout")
    if heldout:
        lines += ["", f"### The same models on a held-out training slice ({heldout['file']})", "",
                  f"Training images 40,000-49,999 ({heldout['images']} images of `{heldout['file']}`, passed to "
                  "`bsnpu eval` as the `test_batch.bin` of a scratch directory). No step of the recipe reads them "
                  "(it reads the first 2,000 training images), so a choice between recipe options can be made "
                  "here without looking at test images. The float model was trained on them, so the absolute "
                  "figures are higher than on the test images; only the comparison between rows is meaningful. "
                  "Same script, same models; per row:", ""]
        for key, title in [("integer", "the shipped model")] + [(key, title) for key, title, _ in ABLATIONS]:
            if heldout["commands"].get(key):
                lines.append(f"- {title}: `{heldout['commands'][key][-1]}`")
        lines.append("")
        lines += ["| variant | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |", "|---|" + "---:|" * 8]
        lines.append(f"| {VARIANTS[-1][1].split(' (')[0]} | " + " | ".join(_cells(heldout['rows'], 'integer')) + " |")
        for key, title, _ in ABLATIONS:
            if f"{key}/k1" in heldout["rows"]:
                lines.append(f"| {title} | " + " | ".join(_cells(heldout['rows'], key)) + " |")
    integer = [rows.get(f"integer/k{k}") for k in range(1, 9)]
    if all(integer):
        acc = [100 * row["accuracy"] for row in integer]
        dips = [acc[i] - acc[i + 1] for i in range(7)]
        lines += ["", "## Against the bars (the shipped model, integer datapath)", "",
                  f"- k = 8 vs float: {acc[7] - 100 * rows['float']['accuracy']:+.2f} points (bar: within 0.5)",
                  f"- k = 1: {acc[0]:.2f} % (bar: at least 65 %, aim 80 %)",
                  f"- largest drop from k to k+1: {max(max(dips), 0.0):.2f} points (bar: rises with k, "
                  "a dip of at most 0.3 near the top is noise)"]
    seconds = results["seconds"]
    lines += ["", f"## Wall time of `{command}`", "",
              f"Each step on this machine ({results.get('machine', 'unknown')}), seconds:", "",
              "| step | " + " | ".join(f"k={k}" for k in range(1, 9)) + " |",
              "|---|" + "---:|" * 8]
    for key, title in VARIANTS:
        lines.append(f"| {key} | " + " | ".join(str(seconds.get(f'{key}/k{k}', 'n/a')) for k in range(1, 9)) + " |")
    lines += ["", f"The float row took {seconds.get('float')} s. The bwb_float_act_bn step's time includes "
              "re-estimating BN, calibrating activations and fitting the fc affine for that k; the integer step is "
              "the NumPy reference. Times are wall clock and grow when other jobs share the machine."]
    if ablations:
        lines += ["", "scripts/ablation.py, seconds: " + "; ".join(
            f"{key}: quantizer {seconds.get(key + '/quantize', 'n/a')}, eval {seconds.get(key + '/eval', 'n/a')}"
            for key, _ in ablations) + "."]
    for note in results.get("notes", []):
        lines += ["", note]
    lines.append("")
    return "\n".join(lines)
