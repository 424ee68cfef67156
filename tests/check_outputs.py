#!/usr/bin/env python3
"""Checks the figures in a `bsnpu eval --json` or `bsnpu run --out` report against independent
computations (CTest: cli.eval_small, tlm.run_edge, tlm.run_large).

    check_outputs.py eval REPORT
    check_outputs.py run REPORT CONFIG
    check_outputs.py logits LOGITS      (bsnpu eval --logits)

Independent of the C++ program:
- correct counts: the NumPy integer reference (scripts/bsnpu/reference.py) on the same images of
  the same model at the same k or per-layer precision (the model and data are resolved as bsnpu resolves them:
  $BSNPU_MODEL / $BSNPU_DATA, else models/ and ../shared; the report's sha256 of the model tensors
  and, for run, of the images used must match what this script read);
- logits: every image's integer logits equal the reference's, for each precision (a per-layer one
  re-targets its requantization in both: docs/arithmetic.md, "Mixed precision");
- run and eval, per row: average_bits = the MAC-weighted mean of the per-layer k;
- run, per k (per layer for a per-layer precision): ideal_cycles = sum over conv/fc of
  P*k*ceil(K/R)*ceil(C_out/C) from the manifest's
  graph and the config; compute_cycles equals it when the activation read port carries R
  activations per cycle (banks * port_bits >= R * act_bits, true of the shipped configs);
  weight_bits_read = k * sum over conv/fc of ceil(P/depth) * K * C_out (each of the ceil(P/depth)
  pixel tiles reads the layer's k planes from the weight SRAM once); weights_resident = all 8
  planes of every layer fit in the weight SRAM, and then, if the activation SRAM holds four of the
  largest feature maps (no spill), dram_bits is the input image alone; latency = cycles / clock;
- run, across uniform k: weight_bits_read(k) * 8 == weight_bits_read(8) * k, cycles rise with k;
- run, area: each memory's area is its KiB x the table's sram_mm2_per_kib at one bank's capacity
  (linear in log2 between the points, clamped outside them).
Invariants of the report itself: cycles = compute + stall, the layer rows sum to the totals,
energy_j = sum of energy_breakdown_j, the area's modules and components each sum to its total,
images_per_s_per_mm2 = 1 / (latency_s x area) and accuracy_per_mcycle_per_mm2 =
accuracy_per_mcycle / area.
"""

import hashlib
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts"))

from bsnpu import fileio, graph, paths, reference  # noqa: E402

failures = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message)
    if not condition:
        failures.append(message)


def key(precision):
    """A report's precision (k, or the k of each conv/fc) as a dictionary key and a label."""
    return precision if isinstance(precision, int) else "-".join(map(str, precision))


def reference_counts(precisions, images):
    prefix = paths.model_prefix()
    model = reference.Model(prefix)
    pixels, labels = fileio.load_cifar(paths.data_dir(), "test", images)
    counts = {key(p): int((reference.predict(model, pixels, p) == labels).sum()) for p in precisions}
    return prefix, pixels, labels, counts


def layer_macs(ops):
    """MACs of each conv/fc in graph order."""
    return [op["in_features"] * op["out_features"] if op["op"] == "fc"
            else op["in_channels"] * op["kernel"] ** 2 * op["out_channels"] * op["out_hw"] ** 2
            for op in graph.weighted_ops(ops)]


def layer_bits(precision, ops):
    count = len(graph.weighted_ops(ops))
    return [precision] * count if isinstance(precision, int) else precision


def check_average_bits(row, ops):
    macs = layer_macs(ops)
    want = sum(m * k for m, k in zip(macs, layer_bits(row["precision"], ops))) / sum(macs)
    check(math.isclose(row["average_bits"], want, rel_tol=1e-12),
          f"{key(row['precision'])}: average_bits {row['average_bits']:.4f} = MAC-weighted mean {want:.4f}")


def check_eval(report):
    rows = report["per_bits"]
    images = report["images"]
    prefix, _, _, counts = reference_counts([row["precision"] for row in rows.values()], images)
    with open(prefix + ".json") as f:
        ops = json.load(f)["graph"]
    check(report["model_tensors_sha256"] == fileio.sha256_file(prefix + ".safetensors"),
          f"the report's model tensors are {prefix}.safetensors")
    for label, row in rows.items():
        k = key(row["precision"])
        check(label == str(k), f"row {label} is keyed by its precision")
        check(row["images"] == images, f"k={k}: {row['images']} images")
        check(row["correct"] == counts[k],
              f"k={k}: {row['correct']} correct, NumPy reference {counts[k]} of {images}")
        check(row["accuracy"] == row["correct"] / images, f"k={k}: accuracy = correct / images")
        check_average_bits(row, ops)


