#!/usr/bin/env bash
# test_check.sh: `helion-tune check` on the samples (sm_90 and sm_80), on a
# kernel with a syntax error, on invalid specs and on bad command lines.
set -u

: "${HELION_TUNE:?HELION_TUNE must name the helion-tune binary}"
: "${HELION_SOURCE_DIR:?}"
: "${HELION_TEST_DATA:?}"
data="$HELION_TEST_DATA/check"
samples="$HELION_SOURCE_DIR/samples"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run EXPECTED_EXIT ARGS...: runs check, keeps stdout/stderr in $tmp.
run() {
  local want=$1
  shift
  "$HELION_TUNE" check "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "check $* exited $got, expected $want"
    sed 's/^/  stderr: /' "$tmp/err" >&2
    return 1
  fi
  return 0
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
  grep -qF -- "$2" "$1" || {
    fail "expected '$2' in $(basename "$1"):"
    sed 's/^/  | /' "$1" >&2
  }
}

# --- the samples compile for the default arch and for sm_80
for s in vector_add softmax; do
  run 0 "$samples/$s/$s.json" && expect_in "$tmp/err" "$s: ok"
  run 0 "$samples/$s/$s.json" --arch sm_80
  run 0 "$samples/$s/$s.json" --arch=sm_90 --quiet &&
    { [ -s "$tmp/err" ] && fail "--quiet printed: $(cat "$tmp/err")"; }
done

