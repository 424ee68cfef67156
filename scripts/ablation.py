#!/usr/bin/env python3
"""The ablation rows of docs/accuracy.{md,json}: integer models that leave out BN re-estimation,
the fc affine, or both, measured with the C++ engine (`build/bsnpu eval`, bit-exact with the NumPy
reference) on all 10,000 test images and on a held-out training slice (data_batch_5.bin: training
images 40,000-49,999, which no recipe step reads), k = 1..8.

    /usr/bin/python3 scripts/ablation.py     # about 40 min on 2 shared cores: 2 quantizer runs + 6 eval sweeps

The ablation models are written to --work (default: $TMPDIR/bsnpu-ablation), never into the
repository; an existing one, and an eval report of the same model (by sha256) and data, is reused
unless --rebuild. The shipped model is measured too: on the
test images its counts must equal the integer row of docs/accuracy.json (checked), and on the
held-out slice it is the reference the ablations are compared with.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bsnpu import accuracy, fileio, paths

PY = "/usr/bin/python3"


def run(command, log_path):
    """Runs `command` (a list), its stderr to log_path; returns wall seconds. Raises on failure."""
    print("ablation: $ " + " ".join(command), file=sys.stderr, flush=True)
    started = time.time()
    with open(log_path, "w") as log:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=log, cwd=paths.REPO_ROOT)
    if done.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-2000:]
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}):\n{tail}")
    return time.time() - started


def quantizer_seconds(log_path):
    """The wall time the quantizer logged on its last line ('... in N s'), if it finished."""
    try:
        with open(log_path) as f:
            last = f.read().strip().splitlines()[-1]
    except (OSError, IndexError):
        return None
    return float(last.rsplit(" in ", 1)[1].split()[0]) if last.startswith("quantize: wrote") else None


def relative(path):
    """A path as the reader should type it: relative to the repository when inside it."""
    path = os.path.abspath(path)
    return os.path.relpath(path, paths.REPO_ROOT) if path.startswith(paths.REPO_ROOT + os.sep) else path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--float-model")
    parser.add_argument("--data")
    parser.add_argument("--model", help="the shipped model's prefix (default: models/resnet18_cifar10)")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "bsnpu-ablation"),
                        help="where the ablation models and eval reports go (default: %(default)s)")
    parser.add_argument("--bsnpu", default=os.path.join(paths.REPO_ROOT, "build", "bsnpu"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rebuild", action="store_true", help="rebuild ablation models found in --work")
    parser.add_argument("--out", default=os.path.join(paths.REPO_ROOT, "docs", "accuracy"),
                        help="output prefix: adds rows to PREFIX.json and rewrites PREFIX.md")
    args = parser.parse_args()
    work = os.path.abspath(args.work)
    if work == paths.REPO_ROOT or work.startswith(paths.REPO_ROOT + os.sep):
        parser.error("--work must be outside the repository (the ablation models are not committed)")
    if not os.access(args.bsnpu, os.X_OK):
        parser.error(f"{args.bsnpu}: not built (cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build)")
    with open(args.out + ".json") as f:
        results = json.load(f)
    if results.get("images") != 10000:
        parser.error(f"{args.out}.json holds {results.get('images')} test images, not all 10000: "
                     "run scripts/accuracy.py first")
    data = os.path.abspath(paths.data_dir(args.data))
    shipped = os.path.abspath(paths.model_prefix(args.model))
    float_model = os.path.abspath(paths.float_model(args.float_model))
    os.makedirs(work, exist_ok=True)
    # bsnpu eval reads DIR/test_batch.bin: a directory whose test_batch.bin is data_batch_5.bin.
    heldout = os.path.join(work, "heldout")
    os.makedirs(heldout, exist_ok=True)
    link = os.path.join(heldout, "test_batch.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join(data, accuracy.HELDOUT_FILE), link)

    results.setdefault("commands", {})
    heldout_results = {"file": accuracy.HELDOUT_FILE, "rows": {}, "commands": {}}
    models = [("integer", shipped, None)] + [(key, os.path.join(work, key), flags)
                                             for key, _, flags in accuracy.ABLATIONS]
    for key, prefix, flags in models:
        commands = []
        if flags is not None:
            quantize = [PY, "scripts/quantize.py", "--out", prefix] + flags
            if args.float_model:
                quantize += ["--float-model", float_model]
            if args.data:
                quantize += ["--data", data]
            if args.rebuild or not os.path.exists(prefix + ".json"):
                run(quantize, prefix + ".quantize.log")
            seconds = quantizer_seconds(prefix + ".quantize.log")
            if seconds is not None:
                results["seconds"][f"{key}/quantize"] = seconds
            commands.append(" ".join(quantize))
        for where, data_dir, table in (("test", data, results), ("heldout", heldout, heldout_results)):
            report = os.path.join(work, f"{key}.{where}.eval.json")
            command = [args.bsnpu, "eval", "--model", prefix, "--data", data_dir, "--images", "all",
                       "--bits", "1-8", "--threads", str(args.threads), "--json", report]
            measured = None
            if not args.rebuild and os.path.exists(report):  # a report of this very model and data
                with open(report) as f:
                    measured = json.load(f)
                if (measured.get("model_tensors_sha256") != fileio.sha256_file(prefix + ".safetensors")
                        or os.path.realpath(measured.get("data", "")) != os.path.realpath(data_dir)
                        or sorted(measured.get("per_bits", {})) != [str(k) for k in range(1, 9)]):
                    measured = None
            if measured is None:
                run(command, report + ".log")
                with open(report) as f:
                    measured = json.load(f)
            if measured["images"] != 10000:
                raise RuntimeError(f"{report}: {measured['images']} images, expected 10000")
            shown = [relative(args.bsnpu)] + command[1:]
            shown[shown.index("--model") + 1] = relative(prefix)
            shown[shown.index("--data") + 1] = relative(data_dir)
            for k in range(1, 9):
                row = measured["per_bits"][str(k)]
                cell = {"correct": row["correct"], "accuracy": row["correct"] / measured["images"]}
                if where == "test" and key == "integer":  # the row is the NumPy reference's
                    want = results["rows"].get(f"integer/k{k}")
                    if want and want["correct"] != row["correct"]:
                        raise RuntimeError(f"k={k}: bsnpu eval counts {row['correct']} correct, the NumPy "
                                           f"reference row of {args.out}.json {want['correct']}")
                else:
                    table["rows"][f"{key}/k{k}"] = cell
            table["commands"][key if where == "heldout" or key != "integer" else "integer/eval"] = \
                commands + [" ".join(shown)]
            table.setdefault("seconds", {})[f"{key}/eval"] = round(measured["seconds"], 1)
    heldout_results["images"] = 10000
    results["heldout"] = heldout_results
    results["commands"]["ablation"] = " ".join([PY, "scripts/ablation.py"] + sys.argv[1:])
    with open(args.out + ".json", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    with open(args.out + ".md", "w") as f:
        f.write(accuracy.markdown(results))
    print(f"ablation: wrote {args.out}.json and {args.out}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, RuntimeError, KeyError) as e:
        print(f"ablation: error: {e}", file=sys.stderr)
        sys.exit(1)
