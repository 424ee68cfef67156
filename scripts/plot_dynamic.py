#!/usr/bin/python3
"""Dynamic precision on the held-out traces: runs `bsnpu stream --sweep` for every policy of
configs/policies/ on every trace, writes the measured points (docs/dynamic-precision.json), one
figure per trace (docs/img/dynamic_<trace>.png: accuracy vs average bits and vs energy per frame),
and prints the markdown tables and the bar checks that docs/dynamic-precision.md quotes.

    /usr/bin/python3 scripts/plot_dynamic.py [--traces traces/heldout/*.json] [--bsnpu build/bsnpu]
                                             [--out docs] [--threads 1] [--from-json FILE]
                                             [--policies P ...] [--frontier FRONTIER.json]

--from-json redraws the figures and tables from a JSON this script wrote, without simulating;
with --policies P... as well, only those policies are run again and replaced in it.
--frontier takes the path of a `bsnpu frontier` run (per-layer precision vectors, greedy), picks
its points with average bits in 1..4 (all of them if at most FRONTIER_POINTS, else that many
spread over 1..4, the two ends included), renders each trace once as a CIFAR batch (`bsnpu
frames --out-cifar`) and measures each point's accuracy on it (`bsnpu eval --precision`); average
bits, energy and latency per frame are the frontier's (a static vector costs the same every frame).
The points are kept in the JSON as the trace's "frontier" series, which --from-json redraws.
Thresholds were chosen on the development traces (traces/*.json); nothing here tunes anything.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import hashlib
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The policy files, in plot order; "static" is the baseline the bars compare with.
POLICIES = ["static", "smoothed_static", "confidence", "temporal", "scene_gated_3", "scene_gated_8",
            "scene_gated_3_hold", "scene_gated_8_hold"]
DYNAMIC = POLICIES[2:]
STYLE = {
    "static": ("k", "o", "-"),
    "smoothed_static": ("0.5", "s", "--"),
    "confidence": ("tab:blue", "^", "-"),
    "temporal": ("tab:orange", "v", "-"),
    "scene_gated_3": ("tab:green", "D", "-"),
    "scene_gated_8": ("tab:red", "P", "-"),
    "scene_gated_3_hold": ("tab:green", "D", ":"),
    "scene_gated_8_hold": ("tab:red", "P", ":"),
}
FRONTIER_NAME = "per-layer frontier (greedy)"
FRONTIER_STYLE = ("tab:purple", "x", "-.")
UNIFORM_STYLE = ("tab:purple", "o", ":")
FRONTIER_POINTS = 12


def run_sweeps(traces, policies, bsnpu, threads, results):
    with tempfile.TemporaryDirectory() as scratch:
        for trace in traces:
            name = pathlib.Path(trace).stem
            results.setdefault(name, {"trace": str(pathlib.Path(trace).resolve().relative_to(ROOT)),
                                      "policies": {}})
            for policy in policies:
                path = ROOT / "configs" / "policies" / (policy + ".json")
                out = pathlib.Path(scratch) / ("%s_%s.json" % (name, policy))
                command = [bsnpu, "stream", "--trace", trace, "--policy", str(path), "--sweep",
                           "--threads", str(threads), "--out", str(out)]
                print("+ " + " ".join(command), file=sys.stderr, flush=True)
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                document = json.load(open(out))
                results[name]["policies"][policy] = {
                    "name": json.load(open(path))["name"],
                    "sweep_field": document["sweep_field"],
                    "points": [{"value": p["value"], **p["totals"]} for p in document["points"]],
                }
    return results


def pick_frontier(path):
    """The path's points with average bits in 1..4: all if few, else FRONTIER_POINTS of them, the
    nearest to bit budgets spaced evenly from the lowest to the highest (both ends kept)."""
    inside = sorted((p for p in path if 1 - 1e-9 <= p["average_bits"] <= 4 + 1e-9),
                    key=lambda p: p["average_bits"])
    if len(inside) <= FRONTIER_POINTS:
        return inside
    low, high = inside[0]["average_bits"], inside[-1]["average_bits"]
    chosen = []
    for i in range(FRONTIER_POINTS):
        target = low + (high - low) * i / (FRONTIER_POINTS - 1)
        nearest = min(inside, key=lambda p: abs(p["average_bits"] - target))
        if nearest not in chosen:
            chosen.append(nearest)
    return sorted(chosen, key=lambda p: p["average_bits"])


def run_frontier(traces, frontier_file, bsnpu, threads, results):
    """Measures the chosen frontier points on every trace; stores them as results[trace]["frontier"]."""
    raw = open(frontier_file, "rb").read()
    frontier = json.loads(raw)
    if frontier.get("format") != "bsnpu-frontier":
        sys.exit("%s: format: not a bsnpu-frontier file" % frontier_file)
    chosen = pick_frontier(frontier["path"])
    source = {"file": pathlib.Path(frontier_file).name, "sha256": hashlib.sha256(raw).hexdigest(),
              "method": frontier["method"], "config": frontier["config"],
              "sensitivity_images": frontier["sensitivity"]["images"],
              "evaluation_images": frontier["evaluation"]["images"]}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        for trace in traces:
            name = pathlib.Path(trace).stem
            entry = results.setdefault(
                name, {"trace": str(pathlib.Path(trace).resolve().relative_to(ROOT)), "policies": {}})
            data = scratch / name
            data.mkdir()
            command = [bsnpu, "frames", "--trace", trace, "--out-cifar", str(data / "test_batch.bin")]
            print("+ " + " ".join(command), file=sys.stderr, flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            # Uniform k on the same frames, measured the same way: the baseline of the frontier's bar.
            out = scratch / "eval.json"
            command = [bsnpu, "eval", "--data", str(data), "--images", "all", "--bits", "1-4",
                       "--threads", str(threads), "--json", str(out)]
            print("+ " + " ".join(command), file=sys.stderr, flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            uniform = [{"k": int(k), "average_bits": m["average_bits"], "frames": m["images"],
                        "correct": m["correct"], "accuracy": m["accuracy"]}
                       for k, m in json.load(open(out))["per_bits"].items()]
            points = []
            for point in chosen:
                precision = scratch / "precision.json"
                precision.write_text(json.dumps(point["precision"]) + "\n")
                out = scratch / "eval.json"
                command = [bsnpu, "eval", "--data", str(data), "--images", "all", "--precision",
                           str(precision), "--threads", str(threads), "--json", str(out)]
                print("+ " + " ".join(command) + "   # step %d" % point["step"], file=sys.stderr,
                      flush=True)
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                ((label, measured),) = json.load(open(out))["per_bits"].items()
                points.append({"step": point["step"], "precision": point["precision"],
                               "label": label,
                               "average_bits": point["average_bits"],
                               "energy_per_frame_j": point["energy_j"],
                               "mean_latency_s": point["latency_s"],
                               "test_accuracy": point["eval_accuracy"],
                               "frames": measured["images"], "correct": measured["correct"],
                               "accuracy": measured["accuracy"]})
            entry["frontier"] = {"name": FRONTIER_NAME, "source": source, "points": points,
                                 "uniform": uniform}
    return results


def static_at(uniform, bits):
    """Uniform k's accuracy at `bits` average bits, linear between neighbouring integer k."""
    by_k = {p["k"]: p["accuracy"] for p in uniform}
    low = int(bits + 1e-9)
    if abs(bits - low) < 1e-9:
        return by_k[low]
    return by_k[low] + (bits - low) * (by_k[low + 1] - by_k[low])


