#!/usr/bin/env bash
# test_tune.sh (GPU): tunes samples/vector_add for one shape with a capped
# search (the default algorithm) and checks the result: exit 0, a winning
# config that is a valid vector_add config (full and minimized), a finite
# time no slower than 1.05x the default config's (the default is in the
# initial population, so the winner can only be at least as fast up to
# rebenchmark noise), at most --max-evals configs, the overlap numbers
# present and in range, every field of the entry (resolved options, device
# facts, hashes), the Helion-style log lines, the trace, and the replay of
# the resolved options with --options-json, and the results file each
# finished shape is recorded in (--tuned). Exits 77 without a CUDA driver or
# device (on CI it also runs against tests/tools/fake_bench_worker). Last,
# the cache: a second identical tune is a hit that starts no benchmark worker.
# Also --shapes-from, the runtime's recorded misses as the shapes to tune.
# Also where the time went (--json "phases", "timing_stops") and the early
# stop against the best so far, and with HELION_AUTOTUNE_EARLY_STOP=0 none.
# Also the asynchronous LFBO steps (the default) and lockstep (async=0).
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
# The searches below must search: no cache until its own section at the end.
export HELION_CACHE_DIR="$TMP/cache" HELION_SKIP_CACHE=1
"$HELION_TUNE" tune "$SPEC" --shape N=1048576 --effort quick --max-evals 40 \
  --seed 7 --json --trace "$TMP/trace.jsonl" --tuned "$TMP/r.tuned.json" \
  >"$TMP/out" 2>"$TMP/err"
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
# check_json FILE PYTHON: runs the Python assertions with `d` the JSON of
# FILE and `s` its only shape; each failing assert is one FAIL line.
check_json() {
  local msg
  msg=$(python3 - "$1" "$2" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
s = d["shapes"][0]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("assertion failed:", e)
    sys.exit(1)
PY
) || fail "$(basename "$1"): $msg"
}
python3 -c 'import json' || fail "python3 missing"
check_json "$TMP/out" '
assert d["spec"] == "vector_add" and d["device"], "spec/device"
assert len(d["shapes"]) == 1 and s["shape"] == {"N": 1048576}, "shape %r" % s.get("shape")
b = s["best_config"]
assert sorted(b) == ["ITEMS", "block_sizes", "num_warps", "pid_type"], "best_config %r" % b
assert b["ITEMS"] in (1, 2, 4, 8) and b["pid_type"] in ("flat", "persistent_blocked", "persistent_interleaved"), b
m = s["best_config_minimized"]
assert all(b[k] == v for k, v in m.items()) and "block_sizes" in m, "minimized %r" % m
f = s["failures"]
assert sorted(f) == ["accuracy", "compile", "runtime", "timeout"] and f["accuracy"] == 0 and f["timeout"] == 0, f
assert 0 <= s["gpu_idle_fraction"] <= 1, s["gpu_idle_fraction"]
assert 2 <= s["configs_tested"] <= 40, s["configs_tested"]
assert 0 < s["best_ms"] <= 1.05 * s["default_ms"], (s["best_ms"], s["default_ms"])
assert isinstance(s["side_by_side"], bool)
assert s["algorithm"] == "LFBOTreeSearch" and s["effort"] == "quick" and s["seed"] == 7, s
o = s["options"]
assert o["algorithm"] == s["algorithm"] and o["effort"] == "quick" and o["seed"] == 7, o
dev = s["device"]
assert dev["name"] == d["device"] and re.fullmatch(r"[0-9]+\.[0-9]", dev["compute_capability"]), dev
assert dev["sm_count"] > 0 and re.fullmatch(r"[0-9]+\.[0-9]", dev["driver_version"]), dev
assert re.fullmatch(r"[0-9]+\.[0-9]", dev["nvrtc_version"]), dev
for k in ("source_hash", "space_fingerprint"):
    assert re.fullmatch(r"[0-9a-f]{64}", s[k]), k
assert s["tool_version"] and s["wall_seconds"] >= s["backend_seconds"] > 0, s
assert s["seconds"] == s["backend_seconds"] and "error" not in s, s
# Where the time went: every phase present and >= 0 (what the tuner does
# between the worker'"'"'s jobs may read a hair under 0 from two clocks), the
# tuner'"'"'s phases within the wall time; timing stops count the configs timed.
ph = s["phases"]
names = ["wall_s", "setup_s", "compile_wait_s", "load_s", "check_s", "warmup_s",
         "timing_s", "bench_other_s", "rebench_s", "side_by_side_s", "search_s"]
