#!/bin/sh
# The sweep bar of issue 11: a 1,000-point hardware sweep over the default model
# (configs/sweeps/bench_1000.json: 10 array shapes x 10 weight SRAM sizes x 10 DRAM setups), all
# 8 k per point, accuracy on 1,000 test images computed once per k and reused by every point,
# -j 2. Bar: under 3 minutes on 2 cores. Run it on a quiet machine; it starts from an empty
# sweep directory, so the wall time includes the accuracy computation (8 k x 1,000 images).
#
# Usage: bench/sweep_benchmark.sh [JOBS] [OUT_DIR]      (defaults: 2, build/bench/sweep)
# Environment: BSNPU (build/bsnpu), BENCH_SWEEP_IMAGES (1000).
set -eu
jobs=${1:-2}
out=${2:-build/bench/sweep}
images=${BENCH_SWEEP_IMAGES:-1000}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
bsnpu=${BSNPU:-build/bsnpu}
if [ ! -x "$bsnpu" ]; then
  echo "sweep_benchmark.sh: $bsnpu not found; build it first: cmake --build build" >&2
  exit 1
fi
rm -rf "$out"
mkdir -p "$(dirname "$out")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$bsnpu" sweep --space configs/sweeps/bench_1000.json -j "$jobs" --images "$images" --out "$out"
end=$(date +%s.%N)
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rows=$(($(wc -l <"$out/points.csv") - 1))
/usr/bin/python3 -c "import sys; s = float(sys.argv[2]) - float(sys.argv[1]); \
print(f'sweep: 1000 points x 8 k = {sys.argv[3]} rows in {s:.1f} s wall with -j {sys.argv[4]} \
({1000 / s:.1f} points/s); bar: 180 s')" "$start" "$end" "$rows" "$jobs"
