#!/usr/bin/env bash
# test_simulate.sh: drives `helion-tune simulate`: --help covers every option,
# bad flags exit 2 naming the flag, a missing landscape exits 1, --json parses
# and carries every field with values checked against the landscape file
# itself (valid configs and optimum computed here by python, not by the
# tool), --max-evals is never exceeded, the same seed repeats the output,
# --trace writes one line per evaluation (one file per run with --runs > 1),
# and effort none measures the default config only.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
LAND="${HELION_TEST_DATA:?}/landscapes"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0

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

# expect_err TEXT: stderr of the last expect_rc contains TEXT.
expect_err() {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"
}

SIM() { "$HELION_TUNE" simulate "$@"; }

# --- help -------------------------------------------------------------------
expect_rc 0 SIM --help
for opt in --algorithm --effort --max-evals --budget-seconds --runs --seed \
           --noise --compile-jobs --json --trace --quiet --help --options-json \
           DifferentialEvolutionSearch FiniteSearch PatternSearch RandomSearch; do
  grep -qF -- "$opt" "$TMP/out" || fail "--help does not mention $opt"
done
expect_rc 0 SIM -h

# --- usage errors (exit 2, the flag named) ----------------------------------
P="$LAND/pnpoly_RTX_3090.json.gz"
expect_rc 2 SIM
expect_err "missing LANDSCAPE"
expect_rc 2 SIM "$P" --bogus
expect_err "unknown option '--bogus'"
expect_rc 2 SIM "$P" --runs 0
expect_err "--runs: '0' is not an integer in [1, 100000]"
expect_rc 2 SIM "$P" --runs=abc
expect_err "--runs: 'abc'"
expect_rc 2 SIM "$P" --max-evals -3
expect_err "--max-evals: '-3' is not a positive integer"
expect_rc 2 SIM "$P" --budget-seconds 0
expect_err "--budget-seconds: '0' is not a positive number"
expect_rc 2 SIM "$P" --effort fast
expect_err "--effort: 'fast' is not an effort; use none, quick or full"
expect_rc 2 SIM "$P" --algorithm Nope
expect_err "--algorithm: unknown search algorithm 'Nope'; valid algorithms: DESurrogateHybrid, DifferentialEvolutionSearch, FiniteSearch, LFBOPatternSearch, LFBOTreeSearch, LLMGuidedSearch, LLMSeededLFBOTreeSearch, LLMSeededSearch, PatternSearch, RandomSearch"
expect_rc 2 SIM "$P" --seed
expect_err "--seed needs a value"
expect_rc 2 SIM "$P" --json=yes
expect_err "--json takes no value"
expect_rc 2 SIM "$P" "$P"
expect_err "unexpected argument"
HELION_AUTOTUNE_EFFORT=lots expect_rc 2 SIM "$P"
expect_err "HELION_AUTOTUNE_EFFORT: 'lots' is not an effort"

# --- failures (exit 1) ------------------------------------------------------
expect_rc 1 SIM "$TMP/missing.json"
expect_err "missing.json"

# --- --json -----------------------------------------------------------------
expect_rc 0 SIM "$P" --algorithm PatternSearch --runs 3 --seed 5 \
  --max-evals 60 --json --quiet
cp "$TMP/out" "$TMP/pattern.json"
[ -s "$TMP/err" ] && fail "--quiet still wrote to stderr: $(cat "$TMP/err")"
python3 - "$TMP/pattern.json" "$P" <<'PY' || fail "--json content"
import gzip, json, math, sys
out = json.load(open(sys.argv[1]))
land = json.loads(gzip.open(sys.argv[2]).read())
times = []
for rec in land["cache"].values():
    t, e = rec.get("time"), rec.get("__error__")
    if t == "InvalidConfig" or e == "InvalidConfig":
        continue
    times.append(float(t) if isinstance(t, (int, float)) and not e else math.inf)
opt = min(times)
assert out["landscape"] == sys.argv[2], out["landscape"]
assert out["algorithm"] == "PatternSearch"
assert out["effort"] == "full"
assert out["valid_configs"] == len(times), (out["valid_configs"], len(times))
assert abs(out["optimum_ms"] / opt - 1) < 1e-8, (out["optimum_ms"], opt)
assert [r["seed"] for r in out["runs"]] == [5, 6, 7]
for r in out["runs"]:
    for k in ("seed", "evaluations", "best_ms", "measured_ms", "ratio",
              "sim_seconds", "best_config"):
        assert k in r, k
    assert 1 <= r["evaluations"] <= 60, r["evaluations"]
    assert r["ratio"] >= 1 and abs(r["ratio"] - r["best_ms"] / opt) < 1e-6
    assert r["sim_seconds"] > 0
    assert set(r["best_config"]) == set(land["tune_params_keys"])
    assert r["best_ms"] in times or any(abs(r["best_ms"] / t - 1) < 1e-8
                                        for t in times if t < math.inf)
