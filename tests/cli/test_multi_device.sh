#!/usr/bin/env bash
# test_multi_device.sh: `tune --devices` over several GPUs, without a GPU:
# the benchmark worker's test double (tests/tools/fake_bench_worker.c) plays
# HELION_FAKE_DEVICES=2 fake GPUs. Checks:
#  - usage errors of --devices exit 2 naming the value (bad list, duplicate,
#    --device with --devices); an ordinal beyond the GPUs and GPUs of two
#    models exit 1 with a clear message (both models, --device N to tune
#    them separately); --devices all on one GPU is that GPU;
#  - the work is split: both GPUs time configs (--json "devices");
#  - the workers set up at the same time, not one after the other, and
#    start (device init) at once after the first;
#  - determinism: on tests/data/multi (configs that crash or kill their
#    worker, or are wrong), the result with two workers equals the result
#    with one (best_config, best_ms, configs_tested, failures, and every
#    evaluation line of the trace but its elapsed time);
#  - a worker killed mid-run (HELION_FAKE_DIE) restarts on its GPU only,
#    the other goes on (it starts jobs while the restart runs), the killed
#    job's config is a runtime failure; a restart that fails ends the tune
#    with its reason;
#  - tests/data/broken (hangs, illegal addresses, wrong answers) fails the
#    same configs over two GPUs as over one.
# Prints the configs per second with one and two workers (the fake's
# kernels take no time: this measures the tuner's own overhead).
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
[ -n "${HELION_BENCH_WORKER:-}" ] || { echo "HELION_BENCH_WORKER not set"; exit 77; }
SRC="${HELION_SOURCE_DIR:?}"
DATA="${HELION_TEST_DATA:?}"
VADD="$SRC/samples/vector_add/vector_add.json"
MULTI="$DATA/multi/multi.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_FAKE_DEVICES=2
unset HELION_FAKE_OTHER_MODEL HELION_FAKE_DIE

fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
# expect_rc WANT CMD...: stdout/stderr in $TMP/out, $TMP/err.
expect_rc() {
  local want="$1"
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $* (stderr: $(tail -5 "$TMP/err"))"
}
expect_err() {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(tail -5 "$TMP/err")"
}
# tune NAME ARGS...: a fresh cache each run (never a hit), --json to
# $TMP/NAME.json, stderr to $TMP/NAME.err, the trace to $TMP/NAME.trace.
tune() {
  local name="$1"
  shift
  HELION_CACHE_DIR="$TMP/cache-$name" "$HELION_TUNE" tune "$@" --no-results \
    --json --trace "$TMP/$name.trace" >"$TMP/$name.json" 2>"$TMP/$name.err"
  local rc=$?
  [ "$rc" -eq 0 ] || fail "tune $name: exit $rc: $(tail -5 "$TMP/$name.err")"
}
# field NAME EXPR: a Python expression over s, the first shape's entry.
field() {
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['shapes'][0]; print($2)" "$TMP/$1.json"
}

# --- --help documents it.
expect_rc 0 "$HELION_TUNE" tune --help
grep -qF -- "--devices all|N,M" "$TMP/out" || fail "--help lacks --devices"
grep -qF -- '"devices"' "$TMP/out" || grep -qF -- "devices: [{ordinal" "$TMP/out" ||
  fail "--help lacks the devices field of --json"

# --- Usage errors: exit 2, the value named.
export HELION_CACHE_DIR="$TMP/cache-usage"
for bad in "" "x" "0," ",1" "0;1" "-1" "1.5" "0,,1" "2000"; do
  expect_rc 2 "$HELION_TUNE" tune "$VADD" --devices "$bad"
  expect_err "--devices: '$bad' is not 'all' or a list of device ordinals"
done
expect_rc 2 "$HELION_TUNE" tune "$VADD" --devices 0,1,0
expect_err "--devices: '0,1,0' names GPU 0 twice"
expect_rc 2 "$HELION_TUNE" tune "$VADD" --device 1 --devices 0,1
expect_err "--device and --devices: give one of them"

