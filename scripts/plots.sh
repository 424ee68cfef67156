#!/usr/bin/env bash
# Regenerates the figures of docs/plots.md (docs/img/*.png) with build/bsnpu and scripts/plot.py:
# a run of the default config on 1,000 test images at k = 1..8 (under a minute on 2 cores): its
# accuracy/energy/latency vs k and its per-layer breakdown at k = 8; the edge config's per-layer
# breakdown at k = 8 (DRAM-bound: timing does not depend on the images, one is enough); with
# POINTS.csv (a sweep's DIR/points.csv), also its Pareto scatter of energy vs latency coloured by
# accuracy at k = 8.
#   bash scripts/plots.sh [POINTS.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x build/bsnpu ]]; then
  echo "plots.sh: no build/bsnpu: run 'bash scripts/setup.sh' first" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p docs/img
build/bsnpu run --config configs/default.json --images 1000 --bits 1-8 --threads 2 --out "$work/default.json" >/dev/null
PY=/usr/bin/python3
$PY scripts/plot.py report "$work/default.json" --out docs/img/default-vs-k.png
$PY scripts/plot.py layers "$work/default.json" --k 8 --out docs/img/default-layers-k8.png
build/bsnpu run --config configs/edge.json --images 1 --bits 8 --threads 2 --out "$work/edge.json" >/dev/null
$PY scripts/plot.py layers "$work/edge.json" --k 8 --out docs/img/edge-layers-k8.png
if [[ $# -ge 1 ]]; then
  $PY scripts/plot.py pareto "$1" --x latency_s --y energy_j --color accuracy --k 8 --out docs/img/sweep-pareto-k8.png
fi