def best_at(points, bits):
    """The highest accuracy among points of at most `bits` average bits (None if none)."""
    accuracies = [p["accuracy"] for p in points if p["average_bits"] <= bits + 1e-9]
    return max(accuracies) if accuracies else None


def bars(trace):
    policies = trace["policies"]
    static = {round(p["average_bits"]): p["accuracy"] for p in policies["static"]["points"]}
    dynamic = [p for name in DYNAMIC for p in policies[name]["points"]]
    smoothed = policies["smoothed_static"]["points"]
    at2, at15 = best_at(dynamic, 2.0), best_at(dynamic, 1.5)
    lines = []
    lines.append("- at <= 2.0 bits: best dynamic %.2f %%, static k = 8 %.2f %%: %s (bar: within 0.2)"
                 % (100 * (at2 or 0), 100 * static[8],
                    "holds" if at2 is not None and at2 >= static[8] - 0.002 else "FAILS"))
    lines.append("- at <= 1.5 bits: best dynamic %.2f %%, static k = 2 %.2f %%: %s (bar: at least)"
                 % (100 * (at15 or 0), 100 * static[2],
                    "holds" if at15 is not None and at15 >= static[2] else "FAILS"))
    below = []
    for step in range(0, 61):
        bits = 1 + step * 0.05
        dyn, sta = best_at(dynamic, bits), best_at(policies["static"]["points"], bits)
        if dyn is None or dyn < sta:
            below.append("%.2f" % bits)
    lines.append("- dynamic frontier on or above static at every 0.05 bit from 1 to 4: %s"
                 % ("holds" if not below else "FAILS at " + ", ".join(below)))
    sm2 = best_at(smoothed, 2.0)
    lines.append("- static with the same smoothing, best at <= 2.0 bits: %.2f %%" % (100 * (sm2 or 0)))
    if "frontier" in trace:
        uniform = trace["frontier"]["uniform"]
        gaps = [100 * (p["accuracy"] - static_at(uniform, p["average_bits"]))
                for p in trace["frontier"]["points"]]
        lines.append("- per-layer frontier (greedy) vs static uniform k at the same average bits "
                     "(bsnpu eval on the same frames, k = %s: %s %%; linear between integer k): "
                     "at or above at %d of %d points, %+.2f to %+.2f "
                     "points (mean %+.2f)" % (
                         ", ".join(str(p["k"]) for p in uniform),
                         ", ".join("%.2f" % (100 * p["accuracy"]) for p in uniform),
                         sum(g >= -1e-9 for g in gaps), len(gaps), min(gaps),
                                               max(gaps), sum(gaps) / len(gaps)))
    return lines


