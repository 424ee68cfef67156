#!/bin/sh
# Installs the Debian packages bsnpu needs (only those missing), then configures and builds
# everything in build/. Usage: [BSNPU_JOBS=N] scripts/setup.sh [extra cmake configure options]
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
packages="cmake g++ make libsystemc-dev libboost-program-options-dev nlohmann-json3-dev
  libgtest-dev libssl-dev clang-format python3-numpy python3-torch python3-matplotlib
  python3-pytest libopenblas0-pthread"
missing=""
for package in $packages; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
jobs=${BSNPU_JOBS:-2}  # parallel compile jobs (the project's reference machine has 2 cores)
cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$repo/build" -j "$jobs"
echo "setup: built $repo/build/bsnpu"
