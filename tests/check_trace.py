"""Checks a `bsnpu run --trace` file against its report: on every thread of every k the spans
never overlap (Perfetto draws only nested slices), a resource's busy cycles never exceed its span,
each layer span carries stall reasons that sum to its stall cycles, and the layer spans of each k
add up to the report's cycles. Exit 0 when all hold, 1 with one line per violation otherwise.

Usage: check_trace.py TRACE.json REPORT.json
"""

import collections
import json
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        events = json.load(f)["traceEvents"]
    with open(argv[2]) as f:
        report = json.load(f)
    us_per_cycle = 1.0 / report["config"]["content"].get("clock_mhz", 500)
    failures = []
    spans = collections.defaultdict(list)
    layer_cycles = collections.Counter()
    for event in events:
        if event["ph"] != "X":
            continue
        start, end = event["ts"], event["ts"] + event["dur"]
        spans[(event["pid"], event["tid"])].append((start, end, event["name"]))
        args = event["args"]
        if "busy_cycles" in args and args["busy_cycles"] * us_per_cycle > event["dur"] + 1e-6:
            failures.append(f"k={event['pid']} tid {event['tid']} {event['name']}: busy "
                            f"{args['busy_cycles']} cycles in a {event['dur']} us span")
        if event.get("cat") == "layer":
            layer_cycles[event["pid"]] += args["cycles"]
            if sum(args["stalls"].values()) != args["stall_cycles"]:
                failures.append(f"k={event['pid']} {event['name']}: stall reasons "
                                f"{args['stalls']} do not sum to {args['stall_cycles']}")
    for (pid, tid), items in spans.items():
        items.sort()
        for (a_start, a_end, a_name), (b_start, _, b_name) in zip(items, items[1:]):
            if b_start < a_end - 1e-6:
                failures.append(f"k={pid} tid {tid}: {b_name} starts before {a_name} ends")
    for result in report["results"]:
        if layer_cycles[result["bits"]] != result["cycles"]:
            failures.append(f"k={result['bits']}: layer spans {layer_cycles[result['bits']]} "
                            f"cycles, report {result['cycles']}")
    for failure in failures:
        print(f"check_trace: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