s = out["summary"]
ratios = sorted(r["ratio"] for r in out["runs"])
assert s["median_ratio"] == ratios[1] and s["p90_ratio"] == ratios[2], s
for k, f in (("within_1_02", 1.02), ("within_1_05", 1.05),
             ("within_1_10", 1.10)):
    want = sum(x <= f for x in ratios) / 3
    assert abs(s[k] - want) < 1e-6, (k, s[k], want)
PY

# The same seed repeats the run exactly.
expect_rc 0 SIM "$P" --algorithm PatternSearch --runs 3 --seed 5 \
  --max-evals 60 --json --quiet
cmp -s "$TMP/out" "$TMP/pattern.json" || fail "same seed, different output"

# Every algorithm runs; DE under a budget stops near it.
for algo in DifferentialEvolutionSearch RandomSearch; do
  expect_rc 0 SIM "$P" --algorithm "$algo" --effort quick --json --quiet
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["runs"][0]["ratio"] >= 1' \
    "$TMP/out" || fail "$algo --json"
done
expect_rc 0 SIM "$P" --algorithm DifferentialEvolutionSearch --budget-seconds 30 --json --quiet
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; assert 30 <= r["sim_seconds"] < 40, r' \
  "$TMP/out" || fail "--budget-seconds did not stop the run near 30 s"

# --- --compile-jobs: a tune's clock (N compiles at once, one GPU). All five
# valid tiny configs in one batch: with 8 slots every compile starts at 0
# and the GPU times each when it is ready; with 1 slot the compiles run one
# after another and only the last timing is not hidden behind a compile.
expect_rc 2 SIM "$LAND/tiny_cache.json" --compile-jobs 0
expect_err "--compile-jobs: '0' is not an integer in [1, 1024]"
for j in 0 1 8; do
  a=()
  [ "$j" -gt 0 ] && a=(--compile-jobs "$j")
  expect_rc 0 SIM "$LAND/tiny_cache.json" --algorithm RandomSearch \
    --max-evals 10 --json --quiet "${a[@]}"
  cp "$TMP/out" "$TMP/jobs$j"
done
python3 - "$LAND/tiny_cache.json" "$TMP/jobs0" "$TMP/jobs1" "$TMP/jobs8" <<'PY' ||
import json, sys
land = json.load(open(sys.argv[1]))["cache"].values()
recs = []
for r in land:
    t, err = r.get("time"), r.get("__error__")
    if t == "InvalidConfig" or err == "InvalidConfig":
        continue
    failed = isinstance(t, str) or err is not None
    bench = r.get("benchmark_time")
    if bench is None:
        bench = 0 if failed else t * len(r.get("times", [0] * 7))
    recs.append((r["compile_time"] / 1000, bench / 1000))
serial = sum(c + b for c, b in recs)
gpu = 0.0
for c, b in sorted(recs):
    gpu = max(gpu, c) + b
runs = [json.load(open(p)) for p in sys.argv[2:]]
assert [d["compile_jobs"] for d in runs] == [0, 1, 8], runs
sec = [d["runs"][0]["sim_seconds"] for d in runs]
assert all(d["runs"][0]["evaluations"] == len(recs) for d in runs), runs
assert abs(sec[0] - serial) < 1e-9, (sec, serial)
assert abs(sec[2] - gpu) < 1e-9, (sec, gpu)
compiles = sum(c for c, _ in recs)
assert compiles <= sec[1] <= serial, (sec, compiles, serial)
PY
  fail "--compile-jobs: the clock is not the batch's makespan"

# --- effort none: the default config only (tiny: smallest values, 2.0 ms;
# optimum 1.0 ms at 32,2,0.5,1,15) -------------------------------------------
expect_rc 0 SIM "$LAND/tiny_cache.json" --effort none --json
python3 - "$TMP/out" <<'PY' || fail "--effort none"
import json, sys
d = json.load(open(sys.argv[1]))
r = d["runs"][0]
assert d["valid_configs"] == 5 and d["optimum_ms"] == 1.0, d
assert r["evaluations"] == 1 and r["best_ms"] == 2.0 and r["ratio"] == 2.0, r
assert r["best_config"] == {"block_size_x": 16, "filter": 15, "ratio": 0.25,
                            "tile": 1, "use-shmem": 0}, r["best_config"]
