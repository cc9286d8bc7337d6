#!/usr/bin/env bash
# test_generated.sh (GPU): the path from a tune to a user's program, end to
# end, and the miss loop back.
#
#  1. Tunes every sample for one or two shapes (a short search) into results
#     files under a temporary directory; matmul also gets an entry made so
#     that one call's nearest tuned config is illegal for it (M % BLOCK_M).
#  2. `helion-tune generate` writes a header per sample (cubin + PTX).
#  3. samples/app/app.c, a Driver API application that includes all
#     six headers, calls every launcher at tuned shapes (an exact entry
#     expected), untuned shapes (a miss: nearest or default) and the
#     illegal-nearest shape, and checks every output against a CPU
#     reference, with HELION_LOG_MISSES=1 and HELION_RECORD_MISSES.
#  4. The miss loop: `tune --shapes-from` the recorded misses, generate
#     again, run again: every call is now exact and nothing is recorded.
#  5. With HELION_BENCH_LAUNCH=1 (device_run.sh sets it), the launcher's
#     overhead over a bare cuLaunchKernel (app --bench), written to
#     $HELION_BENCH_OUT/launch_overhead.txt when that is set.
#
# Exits 77 without a CUDA driver or device.
set -u
[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
SRC="${HELION_SOURCE_DIR:?}"
S="$SRC/samples"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_SKIP_CACHE=1
EVALS="${HELION_GENERATED_EVALS:-16}"

# tune SAMPLE SHAPE [FLAGS]: a short search recorded in $TMP/SAMPLE.tuned.json.
tune() {
  local name="$1" shape="$2"
  shift 2
  "$HELION_TUNE" tune "$S/$name/$name.json" --shape "$shape" --effort quick \
    --max-evals "$EVALS" --seed 1 --quiet --tuned "$TMP/$name.tuned.json" "$@" \
    >>"$TMP/tune.log" 2>&1
}

tune vector_add N=1048576
rc=$?
if [ "$rc" -ne 0 ] && grep -qE "no CUDA (driver|device) found|CUDA_ERROR_NO_DEVICE" "$TMP/tune.log"; then
  echo "no CUDA device: skipped"
  exit 77
fi
[ "$rc" -eq 0 ] || fail "tune vector_add: exit $rc"
tune vector_add N=4096 || fail "tune vector_add N=4096"
tune softmax M=4096,N=1024 || fail "tune softmax"
tune rmsnorm M=4096,N=4096 || fail "tune rmsnorm"
tune transpose M=4096,N=4096 || fail "tune transpose"
tune matmul M=1024,N=1024,K=1024 || fail "tune matmul"
tune matmul_wgmma M=1024,N=1024,K=1024 || fail "tune matmul_wgmma"
# matmul: an entry at M=N=K=2048 whose config is the default with
# BLOCK_M=256 (num_warps 8). A call at M=N=K=2176 (17 x 128) has it as its
# nearest entry, illegal there (M % BLOCK_M), and must get a legal config
# (the default's BLOCK_M=128 divides 2176).
tune matmul M=2048,N=2048,K=2048 --effort none || fail "tune matmul default"
python3 - "$TMP/matmul.tuned.json" <<'PY' || fail "cannot make the BLOCK_M=256 entry"
import json, sys
path = sys.argv[1]
r = json.load(open(path))
e = next(e for e in r["entries"] if e["shape"] == {"M": 2048, "N": 2048, "K": 2048})
e["best_config"]["block_sizes"][0] = 256
e["best_config"]["num_warps"] = 8
e["best_config_minimized"]["block_sizes"] = e["best_config"]["block_sizes"]
e["best_config_minimized"]["num_warps"] = 8
json.dump(r, open(path, "w"), indent=2, sort_keys=True)
PY
cp "$TMP/tune.log" "${HELION_BENCH_OUT:-$TMP}/generated-tune.log" 2>/dev/null

SAMPLES="vector_add softmax rmsnorm transpose matmul matmul_wgmma"
mkdir -p "$TMP/gen"
generate() {
  for name in $SAMPLES; do
    "$HELION_TUNE" generate "$S/$name/$name.json" --tuned "$TMP/$name.tuned.json" \
      -o "$TMP/gen/${name}_tuned.h" 2>>"$TMP/generate.log" ||
      fail "generate $name: $(tail -3 "$TMP/generate.log")"
  done
}
generate

CUDA_INC="${HELION_CUDA_INCLUDE:-/usr/local/cuda/include}"
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -DHELION_APP_IMPLEMENTATION -I"$TMP/gen" \
  -I"$SRC/runtime/include" -I"$CUDA_INC" \
  -o "$TMP/app" "$SRC/samples/app/app.c" "${HELION_RUNTIME_LIB:?}" \
  "${HELION_CUDA_DRIVER_LIB:?}" -ldl -lpthread -lm 2>"$TMP/cc.log" || { cat "$TMP/cc.log"; fail "the app does not build"; }

# A CUDA Runtime API program: the runtime uses the context cudaSetDevice()
# made current, and the program's cudaStream_t.
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -I"$TMP/gen" -I"$SRC/runtime/include" \
  -I"$CUDA_INC" -o "$TMP/rt_app" "$SRC/tests/gpu/runtime_api_app.c" \
  "$HELION_RUNTIME_LIB" "${HELION_CUDART_LIB:?}" -Wl,-rpath,"$(dirname "$HELION_CUDART_LIB")" -ldl -lpthread -lm \
  2>"$TMP/cc_rt.log" || { cat "$TMP/cc_rt.log"; fail "the Runtime API app does not build"; }
"$TMP/rt_app" || fail "the Runtime API app: exit $?"

CASES=(
  vector_add:exact:N=1048576 vector_add:exact:N=4096 vector_add:miss:N=1000003
  softmax:exact:M=4096,N=1024 softmax:miss:M=1000,N=3000
  rmsnorm:exact:M=4096,N=4096 rmsnorm:miss:M=100,N=1000
  transpose:exact:M=4096,N=4096 transpose:miss:M=1000,N=3000
  matmul:exact:M=1024,N=1024,K=1024 matmul:miss:M=512,N=512,K=512
  matmul:illegal:M=2176,N=2176,K=2176
  matmul_wgmma:exact:M=1024,N=1024,K=1024 matmul_wgmma:miss:M=512,N=512,K=512
)
echo "---- first run (misses logged and recorded)"
HELION_LOG_MISSES=1 HELION_RECORD_MISSES="$TMP/misses.jsonl" \
  "$TMP/app" "${CASES[@]}" >"$TMP/run1" 2>"$TMP/run1.err"
rc=$?
cat "$TMP/run1" "$TMP/run1.err"
[ "$rc" -eq 0 ] || fail "first run: exit $rc"
# One log line per kernel that missed, not one per call.
for name in vector_add softmax rmsnorm transpose matmul matmul_wgmma; do
  n=$(grep -c "^helion: $name: " "$TMP/run1.err")
  [ "$n" -eq 1 ] || fail "HELION_LOG_MISSES: $n lines for $name, want 1"
done
# Every distinct missed (kernel, shape) recorded once: 7 calls missed.
n=$(wc -l <"$TMP/misses.jsonl" 2>/dev/null || echo 0)
[ "$n" -eq 7 ] || fail "HELION_RECORD_MISSES: $n lines, want 7"

echo "---- the miss loop: tune --shapes-from, generate, run again"
for name in $SAMPLES; do
  "$HELION_TUNE" tune "$S/$name/$name.json" --shapes-from "$TMP/misses.jsonl" \
    --effort quick --max-evals 8 --seed 1 --quiet \
    --tuned "$TMP/$name.tuned.json" >>"$TMP/tune.log" 2>&1 ||
    fail "tune $name --shapes-from: $(tail -3 "$TMP/tune.log")"
done
rm -f "$TMP/gen"/*.h
generate
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -DHELION_APP_IMPLEMENTATION -I"$TMP/gen" \
  -I"$SRC/runtime/include" -I"$CUDA_INC" \
  -o "$TMP/app" "$SRC/samples/app/app.c" "$HELION_RUNTIME_LIB" \
  "${HELION_CUDA_DRIVER_LIB:?}" -ldl -lpthread -lm 2>"$TMP/cc.log" || { cat "$TMP/cc.log"; fail "the app does not build (2)"; }
EXACT=()
for c in "${CASES[@]}"; do
  IFS=: read -r k _ shape <<<"$c"
  EXACT+=("$k:exact:$shape")
done
HELION_LOG_MISSES=1 HELION_RECORD_MISSES="$TMP/misses2.jsonl" \
  "$TMP/app" "${EXACT[@]}" >"$TMP/run2" 2>"$TMP/run2.err"
rc=$?
cat "$TMP/run2" "$TMP/run2.err"
[ "$rc" -eq 0 ] || fail "second run: exit $rc (a call still misses, or fails)"
[ -s "$TMP/misses2.jsonl" ] && fail "second run recorded misses: $(cat "$TMP/misses2.jsonl")"
grep -q "^helion: " "$TMP/run2.err" && fail "second run logged misses"

if [ "${HELION_BENCH_LAUNCH:-0}" = 1 ]; then
  echo "---- launcher overhead"
  "$TMP/app" --bench N=4096 | tee "${HELION_BENCH_OUT:-$TMP}/launch_overhead.txt" ||
    fail "the launch-overhead benchmark failed"
fi

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "generated headers on the GPU passed"
