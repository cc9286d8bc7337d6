#!/usr/bin/env bash
# test_llm.sh: the LLM searches under `helion-tune simulate` against a local
# provider (tests/tools/llm_propose_server.py, a real HTTP server on
# 127.0.0.1, OpenAI-compatible chat completions) that proposes (a) the
# landscape's best configs, (b) random valid ones, (c) invalid ones:
# LLMSeededLFBOTreeSearch completes and reports both stages' metrics; a
# provider that fails (HTTP 500) makes the hybrid warn once and finish,
# and LLMGuidedSearch fail with the provider's message; the API key is in
# no output, log or trace; a replayed run (HELION_LLM_REPLAY, no server,
# no key) writes the identical trace; `simulate --spec` puts the spec's
# source, arguments and shape in the prompt (and only then).
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
LAND="${HELION_TEST_DATA:?}/landscapes/convolution_A4000.json.gz"
SERVER="$(dirname "$0")/../tools/llm_propose_server.py"
TMP="$(mktemp -d)"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
FAILS=0
KEY="sk-test-9f8e7d6c5b4a"
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}

# start_server MODE: a provider on a free port; sets PORT and SPID.
start_server() {
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  rm -f "$TMP/port" "$TMP/log.$1"
  python3 "$SERVER" --mode "$1" --configs "$TMP/pool.json" \
    --port-file "$TMP/port" --log "$TMP/log.$1" &
  SPID=$!
  for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
  PORT="$(cat "$TMP/port")" || { fail "server $1 did not start"; exit 1; }
}

# llm NAME ALGO ARGS...: simulate with the provider; out, err, trace in
# $TMP/NAME.{json,err,trace}; the exit status in RC.
llm() {
  local name="$1" algo="$2"
  shift 2
  env -u HELION_LLM_REPLAY HELION_LLM_PROVIDER=openai-chat \
    HELION_LLM_MODEL=test-model HELION_LLM_API_KEY="$KEY" \
    HELION_LLM_API_BASE="http://127.0.0.1:$PORT" HELION_AUTOTUNER="$algo" \
    "$HELION_TUNE" simulate "$LAND" --max-evals 60 --json \
    --trace "$TMP/$name.trace" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
  RC=$?
}

# The pool: the best configs of a 400-config random sample, best first.
"$HELION_TUNE" simulate "$LAND" --algorithm RandomSearch --max-evals 400 \
  --quiet --trace "$TMP/sample.trace" || fail "sampling the landscape"
python3 - "$TMP/sample.trace" "$TMP/pool.json" <<'PY' || fail "pool"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if "evaluation" in r and r["ms"] is not None]
rows.sort(key=lambda r: r["ms"])
json.dump([r["config"] for r in rows[:100]], open(sys.argv[2], "w"))
PY

# check NAME: a finished hybrid run with both stages' metrics.
check_hybrid() {
  python3 - "$TMP/$1.json" "$2" <<'PY' || fail "$1: metrics"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
m = run["llm"]
assert run["evaluations"] <= 60 and run["ratio"] >= 1, run
assert m["llm_requests"] == 1, m
assert m["second_stage_algorithm"] == "LFBOTreeSearch", m
assert m["llm_configs_tested"] + m["second_stage_configs_tested"] == \
    run["evaluations"], m
assert m["used_llm_seed"] == (sys.argv[2] == "seeded"), m
if sys.argv[2] == "seeded":
    assert m["llm_seed_ms"] is not None and m["second_stage_ms"] is not None
    assert m["second_stage_ms"] <= m["llm_seed_ms"] + 1e-9, m
PY
  grep -q "stage 1 (LLM)" "$TMP/$1.err" || fail "$1: no stage 1 log line"
  grep -q "stage 2 (LFBOTreeSearch)" "$TMP/$1.err" ||
    fail "$1: no stage 2 log line"
}

# --- (a), (b), (c) ----------------------------------------------------------
for mode in top random invalid; do
  start_server "$mode"
  llm "$mode" LLMSeededLFBOTreeSearch
  [ "$RC" -eq 0 ] || fail "$mode: exit $RC: $(cat "$TMP/$mode.err")"
  [ "$(wc -l <"$TMP/log.$mode")" -eq 1 ] || fail "$mode: requests != 1"
  grep -q '"authorized": true' "$TMP/log.$mode" || fail "$mode: no key sent"
  grep -q '^{"llm": {"round": 0' "$TMP/$mode.trace" ||
    fail "$mode: no LLM exchange in the trace"
  if [ "$mode" = invalid ]; then
    check_hybrid "$mode" seeded # the seeds still give a best config
    grep -q '"rejected": [1-9]' "$TMP/$mode.trace" ||
      fail "invalid: the trace counts no rejected config"
  else
    check_hybrid "$mode" seeded
  fi
