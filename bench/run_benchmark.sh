#!/bin/sh
# Fast-path throughput of `bsnpu eval` (every k, all 10,000 test images) against PyTorch eager
# fp32 on the same images and thread count, one after the other on this machine, with peak
# memory from /usr/bin/time -v. Usage: bench/run_benchmark.sh [THREADS] [OUT_DIR]
set -eu
threads=${1:-2}
out=${2:-build/bench}
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
mkdir -p "$out"
echo "load before: $(cat /proc/loadavg)"
/usr/bin/time -v build/bsnpu eval --bits 1-8 --images all --threads "$threads" \
  --json "$out/bsnpu.json" 2>"$out/bsnpu.time" | tee "$out/bsnpu.txt"
/usr/bin/time -v /usr/bin/python3 bench/torch_fp32.py --threads "$threads" \
  --json "$out/torch.json" 2>"$out/torch.time" >/dev/null
echo "load after: $(cat /proc/loadavg)"
/usr/bin/python3 bench/summarize.py "$out"