assert sorted(ph) == sorted(names), sorted(ph)
assert all(ph[k] >= -0.01 for k in names), ph
assert ph["setup_s"] + ph["compile_wait_s"] + ph["rebench_s"] <= ph["wall_s"] + 1e-6, ph
st = s["timing_stops"]
assert sorted(st) == ["cut", "full", "settled", "slower"], st
assert sum(st.values()) == s["configs_tested"] - sum(f.values()), (st, s["configs_tested"], f)
# The test double'"'"'s kernels take 0.1-0.2 ms by hash: many are clearly slower.
assert "fake" not in d["device"] or st["slower"] > 0, st
# The compile processes: every config tested that could launch was
# compiled (the default before the search); their seconds fit in jobs x
# wall.
cp = s["compile_pool"]
assert sorted(cp) == ["busy_s", "compiles", "jobs", "use"], cp
assert cp["jobs"] >= 1 and cp["compiles"] >= s["configs_tested"] - f["runtime"], (cp, s)
assert cp["busy_s"] > 0 and 0 < cp["use"] <= 1.05, cp
assert abs(cp["use"] - cp["busy_s"] / (cp["jobs"] * ph["wall_s"])) < 1e-6, (cp, ph)
'
tested=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["shapes"][0]["configs_tested"])' "$TMP/out")

# HELION_AUTOTUNE_EARLY_STOP=0: every config timed in full (Helion's way).
HELION_AUTOTUNE_EARLY_STOP=0 "$HELION_TUNE" tune "$SPEC" --shape N=1048576 \
  --effort quick --max-evals 12 --seed 7 --json --no-results \
  >"$TMP/out_full" 2>"$TMP/err_full" || fail "early stop off: exit $?"
check_json "$TMP/out_full" '
st = s["timing_stops"]
assert st["slower"] == 0 and st["settled"] == 0 and st["full"] > 0, st
'

# The run log.
has "$TMP/err" '^\[[0-9]+s\] Starting autotuning process'
has "$TMP/err" 'Autotune random seed: 7'
has "$TMP/err" 'Baseline \(default config\): [0-9.]+ms'
has "$TMP/err" 'Adaptive compile timeout: [0-9]+s \(90% percentile=[0-9.]+s, bounds=\[30\.0s, 60s\]\)'
has "$TMP/err" 'Autotuning complete in [0-9.]+s after searching [0-9]+ configs\.'
has "$TMP/err" 'Best config for N=1048576: \{'
[ "$(grep -c '"evaluation"' "$TMP/trace.jsonl")" -eq "$tested" ] ||
  fail "trace evaluations differ from configs_tested $tested"
# The trace ends with the search's winner and the default timed side by
# side, the times --json reports (unless the winner is the default; a
# winner that lost there gave way to the default).
check_json "$TMP/out" "
t = [json.loads(l) for l in open('$TMP/trace.jsonl')]
if s['side_by_side']:
    w, d0 = t[-2], t[-1]
    assert w.get('rebench') and d0.get('rebench'), t[-2:]
    assert abs(d0['ms'] - s['default_ms']) <= 1e-6 * s['default_ms'], d0
    if w['ms'] <= d0['ms']:
        assert w['config'] == s['best_config'], (w, s['best_config'])
        assert abs(w['ms'] - s['best_ms']) <= 1e-6 * s['best_ms'], (w, s['best_ms'])
    else:
        assert s['best_config'] == d0['config'] and s['best_ms'] == s['default_ms'], s
"

# The results file holds the shape's entry, as --json printed it.
has "$TMP/err" "Recorded N=1048576 in $TMP/r.tuned.json \(new entry\)"
check_json "$TMP/out" "
r = json.load(open('$TMP/r.tuned.json'))
assert r['format_version'] == 1 and len(r['entries']) == 1, r
e = r['entries'][0]
for k in ('best_config', 'best_config_minimized', 'best_ms', 'default_ms', 'side_by_side',
          'algorithm', 'effort', 'seed', 'options', 'configs_tested', 'failures', 'shape',
          'source_hash', 'space_fingerprint', 'tool_version'):
    assert e[k] == s[k], (k, e[k], s[k])
assert all(e['device'][k] == v for k, v in s['device'].items()), e['device']
assert e['device']['smem_per_block'] > 0 and e['device']['regs_per_sm'] > 0, e['device']
"
cp "$TMP/r.tuned.json" "$TMP/r1.json"

# --effort none: the default config only; recorded beside the first entry,
# whose lines stay byte for byte (N=1000003 sorts before N=1048576).
"$HELION_TUNE" tune "$SPEC" --shape N=1000003 --effort none --json \
  --tuned "$TMP/r.tuned.json" >"$TMP/out2" 2>"$TMP/err2" || fail "effort none: exit $?"
