"""Checks bsnpu's systolic timing against SCALE-Sim v2's per-layer cycles (a peer's run, kept in
../shared/peers/scalesim/): the report of `bsnpu run --config configs/scalesim_ws64.json --bits 8`
against COMPUTE_REPORT_ws64.csv, weighted layers in graph order.

The 3x3 convs and the fc must agree within 1 % (SCALE-Sim counts folds x (P + 2R + C - 2) - 1,
bsnpu folds x (P + 2R + C - 2): one cycle apart). SCALE-Sim's 1x1 strided downsample layers come
out 66-288 cycles above that formula, which bsnpu does not reproduce; they are printed, not
checked. Exit 0 when every checked layer agrees, 1 otherwise, 77 (skip) without the peer file.

Usage: check_scalesim.py REPORT.json COMPUTE_REPORT_ws64.csv
"""

import csv
import json
import os
import sys

TOLERANCE = 0.01


def peer_cycles(path):
    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if row and row[0].strip()]
    header = [name.strip() for name in rows[0]]
    column = header.index("Total Cycles")
    return [int(row[column]) for row in rows[1:]]


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    report_path, peer_path = argv[1], argv[2]
    if not os.path.exists(peer_path):
        print(f"check_scalesim: SKIP: {peer_path} not found (the shared peer results)")
        return 77
    with open(report_path) as f:
        report = json.load(f)
    result = next((r for r in report["results"] if r["bits"] == 8), None)
    if result is None:
        print(f"check_scalesim: {report_path}: no result at k = 8", file=sys.stderr)
        return 1
    layers = [layer for layer in result["layers"] if layer["op"] in ("conv", "fc")]
    peer = peer_cycles(peer_path)
    if len(layers) != len(peer):
        print(f"check_scalesim: {len(layers)} weighted layers in {report_path}, "
              f"{len(peer)} in {peer_path}", file=sys.stderr)
        return 1
    failures = []
    print(f"{'layer':24} {'bsnpu':>8} {'SCALE-Sim':>9} {'diff':>8}")
    for layer, theirs in zip(layers, peer):
        ours = layer["cycles"]
        difference = (ours - theirs) / theirs
        checked = "downsample" not in layer["name"]
        note = "" if checked else "  (1x1 downsample: not checked)"
        print(f"{layer['name']:24} {ours:8d} {theirs:9d} {100 * difference:+7.2f}%{note}")
        if checked and abs(difference) > TOLERANCE:
            failures.append(f"{layer['name']}: {ours} cycles against SCALE-Sim's {theirs} "
                            f"({100 * difference:+.2f} %, tolerance {100 * TOLERANCE:.0f} %)")
    for failure in failures:
        print(f"check_scalesim: FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