# --- Errors of the machine: exit 1, clear.
expect_rc 1 "$HELION_TUNE" tune "$VADD" --devices 0,2 --shape N=4096 --no-results
expect_err "GPU 2 does not exist (2 visible"
expect_rc 1 "$HELION_TUNE" tune "$VADD" --devices 3,0 --shape N=4096 --no-results
expect_err "CUDA device 3 does not exist (2 visible)"
HELION_FAKE_OTHER_MODEL=1 expect_rc 1 "$HELION_TUNE" tune "$VADD" --devices all \
  --shape N=4096 --no-results
expect_err "GPU 0 is a fake H200 (test double, no CUDA) (sm_90) but GPU 1 is a fake A100 (test double, no CUDA) (sm_80)"
expect_err "tune them separately with --device 0 and --device 1"

# --- --devices all on a 1-GPU machine: that GPU.
HELION_FAKE_DEVICES=1 tune one "$VADD" --devices all --shape N=4096 --max-evals 8
[ "$(field one "[d['ordinal'] for d in s['devices']]")" = "[0]" ] ||
  fail "--devices all on one GPU: devices $(field one "s['devices']")"

# --- Determinism and the split: one worker against two, same seed.
search=(--algorithm RandomSearch --max-evals 48 --seed 3)
tune w1 "$MULTI" --device 0 "${search[@]}"
tune w2 "$MULTI" --devices all "${search[@]}"
for f in "s['best_config']" "s['best_ms']" "s['configs_tested']" \
  "s['failures']" "s['default_ms']"; do
  a="$(field w1 "$f")" b="$(field w2 "$f")"
  [ "$a" = "$b" ] || fail "$f: one worker $a, two workers $b"
done
[ "$(field w1 "s['best_config'] != {'MODE': 'ok', 'UNROLL': 1, 'block_sizes': [256]}")" = True ] ||
  fail "the default config won: pick a seed whose search finds a faster one"
[ "$(field w1 "sum(s['failures'].values()) > 0")" = True ] ||
  fail "the multi spec's run had no failures: the test checks nothing"
[ "$(field w1 "len(s['devices'])")" = 1 ] || fail "one worker: devices $(field w1 "s['devices']")"
[ "$(field w2 "[d['ordinal'] for d in s['devices']]")" = "[0, 1]" ] ||
  fail "two workers: devices $(field w2 "s['devices']")"
[ "$(field w2 "all(d['configs'] > 0 for d in s['devices'])")" = True ] ||
  fail "the work is not split: $(field w2 "s['devices']")"
[ "$(field w2 "sum(d['configs'] for d in s['devices']) >= s['configs_tested']")" = True ] ||
  fail "per-device configs do not add up: $(field w2 "s['devices']"), tested $(field w2 "s['configs_tested']")"
evals() { grep '"evaluation"' "$1" | sed 's/"elapsed": [^,}]*//'; }
evals "$TMP/w1.trace" >"$TMP/w1.evals"
evals "$TMP/w2.trace" >"$TMP/w2.evals"
[ -s "$TMP/w1.evals" ] || fail "no evaluation lines in the trace"
cmp -s "$TMP/w1.evals" "$TMP/w2.evals" ||
  fail "the traces differ: $(diff "$TMP/w1.evals" "$TMP/w2.evals" | head -6)"
echo "configs/s with one worker: $(field w1 "round(s['configs_per_second'], 1)"), with two: $(field w2 "round(s['configs_per_second'], 1)") (fake GPUs: the tuner's overhead)"

# --- The workers set up at once: with every setup taking 1 s (the fake's
# HELION_FAKE_SETUP_MS), the two setups' intervals overlap (each worker
# logs its own), rather than one starting after the other ended.
HELION_FAKE_SETUP_MS=1000 HELION_FAKE_SETUP_LOG="$TMP/setup.log" \
  tune setup "$VADD" --devices 0,1 --shape N=4096 --max-evals 4
python3 - "$TMP/setup.log" <<'PY' || fail "setups did not overlap: $(cat "$TMP/setup.log")"
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert sorted(r[0] for r in rows) == ["0", "1"], rows
(a0, a1), (b0, b1) = [(float(r[1]), float(r[2])) for r in rows]
assert max(a0, b0) < min(a1, b1), rows
PY