def table(trace):
    rows = ["| policy | sweep | accuracy % | average bits | mean final k | energy per frame uJ | latency ms |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for name in POLICIES:
        policy = trace["policies"][name]
        for p in policy["points"]:
            rows.append("| %s | %s = %g | %.2f | %.3f | %.3f | %.1f | %.4f |" % (
                policy["name"], policy["sweep_field"], p["value"], 100 * p["accuracy"],
                p["average_bits"], p["mean_final_k"], 1e6 * p["energy_per_frame_j"],
                1e3 * p["mean_latency_s"]))
    if "frontier" in trace:
        for p in trace["frontier"]["points"]:
            rows.append("| %s | step %d: %s | %.2f | %.3f | - | %.1f | %.4f |" % (
                trace["frontier"]["name"], p["step"], p["label"], 100 * p["accuracy"],
                p["average_bits"], 1e6 * p["energy_per_frame_j"], 1e3 * p["mean_latency_s"]))
    return rows


def plot(name, trace, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    series = [(trace["policies"][name], STYLE[name]) for name in POLICIES]
    if "frontier" in trace:
        series.append((trace["frontier"], FRONTIER_STYLE))
        uniform = trace["frontier"]["uniform"]
        energy = {round(p["average_bits"]): p["energy_per_frame_j"]
                  for p in trace["policies"]["static"]["points"]}
        series.append(({"name": "static k, same frames as the frontier (bsnpu eval)",
                        "points": [dict(p, energy_per_frame_j=energy[p["k"]]) for p in uniform]},
                       UNIFORM_STYLE))
    for policy, (color, marker, line) in series:
        points = sorted(policy["points"], key=lambda p: p["average_bits"])
        for axis, key, scale in [(axes[0], "average_bits", 1), (axes[1], "energy_per_frame_j", 1e6)]:
            axis.plot([scale * p[key] for p in points], [100 * p["accuracy"] for p in points],
                      color=color, marker=marker, linestyle=line, markersize=4,
                      label=policy["name"])
    axes[0].set_xlabel("average bits (weight planes processed per frame, MAC-weighted)")
    axes[1].set_xlabel("energy per frame (uJ, default config)")
    for axis in axes:
        axis.set_ylabel("top-1 accuracy on the trace (%)")
        axis.grid(True, alpha=0.3)
    axes[0].set_xlim(0.9, 8.2)
    axes[0].legend(fontsize=7, loc="lower right")
    figure.suptitle("%s: %s" % (name, trace["trace"]))
    figure.tight_layout()
    path = out / "img" / ("dynamic_%s.png" % name)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", nargs="+",
                        default=sorted(str(p) for p in (ROOT / "traces" / "heldout").glob("*.json")))
    parser.add_argument("--bsnpu", default=str(ROOT / "build" / "bsnpu"))
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--from-json")
    parser.add_argument("--policies", nargs="+", choices=POLICIES, default=POLICIES,
                        help="run only these (the others are read from --from-json)")
    parser.add_argument("--frontier", help="a `bsnpu frontier` JSON: measure its points on the traces")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    results = json.load(open(args.from_json)) if args.from_json else {}
    if not args.from_json or args.policies != POLICIES:
        run_sweeps(args.traces, args.policies, args.bsnpu, args.threads, results)
    if args.frontier:
        run_frontier(args.traces, args.frontier, args.bsnpu, args.threads, results)
    if not args.from_json or args.policies != POLICIES or args.frontier:
        (out / "dynamic-precision.json").write_text(json.dumps(results, indent=1) + "\n")
    for name, trace in results.items():
        print("### %s (`%s`)\n" % (name, trace["trace"]))
        print("\n".join(table(trace)))
        print()
        print("\n".join(bars(trace)))
        print("\n![%s](img/%s)\n" % (name, plot(name, trace, out).name))


if __name__ == "__main__":
    main()
