#!/usr/bin/env bash
# test_tune.sh: `helion-tune tune` without a GPU: --help names every option,
# usage errors exit 2 with the offending value named, a bad spec exits 1 with
# the spec's own message, and with no CUDA driver the tune exits 1 with the
# "no CUDA driver found" message (the driver path is forced to a missing file
# so the result is the same on a GPU machine).
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
SRC="${HELION_SOURCE_DIR:?}"
DATA="${HELION_TEST_DATA:?}"
SPEC="$SRC/samples/vector_add/vector_add.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
export HELION_LIBCUDA_PATH="$TMP/no-such-dir/libcuda.so.1"

fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}

# expect_rc WANT CMD...: runs CMD with stdout/stderr in $TMP/out, $TMP/err.
expect_rc() {
  local want="$1"
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $* (stderr: $(cat "$TMP/err"))"
}

# expect_err TEXT: stderr of the last command contains TEXT.
expect_err() {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"
}

# --help: exit 0, on stdout, every option documented.
expect_rc 0 "$HELION_TUNE" tune --help
for opt in --shape --algorithm --effort --seed --budget-seconds --max-evals \
  --device --jobs --set --trace --json --quiet --help --options-json \
  HELION_AUTOTUNE_COMPILE_TIMEOUT HELION_AUTOTUNE_BENCHMARK_TIMEOUT \
  HELION_AUTOTUNE_REBENCH_PRECISION HELION_AUTOTUNE_LOG_LEVEL \
  HELION_AUTOTUNE_SLOW_CUTOFF HELION_AUTOTUNE_DUTY_CYCLE HELION_BENCH_WORKER \
  PatternSearch RandomSearch "Exit status"; do
  grep -qF -- "$opt" "$TMP/out" || fail "--help does not mention $opt"
done
[ -s "$TMP/err" ] && fail "--help wrote to stderr"
expect_rc 0 "$HELION_TUNE" tune -h
# The command table lists tune.
expect_rc 0 "$HELION_TUNE" --help
grep -qE '^  tune ' "$TMP/out" || fail "helion-tune --help does not list tune"

# Usage errors: exit 2, the value named.
expect_rc 2 "$HELION_TUNE" tune
expect_err "helion-tune tune: missing SPEC"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" "$SPEC"
expect_err "given twice"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --frobnicate
expect_err "unknown option '--frobnicate'"
HELION_AUTOTUNE_LOG_LEVEL=chatty expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_LOG_LEVEL='chatty'"
HELION_AUTOTUNE_REBENCH_PRECISION=1.5 expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_REBENCH_PRECISION='1.5'"
HELION_AUTOTUNE_REBENCH_PRECISION=abc expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_REBENCH_PRECISION='abc'"
HELION_AUTOTUNE_SLOW_CUTOFF=1.2 expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_SLOW_CUTOFF='1.2'"
HELION_AUTOTUNE_DUTY_CYCLE=0 expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_DUTY_CYCLE='0'"
HELION_AUTOTUNE_DUTY_CYCLE=1.5 expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_DUTY_CYCLE='1.5'"
HELION_BENCH_WORKER=/nonexistent/worker expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_BENCH_WORKER='/nonexistent/worker': not an executable"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --effort extreme
expect_err "extreme"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --algorithm NoSuchSearch
expect_err "--algorithm:"
expect_err "PatternSearch"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --jobs 0
expect_err "--jobs: '0' is not an integer in [1, 4096]"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --max-evals=-3
expect_err "--max-evals: '-3' is not a positive integer"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --budget-seconds 0
expect_err "--budget-seconds: '0' is not a positive number"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --seed
expect_err "--seed needs a value"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --json=yes
expect_err "--json takes no value"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --set no_such_option=3
expect_err "--set:"
expect_err "no_such_option"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --device x
expect_err "--device: 'x' is not a device ordinal"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --shape N=banana
expect_err "--shape:"
expect_err "banana"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --shape M=4
expect_err "--shape:"
HELION_AUTOTUNE_COMPILE_TIMEOUT=soon expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_COMPILE_TIMEOUT='soon'"
HELION_AUTOTUNE_PRECOMPILE_JOBS=-1 expect_rc 2 "$HELION_TUNE" tune "$SPEC"
expect_err "HELION_AUTOTUNE_PRECOMPILE_JOBS='-1'"

