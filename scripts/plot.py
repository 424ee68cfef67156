#!/usr/bin/python3
"""Plots of bsnpu results (PNG, matplotlib's Agg backend; docs/plots.md).

  report REPORT.json --out PNG                 accuracy, energy (by module) and latency vs k
  layers REPORT.json --k K --out PNG           per-layer cycles (compute + stall reasons) and energy (by module) at k
  pareto POINTS.csv --x M --y M [--color M] [--k K] --out PNG
                                               a sweep's points, any two metrics, coloured by a third, the Pareto front of x and y

REPORT.json is a `bsnpu run --out` report (docs/report-format.md). POINTS.csv is any CSV with a header
row (a sweep's DIR/points.csv): metrics are its column names; --k keeps the rows of one k (column "k"
or "bits"). A metric is better higher when its name holds "accuracy", "utilization" or "per_s",
lower otherwise: that sets which points are on the front. Errors are one line, status 1; nothing is
written unless the whole figure is."""

import argparse
import csv
import json
import math
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HIGHER_IS_BETTER = ("accuracy", "utilization", "per_s")


class PlotError(Exception):
    pass


def load_report(path):
    try:
        with open(path) as f:
            report = json.load(f)
    except FileNotFoundError:
        raise PlotError(f"{path}: no such file")
    except (OSError, UnicodeDecodeError) as e:
        raise PlotError(f"{path}: cannot read ({e})")
    except json.JSONDecodeError as e:
        raise PlotError(f"{path}: invalid JSON: {e}")
    if not isinstance(report, dict) or report.get("format") != "bsnpu-report":
        raise PlotError(f"{path}: format: not a bsnpu run report (\"bsnpu-report\")")
    results = report.get("results")
    if not isinstance(results, list) or not results:
        raise PlotError(f"{path}: results: missing or empty")
    return report


def field(path, entry, where, *keys):
    """entry[keys[0]][keys[1]]..., naming the field when it is missing."""
    value = entry
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise PlotError(f"{path}: {where}.{'.'.join(keys)}: missing")
        value = value[key]
    return value


def number(path, entry, where, *keys):
    value = field(path, entry, where, *keys)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PlotError(f"{path}: {where}.{'.'.join(keys)}: not a number")
    return float(value)


def save(figure, out):
    """Writes the PNG beside its target and renames it over the target: whole or not at all."""
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise PlotError(f"--out: {out}: directory {folder} does not exist")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(out) + ".", suffix=".png")
    os.close(fd)
    try:
        # No timestamp or version in the file: the same inputs give the same bytes.
        figure.savefig(temporary, dpi=110, metadata={"Software": None})
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp's 0600 -> what a plain create gives
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise
    finally:
        plt.close(figure)


def title_of(path, report):
    config = report.get("config", {}).get("name", "?") if isinstance(report.get("config"), dict) else "?"
    return f"{os.path.basename(path)}: config {config}"


def plot_report(args):
    report = load_report(args.report)
    rows = report["results"]
    where = [f"results[{i}]" for i in range(len(rows))]
    bits = [number(args.report, row, w, "bits") for row, w in zip(rows, where)]
    accuracy = [100 * number(args.report, row, w, "accuracy") for row, w in zip(rows, where)]
    latency = [1e3 * number(args.report, row, w, "latency_s") for row, w in zip(rows, where)]
    modules = list(field(args.report, rows[0], where[0], "energy_breakdown_j"))
    energy = {m: [1e6 * number(args.report, row, w, "energy_breakdown_j", m) for row, w in zip(rows, where)]
              for m in modules}
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].plot(bits, accuracy, "o-")
    axes[0].set_ylabel("top-1 accuracy (%)")
    bottom = [0.0] * len(bits)
    for module in modules:
        axes[1].bar(bits, energy[module], bottom=bottom, label=module)
        bottom = [b + e for b, e in zip(bottom, energy[module])]
    axes[1].set_ylabel("energy per image (µJ)")
    axes[1].legend(fontsize=7)
    axes[2].plot(bits, latency, "o-", color="tab:red")
    axes[2].set_ylabel("latency per image (ms)")
    for axis, name in zip(axes, ("accuracy", "energy", "latency")):
        axis.set_xlabel("weight bits k")
        axis.set_xticks(bits)
        axis.set_title(name)
        axis.grid(alpha=0.3)
    figure.suptitle(title_of(args.report, report))
    figure.tight_layout()
    save(figure, args.out)