python3 - "$TMP/r1.json" "$TMP/r.tuned.json" <<'PY' || fail "recording N=1000003 changed N=1048576's entry"
import sys
a, b = open(sys.argv[1]).read(), open(sys.argv[2]).read()
ga = a[a.index("\n    {\n"):a.index("\n    }") + 6]
assert b.count("\n    {\n") == 2 and b.index(ga) > b.index('"N": 1000003'), b
PY
"$HELION_TUNE" results "$SPEC" --tuned "$TMP/r.tuned.json" 2>"$TMP/res" ||
  fail "results: exit $?"
has "$TMP/res" "r.tuned.json: 2 entries"
grep -q STALE "$TMP/res" && fail "fresh entries marked stale: $(cat "$TMP/res")"
check_json "$TMP/out2" '
assert s["best_config"] == {"ITEMS": 4, "block_sizes": [256], "num_warps": 4, "pid_type": "flat"}, s["best_config"]
assert s["configs_tested"] == 1 and s["effort"] == "none", s
'

# The resolved options replay: --options-json with the first run's options
# gives the same algorithm, effort, seed and options, but for what a flag
# overrides (--max-evals); the file overrides the environment.
python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["shapes"][0]["options"], open(sys.argv[2], "w"))' \
  "$TMP/out" "$TMP/options.json"
"$HELION_TUNE" tune "$SPEC" --shape N=1048576 --options-json "$TMP/options.json" \
  --max-evals 8 --json --no-results >"$TMP/out3" 2>"$TMP/err3" ||
  fail "options replay: exit $? $(cat "$TMP/err3")"
check_json "$TMP/out3" "
want = json.load(open('$TMP/options.json'))
assert want['options']['max_evals'] == 40, want
want['options']['max_evals'] = 8
assert s['options'] == want, 'replayed %r, want %r' % (s['options'], want)
"
HELION_AUTOTUNER=RandomSearch "$HELION_TUNE" tune "$SPEC" --shape N=1048576 \
  --options-json "$TMP/options.json" --seed 9 --max-evals 8 --json --no-results \
  >"$TMP/out4" 2>"$TMP/err4" ||
  fail "options override: exit $? $(cat "$TMP/err4")"
check_json "$TMP/out4" '
assert s["algorithm"] == "LFBOTreeSearch" and s["seed"] == 9 and s["effort"] == "quick", s["options"]
'
# The options a tune recorded replay a search exactly elsewhere: on a
# recorded landscape, the replayed options and the same search given by
# flags write the same trace.
L="$HELION_TEST_DATA/landscapes/gemm_RTX_3090.json.gz"
"$HELION_TUNE" simulate "$L" --options-json "$TMP/options.json" --quiet \
  --trace "$TMP/replay.jsonl" || fail "simulate --options-json: exit $?"
"$HELION_TUNE" simulate "$L" --algorithm LFBOTreeSearch --effort quick --seed 7 \
  --max-evals 40 --quiet --trace "$TMP/flags.jsonl" || fail "simulate: exit $?"
if ! cmp -s <(tail -n +2 "$TMP/replay.jsonl") <(tail -n +2 "$TMP/flags.jsonl"); then
  fail "the tune's options replayed on the simulator give a different trace"
fi
[ "$(wc -l <"$TMP/replay.jsonl")" -gt 10 ] || fail "replay trace too short"

# The trace's meta line carries the same resolved options.
check_json "$TMP/out" "
meta = json.loads(open('$TMP/trace.jsonl').readline())['meta']
assert {k: meta[k] for k in ('algorithm', 'effort', 'seed', 'options')} == s['options'], meta
assert meta['shape'] == 'N=1048576' and meta['device'] == d['device'], meta
"

# --shapes-from: the distinct shapes of this kernel that a program recorded
# with HELION_RECORD_MISSES (helion_miss's JSON lines), in ascending order;
# other kernels' lines, repeats and unusable shapes are skipped and counted.
cat >"$TMP/misses.jsonl" <<'EOF2'
{"cc":"9.0","device":"X","kernel":"vector_add","pick":"nearest","shape":{"N":5000}}
{"cc":"9.0","device":"X","kernel":"softmax","pick":"default","shape":{"M":1,"N":2}}
{"cc":"8.0","device":"Y","kernel":"vector_add","pick":"default","shape":{"N":2048}}

