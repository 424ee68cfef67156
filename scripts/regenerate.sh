#!/usr/bin/env bash
# Regenerate every derived artifact from ../shared (or $BSNPU_FLOAT_MODEL / $BSNPU_DATA):
#   the BWB model (models/), the golden vectors (tests/golden/) and, with --accuracy, the
#   accuracy table (docs/accuracy.{md,json}, 2-3 h on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
$PY scripts/quantize.py
$PY scripts/make_golden.py
if [[ "${1:-}" == "--accuracy" ]]; then
  rm -f docs/accuracy.json
  $PY scripts/accuracy.py
fi
