#!/bin/bash
# compile_pool_bench.sh: configs/s of whole tunes bound by the compile pool,
# two builds side by side, on this machine's CPUs (no GPU: the fake
# benchmark worker answers every timing at once, so the tune waits only on
# NVRTC and the search).
#
#   BASE=/tmp/base/build-rel NEW=build-rel JOBS=2 EVALS=120 REPS=2 \
#     SAMPLES="softmax transpose" bash tests/bench/compile_pool_bench.sh
#
# BASE and NEW are build trees with helion-tune and
# tests/tools/fake_bench_worker (e.g. a Release build of an older commit in
# a git worktree). Each sample's first shape, --seed 1, --max-evals EVALS,
# HELION_AUTOTUNE_PRECOMPILE_JOBS=JOBS; the two builds alternate, REPS
# times. Prints configs/s, wall, the mean NVRTC seconds per compile (as
# the compile processes measured them) and the pool's use.
set -eu
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
: "${BASE:?a build tree to compare against}" "${NEW:?the build tree under test}"
JOBS="${JOBS:-2}" EVALS="${EVALS:-120}" REPS="${REPS:-2}"
SAMPLES="${SAMPLES:-softmax transpose rmsnorm vector_add matmul}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
printf '%-10s %-4s %4s %8s %7s %12s %5s\n' sample tree cfgs "cfg/s" "wall s" \
  "s/compile" use
for s in $SAMPLES; do
  spec="$SRC/samples/$s/$s.json"
  shape=$(python3 -c "import json,sys
sh = json.load(open(sys.argv[1]))['shapes'][0]
print(','.join(f'{k}={v}' for k, v in sh.items()))" "$spec")
  for r in $(seq "$REPS"); do
    for tree in BASE NEW; do
      B="${!tree}"
      out="$TMP/$s.$tree.$r.json"
      HELION_BENCH_WORKER="$B/tests/tools/fake_bench_worker" \
        HELION_FAKE_DEVICES=1 HELION_AUTOTUNE_PROGRESS_BAR=0 \
        HELION_AUTOTUNE_PRECOMPILE_JOBS="$JOBS" \
        HELION_CACHE_DIR="$TMP/cache.$s.$tree.$r" \
        "$B/helion-tune" tune "$spec" --shape "$shape" --no-results --json \
        --max-evals "$EVALS" --seed 1 --quiet >"$out"
      python3 - "$out" "$s" "$tree" <<'PY'
import json, sys
sh = json.load(open(sys.argv[1]))["shapes"][0]
cp = sh["compile_pool"]
print(f"{sys.argv[2]:10s} {sys.argv[3]:4s} {sh['configs_tested']:4d} "
      f"{sh['configs_per_second']:8.2f} {sh['phases']['wall_s']:7.2f} "
      f"{cp['busy_s'] / cp['compiles']:12.3f} {cp['use']:5.2f}")
PY
    done
  done
done