done
# (a) starts stage 2 from the sample's best config.
python3 - "$TMP/top.json" "$TMP/sample.trace" <<'PY' || fail "top: seed"
import json, sys
m = json.load(open(sys.argv[1]))["runs"][0]["llm"]
rows = [json.loads(l) for l in open(sys.argv[2])]
best = min(r["ms"] for r in rows if "evaluation" in r and r["ms"] is not None)
assert abs(m["llm_seed_ms"] - best) < 1e-9 * best, (m, best)
PY

# LLMGuidedSearch: several rounds, each with the conversation so far.
start_server random
llm guided LLMGuidedSearch --set max_rounds=3
[ "$RC" -eq 0 ] || fail "guided: exit $RC: $(cat "$TMP/guided.err")"
[ "$(grep -c '"messages"' "$TMP/log.random")" -ge 2 ] ||
  fail "guided: fewer than 2 rounds"
python3 - "$TMP/log.random" "$TMP/guided.trace" <<'PY' || fail "guided: rounds"
import json, sys
log = [json.loads(l)["messages"] for l in open(sys.argv[1])]
assert log[:3] == [2, 4, 6][:len(log)], log
ex = [json.loads(l)["llm"] for l in open(sys.argv[2]) if l.startswith('{"llm"')]
assert [e["round"] for e in ex] == list(range(len(log))), ex
assert all(e["configs"] and all("ms" in c for c in e["configs"]) for e in ex)
PY

# --- a failing provider -----------------------------------------------------
start_server fail
llm fail LLMSeededLFBOTreeSearch
[ "$RC" -eq 0 ] || fail "fail: the hybrid exit $RC: $(cat "$TMP/fail.err")"
[ "$(grep -c 'warning' "$TMP/fail.err")" -eq 1 ] ||
  fail "fail: not exactly one warning: $(grep warning "$TMP/fail.err")"
grep -q "warning: LLMSeededLFBOTreeSearch: the LLM stage failed.*HTTP 500" \
  "$TMP/fail.err" || fail "fail: the warning lacks the reason"
check_hybrid fail unseeded
llm failpure LLMGuidedSearch
[ "$RC" -eq 1 ] || fail "fail: LLMGuidedSearch exit $RC, want 1"
grep -q "LLMGuidedSearch: .*HTTP 500.*internal error" "$TMP/failpure.err" ||
  fail "fail: LLMGuidedSearch's error lacks the provider's message: $(cat "$TMP/failpure.err")"
grep -q '"error": ".*HTTP 500' "$TMP/failpure.trace" ||
  fail "fail: the trace lacks the failed exchange"

# --- simulate --spec: the prompt describes the spec's kernel -----------------
# The gemm landscape with the matmul sample's spec (prompt context only: the
# landscape's space is searched), against tests/tools/fake_llm_server.py's
# "sim-ok" case (HTTP only), which checks each request and logs its
# messages to requests.jsonl: the prompts are read from what was sent.
GEMM="$HELION_TEST_DATA/landscapes/gemm_RTX_3090.json.gz"
SPEC="$HELION_SOURCE_DIR/samples/matmul/matmul.json"
mkdir -p "$TMP/fake"
python3 "$(dirname "$0")/../tools/fake_llm_server.py" "$TMP/fake" "$KEY" \
  >"$TMP/fake/server.out" 2>&1 &
FPID=$!
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; kill "$FPID" 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/fake/ports" ] && break; sleep 0.05; done
read -r FPORT <"$TMP/fake/ports" || { fail "fake server did not start"; exit 1; }
# spec_run NAME ARGS...: one LLM round on the gemm landscape.
spec_run() {
  local name="$1"
  shift
  env -u HELION_LLM_REPLAY HELION_LLM_PROVIDER=openai-chat \
    HELION_LLM_MODEL=test-model HELION_LLM_API_KEY="$KEY" \
    HELION_LLM_API_BASE="http://127.0.0.1:$FPORT/sim-ok" "$HELION_TUNE" simulate \
    "$GEMM" --algorithm LLMGuidedSearch --set max_rounds=1 --max-evals 10 \
    --trace "$TMP/$name.trace" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err"
  RC=$?
}
spec_run spec --spec "$SPEC" --shape M=128,N=4096,K=4096
[ "$RC" -eq 0 ] || fail "spec: exit $RC: $(cat "$TMP/spec.err")"
spec_run nospec
[ "$RC" -eq 0 ] || fail "nospec: exit $RC: $(cat "$TMP/nospec.err")"
# A line of the kernel's source that only the source has.
SRCLINE=$(grep -m1 'extern "C" __global__ void' "$HELION_SOURCE_DIR/samples/matmul/matmul.cu")
python3 - "$TMP/fake/requests.jsonl" "$SRCLINE" <<'PY' || fail "spec: prompt"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
assert len(reqs) == 2 and all(r["case"] == "sim-ok" for r in reqs), reqs
spec, nospec = (r["messages"][1]["content"] for r in reqs)
line = sys.argv[2]
want = [line, "Name: matmul\n",
        "Arguments: A: const __half* [M*K], B: const __half* [K*N], "
        "C: __half* [M*N], M: int = M, N: int = N, K: int = K\n",
        "Problem shape: M=128,N=4096,K=4096\n",
        "NVIDIA GeForce RTX 3090", '"MWG"']
