#!/usr/bin/env bash
# test_tune_broken.sh (GPU): tunes tests/data/broken/broken.json, whose space
# holds 2 block sizes x 5 values of BROKEN (see broken.cu), with RandomSearch
# so all 10 configs are measured, and checks by hand-counted expectations:
#   slow_compile  (2 configs) killed at the 5 s compile deadline -> timeout
#   hang          (2 configs) killed by the worker's watchdog    -> timeout
#   out_of_bounds (2 configs) illegal address                    -> runtime
#   wrong_answer  (2 configs) output differs                     -> accuracy
#   ok            (2 configs) the only finite times: the winner is one of them
# Each failure is logged with its config's JSON and Helion's wording. Exits
# 77 without a CUDA driver or device.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
SPEC="${HELION_TEST_DATA:?}/broken/broken.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}

export HELION_AUTOTUNE_COMPILE_TIMEOUT=5
export HELION_AUTOTUNE_PROGRESS_BAR=0
export HELION_CACHE_DIR="$TMP/cache" # a run of its own, never a cache hit
"$HELION_TUNE" tune "$SPEC" --algorithm RandomSearch --effort quick --seed 3 \
  --json --trace "$TMP/trace.jsonl" --no-results >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qE "no CUDA (driver|device) found|CUDA_ERROR_NO_DEVICE" "$TMP/err"; then
  echo "no CUDA device: skipped"
  exit 77
fi
echo "---- stderr"
cat "$TMP/err"
echo "---- stdout"
cat "$TMP/out"
[ "$rc" -eq 0 ] || fail "exit $rc, want 0"

out="$(cat "$TMP/out")"
has_out() { grep -qF -- "$1" "$TMP/out" || fail "stdout lacks: $1"; }
count_err() { grep -cF -- "$1" "$TMP/err"; }

has_out '"spec": "broken"'
has_out '"shape": {"N": 1048576}'
has_out '"configs_tested": 10,'
has_out '"failures": {"accuracy": 2, "compile": 0, "runtime": 2, "timeout": 4}'
# The winner is correct: BROKEN=ok, with a finite time.
echo "$out" | grep -qE '"best_config": \{"BROKEN": "ok", "block_sizes": \[(128|256)\]\}' ||
  fail "winner is not an ok config"
echo "$out" | grep -qE '"best_ms": [0-9.e+-]+,' || fail "best_ms is not a number"
echo "$out" | grep -qE '"gpu_idle_fraction": (0|0\.[0-9]+|1)[,}]' ||
  fail "gpu_idle_fraction is not in [0, 1]"

# Every failure is named with its config and the right reason.
for bs in 128 256; do
  cfg="{\"BROKEN\":\"slow_compile\",\"block_sizes\":[$bs]}"
  [ "$(count_err "s compiling $cfg")" -eq 1 ] ||
    fail "no 'Timeout after ...s compiling $cfg' line"
  cfg="{\"BROKEN\":\"hang\",\"block_sizes\":[$bs]}"
  [ "$(count_err "Benchmark worker timed out for $cfg")" -eq 1 ] ||
    fail "no watchdog line for $cfg"
  cfg="{\"BROKEN\":\"out_of_bounds\",\"block_sizes\":[$bs]}"
  [ "$(count_err "Skipping config that triggered a runtime error in the benchmark worker: $cfg")" -eq 1 ] ||
    fail "no runtime-error line for $cfg"
  cfg="{\"BROKEN\":\"wrong_answer\",\"block_sizes\":[$bs]}"
  [ "$(count_err "Skipping config with accuracy mismatch: $cfg")" -eq 1 ] ||
    fail "no accuracy line for $cfg"
done
grep -F '"BROKEN":"ok"' "$TMP/err" | grep -qE "Skipping|Timeout|timed out" &&
  fail "an ok config was reported as failing"
# The out-of-bounds read is reported as what it is.
grep -F 'out_of_bounds' "$TMP/err" | grep -qiE "illegal|address" ||
  fail "the out-of-bounds failure does not mention an illegal address"

# The trace has one line per config with the same kinds.
[ "$(grep -c '"evaluation"' "$TMP/trace.jsonl")" -eq 10 ] || fail "trace does not have 10 evaluations"
[ "$(grep -c '"status": *"timeout"' "$TMP/trace.jsonl")" -eq 4 ] || fail "trace: want 4 timeouts"
[ "$(grep -c '"status": *"runtime"' "$TMP/trace.jsonl")" -eq 2 ] || fail "trace: want 2 runtime"
[ "$(grep -c '"status": *"accuracy"' "$TMP/trace.jsonl")" -eq 2 ] || fail "trace: want 2 accuracy"
[ "$(grep -c '"status": *"ok"' "$TMP/trace.jsonl")" -eq 2 ] || fail "trace: want 2 ok"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "broken configs failed with the right kinds; the winner is correct"