# --- The workers start at once after the first (which tells how many GPUs
# there are): with every device init taking 1 s (HELION_FAKE_INIT_MS), the
# inits of GPUs 1 and 2 overlap and both start after GPU 0's ended.
HELION_FAKE_DEVICES=3 HELION_FAKE_INIT_MS=1000 \
  HELION_FAKE_INIT_LOG="$TMP/init.log" \
  tune init "$VADD" --devices all --shape N=4096 --max-evals 4
python3 - "$TMP/init.log" <<'PY' || fail "inits not as expected: $(cat "$TMP/init.log")"
import sys
rows = {r[0]: (float(r[1]), float(r[2])) for r in map(str.split, open(sys.argv[1]))}
assert sorted(rows) == ["0", "1", "2"], rows
(a0, a1), (b0, b1), (c0, c1) = rows["0"], rows["1"], rows["2"]
assert b0 >= a1 and c0 >= a1, rows
assert max(b0, c0) < min(b1, c1), rows
PY

# --- A worker killed mid-run (GPU 1's 3rd job) restarts on GPU 1 only.
HELION_FAKE_DIE=1:3 tune die "$VADD" --devices 0,1 --shape N=4096 \
  --algorithm RandomSearch --max-evals 24 --seed 1
[ "$(field die "[d['restarts'] for d in s['devices']][0]")" = 0 ] ||
  fail "GPU 0's worker restarted: $(field die "s['devices']")"
[ "$(field die "s['devices'][1]['restarts'] >= 1")" = True ] ||
  fail "GPU 1's worker did not restart: $(field die "s['devices']")"
[ "$(field die "s['devices'][1]['configs'] > 3")" = True ] ||
  fail "GPU 1 timed nothing after its restart: $(field die "s['devices']")"
[ "$(field die "s['failures']['runtime'] >= 1")" = True ] ||
  fail "the killed job's config is not a runtime failure: $(field die "s['failures']")"
grep -qF "benchmark worker died" "$TMP/die.err" ||
  fail "no 'benchmark worker died' line: $(grep -i worker "$TMP/die.err" | head -3)"

# --- A restart that fails (GPU 1's second init) ends the tune with the
# reason, rather than hanging or going on without saying.
HELION_FAKE_DIE=1:3 HELION_FAKE_INIT_FAIL=1:2 HELION_FAKE_INIT_LOG="$TMP/finit.log" \
  HELION_CACHE_DIR="$TMP/cache-frestart" timeout -k 5 120 "$HELION_TUNE" tune \
  "$VADD" --devices 0,1 --shape N=4096 --algorithm RandomSearch --max-evals 40 \
  --seed 1 --no-results --json >"$TMP/frestart.json" 2>"$TMP/frestart.err"
rc=$?
[ "$rc" -eq 1 ] || fail "failed restart: exit $rc, want 1: $(tail -3 "$TMP/frestart.err")"
grep -qF "GPU 1: restarting the benchmark worker: " "$TMP/frestart.err" &&
  grep -qF "device 1's init number 2 fails" "$TMP/frestart.err" ||
  fail "failed restart: no reason given: $(tail -3 "$TMP/frestart.err")"

# --- A GPU gone at its restart (the runner's "does not exist", an invalid
# input elsewhere) is a fault of the run too, not a shape that cannot be
# tuned: over two shapes the tune ends with the reason (it used to record
# the first shape's error and then fail the second's set_shape with the
# first's configs still queued, exit 2).
HELION_FAKE_DIE=1:3 HELION_FAKE_INIT_FAIL=1:2:gone \
  HELION_FAKE_INIT_LOG="$TMP/fgone.log" HELION_CACHE_DIR="$TMP/cache-fgone" \
  timeout -k 5 120 "$HELION_TUNE" tune "$VADD" --devices 0,1 --shape N=4096 \
  --shape N=8192 --algorithm RandomSearch --max-evals 40 --seed 1 \
  --no-results --json >"$TMP/fgone.json" 2>"$TMP/fgone.err"
