#!/bin/sh
# Side by side in one run, on the same test images and thread count, one program after the other:
#   1. this machine's int8 MAC peak (build/bench/mac_peak: independent vpdpbusd chains);
#   2. the `bsnpu eval` fast path, k = 1..8 on the first 2000 test images;
#   3. PyTorch FX static int8 on oneDNN (bench/torch_int8.py), 2000 images;
#   4. `bsnpu eval` then `bsnpu run` (the SystemC simulation), k = 1..8 on 1000 images, for the
#      run / eval wall-time ratio;
# steps 2-4 BENCH_REPEATS times (default 3), interleaved, so that a slow spell of a shared host
# falls on both sides; then once
#   5. PyTorch eager fp32 (bench/torch_fp32.py), 2000 images;
# each program under /usr/bin/time -v (wall time, peak memory), with the load average before and
# after. bench/summarize.py OUT_DIR then prints the Markdown table of the medians and ranges.
#
# Usage: bench/run_benchmark.sh [THREADS] [OUT_DIR]        (defaults: 2, build/bench)
# Environment (for quick checks; the defaults are the benchmark): BENCH_IMAGES (2000),
# BENCH_RUN_IMAGES (1000), BENCH_REPEATS (3), BSNPU (build/bsnpu), MAC_PEAK (build/bench/mac_peak).
set -eu
threads=${1:-2}
out=${2:-build/bench}
images=${BENCH_IMAGES:-2000}
run_images=${BENCH_RUN_IMAGES:-1000}
repeats=${BENCH_REPEATS:-3}
case $repeats in
  '' | *[!0-9]* | 0)
    echo "run_benchmark.sh: BENCH_REPEATS must be a positive integer, not '$repeats'" >&2
    exit 1
    ;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bsnpu=${BSNPU:-build/bsnpu}
mac_peak=${MAC_PEAK:-build/bench/mac_peak}
python=/usr/bin/python3
for exe in "$bsnpu" "$mac_peak"; do
  if [ ! -x "$exe" ]; then
    echo "run_benchmark.sh: $exe not found; build it first: cmake --build build" >&2
    exit 1
  fi
done
mkdir -p "$out"
printf '%s\n' "$threads" >"$out/threads.txt"

# timed NAME COMMAND...: COMMAND under /usr/bin/time -v, stdout to NAME.txt (and shown), the
# time report to NAME.time; a failure stops the benchmark (set -e; no pipe hides the status).
timed() {
  name=$1
  shift
  echo "== $name: $*"
  /usr/bin/time -v "$@" >"$out/$name.txt" 2>"$out/$name.time"
  cat "$out/$name.txt"
}

cut -d' ' -f1-3 /proc/loadavg >"$out/load_before.txt"
echo "load before: $(cat "$out/load_before.txt")"

echo "== mac_peak: $mac_peak --threads $threads"
"$mac_peak" --threads "$threads" --json "$out/mac_peak.json" >/dev/null
cat "$out/mac_peak.json"

for name in bsnpu torch_int8 eval_small run_small; do
  rm -f "$out/$name"_[0-9]*.json "$out/$name"_[0-9]*.time "$out/$name"_[0-9]*.txt
done
r=1
while [ "$r" -le "$repeats" ]; do
  timed "bsnpu_$r" "$bsnpu" eval --bits 1-8 --images "$images" --threads "$threads" \
    --json "$out/bsnpu_$r.json"
  timed "torch_int8_$r" "$python" bench/torch_int8.py --images "$images" --threads "$threads" \
    --json "$out/torch_int8_$r.json"
  timed "eval_small_$r" "$bsnpu" eval --bits 1-8 --images "$run_images" --threads "$threads" \
    --json "$out/eval_small_$r.json"
  timed "run_small_$r" "$bsnpu" run --bits 1-8 --images "$run_images" --threads "$threads" \
    --out "$out/run_small_$r.json"
  r=$((r + 1))
done
timed torch_fp32 "$python" bench/torch_fp32.py --images "$images" --threads "$threads" \
  --json "$out/torch_fp32.json"

cut -d' ' -f1-3 /proc/loadavg >"$out/load_after.txt"
echo "load after: $(cat "$out/load_after.txt")"
echo
"$python" bench/summarize.py "$out"
