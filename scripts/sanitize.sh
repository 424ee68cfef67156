#!/usr/bin/env bash
# The whole C++ suite (every CTest test: core, arch, SystemC benches, CLI) again, built with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ (RelWithDebInfo,
# -DBSNPU_SANITIZE=ON: -fsanitize=address,undefined -fno-sanitize-recover=all
# -fno-omit-frame-pointer). The Python suite is not rerun: it exercises no C++ that ctest does not.
# Usage: [BSNPU_JOBS=N] scripts/sanitize.sh [extra cmake configure options]
# Called by `scripts/test.sh --sanitize` (CI). See docs/reliability.md, "Sanitizers".
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${BSNPU_JOBS:-2}

# ASan run-time options (anything already in ASAN_OPTIONS comes after, so it wins):
# - detect_stack_use_after_return=0: Debian's libsystemc runs SC_THREADs (the Controller, hence
#   the whole timing and functional simulation) on QuickThreads coroutine stacks that ASan does
#   not know about. With use-after-return detection on, frames live on ASan's per-thread "fake
#   stack", which a coroutine switch corrupts: test_tlm_npu dies with a SEGV in its first test.
#   Off (GCC 12's default; newer runtimes, LLVM 15 on, default to on), the real-stack redzones
#   still catch stack overflows and use-after-scope.
# - detect_leaks=1: LeakSanitizer at exit. No suppressions are needed: SystemC's kernel objects
#   (simcontext, coroutine stacks) stay reachable from its globals, so they are not reported.
# - check_initialization_order=1, strict_init_order=1: static initialization order bugs.
# - strict_string_checks=1: string functions check their whole argument, not just the bytes read.
# UBSan: -fno-sanitize-recover=all makes the first report fatal (exit status 1, so the test fails);
# print_stacktrace=1 says where it came from.
asan_defaults="detect_stack_use_after_return=0:detect_leaks=1:check_initialization_order=1"
asan_defaults+=":strict_init_order=1:strict_string_checks=1"
export ASAN_OPTIONS="$asan_defaults${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBSNPU_SANITIZE=ON "$@"
cmake --build build-asan -j "$jobs"
# cli.thread_limit and tlm.cli_thread_limit are disabled here (ASan cannot run under ulimit -v).
# The Slurm test (label slurm) is left out: it checks the job-array plumbing, which the plain
# ctest run covers; bsnpu sweep and bsnpu merge have tests of their own.
ctest --test-dir build-asan --output-on-failure -j2 -LE slurm
echo "sanitize: ctest passed under ASan + UBSan in build-asan/"