# --json: one object on stdout with the compile result.
if run 0 "$samples/vector_add/vector_add.json" --json --quiet; then
  expect_in "$tmp/out" '"name":"vector_add"'
  expect_in "$tmp/out" '"arch":"sm_90"'
  expect_in "$tmp/out" '"compile":{"ok":true'
  expect_in "$tmp/out" '"registers":'
  [ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "--json printed more than one line"
fi

# --shape picks one shape of the key.
run 0 "$samples/softmax/softmax.json" --shape M=7,N=3000 &&
  expect_in "$tmp/err" "shape M=7,N=3000"

# --- a fixture kernel with a syntax error on line 7: exit 1, NVRTC's log.
if run 1 "$data/syntax_error.json"; then
  expect_in "$tmp/err" "syntax_error.cu(7): error: expected an expression"
  expect_in "$tmp/err" "NVRTC_ERROR_COMPILATION"
fi

# --- a spec whose entry is not in the source.
run 1 "$data/missing_entry.json" &&
  expect_in "$tmp/err" "entry 'scale_kernel' not found in"
expect_in "$tmp/err" "is it declared extern \"C\" __global__?"

# --- the fixture's good twin passes, so the failures above are the faults.
run 0 "$data/scale.json"

# --- invalid specs: exit 1 with one error line that names the file (the
# `[Ns]` lines are progress, not errors).
for bad in bad_spec malformed unsatisfiable; do
  if run 1 "$data/$bad.json"; then
    grep -v '^\[[0-9]*s\] ' "$tmp/err" >"$tmp/errlines"
    [ "$(wc -l <"$tmp/errlines")" -eq 1 ] ||
      fail "$bad.json: expected a one-line error, got: $(cat "$tmp/err")"
    expect_in "$tmp/errlines" "helion-tune check: "
    expect_in "$tmp/errlines" "$bad.json"
  fi
done
# A restriction no configuration satisfies is caught while building the
# space, and the message says which shape.
run 1 "$data/unsatisfiable.json" --quiet &&
  expect_in "$tmp/err" "restrictions[0] 'BLOCK > 4096'" &&
  expect_in "$tmp/err" "(shape n=100000)"
run 1 "$data/does_not_exist.json" && expect_in "$tmp/err" "does_not_exist.json"

# --- bad input never becomes a wrong answer (issue 12). Each fixture is
# scale.json (which passes above) with one change.
# A shape of 2^31 passed as an int: refused, naming the shape and the type.
run 1 "$data/narrow_int.json" &&
  expect_in "$tmp/err" "narrow_int.json: shape n=2147483648: args[2] (n).value: 'n': 2147483648 does not fit int32_t (-2147483648..2147483647); use a wider type"
# A --shape the spec's JSON could not hold exactly.
run 2 "$data/scale.json" --shape n=9007199254740993 &&
  expect_in "$tmp/err" "'9007199254740993' is too large; a shape value is at most 9007199254740991"
run 2 "$data/scale.json" --shape n=1e308 &&
  expect_in "$tmp/err" "'1e308' is not a positive integer"
# No output: refused, saying how to opt out; the opt-out passes, loudly.
run 1 "$data/no_output.json" &&
  expect_in "$tmp/err" 'no_output.json: args: no argument is marked "output": true, so no config'"'"'s result would be checked; mark the kernel'"'"'s outputs, or opt out explicitly with "accuracy": {"check": false}'
if run 0 "$data/no_accuracy_check.json"; then
  [ "$(grep -c 'warning: .*"accuracy": {"check": false}' "$tmp/err")" -eq 2 ] ||
    fail "no_accuracy_check.json: expected two warnings: $(cat "$tmp/err")"
fi
# A user tunable named like the tool's own macro.
run 1 "$data/reserved_name.json" &&
  expect_in "$tmp/err" "space.HL_NUM_WARPS: 'HL_NUM_WARPS' is a reserved name: the HL_ prefix is the tool's own -D macros"
# The default config over CUDA's block limit, and over the arch's shared
# memory per block (sm_90: 232448, sm_80: 166912 bytes).
run 1 "$data/launch_block.json" &&
  expect_in "$tmp/err" "launch_block.json: shape n=100000: launch.block[0]: 'BLOCK * 16' evaluates to 2048; CUDA allows 1..1024"
run 1 "$data/launch_smem.json" &&
  expect_in "$tmp/err" "launch_smem.json: shape n=100000: launch.shared_mem: '10485760' is 10485760 bytes of dynamic shared memory at the default configuration; sm_90 allows at most 232448 per block"
run 1 "$data/launch_smem.json" --arch sm_80 &&
  expect_in "$tmp/err" "sm_80 allows at most 166912 per block"
# tune goes through the same check: the same message, before any run (with
# the benchmark worker's test double, so no GPU is needed).
fake="$(dirname "$HELION_TUNE")/tests/tools/fake_bench_worker"
if [ -x "$fake" ]; then
  for f in launch_block narrow_int; do
    HELION_BENCH_WORKER="$fake" "$HELION_TUNE" tune "$data/$f.json" \
      --max-evals 3 --no-results >"$tmp/out" 2>"$tmp/err"
    [ $? -eq 1 ] || fail "tune $f.json: expected exit 1"
    expect_in "$tmp/err" "$f.json: shape n="
  done
  expect_in "$tmp/err" "2147483648 does not fit int32_t"
fi
# The message names "reference", a top-level key, when the entry is missing.
sed 's/"entry": "scale",/"entry": "scale", "reference": "no_such_ref",/' \
  "$data/scale.json" >"$tmp/ref.json"
cp "$data/scale.cu" "$tmp/scale.cu"
run 1 "$tmp/ref.json" &&
  expect_in "$tmp/err" "ref.json: reference: entry 'no_such_ref' not found in"

# --- usage: --help exits 0 and documents everything; bad flags exit 2.
if run 0 --help; then
  for word in --arch --shape --json --quiet "Exit status" HELION_INCLUDE_DIR; do
    expect_in "$tmp/out" "$word"
  done
fi
run 2 "$samples/vector_add/vector_add.json" --no-such-flag &&
  expect_in "$tmp/err" "unknown option '--no-such-flag'"
run 2
run 2 "$samples/vector_add/vector_add.json" --arch
run 2 "$samples/vector_add/vector_add.json" --arch compute_90
run 2 "$samples/vector_add/vector_add.json" --shape Q=1
run 2 a.json b.json

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all check CLI tests passed"
