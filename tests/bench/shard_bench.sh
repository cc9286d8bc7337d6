#!/usr/bin/env bash
# shard_bench.sh: wall time of `helion-tune tune SPEC... --shard I/N` over 24
# (spec, shape) work items, with the N shards run as N parallel processes on
# this machine, for N = 1, 2, 4, 8. Prints a Markdown table (N, wall
# seconds, items per shard min/max, speedup over N=1).
#
#   HELION_BENCH_WORKER=build/tests/tools/fake_bench_worker \
#     tests/bench/shard_bench.sh [build/helion-tune]
#
# The 24 items: temp copies of samples rmsnorm (its 4 shapes), softmax (8:
# its 4 plus 4 added), transpose (6: 3 + 3) and vector_add (6: 3 + 3).
# Each process gets --jobs max(1, cores / N), so the compile processes of
# all shards together stay at the core count. No cache (HELION_SKIP_CACHE=1):
# every item is searched (--effort quick --max-evals 8 --seed 0).
# With HELION_BENCH_WORKER set to the test double, compiles are real NVRTC
# and runs are pretend; on a GPU machine leave it unset.
set -eu

HERE="$(cd "$(dirname "$0")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
TUNE="${1:-$SRC/build/helion-tune}"
CORES="$(nproc)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
export HELION_SKIP_CACHE=1 HELION_CACHE_DIR="$TMP/cache" \
  HELION_AUTOTUNE_PROGRESS_BAR=0

# add_shapes NAME JSON_LIST: copies samples/NAME with the shapes appended.
add_shapes() {
  mkdir -p "$TMP/specs/$1"
  cp "$SRC/samples/$1/$1.cu" "$TMP/specs/$1/"
  python3 - "$SRC/samples/$1/$1.json" "$TMP/specs/$1/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["shapes"] += json.loads(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
}
add_shapes rmsnorm '[]'
add_shapes softmax '[{"M": 2048, "N": 2048}, {"M": 8192, "N": 512},
  {"M": 512, "N": 8192}, {"M": 128, "N": 16384}]'
add_shapes transpose '[{"M": 2048, "N": 2048}, {"M": 8192, "N": 512},
  {"M": 3000, "N": 1000}]'
add_shapes vector_add '[{"N": 4194304}, {"N": 262144}, {"N": 65536}]'
SPECS=("$TMP"/specs/*/*.json)
COMMON=(--effort quick --max-evals 8 --seed 0 --quiet)

total=$("$TUNE" tune "${SPECS[@]}" --shard 0/1 --dry-run 2>/dev/null | wc -l)
[ "$total" -eq 24 ] || { echo "expected 24 work items, got $total" >&2; exit 1; }

echo "| N shards | --jobs each | wall s | items per shard (min/max) | speedup |"
echo "|---:|---:|---:|---|---:|"
base=""
for n in 1 2 4 8; do
  jobs=$((CORES / n))
  [ "$jobs" -ge 1 ] || jobs=1
  min=999
  max=0
  for ((i = 0; i < n; i++)); do
    k=$("$TUNE" tune "${SPECS[@]}" --shard "$i/$n" --dry-run 2>/dev/null | wc -l)
    [ "$k" -lt "$min" ] && min=$k
    [ "$k" -gt "$max" ] && max=$k
  done
  start=$(date +%s.%N)
  pids=()
  for ((i = 0; i < n; i++)); do
    "$TUNE" tune "${SPECS[@]}" "${COMMON[@]}" --jobs "$jobs" \
      --shard "$i/$n" --fragment-dir "$TMP/frag$n" 2>"$TMP/log$n.$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    wait "$p" || { echo "a shard of N=$n failed:" >&2; tail -5 "$TMP"/log$n.* >&2; exit 1; }
  done
  end=$(date +%s.%N)
  wall=$(python3 -c "print('%.1f' % ($end - $start))")
  [ -n "$base" ] || base=$wall
  entries=$(python3 -c '
import json, sys
print(sum(len(json.load(open(f))["entries"]) for f in sys.argv[1:]))' "$TMP/frag$n"/*.json)
  [ "$entries" -eq 24 ] || { echo "N=$n: $entries entries in the fragments, want 24" >&2; exit 1; }
  speedup=$(python3 -c "print('%.2f' % ($base / $wall))")
  echo "| $n | $jobs | $wall | $min/$max | ${speedup}x |"
done