{"cc":"9.0","device":"X","kernel":"vector_add","pick":"nearest","shape":{"N":5000}}
{"cc":"9.0","device":"X","kernel":"vector_add","pick":"nearest","shape":{"N":0}}
EOF2
"$HELION_TUNE" tune "$SPEC" --shapes-from "$TMP/misses.jsonl" --effort none \
  --json --tuned "$TMP/m.tuned.json" >"$TMP/mout" 2>"$TMP/merr" ||
  fail "--shapes-from: exit $? $(cat "$TMP/merr")"
has "$TMP/merr" "2 shapes of vector_add from $TMP/misses.jsonl \\(5 lines: 1 of other kernels, 1 repeats, 1 unusable\\)"
has "$TMP/merr" "misses.jsonl:6: skipped: .*N"
check_json "$TMP/mout" "
assert [x['shape'] for x in d['shapes']] == [{'N': 2048}, {'N': 5000}], d['shapes']
"
# --shape is repeatable: those shapes, in the order given.
"$HELION_TUNE" tune "$SPEC" --shape N=5000 --shape N=2048 --effort none --json \
  --no-results >"$TMP/mout2" 2>"$TMP/merr" || fail "two --shape: exit $? $(cat "$TMP/merr")"
check_json "$TMP/mout2" "
assert [x['shape'] for x in d['shapes']] == [{'N': 5000}, {'N': 2048}], d['shapes']
"
echo '{"kernel":"softmax","shape":{"M":1,"N":2}}' >"$TMP/other.jsonl"
"$HELION_TUNE" tune "$SPEC" --shapes-from "$TMP/other.jsonl" --no-results \
  >/dev/null 2>"$TMP/merr2" && fail "--shapes-from with no line of the kernel: exit 0"
has "$TMP/merr2" "no misses of kernel 'vector_add' in .*other.jsonl"
echo 'not json' >"$TMP/torn.jsonl"
"$HELION_TUNE" tune "$SPEC" --shapes-from "$TMP/torn.jsonl" --no-results \
  >/dev/null 2>"$TMP/merr3" && fail "--shapes-from a file that is not JSON lines: exit 0"
has "$TMP/merr3" "torn.jsonl:1: not a miss record"
"$HELION_TUNE" tune "$SPEC" --shape N=4 --shapes-from "$TMP/misses.jsonl" \
  >/dev/null 2>&1
[ $? -eq 2 ] || fail "--shape with --shapes-from: want exit 2"

# Asynchronous LFBO steps (the default): copies submit their steps while
# others are compiled or timed. The tune ends cleanly within the cap,
# measures no config twice, and its trace's times only grow; --set async=0
# runs lockstep generations instead.
env -u HELION_LFBO_ASYNC "$HELION_TUNE" tune "$SPEC" --shape N=1048576 \
  --effort full --max-evals 60 --seed 7 --json --no-results \
  --trace "$TMP/async.jsonl" >"$TMP/async" 2>"$TMP/async.err" ||
  fail "async: exit $?"
has "$TMP/async.err" "Copies step asynchronously"
check_json "$TMP/async" "
assert s['options']['options']['async'] is True, s['options']
n = s['configs_tested']
assert 20 < n <= 60, n
assert 0 < s['best_ms'] <= 1.05 * s['default_ms'], (s['best_ms'], s['default_ms'])
ev = [json.loads(l) for l in open('$TMP/async.jsonl') if '\"evaluation\"' in l]
assert len(ev) == n, (len(ev), n)
keys = [json.dumps(e['config'], sort_keys=True) for e in ev]
assert len(set(keys)) == n, 'a config measured twice'
t = [e['elapsed'] for e in ev]
assert t == sorted(t), 'trace times go back'
assert max(e['generation'] for e in ev) >= 2, 'no round after the first'
"
env -u HELION_LFBO_ASYNC "$HELION_TUNE" tune "$SPEC" --shape N=1048576 \
  --effort full --max-evals 60 --seed 7 --set async=0 --json --no-results \
  >"$TMP/lockstep" 2>"$TMP/lockstep.err" || fail "async=0: exit $?"
has "$TMP/lockstep.err" "Generation 1 starting"
grep -q "Copies step asynchronously" "$TMP/lockstep.err" &&
  fail "async=0: the copies still stepped asynchronously"
check_json "$TMP/lockstep" "
assert s['options']['options']['async'] is False, s['options']
"

