#!/bin/sh
# Side by side in one run, on the same test images and thread count, one program after the other:
#   1. this machine's int8 MAC peak (build/bench/mac_peak: independent vpdpbusd chains);
#   2. the `bsnpu eval` fast path, k = 1..8 on the first 2000 test images;
#   3. PyTorch FX static int8 on oneDNN (bench/torch_int8.py), 2000 images;
#   4. PyTorch eager fp32 (bench/torch_fp32.py), 2000 images;
#   5. `bsnpu eval` then `bsnpu run` (the SystemC simulation), k = 1..8 on 1000 images, for the
#      run / eval wall-time ratio;
# each program under /usr/bin/time -v (wall time, peak memory), with the load average before and
# after. bench/summarize.py OUT_DIR then prints the Markdown table.
#
# Usage: bench/run_benchmark.sh [THREADS] [OUT_DIR]        (defaults: 2, build/bench)
# Environment (for quick checks; the defaults are the benchmark): BENCH_IMAGES (2000),
# BENCH_RUN_IMAGES (1000), BSNPU (build/bsnpu), MAC_PEAK (build/bench/mac_peak).
set -eu
threads=${1:-2}
out=${2:-build/bench}
images=${BENCH_IMAGES:-2000}
run_images=${BENCH_RUN_IMAGES:-1000}
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

timed bsnpu "$bsnpu" eval --bits 1-8 --images "$images" --threads "$threads" --json "$out/bsnpu.json"
timed torch_int8 "$python" bench/torch_int8.py --images "$images" --threads "$threads" \
  --json "$out/torch_int8.json"
timed torch_fp32 "$python" bench/torch_fp32.py --images "$images" --threads "$threads" \
  --json "$out/torch_fp32.json"
timed eval_small "$bsnpu" eval --bits 1-8 --images "$run_images" --threads "$threads" \
  --json "$out/eval_small.json"
timed run_small "$bsnpu" run --bits 1-8 --images "$run_images" --threads "$threads" \
  --out "$out/run_small.json"

cut -d' ' -f1-3 /proc/loadavg >"$out/load_after.txt"
echo "load after: $(cat "$out/load_after.txt")"
echo
"$python" bench/summarize.py "$out"
