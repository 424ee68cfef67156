#!/usr/bin/python3
"""Dynamic precision on the held-out traces: runs `bsnpu stream --sweep` for every policy of
configs/policies/ on every trace, writes the measured points (docs/dynamic-precision.json), one
figure per trace (docs/img/dynamic_<trace>.png: accuracy vs average bits and vs energy per frame),
and prints the markdown tables and the bar checks that docs/dynamic-precision.md quotes.

    /usr/bin/python3 scripts/plot_dynamic.py [--traces traces/heldout/*.json] [--bsnpu build/bsnpu]
                                             [--out docs] [--threads 1] [--from-json FILE]
                                             [--policies P ...]

--from-json redraws the figures and tables from a JSON this script wrote, without simulating;
with --policies P... as well, only those policies are run again and replaced in it.
Thresholds were chosen on the development traces (traces/*.json); nothing here tunes anything.
"""
import argparse
import json
import pathlib
import subprocess
import sys
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
    return rows


def plot(name, trace, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for policy_name in POLICIES:
        policy = trace["policies"][policy_name]
        points = sorted(policy["points"], key=lambda p: p["average_bits"])
        color, marker, line = STYLE[policy_name]
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
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    results = json.load(open(args.from_json)) if args.from_json else {}
    if not args.from_json or args.policies != POLICIES:
        run_sweeps(args.traces, args.policies, args.bsnpu, args.threads, results)
        (out / "dynamic-precision.json").write_text(json.dumps(results, indent=1) + "\n")
    for name, trace in results.items():
        print("### %s (`%s`)\n" % (name, trace["trace"]))
        print("\n".join(table(trace)))
        print()
        print("\n".join(bars(trace)))
        print("\n![%s](img/%s)\n" % (name, plot(name, trace, out).name))


if __name__ == "__main__":
    main()
