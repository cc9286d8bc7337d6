#!/usr/bin/env bash
# The compile pool on the device machine's cores (`tests/gpu/device_run.sh
# bench-pool`, after its build into build-gpu/): tests/bench/
# compile_pool_bench.sh with one compile process per core, the tree in
# POOL_OLD_SRC (the "before": a `git archive` of the commit before the
# compile processes that live on, 8297831, carried along) against this
# tree. No GPU work: the fake benchmark worker answers at once, so the
# tunes wait only on NVRTC and the search, as the compile-bound samples do
# on the GPU. Env: POOL_OLD_SRC (required), SAMPLES, EVALS (default 220),
# REPS (default 2).
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp/helion-gpu-out}/pool"
mkdir -p "$out"
old="${POOL_OLD_SRC:?bench-pool needs POOL_OLD_SRC (a source tree)}"
if ! { cmake -S "$old" -B "$old/build" -DCMAKE_BUILD_TYPE=Release \
         -DHELION_BUILD_SAMPLES=OFF \
         ${CMAKE_PREFIX_PATH:+-DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH"} &&
       cmake --build "$old/build" -j"$(nproc)" --target helion-tune \
         fake_bench_worker; } > "$out/old-build.log" 2>&1; then
  tail -20 "$out/old-build.log"
  exit 1
fi
cmake --build build-gpu -j"$(nproc)" --target fake_bench_worker \
  > "$out/new-build.log" 2>&1 || { tail -20 "$out/new-build.log"; exit 1; }
BASE="$old/build" NEW=build-gpu JOBS="$(nproc)" EVALS="${EVALS:-220}" \
  REPS="${REPS:-2}" bash tests/bench/compile_pool_bench.sh | tee "$out/table.txt"