def plot_layers(args):
    report = load_report(args.report)
    matches = [i for i, row in enumerate(report["results"]) if isinstance(row, dict) and row.get("bits") == args.k]
    if not matches:
        have = ", ".join(str(row.get("bits")) for row in report["results"] if isinstance(row, dict))
        raise PlotError(f"{args.report}: results: no k = {args.k} (the report has k = {have})")
    where = f"results[{matches[0]}]"
    layers = field(args.report, report["results"][matches[0]], where, "layers")
    if not isinstance(layers, list) or not layers:
        raise PlotError(f"{args.report}: {where}.layers: missing or empty")
    # Ops fused into a conv's post-processing have no cycles or energy of their own.
    shown = [(i, layer) for i, layer in enumerate(layers)
             if number(args.report, layer, f"{where}.layers[{i}]", "cycles") > 0
             or number(args.report, layer, f"{where}.layers[{i}]", "energy_j") > 0]
    names = [str(field(args.report, layer, f"{where}.layers[{i}]", "name")) for i, layer in shown]
    reasons = list(field(args.report, shown[0][1], f"{where}.layers[{shown[0][0]}]", "stall_breakdown"))
    modules = list(field(args.report, shown[0][1], f"{where}.layers[{shown[0][0]}]", "energy_breakdown_j"))
    x = list(range(len(shown)))
    figure, axes = plt.subplots(3, 1, figsize=(max(8, 0.45 * len(shown) + 2), 11), sharex=True)
    compute = [number(args.report, layer, f"{where}.layers[{i}]", "compute_cycles") for i, layer in shown]
    stalls = [(reason, [number(args.report, layer, f"{where}.layers[{i}]", "stall_breakdown", reason)
                        for i, layer in shown]) for reason in reasons]
    colours = {reason: f"C{n + 1}" for n, reason in enumerate(reasons)}
    # Cycles: compute and every stall reason; then the stalls alone, at their own scale.
    for axis, stacks in ((axes[0], [("compute", compute, "C0")] + [(f"stall: {r}", v, colours[r]) for r, v in stalls]),
                         (axes[1], [(f"stall: {r}", v, colours[r]) for r, v in stalls])):
        bottom = [0.0] * len(x)
        for label, values, colour in stacks:
            if any(values):
                axis.bar(x, values, bottom=bottom, label=label, color=colour)
                bottom = [b + v for b, v in zip(bottom, values)]
        axis.set_ylabel("cycles")
        axis.legend(fontsize=7)
    axes[0].set_title(f"cycles per layer at k = {args.k}: compute and stall reasons")
    axes[1].set_title(f"stall cycles per layer at k = {args.k}, by reason")
    bottom = [0.0] * len(x)
    for module in modules:
        values = [1e6 * number(args.report, layer, f"{where}.layers[{i}]", "energy_breakdown_j", module)
                  for i, layer in shown]
        axes[2].bar(x, values, bottom=bottom, label=module)
        bottom = [b + v for b, v in zip(bottom, values)]
    axes[2].set_ylabel("energy per image (µJ)")
    axes[2].set_title(f"energy per layer at k = {args.k}, by module")
    axes[2].legend(fontsize=7)
    axes[2].set_xticks(x)
    axes[2].set_xticklabels(names, rotation=70, ha="right", fontsize=7)
    for axis in axes:
        axis.grid(axis="y", alpha=0.3)
    figure.suptitle(title_of(args.report, report))
    figure.tight_layout()
    save(figure, args.out)


def read_points(path):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            columns = reader.fieldnames
            rows = list(reader)
    except FileNotFoundError:
        raise PlotError(f"{path}: no such file")
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise PlotError(f"{path}: cannot read as CSV ({e})")
    if not columns:
        raise PlotError(f"{path}: no header row")
    return columns, rows