for w in want:
    assert w in spec, "spec prompt lacks %r" % w
for w in want[:4]:
    assert w not in nospec, "prompt without --spec has %r" % w
for w in ["Name: Xgemm\n", "Source: not available.", "NVIDIA GeForce RTX 3090"]:
    assert w in nospec, "prompt without --spec lacks %r" % w
PY
# Another kernel's spec is allowed, with one warning naming both kernels.
grep -q "warning: --spec $SPEC: kernel 'matmul' (parameters block_sizes, .*) is not the landscape's kernel 'Xgemm' (parameters MWG, " \
  "$TMP/spec.err" || fail "spec: no warning naming both kernels: $(cat "$TMP/spec.err")"
grep -q warning "$TMP/nospec.err" && fail "nospec: a warning: $(cat "$TMP/nospec.err")"
# The spec's only shape is the default; with several, --shape is required
# and the error names the choices; --shape alone and a bad spec are refused.
spec_run spec_many --spec "$SPEC"
[ "$RC" -eq 2 ] || fail "spec_many: exit $RC, want 2"
grep -q "lists 3 shapes; pick the one the prompts show with --shape: M=4096,N=4096,K=4096 | M=128,N=4096,K=4096 | M=2048,N=2048,K=2048" \
  "$TMP/spec_many.err" || fail "spec_many: $(cat "$TMP/spec_many.err")"
python3 - "$SPEC" "$TMP/one.json" <<'PY' || fail "one-shape spec"
import json, os, sys
s = json.load(open(sys.argv[1]))
s["shapes"] = s["shapes"][2:]
s["source"] = os.path.join(os.path.dirname(sys.argv[1]), s["source"])
json.dump(s, open(sys.argv[2], "w"))
PY
spec_run spec_one --spec "$TMP/one.json"
[ "$RC" -eq 0 ] || fail "spec_one: exit $RC: $(cat "$TMP/spec_one.err")"
tail -n1 "$TMP/fake/requests.jsonl" | grep -q 'Problem shape: M=2048,N=2048,K=2048' ||
  fail "spec_one: the spec's only shape is not in the prompt"
spec_run shape_alone --shape M=1
[ "$RC" -eq 2 ] && grep -q -- "--shape needs --spec" "$TMP/shape_alone.err" ||
  fail "shape_alone: exit $RC: $(cat "$TMP/shape_alone.err")"
printf '{"name": "k", "source": 3}' >"$TMP/broken.spec"
spec_run bad_spec --spec "$TMP/broken.spec"
[ "$RC" -eq 1 ] && grep -q "simulate: $TMP/broken.spec: source: " "$TMP/bad_spec.err" ||
  fail "bad_spec: exit $RC: $(cat "$TMP/bad_spec.err")"

grep -v ' ok$' "$TMP/fake/server.log" && fail "spec: requests the fake server refused"

# --- the key is nowhere -----------------------------------------------------
if grep -l -- "$KEY" "$TMP"/*.json "$TMP"/*.err "$TMP"/*.trace "$TMP"/fake/*; then
  fail "the API key appears in the files above"
fi

# --- replay: no server, no key, the identical trace -------------------------
kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=""
for name in top guided fail; do
  algo=LLMSeededLFBOTreeSearch extra=""
  [ "$name" = guided ] && algo=LLMGuidedSearch extra="--set max_rounds=3"
  env -u HELION_LLM_API_KEY -u OPENAI_API_KEY -u ANTHROPIC_API_KEY \
    HELION_LLM_API_BASE=http://127.0.0.1:9 HELION_LLM_REPLAY="$TMP/$name.trace" \
    HELION_AUTOTUNER="$algo" "$HELION_TUNE" simulate "$LAND" --max-evals 60 \
    --json --trace "$TMP/$name.replay" $extra >"$TMP/$name.rjson" \
    2>"$TMP/$name.rerr" || fail "replay $name: $(cat "$TMP/$name.rerr")"
  cmp -s "$TMP/$name.trace" "$TMP/$name.replay" ||
    fail "replay $name: the trace differs"
  cmp -s "$TMP/$name.json" "$TMP/$name.rjson" ||
    fail "replay $name: the result differs"
done
# A trace with fewer exchanges than the run asks for: a clear error.
grep -v '^{"llm"' "$TMP/top.trace" >"$TMP/none.trace"
HELION_LLM_REPLAY="$TMP/none.trace" "$HELION_TUNE" simulate "$LAND" \
  --algorithm LLMGuidedSearch --max-evals 60 >/dev/null 2>"$TMP/none.err" &&
  fail "replay of a trace without exchanges succeeded"
grep -q "HELION_LLM_REPLAY: .* holds 0 LLM exchanges" "$TMP/none.err" ||
  fail "replay: unclear error: $(cat "$TMP/none.err")"

[ "$FAILS" -eq 0 ] && echo "all LLM search checks passed"
exit $((FAILS > 0))
