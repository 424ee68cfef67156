#!/usr/bin/env python3
"""Checks a `bsnpu frontier` output against its own rules and against `bsnpu run` (CTest:
cli.frontier_small).

    check_frontier.py PREFIX RUN_REPORT

PREFIX.json and PREFIX.csv: the path starts at all-8 and ends at all-1 with one point per plane
lowered, each step lowering exactly the named layer by one plane; energy falls and cycles never
rise along it; average_bits is the MAC-weighted mean of the per-layer k (from the model manifest);
eval_accuracy = eval_correct / images; the CSV rows equal the JSON's; the end points' energy and
cycles equal those of RUN_REPORT (a `bsnpu run --bits 1,8` of the same config and model). (Which
layer the greedy step picks depends on energies of alternatives the file does not hold; the C++
code states the rule.)
"""

import csv
import json
import math
import sys

from check_outputs import check, failures, layer_bits, layer_macs  # puts scripts/ on the path
from bsnpu import graph, paths  # noqa: E402


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1] + ".json") as f:
        frontier = json.load(f)
    with open(argv[1] + ".csv") as f:
        rows = list(csv.DictReader(f))
    with open(argv[2]) as f:
        run = json.load(f)
    with open(paths.model_prefix() + ".json") as f:
        ops = json.load(f)["graph"]
    names = [op["name"] for op in graph.weighted_ops(ops)]
    macs = layer_macs(ops)
    path = frontier["path"]

    def vector(precision):
        return layer_bits(precision, ops)

    check(path[0]["precision"] == 8 and path[-1]["precision"] == 1, "the path runs from all-8 to all-1")
    check(len(path) == 1 + 7 * len(names), f"{len(path)} points: one per plane lowered")
    check(len(rows) == len(path), "one CSV row per point")
    sens = frontier["sensitivity"]["accuracy_by_layer_and_k"]
    check(sorted(sens) == sorted(names), "a sensitivity row per conv/fc")
    images = frontier["evaluation"]["images"]
    for i, point in enumerate(path):
        k = vector(point["precision"])
        want = sum(m * b for m, b in zip(macs, k)) / sum(macs)
        check(math.isclose(point["average_bits"], want, rel_tol=1e-12), f"step {i}: average_bits {want:.4f}")
        check(point["eval_accuracy"] == point["eval_correct"] / images, f"step {i}: accuracy = correct / images")
        row = rows[i]
        check(row["precision"] == "-".join(map(str, k)) or row["precision"] == str(point["precision"]),
              f"step {i}: CSV precision {row['precision']}")
        check(row["lowered"] == (point["lowered"] or "") and int(row["cycles"]) == point["cycles"] and
              math.isclose(float(row["energy_j"]), point["energy_j"], rel_tol=1e-8),
              f"step {i}: CSV row equals the JSON point")
        if i == 0:
            continue
        before = vector(path[i - 1]["precision"])
        changed = [j for j in range(len(k)) if k[j] != before[j]]
        check(len(changed) == 1 and before[changed[0]] - k[changed[0]] == 1 and names[changed[0]] == point["lowered"],
              f"step {i}: lowers {point['lowered']} by one plane")
        check(point["energy_j"] < path[i - 1]["energy_j"], f"step {i}: energy falls")
        check(point["cycles"] <= path[i - 1]["cycles"], f"step {i}: cycles do not rise")
    by_bits = {r["bits"]: r for r in run["results"]}
    for point, bits in ((path[0], 8), (path[-1], 1)):
        check(math.isclose(point["energy_j"], by_bits[bits]["energy_j"], rel_tol=1e-12) and
              point["cycles"] == by_bits[bits]["cycles"], f"all-{bits}: energy and cycles equal bsnpu run at k={bits}")
    if failures:
        print(f"check_frontier: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
