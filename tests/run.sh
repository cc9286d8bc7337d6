#!/usr/bin/env bash
# Runs the whole test suite: the regular build's tests (unit, CLI), the unit
# and CLI tests again under AddressSanitizer + UBSan, and the fuzzers for a
# bounded time. GPU tests report "skipped" on machines without a GPU.
# Expects tests/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"
cuda_root="${CUDA_HOME:-/usr/local/cuda}"

echo "== tests (build/)"
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs" -LE fuzz

echo "== tests under AddressSanitizer + UBSan (build-asan/)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHELION_WERROR=ON \
  -DHELION_SANITIZE=ON -DCUDAToolkit_ROOT="$cuda_root" >/dev/null
cmake --build build-asan -j"$jobs"
# NVRTC's own allocations are not ours to report; everything else is.
# Exported, so they reach every process the CLI scripts start (helion-tune
# simulate, tune and its workers). UBSan's first finding aborts (the build
# has -fno-sanitize-recover=undefined; abort_on_error turns its exit status 1,
# which tests expecting a refusal would take for one, into SIGABRT).
# test_landscapes.sh runs every algorithm on a one-config space this way.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L 'unit|cli'

echo "== fuzzers (build-fuzz/, clang + libFuzzer, 30 s each)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug \
  -DHELION_BUILD_FUZZERS=ON -DCUDAToolkit_ROOT="$cuda_root" >/dev/null
cmake --build build-fuzz -j"$jobs"
ctest --test-dir build-fuzz --output-on-failure -L fuzz

echo "== all tests passed"