def check_logits(document):
    prefix = paths.model_prefix()
    model = reference.Model(prefix)
    check(document["model_tensors_sha256"] == fileio.sha256_file(prefix + ".safetensors"),
          f"the logits' model tensors are {prefix}.safetensors")
    pixels, _ = fileio.load_cifar(paths.data_dir(), "test", document["images"])
    for row in document["rows"]:
        ours = reference.run(model, pixels, row["precision"])
        theirs = row["logits"]
        same = [list(map(int, a)) for a in ours] == theirs
        check(same, f"k={key(row['precision'])}: the logits of {document['images']} images equal the NumPy reference's")


def ideal_cycles(ops, precision, rows, cols):
    total = 0
    for op, k in zip(graph.weighted_ops(ops), layer_bits(precision, ops)):
        if op["op"] == "fc":
            pixels, reduction, outputs = 1, op["in_features"], op["out_features"]
        else:
            pixels, reduction = op["out_hw"] ** 2, op["in_channels"] * op["kernel"] ** 2
            outputs = op["out_channels"]
        total += pixels * k * math.ceil(reduction / rows) * math.ceil(outputs / cols)
    return total


def weight_bits_read(ops, precision, depth):
    total = 0
    for op, k in zip(graph.weighted_ops(ops), layer_bits(precision, ops)):
        if op["op"] == "fc":
            pixels, reduction, outputs = 1, op["in_features"], op["out_features"]
        else:
            pixels, reduction = op["out_hw"] ** 2, op["in_channels"] * op["kernel"] ** 2
            outputs = op["out_channels"]
        total += math.ceil(pixels / depth) * reduction * outputs * k
    return total


def sram_mm2_per_kib(points, bank_bytes):
    """The table's density curve: linear in log2(capacity) between points, clamped outside."""
    if bank_bytes <= points[0]["capacity_bytes"]:
        return points[0]["mm2_per_kib"]
    if bank_bytes >= points[-1]["capacity_bytes"]:
        return points[-1]["mm2_per_kib"]
    for a, b in zip(points, points[1:]):
        if bank_bytes <= b["capacity_bytes"]:
            t = (math.log2(bank_bytes) - math.log2(a["capacity_bytes"])) / (
                math.log2(b["capacity_bytes"]) - math.log2(a["capacity_bytes"]))
            return a["mm2_per_kib"] + t * (b["mm2_per_kib"] - a["mm2_per_kib"])


def check_area(report, config, config_path):
    area = report["area_mm2"]
    total = area["total"]
    check(total > 0, f"area {total:.3f} mm^2")
    for part in ("modules", "components"):
        check(math.isclose(sum(area[part].values()), total, rel_tol=1e-9), f"area {part} sum to the total")
    table_path = os.path.join(os.path.dirname(os.path.abspath(config_path)), config.get("energy_table",
                              "energy/45nm_horowitz.json"))
    with open(table_path) as f:
        points = json.load(f)["area"]["sram_mm2_per_kib"]
    for memory in ("weight_memory", "activation_buffer"):
        kib, banks = config[memory]["capacity_kib"], config[memory]["banks"]
        expected = kib * sram_mm2_per_kib(points, kib * 1024 / banks)
        check(math.isclose(area["modules"][memory], expected, rel_tol=1e-9),
              f"{memory} area {area['modules'][memory]:.4f} mm^2 = {kib} KiB at the density of "
              f"{kib // banks} KiB banks")
    for r in report["results"]:
        k = r["bits"]
        check(math.isclose(r["images_per_s_per_mm2"], 1 / (r["latency_s"] * total), rel_tol=1e-9),
              f"k={k}: images_per_s_per_mm2 = 1 / (latency x area)")
        check(math.isclose(r["accuracy_per_mcycle_per_mm2"], r["accuracy_per_mcycle"] / total, rel_tol=1e-9),
              f"k={k}: accuracy_per_mcycle_per_mm2 = accuracy_per_mcycle / area")