rc=$?
[ "$rc" -eq 1 ] || fail "GPU gone at restart: exit $rc, want 1: $(tail -3 "$TMP/fgone.err")"
grep -qF "GPU 1: restarting the benchmark worker: CUDA device 1 does not exist" \
  "$TMP/fgone.err" ||
  fail "GPU gone at restart: no reason given: $(tail -3 "$TMP/fgone.err")"

# --- A restart still running when the next shape sets up is finished, not
# thrown away and begun again, and the other GPU does not wait for it: GPU
# 1 dies at each worker's first job and its CUDA init takes 3 s, so shape
# N=8192 sets up while the restart after shape N=4096's death is under
# way. Restarts = deaths (it used to count one more, and pay one more
# init), and GPU 0 tunes shape N=8192 in well under the 3 s (it used to
# wait for the restart to end).
HELION_FAKE_DIE=1:1 HELION_FAKE_INIT_MS=3000 HELION_CACHE_DIR="$TMP/cache-rsetup" \
  timeout -k 5 120 "$HELION_TUNE" tune "$VADD" --devices 0,1 --shape N=4096 \
  --shape N=8192 --algorithm FiniteSearch --config '{"block_sizes":[128]}' \
  --config '{"block_sizes":[512]}' --no-results --json \
  >"$TMP/rsetup.json" 2>"$TMP/rsetup.err"
rc=$?
[ "$rc" -eq 0 ] || fail "restart across shapes: exit $rc: $(tail -3 "$TMP/rsetup.err")"
python3 - "$TMP/rsetup.json" "$TMP/rsetup.err" <<'PY' || fail "restart across shapes: restarts do not match deaths, or GPU 0 waited for GPU 1's restart"
import json, sys
d = json.load(open(sys.argv[1]))
deaths = open(sys.argv[2]).read().count("triggered a runtime error")
first, second = d["shapes"]
gpu1 = second["devices"][1]
assert deaths >= 1 and gpu1["restarts"] == deaths, (deaths, gpu1)
assert first["devices"][1]["restarts"] == 1, first["devices"]
assert second["wall_seconds"] < 2.5 and second["devices"][0]["configs"] >= 1, second
PY

# --- A GPU that takes the next shape's setup when its restart ends never
# times that shape's configs on the last shape's inputs. GPU 1's workers
# die at their second job and each setup takes 1.5 s, so the next shape
# mostly finds GPU 1 replaying the old setup: the new one must follow that
# reply before any job. Each GPU 1 job after shape N=8192 began must come
# after a GPU 1 setup of that shape's inputs (the setup log's bytes).
HELION_FAKE_DIE=1:2 HELION_FAKE_SETUP_MS=1500 HELION_FAKE_JOB_MS=100 \
  HELION_FAKE_SETUP_LOG="$TMP/later.setup" HELION_FAKE_JOB_LOG="$TMP/later.jobs" \
  HELION_CACHE_DIR="$TMP/cache-later" timeout -k 5 120 "$HELION_TUNE" tune \
  "$VADD" --devices 0,1 --shape N=4096 --shape N=8192 --algorithm RandomSearch \
  --max-evals 30 --seed 1 --no-results --json \
  >"$TMP/later.json" 2>"$TMP/later.err"
rc=$?
[ "$rc" -eq 0 ] || fail "setup after a restart: exit $rc: $(tail -3 "$TMP/later.err")"
python3 - "$TMP/later" <<'PY' || fail "setup after a restart: GPU 1 timed a config on the old shape's inputs"
import sys
setups = [(int(o), float(a), float(b), int(n)) for o, a, b, n in
          (l.split() for l in open(sys.argv[1] + ".setup"))]
jobs = [(int(o), float(a)) for o, a, _ in
        (l.split() for l in open(sys.argv[1] + ".jobs"))]
_, t2, _, bytes2 = [x for x in setups if x[0] == 0][-1]  # GPU 0, shape 2
late = [a for o, a in jobs if o == 1 and a > t2]
assert late, "GPU 1 timed nothing of the second shape"
for a in late:
    last = max((x for x in setups if x[0] == 1 and x[2] <= a), key=lambda x: x[2])
    assert last[3] == bytes2, (a, last, bytes2)
PY