# --config is checked against the spec before any GPU work: exit 2 naming
# the config and the key.
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --config '{"num_warps": 4}' --config '{"bogus": 1}'
expect_err "--config #2: bogus: unknown key"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --config '{"num_warps": 3}'
expect_err "--config #1: num_warps: 3 is not a power of two"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --config 'not json'
expect_err "--config #1:"

# --options-json: the file is read and parsed before anything else runs;
# errors exit 2 naming the flag and the file.
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --options-json "$TMP/none.json"
expect_err "--options-json: "
expect_err "none.json"
printf '{"algorithm": ' >"$TMP/trunc.json"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --options-json "$TMP/trunc.json"
expect_err "--options-json: "
expect_err "trunc.json:1:"
expect_rc 2 "$HELION_TUNE" tune "$SPEC" --options-json=
expect_err "--options-json: empty file name"

# A broken spec: exit 1 with the spec module's message.
expect_rc 1 "$HELION_TUNE" tune "$TMP/missing.json"
expect_err "missing.json"
printf '{"name": "x"' >"$TMP/bad.json"
expect_rc 1 "$HELION_TUNE" tune "$TMP/bad.json"
expect_err "bad.json"

# No CUDA driver: exit 1, the clear message, nothing on stdout even with
# --json.
expect_rc 1 "$HELION_TUNE" tune "$SPEC" --json
expect_err "helion-tune tune: no CUDA driver found"
[ -s "$TMP/out" ] && fail "stdout not empty without a driver: $(cat "$TMP/out")"
expect_rc 1 "$HELION_TUNE" tune "$DATA/broken/broken.json" --shape N=4096 --quiet
expect_err "no CUDA driver found"

# --- issue 12: --trace checked before any GPU work ------------------------
# The driver is missing, so anything that got as far as the GPU would say
# "no CUDA driver found": the trace's problem must be reported first.
expect_rc 1 "$HELION_TUNE" tune "$SPEC" --shape N=4096 --trace "$TMP/no/such/dir/t.jsonl"
expect_err "--trace $TMP/no/such/dir/t.jsonl: cannot create it: the directory $TMP/no/such/dir"
grep -q "CUDA" "$TMP/err" && fail "--trace into a missing directory: got as far as CUDA"
mkdir "$TMP/ro" && chmod 555 "$TMP/ro"
if ! touch "$TMP/ro/probe" 2>/dev/null; then # root writes anywhere
  expect_rc 1 "$HELION_TUNE" tune "$SPEC" --shape N=4096 --trace "$TMP/ro/t.jsonl"
  expect_err "cannot create it in $TMP/ro"
fi
expect_rc 1 "$HELION_TUNE" tune "$SPEC" --shape N=4096 --trace "$TMP"
expect_err "is a directory"
grep -q "CUDA" "$TMP/err" && fail "--trace DIR: got as far as CUDA"
# --trace naming an input (the spec, the kernel source, --options-json) is
# refused and the file kept; with several shapes the names are FILE.<i>.
cp "$SPEC" "$SRC/samples/vector_add/vector_add.cu" "$TMP/"
cp "$TMP/vector_add.json" "$TMP/spec.orig"
expect_rc 2 "$HELION_TUNE" tune "$TMP/vector_add.json" --shape N=4096 --trace "$TMP/vector_add.json"
expect_err "that is the spec this command reads"
cmp -s "$TMP/spec.orig" "$TMP/vector_add.json" || fail "--trace SPEC overwrote the spec"
expect_rc 2 "$HELION_TUNE" tune "$TMP/vector_add.json" --shape N=4096 --trace "$TMP/vector_add.cu"
expect_err "that is the kernel source this command reads"
cp "$TMP/vector_add.json" "$TMP/multi.1"
expect_rc 2 "$HELION_TUNE" tune "$TMP/multi.1" --trace "$TMP/multi"
expect_err "--trace $TMP/multi.1: that is the spec"
# Ctrl-C is documented.
expect_rc 0 "$HELION_TUNE" tune --help
grep -q "Ctrl-C" "$TMP/out" && grep -q "130 interrupted by SIGINT" "$TMP/out" ||
  fail "tune --help does not say what Ctrl-C does"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all tune CLI checks passed"
