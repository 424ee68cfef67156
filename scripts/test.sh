#!/usr/bin/env bash
# Every test of the project: the C++ suites through CTest, then the Python suite through pytest.
# Needs a build (bash scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/CTestTestfile.cmake ]]; then
  echo "test.sh: no build/ here: run 'bash scripts/setup.sh' first" >&2
  exit 2
fi
ctest --test-dir build --output-on-failure -j2
/usr/bin/python3 -m pytest tests/python -q