# --- The first GPU's worker dies late in a shape, and its restart's replay
# of the setup is still out when the next shape sets up (no final
# rebench waited for it: the default config wins, the others fail): the
# new setup waits for that reply and follows it. (It used to end the tune
# with exit 2, "setup while a job is in flight".)
HELION_FAKE_DIE=0:2 HELION_FAKE_SETUP_MS=1500 HELION_FAKE_JOB_MS=400 \
  HELION_CACHE_DIR="$TMP/cache-g0" timeout -k 5 120 "$HELION_TUNE" tune \
  "$MULTI" --devices 0,1 --shape N=4096 --shape N=8192 --algorithm FiniteSearch \
  --config '{"MODE":"ok","UNROLL":1,"block_sizes":[256]}' \
  --config '{"MODE":"wrong","UNROLL":1,"block_sizes":[128]}' \
  --config '{"MODE":"wrong","UNROLL":2,"block_sizes":[128]}' \
  --config '{"MODE":"wrong","UNROLL":4,"block_sizes":[128]}' \
  --no-results --json >"$TMP/g0.json" 2>"$TMP/g0.err"
rc=$?
[ "$rc" -eq 0 ] || fail "GPU 0 restarting at a new shape: exit $rc: $(tail -2 "$TMP/g0.err")"
grep -q '"shape": {"N": 8192}' "$TMP/g0.json" ||
  fail "GPU 0 restarting at a new shape: the second shape has no entry"

# --- The restart does not hold up the other GPU: with every device init
# taking 1.5 s, GPU 0 starts jobs while GPU 1's worker restarts (between
# the start and the end of GPU 1's second init, its first restart).
HELION_FAKE_DIE=1:3 HELION_FAKE_INIT_MS=1500 HELION_FAKE_INIT_LOG="$TMP/rinit.log" \
  HELION_FAKE_JOB_LOG="$TMP/rjobs.log" tune restart "$VADD" --devices 0,1 \
  --shape N=4096 --algorithm RandomSearch --max-evals 40 --seed 1
grep -qF "GPU 1: benchmark worker restarted" "$TMP/restart.err" ||
  fail "no 'GPU 1: benchmark worker restarted' line: $(grep -i worker "$TMP/restart.err" | head -3)"
python3 - "$TMP/rinit.log" "$TMP/rjobs.log" <<'PY' || fail "GPU 0 waited for GPU 1's restart: $(cat "$TMP/rinit.log")"
import sys
# GPU 1's inits: its start, then a restart each time its new worker
# reaches its 3rd job (the count starts over with every process).
inits = [(float(r[1]), float(r[2])) for r in map(str.split, open(sys.argv[1])) if r[0] == "1"]
assert len(inits) >= 2, inits
r0, r1 = inits[1]
jobs = [float(r[1]) for r in map(str.split, open(sys.argv[2])) if r[0] == "0"]
during = [t for t in jobs if r0 < t < r1]
assert len(during) >= 2, (r0, r1, jobs)
PY
[ "$(field die "s['best_ms'] > 0 and s['configs_tested']")" = 24 ] ||
  fail "the run did not go on to 24 configs: $(field die "s['configs_tested']")"

# --- tests/data/broken over two GPUs: hangs (the watchdog), illegal
# addresses and wrong answers count as on one GPU (test_tune_broken.sh's
# hand-counted expectations), the GPUs that met them restarted.
HELION_AUTOTUNE_COMPILE_TIMEOUT=5 tune broken "$DATA/broken/broken.json" \
  --devices all --algorithm RandomSearch --effort quick --seed 3
[ "$(field broken "s['failures']")" = "{'accuracy': 2, 'compile': 0, 'runtime': 2, 'timeout': 4}" ] ||
  fail "broken over two GPUs: failures $(field broken "s['failures']")"
[ "$(field broken "s['best_config']['BROKEN']")" = ok ] ||
  fail "broken over two GPUs: winner $(field broken "s['best_config']")"
[ "$(field broken "sum(d['restarts'] for d in s['devices'])")" -ge 1 ] ||
  fail "broken over two GPUs: restarts $(field broken "s['devices']")"

[ "$FAILS" -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "ok"
