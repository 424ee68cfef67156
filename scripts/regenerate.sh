#!/usr/bin/env bash
# Regenerate every derived artifact from ../shared (or $BSNPU_FLOAT_MODEL / $BSNPU_DATA):
#   the BWB model (models/), the golden vectors (tests/golden/), the trace descriptors (traces/,
#   from their seeds alone: no data read) and, with --accuracy, the accuracy table
#   (docs/accuracy.{md,json}, 2-3 h on 2 cores) and its ablation rows (about 40 min more on
#   shared cores: two ablation models in $TMPDIR/bsnpu-ablation, measured with build/bsnpu).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if [[ "${1:-}" == "--accuracy" && ! -x build/bsnpu ]]; then
  echo "regenerate.sh: --accuracy needs build/bsnpu for the ablation rows (bash scripts/setup.sh)" >&2
  exit 2
fi
$PY scripts/quantize.py
$PY scripts/make_golden.py
$PY scripts/make_traces.py
if [[ "${1:-}" == "--accuracy" ]]; then
  rm -f docs/accuracy.json
  $PY scripts/accuracy.py
  $PY scripts/ablation.py --rebuild
fi