def check_run(report, config_path):
    with open(config_path) as f:
        config = json.load(f)
    results = report["results"]
    images = results[0]["images"]
    prefix, pixels, labels, counts = reference_counts([r["precision"] for r in results], images)
    with open(prefix + ".json") as f:
        manifest = json.load(f)
    ops = manifest["graph"]
    act_bits = manifest["act_bits"]
    check(report["model"]["tensors_sha256"] == fileio.sha256_file(prefix + ".safetensors"),
          f"the report's model tensors are {prefix}.safetensors")
    check(report["data"]["sha256"] == hashlib.sha256(labels.tobytes() + pixels.tobytes()).hexdigest(),
          f"the report's images are the first {images} of test_batch.bin")
    check(report["config"]["sha256"] == hashlib.sha256(open(config_path, "rb").read()).hexdigest(),
          f"the report's config is {os.path.basename(config_path)}")
    rows, cols = config["mac_array"]["rows"], config["mac_array"]["cols"]
    act = config["activation_buffer"]
    read_port = act["port_bits"]
    streams = read_port == "unlimited" or act["banks"] * read_port >= rows * act_bits
    weights = sum(math.prod(manifest["tensors"][op["weight"]]["shape"]) for op in graph.weighted_ops(ops))
    resident = weights * 8 <= config["weight_memory"]["capacity_kib"] * 1024 * 8
    largest_map = max(op["out_channels"] * op["out_hw"] ** 2 for op in graph.weighted_ops(ops) if op["op"] == "conv")
    no_spill = act["capacity_kib"] * 1024 >= 4 * largest_map
    image_bits = math.prod(graph.IMAGE_SHAPE) * act_bits
    for r in results:
        k = key(r["precision"])
        check(r["bits"] == max(layer_bits(r["precision"], ops)), f"k={k}: bits {r['bits']} is the largest k")
        check(r["correct"] == counts[k], f"k={k}: {r['correct']} correct, NumPy reference {counts[k]} of {images}")
        check_average_bits(r, ops)
        ideal = ideal_cycles(ops, r["precision"], rows, cols)
        check(r["ideal_cycles"] == ideal, f"k={k}: ideal_cycles {r['ideal_cycles']}, analytic {ideal}")
        if streams:
            check(r["compute_cycles"] == ideal, f"k={k}: compute_cycles {r['compute_cycles']} = ideal {ideal} "
                  f"(the read port carries {rows} activations per cycle)")
        check(r["cycles"] == r["compute_cycles"] + r["stall_cycles"], f"k={k}: cycles = compute + stall")
        check(r["cycles"] > r["compute_cycles"], f"k={k}: cycles {r['cycles']} > compute {r['compute_cycles']}")
        check(r["weights_resident"] == resident,
              f"k={k}: weights_resident {r['weights_resident']} ({weights} weights x 8 bits vs "
              f"{config['weight_memory']['capacity_kib']} KiB)")
        read = weight_bits_read(ops, r["precision"], config["accumulator"]["depth"])
        check(r["weight_bits_read"] == read, f"k={k}: weight_bits_read {r['weight_bits_read']}, analytic {read}")
        if resident and no_spill:
            check(r["dram_bits"] == image_bits, f"k={k}: dram_bits {r['dram_bits']} = the input image's {image_bits} "
                  "(weights resident, no spill)")
        check(math.isclose(r["latency_s"], r["cycles"] / (config["clock_mhz"] * 1e6), rel_tol=1e-12),
              f"k={k}: latency_s = cycles / clock")
        check(math.isclose(r["energy_j"], sum(r["energy_breakdown_j"].values()), rel_tol=1e-9),
              f"k={k}: energy_j = sum of the breakdown")
        for field in ("cycles", "compute_cycles", "stall_cycles", "weight_bits_read", "dram_bits"):
            check(sum(layer[field] for layer in r["layers"]) == r[field], f"k={k}: layer {field} sum to the total")
    by_k = {r["bits"]: r for r in results if isinstance(r["precision"], int)}
    bits = sorted(by_k)
    if 8 in by_k:
        for k, r in by_k.items():
            check(r["weight_bits_read"] * 8 == by_k[8]["weight_bits_read"] * k,
                  f"k={k}: weight_bits_read {r['weight_bits_read']} = k/8 of {by_k[8]['weight_bits_read']}")
    for low, high in zip(bits, bits[1:]):
        check(by_k[high]["cycles"] > by_k[low]["cycles"], f"cycles rise from k={low} to k={high}")
    check_area(report, config, config_path)


def main(argv):
    if len(argv) < 3 or argv[1] not in ("eval", "run", "logits") or (argv[1] == "run") != (len(argv) == 4):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[2]) as f:
        report = json.load(f)
    if argv[1] == "eval":
        check_eval(report)
    elif argv[1] == "logits":
        check_logits(report)
    else:
        check_run(report, argv[3])
    if failures:
        print(f"check_outputs: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
