#!/usr/bin/env bash
# Every test of the project: the C++ suites through CTest, then the Python suite through pytest.
# Needs a build (bash scripts/setup.sh).
# --sanitize (CI passes it): then the whole C++ suite again under ASan + UBSan, built in
# build-asan/ by scripts/sanitize.sh (a second build: ~6 more minutes on 2 free cores).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0
for argument in "$@"; do
  case "$argument" in
    --sanitize) sanitize=1 ;;
    *)
      echo "usage: scripts/test.sh [--sanitize]" >&2
      exit 2
      ;;
  esac
done
if [[ ! -f build/CTestTestfile.cmake ]]; then
  echo "test.sh: no build/ here: run 'bash scripts/setup.sh' first" >&2
  exit 2
fi
ctest --test-dir build --output-on-failure -j2
if ! PATH="$PATH:/usr/sbin:/sbin" sh -c 'command -v slurmctld && command -v munged' >/dev/null; then
  echo "test.sh: slurm.sweep_array skipped: it needs Slurm and munge (apt-get install slurm-wlm munge)"
fi
/usr/bin/python3 -m pytest tests/python -q
if [[ $sanitize -eq 1 ]]; then
  bash scripts/sanitize.sh
fi
