#!/usr/bin/env bash
# The Slurm job array end to end, on the real cluster of tests/slurm/local_cluster.sh (run it
# inside: local_cluster.sh bash test_sweep_array.sh BSNPU SPACE):
# 1. an unsharded local `bsnpu sweep` of SPACE: the reference;
# 2. scripts/slurm/submit.sh cuts SPACE into 3 shards; task 1 fails right after its sweep
#    finished (fail_after_shard.sh): the other tasks succeed, the merge job is cancelled and
#    nothing is merged;
# 3. the same submit.sh command again resumes: shard 1's finished points are not redone (its
#    records stay byte for byte what they were), the merge job completes, and the merged outputs
#    are byte-identical to the unsharded sweep's;
# 4. once more: refused (already merged), nothing queued.
set -euo pipefail
if [[ $# -ne 2 ]]; then
  echo "usage: tests/slurm/test_sweep_array.sh BSNPU SPACE.json (inside tests/slurm/local_cluster.sh)" >&2
  exit 2
fi
[[ -n "${SLURM_CONF:-}" ]] || { echo "test_sweep_array: no SLURM_CONF: run it inside tests/slurm/local_cluster.sh" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bsnpu=$1 space=$2
shards=3
failing_task=1
images=16
work=$(mktemp -d "${TMPDIR:-/tmp}/bsnpu-slurm-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

fail() {
  echo "test_sweep_array: FAIL: $*" >&2
  local log
  for log in "$work"/cluster/logs/*; do
    [[ -f "$log" ]] || continue
    echo "---- $log" >&2
    tail -n 20 "$log" >&2
  done
  exit 1
}

# The state of job ID (an array's tasks: one "TASK STATE" line each) from slurmctld, which keeps
# finished jobs for MinJobAge (300 s) without accounting.
job_states() {
  scontrol -o show job "$1" | sed -E 's/.*ArrayTaskId=([^ ]+).*JobState=([A-Z_]+).*/\1 \2/; s/^JobId=.*JobState=([A-Z_]+).*/- \1/' | sort
}

# Waits until job ID ended (no longer queued nor running), at most 5 minutes.
wait_for() {
  local waited=0
  while [[ -n "$(squeue -h -o %i -j "$1" 2>/dev/null)" ]]; do
    ((waited < 300)) || fail "job $1 still queued or running after 300 s: $(squeue -j "$1")"
    sleep 1
    waited=$((waited + 1))
  done
}

"$bsnpu" sweep --space "$space" -j 2 --out "$work/local" --images "$images" >"$work/local.log" 2>&1 ||
  { cat "$work/local.log" >&2; fail "the local sweep failed"; }
echo "test_sweep_array: local sweep done ($((SECONDS - start)) s)"

submit=(bash "$here/../../scripts/slurm/submit.sh" --space "$space" --out "$work/cluster"
  --shards "$shards" --cpus-per-task 1 --partition debug --time 10 --merge-time 5
  --bsnpu "$here/fail_after_shard.sh" --parsable -- --images "$images")
export BSNPU_TEST_BSNPU=$bsnpu BSNPU_TEST_FAIL_TASK=$failing_task BSNPU_TEST_FAIL_MARK=$work/fail-mark
touch "$BSNPU_TEST_FAIL_MARK"
read -r array_job merge_job < <("${submit[@]}") || fail "submit.sh failed"
[[ -n "$array_job" && -n "$merge_job" ]] || fail "submit.sh printed no job ids"
wait_for "$array_job"
wait_for "$merge_job"
expected=$(for ((task = 0; task < shards; task++)); do
  [[ $task -eq $failing_task ]] && echo "$task FAILED" || echo "$task COMPLETED"
done)
[[ "$(job_states "$array_job")" == "$expected" ]] ||
  fail "array job $array_job: tasks $(job_states "$array_job" | tr '\n' ' '), expected $(tr '\n' ' ' <<<"$expected")"
[[ "$(job_states "$merge_job")" == "- CANCELLED" ]] ||
  fail "merge job $merge_job after a failed task: $(job_states "$merge_job"), expected CANCELLED"
[[ ! -e "$work/cluster/merged" ]] || fail "a merged result exists although a shard failed"
echo "test_sweep_array: task $failing_task failed, merge cancelled ($((SECONDS - start)) s)"

cp -r "$work/cluster/shard-$failing_task" "$work/failed-shard"
rm "$BSNPU_TEST_FAIL_MARK"
read -r array_job merge_job < <("${submit[@]}") || fail "submit.sh failed on resubmission"
wait_for "$array_job"
wait_for "$merge_job"
[[ "$(job_states "$array_job")" == "$(printf '%s COMPLETED\n' $(seq 0 $((shards - 1))))" ]] ||
  fail "resubmitted array job $array_job: tasks $(job_states "$array_job" | tr '\n' ' ')"
[[ "$(job_states "$merge_job")" == "- COMPLETED" ]] ||
  fail "resubmitted merge job $merge_job: $(job_states "$merge_job")"
diff -r "$work/failed-shard" "$work/cluster/shard-$failing_task" >&2 ||
  fail "the resumed shard $failing_task changed its finished records"

# The outputs (docs/sweeps.md) and the sweep's state, byte for byte. The journal points.jsonl
# lists the records in the order they finished (any order under -j 2): the same lines, no more.
for name in points.csv points.json pareto.csv pareto.json sweep.json space.json; do
  [[ -f "$work/local/$name" ]] || fail "the unsharded sweep wrote no $name"
  cmp "$work/local/$name" "$work/cluster/merged/$name" ||
    fail "merged $name differs from the unsharded sweep's"
done
cmp <(sort "$work/local/points.jsonl") <(sort "$work/cluster/merged/points.jsonl") ||
  fail "merged points.jsonl: not the unsharded sweep's records"

# A third submission has nothing to do: refused, nothing queued.
if "${submit[@]}" 2>"$work/again.err"; then
  fail "submit.sh submitted again into a merged --out"
fi
grep -q "already merged" "$work/again.err" || fail "third submission: $(cat "$work/again.err")"
[[ -z "$(squeue -h -o %i)" ]] || fail "jobs queued after a refused submission: $(squeue)"
echo "test_sweep_array: PASS: merged = unsharded, byte for byte ($((SECONDS - start)) s)"
