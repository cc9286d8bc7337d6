#!/usr/bin/env bash
# test_setup.sh: a shape's setup (the default config's compile, the
# reference kernel's, the worker's inputs and baseline) against the
# benchmark worker's test double (HELION_BENCH_WORKER, real NVRTC compiles,
# pretend runs). set_shape only starts the setup's compiles, so the
# search's first configs compile beside them; the first benchmark finishes
# it. Checks:
#  - the search's configs are queued (compiling) before the workers' setup,
#    asynchronous steps and lockstep alike (the DEBUG line of the setup);
#  - the default config submitted by the search while its own compile is
#    the setup's is timed once that compile is back (FiniteSearch over the
#    default and one other config);
#  - a reference kernel is the baseline, and one that does not compile
#    fails the shape with its message;
#  - a default config that does not compile (tests/data/nodefault) fails
#    each of the spec's two shapes with the compiler's message, and the
#    tune goes on to the second shape (nothing of the first is left
#    queued, and its compiles not started yet are dropped): exit 1.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
[ -n "${HELION_BENCH_WORKER:-}" ] || { echo "HELION_BENCH_WORKER not set"; exit 77; }
SRC="${HELION_SOURCE_DIR:?}"
DATA="${HELION_TEST_DATA:?}"
VADD="$SRC/samples/vector_add/vector_add.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_SKIP_CACHE=1
# run NAME WANT_RC ARGS...: a tune, --json to $TMP/NAME.json, stderr to
# $TMP/NAME.err, at most 120 s (a held config never released would hang).
run() {
  local name="$1" want="$2"
  shift 2
  timeout -k 5 120 "$HELION_TUNE" tune "$@" --no-results --json \
    >"$TMP/$name.json" 2>"$TMP/$name.err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$name: exit $rc, want $want: $(tail -3 "$TMP/$name.err")"
}
# check NAME EXPR...: Python asserts over d (the --json object) and the
# stderr text err.
check() {
  local name="$1"
  shift
  python3 - "$TMP/$name.json" "$TMP/$name.err" "$@" <<'PY' || fail "$name: checks failed"
import json, re, sys
d = json.load(open(sys.argv[1]))
err = open(sys.argv[2]).read()
for expr in sys.argv[3:]:
    exec(expr)
PY
}

# The search's configs are queued before the workers set up.
queued='m = re.search(r"Setup: default config compiled in [0-9.]+s; the workers set up while ([0-9]+) configs of the search are queued", err)
assert m and int(m.group(1)) > 0, err
assert err.index("Setup:") < err.index("Baseline (default config)"), err'
# The summary line says how busy the compile processes were, as --json.
busy='use = d["shapes"][0]["compile_pool"]["use"]
m = re.search(r"GPU idle [0-9]+% of the wall time, compile processes busy ([0-9]+)%", err)
assert m and 0 < use <= 1 and int(m.group(1)) == round(100 * use), (use, err[-400:])'
for mode in async lockstep; do
  set --
  [ "$mode" = lockstep ] && set -- --set async=0
  HELION_AUTOTUNE_LOG_LEVEL=DEBUG run "queued_$mode" 0 "$VADD" \
    --shape N=1048576 --max-evals 12 --seed 1 "$@"
  check "queued_$mode" "$queued" \
    's = d["shapes"][0]; assert s["configs_tested"] == 12 and s["best_ms"] > 0, s' \
    "$busy"
done

# The default config, submitted while its compile is the setup's, is timed.
run held 0 "$VADD" --shape N=1048576 --algorithm FiniteSearch \
  --config '{}' --config '{"block_sizes":[128]}'
check held 's = d["shapes"][0]
assert s["configs_tested"] == 2 and sum(s["failures"].values()) == 0, s
assert s["default_ms"] > 0 and s["best_ms"] > 0, s'

# A reference kernel as the baseline, and one that does not compile.
run reference 0 "$DATA/specs/matmul.json" --shape M=128,N=4096,K=64 \
  --max-evals 4 --seed 1
check reference 'assert "Baseline (matmul_ref):" in err, err' \
  's = d["shapes"][0]; assert s["configs_tested"] >= 1 and "error" not in s, s'
mkdir "$TMP/ref"
cp "$SRC/samples/vector_add/vector_add.cu" "$TMP/ref/"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); d["reference"] = "no_such_kernel"
json.dump(d, open(sys.argv[2], "w"))' "$VADD" "$TMP/ref/vector_add.json"
run badref 1 "$TMP/ref/vector_add.json" --shape N=1048576 --max-evals 8
check badref 's = d["shapes"][0]
assert "reference kernel '"'"'no_such_kernel'"'"' failed to compile: entry '"'"'no_such_kernel'"'"' not found" in s["error"], s
assert s["configs_tested"] == 0, s'

# A default config that does not compile: both shapes fail, the second is
# still tuned.
run nodefault 1 "$DATA/nodefault/nodefault.json"
check nodefault 'ss = d["shapes"]
assert [s["shape"] for s in ss] == [{"N": 1048576}, {"N": 65536}], ss
for s in ss:
    assert "nodefault.json: default config failed to compile: {\"block_sizes\":[256]}: nodefault.cu(4)" in s["error"], s
    assert "BLOCK 256 is broken on purpose" in s["error"] and s["configs_tested"] == 0, s
assert "Tuning nodefault for N=65536" in err, err
assert "while configurations are queued" not in err, err'

# With one compile process the first shape's search leaves compiles queued
# behind the failed default; the second shape drops them rather than have
# its setup wait for them.
HELION_AUTOTUNE_PRECOMPILE_JOBS=1 HELION_AUTOTUNE_LOG_LEVEL=DEBUG \
  run dropped 1 "$DATA/nodefault/nodefault.json" --seed 1
check dropped 'm = re.search(r"Dropped ([0-9]+) compiles no shape waits for any more", err)
assert m and int(m.group(1)) > 0, err
assert err.index("Dropped") > err.index("Tuning nodefault for N=65536"), err'

[ "$FAILS" -eq 0 ] && echo "test_setup: all passed"
exit $((FAILS > 0))
