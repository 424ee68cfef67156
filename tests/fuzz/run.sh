#!/bin/sh
# Builds the libFuzzer targets with clang in build-fuzz/ (BSNPU_FUZZ=ON: ASan + UBSan, UB aborts)
# and runs each for SECONDS_PER_TARGET seconds (default 10) from its seed corpus
# tests/fuzz/corpus/<target>/. New inputs go to build-fuzz/corpus/<target>/ (the committed seeds
# are not touched), crash reproducers to build-fuzz/artifacts/<target>/. Fails on the first crash,
# leak, undefined behaviour, timeout (10 s per input) or out-of-memory (2 GiB).
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]         e.g. nice -n 19 tests/fuzz/run.sh 60
set -eu
seconds=${1:-10}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DBSNPU_FUZZ=ON -DBSNPU_WERROR=OFF >"$build.configure.log" 2>&1 || {
  cat "$build.configure.log"
  exit 1
}
cmake --build "$build" --target fuzz_all -j2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
for target in config energy model safetensors cifar precision tolerances report trace sweep sweep_journal policy; do
  case $target in
  config | energy | precision | tolerances | report | sweep | sweep_journal | policy) options="-max_len=16384 -dict=$root/tests/fuzz/json.dict" ;;
  model | trace) options="-max_len=65536 -dict=$root/tests/fuzz/json.dict" ;;
  *) options="-max_len=16384" ;;
  esac
  mkdir -p "$build/corpus/$target" "$build/artifacts/$target"
  echo "== fuzz_$target: $seconds s"
  # shellcheck disable=SC2086 # $options is a list of options
  if ! "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    $options -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" \
    "$build/corpus/$target" "$root/tests/fuzz/corpus/$target"; then
    echo "fuzz_$target FAILED: reproducer in $build/artifacts/$target/" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran ${seconds} s without a finding"
