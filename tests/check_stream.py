#!/usr/bin/python3
"""Checks a `bsnpu stream --out` result: the cycles, energy and planes of every frame are the sum
of the runs it took (each run's cost as the result's "runs" table gives it), the totals are the
sums over the frames, and accuracy, average bits and final k follow from the frames.

    check_stream.py STREAM.json [RUN_REPORT.json]

With a `bsnpu run --out` report (same config and model), a static policy's frames must cost
exactly what that report gives for its k (one inference, nothing kept for an escalation).
"""
import json
import math
import sys


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-18)


def main():
    stream = json.load(open(sys.argv[1]))
    costs = {(r["conv1_from"], r["k"], bool(r["keep_sums"])): r for r in stream["runs"]}
    frames, totals = stream["frames"], stream["totals"]
    assert frames and totals["frames"] == len(frames)
    cycles = energy = planes = correct = final_k = escalations = 0
    for t, frame in enumerate(frames):
        runs = [costs[(run[0], run[1], bool(run[2]))] for run in frame["runs"]]
        assert runs[0]["conv1_from"] == 0, "frame %d: its first run continues nothing" % t
        for before, after in zip(runs, runs[1:]):
            assert before["k"] < after["k"], "frame %d: an escalation lowers k" % t
            if after["conv1_from"]:  # continues r: the run before kept it
                assert before["keep_sums"] and after["conv1_from"] == before["k"], t
        assert frame["final_k"] == runs[-1]["k"], t
        assert frame["cycles"] == sum(r["cycles"] for r in runs), "frame %d cycles" % t
        assert close(frame["energy_j"], sum(r["energy_j"] for r in runs)), "frame %d energy" % t
        assert close(frame["planes"], sum(r["planes"] for r in runs)), "frame %d planes" % t
        cycles += frame["cycles"]
        energy += frame["energy_j"]
        planes += frame["planes"]
        correct += frame["prediction"] == frame["label"]
        final_k += frame["final_k"]
        escalations += len(runs) - 1
    n = len(frames)
    assert totals["cycles"] == cycles, "total cycles %d != %d" % (totals["cycles"], cycles)
    assert close(totals["energy_j"], energy), "total energy"
    assert close(totals["energy_per_frame_j"], energy / n)
    assert close(totals["average_bits"], planes / n)
    assert close(totals["mean_final_k"], final_k / n)
    assert totals["correct"] == correct and close(totals["accuracy"], correct / n)
    assert totals["escalations"] == escalations
    if len(sys.argv) > 2:
        report = json.load(open(sys.argv[2]))
        by_k = {r["bits"]: r for r in report["results"]}
        for t, frame in enumerate(frames):
            assert len(frame["runs"]) == 1, "a static policy escalated at frame %d" % t
            row = by_k[frame["final_k"]]
            assert frame["cycles"] == row["cycles"], "frame %d: %d cycles, run says %d" % (
                t, frame["cycles"], row["cycles"])
            assert close(frame["energy_j"], row["energy_j"]), "frame %d energy" % t
    print("ok: %d frames, %d escalations" % (n, escalations))


if __name__ == "__main__":
    main()