def column_values(path, columns, rows, name, option):
    if name not in columns:
        raise PlotError(f"{option}: {path} has no metric '{name}' (columns: {', '.join(columns)})")
    values = []
    for line, row in enumerate(rows, start=2):
        try:
            value = float(row[name])
        except (TypeError, ValueError):
            raise PlotError(f"{path}: line {line}: {name}: '{row[name]}' is not a number")
        if not math.isfinite(value):
            raise PlotError(f"{path}: line {line}: {name}: '{row[name]}' is not a finite number")
        values.append(value)
    return values


def higher_is_better(metric):
    return any(word in metric for word in HIGHER_IS_BETTER)


def pareto_front(xs, ys, x_higher, y_higher):
    """Indices of the points no other point beats or equals on both axes, sorted by x."""
    sx = [x if x_higher else -x for x in xs]
    sy = [y if y_higher else -y for y in ys]
    front = [i for i in range(len(xs))
             if not any(sx[j] >= sx[i] and sy[j] >= sy[i] and (sx[j], sy[j]) != (sx[i], sy[i])
                        for j in range(len(xs)))]
    return sorted(front, key=lambda i: xs[i])


def plot_pareto(args):
    columns, rows = read_points(args.points)
    if args.k is not None:
        k_column = next((c for c in ("k", "bits") if c in columns), None)
        if k_column is None:
            raise PlotError(f"--k: {args.points} has no column 'k' or 'bits' (columns: {', '.join(columns)})")
        rows = [row for row in rows if row[k_column].strip() == str(args.k)]
    xs = column_values(args.points, columns, rows, args.x, "--x")
    ys = column_values(args.points, columns, rows, args.y, "--y")
    colours = column_values(args.points, columns, rows, args.color, "--color") if args.color else None
    if not rows:
        raise PlotError(f"{args.points}: no points" + (f" with k = {args.k}" if args.k is not None else ""))
    figure, axis = plt.subplots(figsize=(7, 5))
    scatter = axis.scatter(xs, ys, c=colours, cmap="viridis", s=22, alpha=0.85, zorder=2)
    if colours is not None:
        figure.colorbar(scatter, ax=axis, label=args.color)
    front = pareto_front(xs, ys, higher_is_better(args.x), higher_is_better(args.y))
    axis.plot([xs[i] for i in front], [ys[i] for i in front], "-", color="tab:red", lw=1.2, zorder=3,
              label=f"Pareto front ({len(front)} points)")
    axis.set_xlabel(args.x + (" (higher is better)" if higher_is_better(args.x) else ""))
    axis.set_ylabel(args.y + (" (higher is better)" if higher_is_better(args.y) else ""))
    axis.set_title(f"{os.path.basename(args.points)}: {len(rows)} points" + (f", k = {args.k}" if args.k is not None else ""))
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    save(figure, args.out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="accuracy, energy and latency vs k")
    report.add_argument("report", metavar="REPORT.json")
    report.add_argument("--out", required=True, help="PNG to write")
    layers = commands.add_parser("layers", help="per-layer cycles with stall reasons, and energy, at one k")
    layers.add_argument("report", metavar="REPORT.json")
    layers.add_argument("--k", type=int, required=True, help="the k to show")
    layers.add_argument("--out", required=True, help="PNG to write")
    pareto = commands.add_parser("pareto", help="a sweep's points: two metrics, coloured by a third")
    pareto.add_argument("points", metavar="POINTS.csv")
    pareto.add_argument("--x", required=True, help="metric (column) on the x axis")
    pareto.add_argument("--y", required=True, help="metric (column) on the y axis")
    pareto.add_argument("--color", help="metric (column) that colours the points")
    pareto.add_argument("--k", type=int, help="only the rows of this k")
    pareto.add_argument("--out", required=True, help="PNG to write")
    args = parser.parse_args(argv)
    try:
        {"report": plot_report, "layers": plot_layers, "pareto": plot_pareto}[args.command](args)
    except PlotError as e:
        print(f"plot: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"plot: error: --out: {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"plot: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