PY
grep -qF "Autotuning complete" "$TMP/err" || fail "no completion log line"

# --- --trace ----------------------------------------------------------------
expect_rc 0 SIM "$P" --algorithm RandomSearch --max-evals 25 --trace "$TMP/t.jsonl" --quiet --json
python3 - "$TMP/t.jsonl" "$TMP/out" <<'PY' || fail "--trace content"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
out = json.load(open(sys.argv[2]))
assert "meta" in lines[0] and lines[0]["meta"]["seed"] == 0, lines[0]
evals = [l for l in lines[1:] if "evaluation" in l]
assert [e["evaluation"] for e in evals] == list(range(1, 26))
assert len(evals) == out["runs"][0]["evaluations"] == 25
for e in evals:
    assert set(e) == {"evaluation", "config", "ms", "status", "elapsed",
                      "generation"}, e
    assert e["status"] in ("ok", "compile", "runtime", "accuracy", "timeout")
    assert (e["ms"] is None) == (e["status"] != "ok")
ok = [e["ms"] for e in evals if e["ms"] is not None]
assert min(ok) == out["runs"][0]["measured_ms"]
els = [e["elapsed"] for e in evals]
assert els == sorted(els) and els[0] > 0
PY
expect_rc 0 SIM "$P" --algorithm RandomSearch --max-evals 5 --runs 2 --seed 3 --trace "$TMP/m.jsonl" --quiet
[ -s "$TMP/m.jsonl.3" ] && [ -s "$TMP/m.jsonl.4" ] || fail "--runs 2 --trace: no per-run files"

# --- issue 12: the cap's unmeasured configs, the log level, --trace -------
# RandomSearch draws 1000 configs; --max-evals 60 measures 60. The ones cut
# are "not measured", never errors: error= counts the trace's failures.
expect_rc 0 SIM "$P" --algorithm RandomSearch --max-evals 60 --trace "$TMP/cap.jsonl"
failed=$(grep '"evaluation"' "$TMP/cap.jsonl" | grep -vc '"status": "ok"')
logged=$(grep -o 'error=[0-9]*' "$TMP/err" | head -1 | cut -d= -f2)
[ "${logged:-0}" -eq "$failed" ] ||
  fail "--max-evals 60: the log says error=${logged:-0}, the trace has $failed failures"
grep -q "not measured=940" "$TMP/err" || fail "--max-evals 60: no 'not measured=940': $(grep ok= "$TMP/err")"
# HELION_AUTOTUNE_LOG_LEVEL as for tune: WARNING hides the INFO lines, INFO
# shows them even with --runs 2, a bad value is a usage error.
HELION_AUTOTUNE_LOG_LEVEL=WARNING expect_rc 0 SIM "$P" --max-evals 20
grep -q "Autotune random seed" "$TMP/err" && fail "LOG_LEVEL=WARNING: INFO lines shown"
HELION_AUTOTUNE_LOG_LEVEL=INFO expect_rc 0 SIM "$P" --max-evals 20 --runs 2
grep -q "Autotune random seed" "$TMP/err" || fail "LOG_LEVEL=INFO --runs 2: no INFO lines"
HELION_AUTOTUNE_LOG_LEVEL=loud expect_rc 2 SIM "$P" --max-evals 20
expect_err "HELION_AUTOTUNE_LOG_LEVEL='loud'"
# --trace naming the landscape (or a link to it) is refused, the file kept.
cp "$LAND/tiny_cache.json" "$TMP/land.json"
ln -s land.json "$TMP/land_link.jsonl"
for t in "$TMP/land.json" "$TMP/land_link.jsonl"; do
  expect_rc 2 SIM "$TMP/land.json" --trace "$t"
  expect_err "that is the landscape this command reads"
  cmp -s "$LAND/tiny_cache.json" "$TMP/land.json" || fail "--trace $t overwrote the landscape"
done
# With --runs 2 --seed 4 the traces are R.4 and R.5: every run's name is
# checked before the first run writes anything.
cp "$LAND/tiny_cache.json" "$TMP/R.5"
expect_rc 2 SIM "$TMP/R.5" --runs 2 --seed 4 --trace "$TMP/R"
expect_err "--trace $TMP/R.5: that is the landscape"
[ -e "$TMP/R.4" ] && fail "--runs 2: run 1 wrote R.4 before R.5 was refused"
printf '{"options": {}}' >"$TMP/opts.json"
expect_rc 2 SIM "$TMP/land.json" --options-json "$TMP/opts.json" --trace "$TMP/opts.json"
expect_err "that is the --options-json file this command reads"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "all simulate checks passed"
