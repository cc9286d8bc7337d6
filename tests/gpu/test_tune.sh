#!/usr/bin/env bash
# test_tune.sh (GPU): tunes samples/vector_add for one shape with a capped
# PatternSearch and checks the result: exit 0, a winning config that is a
# valid vector_add config, a finite time no slower than 1.05x the default
# config's (the default is in the initial population, so the winner can only
# be at least as fast up to rebenchmark noise), at most --max-evals configs,
# the overlap numbers present and in range, the Helion-style log lines, and
# the trace. Exits 77 without a CUDA driver or device.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
SPEC="${HELION_SOURCE_DIR:?}/samples/vector_add/vector_add.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}

export HELION_AUTOTUNE_PROGRESS_BAR=0
"$HELION_TUNE" tune "$SPEC" --shape N=1048576 --effort quick --max-evals 40 \
  --seed 7 --json --trace "$TMP/trace.jsonl" >"$TMP/out" 2>"$TMP/err"
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

has() { grep -qE -- "$2" "$1" || fail "$(basename "$1") lacks /$2/"; }
has "$TMP/out" '^\{"spec": "vector_add", "device": "[^"]+", "shapes": \[\{"shape": \{"N": 1048576\}'
has "$TMP/out" '"best_config": \{"ITEMS":(1|2|4|8),"block_sizes":\[[0-9]+\],"num_warps":[0-9]+,"pid_type":"(flat|persistent_blocked|persistent_interleaved)"\}'
has "$TMP/out" '"failures": \{"compile": [0-9]+, "runtime": [0-9]+, "accuracy": 0, "timeout": 0\}'
has "$TMP/out" '"gpu_idle_fraction": (0|0\.[0-9]+|1)[,}]'
tested=$(grep -oE '"configs_tested": [0-9]+' "$TMP/out" | grep -oE '[0-9]+$')
[ -n "$tested" ] && [ "$tested" -ge 2 ] && [ "$tested" -le 40 ] ||
  fail "configs_tested '$tested' not in [2, 40]"
best=$(grep -oE '"best_ms": [0-9.e+-]+' "$TMP/out" | grep -oE '[0-9.e+-]+$')
def=$(grep -oE '"default_ms": [0-9.e+-]+' "$TMP/out" | grep -oE '[0-9.e+-]+$')
[ -n "$best" ] && [ -n "$def" ] || fail "best_ms or default_ms missing"
if [ -n "$best" ] && [ -n "$def" ]; then
  awk -v b="$best" -v d="$def" 'BEGIN { exit !(b > 0 && b <= 1.05 * d) }' ||
    fail "best_ms $best is not at most 1.05 x default_ms $def"
fi

# The run log.
has "$TMP/err" '^\[[0-9]+s\] Starting autotuning process'
has "$TMP/err" 'Autotune random seed: 7'
has "$TMP/err" 'Baseline \(default config\): [0-9.]+ms'
has "$TMP/err" 'Adaptive compile timeout: [0-9]+s \(90% percentile=[0-9.]+s, bounds=\[30\.0s, 60s\]\)'
has "$TMP/err" 'Autotuning complete in [0-9.]+s after searching [0-9]+ configs\.'
has "$TMP/err" 'Best config for N=1048576: \{'
[ "$(grep -c '"evaluation"' "$TMP/trace.jsonl")" -eq "$tested" ] ||
  fail "trace evaluations differ from configs_tested $tested"

# --effort none: the default config only.
"$HELION_TUNE" tune "$SPEC" --shape N=1000003 --effort none --json \
  >"$TMP/out2" 2>"$TMP/err2" || fail "effort none: exit $?"
has "$TMP/out2" '"best_config": \{"ITEMS":4,"block_sizes":\[256\],"num_warps":4,"pid_type":"flat"\}'
has "$TMP/out2" '"configs_tested": 1,'

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "tune on the GPU passed"