# A winner that loses the final side-by-side to the default config gives
# way to it, loudly (the test double slows the first of every pair timed
# side by side; only it can make the measurements disagree so).
if [ -n "${HELION_BENCH_WORKER:-}" ]; then
  HELION_FAKE_PAIR_PENALTY=10 "$HELION_TUNE" tune "$SPEC" --shape N=1048576 \
    --effort quick --max-evals 20 --seed 7 --json --no-results \
    >"$TMP/dflt" 2>"$TMP/dflt.err" || fail "default kept: exit $?"
  has "$TMP/dflt.err" "ran [0-9.]+ms side by side with the default config's [0-9.]+ms: keeping the default config"
  "$HELION_TUNE" tune "$SPEC" --shape N=1048576 --effort none --json \
    --no-results >"$TMP/none" 2>/dev/null || fail "--effort none: exit $?"
  check_json "$TMP/dflt" "
d = json.load(open('$TMP/none'))['shapes'][0]['best_config']
assert s['best_config'] == d, (s['best_config'], d)
assert s['best_ms'] == s['default_ms'] and s['side_by_side'], s
"
fi

# The cache: a second identical tune is a hit, printed like a tuned entry
# and marked cached, that starts no benchmark worker (the second run's
# worker only leaves a mark and fails). Against the fake worker, a fake libcuda gives the
# device facts the key needs without one (the real driver's on a GPU).
unset HELION_SKIP_CACHE
export HELION_CACHE_DIR="$TMP/cache2"
if [ -n "${HELION_BENCH_WORKER:-}" ]; then
  ${CC:-cc} -shared -fPIC -o "$TMP/libcuda.so.1" \
    "$(dirname "$0")/fake_libcuda.c" || fail "cannot build the fake libcuda"
  export HELION_LIBCUDA_PATH="$TMP/libcuda.so.1"
fi
printf '#!/bin/sh\ntouch "%s/worker-started"\nexit 1\n' "$TMP" >"$TMP/marker-worker"
chmod +x "$TMP/marker-worker"
tune_n4096() {
  "$HELION_TUNE" tune "$SPEC" --shape N=4096 --effort quick --max-evals 12 \
    --seed 3 --json --tuned "$TMP/c.tuned.json" "$@"
}
tune_n4096 >"$TMP/c1" 2>"$TMP/ce1" || fail "cache: first tune: exit $? $(cat "$TMP/ce1")"
[ "$(ls "$TMP/cache2" | grep -c '\.best_config$')" -eq 1 ] ||
  fail "cache: want one entry after the first tune: $(ls -A "$TMP/cache2")"
HELION_BENCH_WORKER="$TMP/marker-worker" tune_n4096 >"$TMP/c2" 2>"$TMP/ce2" ||
  fail "cache: second tune (a hit) exit $? $(cat "$TMP/ce2")"
has "$TMP/ce2" 'Found cached config for vector_add, skipping autotuning\.'
has "$TMP/ce2" 'Cache directory: .*/cache2\. To re-tune and update the cache, set HELION_FORCE_AUTOTUNE=1\.'
has "$TMP/ce2" 'Best config for N=4096: \{'
grep -q 'Starting autotuning process' "$TMP/ce2" && fail "cache: a hit started a search"
# A hit is recorded in the results file like a tuned shape.
has "$TMP/ce2" "Recorded N=4096 in $TMP/c.tuned.json \\(entry replaced\\)"
[ -e "$TMP/worker-started" ] && fail "cache: a hit started the benchmark worker"
check_json "$TMP/c2" "
first = json.load(open('$TMP/c1'))['shapes'][0]
assert s['cached'] is True and 'cached' not in first, s
for k in ('best_config', 'best_config_minimized', 'best_ms', 'default_ms', 'options', 'source_hash', 'space_fingerprint', 'configs_tested'):
    assert s[k] == first[k], (k, s[k], first[k])
"
# FORCE skips the read (so the missing worker fails the run); another seed
# is the same key (the search is not part of it).
HELION_FORCE_AUTOTUNE=1 HELION_BENCH_WORKER="$TMP/marker-worker" tune_n4096 \
  >/dev/null 2>"$TMP/ce3" && fail "cache: FORCE read the cache"
[ -e "$TMP/worker-started" ] || fail "cache: FORCE did not start the worker"
rm -f "$TMP/worker-started"
HELION_BENCH_WORKER="$TMP/marker-worker" tune_n4096 --seed 4 >/dev/null 2>&1 ||
  fail "cache: another seed missed"
[ -e "$TMP/worker-started" ] && fail "cache: another seed started the worker"
"$HELION_TUNE" cache ls >"$TMP/ls" 2>/dev/null || fail "cache ls: exit $?"
has "$TMP/ls" '^[0-9a-f]{12} +vector_add +N=4096 '

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "tune on the GPU passed"
