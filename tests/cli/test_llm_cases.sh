#!/usr/bin/env bash
# test_llm_cases.sh: the LLM searches meeting canned provider replies
# through the real provider path: `helion-tune simulate` on the gemm
# landscape (tests/data/landscapes/gemm_RTX_3090.json.gz) with
# LLMGuidedSearch (one round) and LLMSeededLFBOTreeSearch against
# tests/tools/fake_llm_server.py's "sim-" cases, over HTTP and (a
# well-formed and a failing case) HTTPS with a CA made here. The server
# checks each request (method, path, headers, JSON body: two messages, the
# prompt showing the landscape's space); a request that does not match gets
# HTTP 418 and fails the case. Pinned per case from the trace's "llm" line,
# the --json metrics, stderr and the exit status:
#   sim-ok        well-formed JSON             4 accepted, 0 rejected
#   sim-fenced    ```json fence, prose around  4 accepted, 0 rejected
#   sim-python    Python literal               3 accepted, 0 rejected
#   sim-truncated cut inside the 4th config    3 accepted (salvaged), 0 rejected
#   sim-invalid   2 good, 4 refused            2 accepted, 4 rejected
#   sim-http401/429/500, sim-reset, sim-stall: LLMGuidedSearch fails with
#     the provider's message (key redacted); the hybrid warns once and runs
#     stage 2 unseeded.
# Nothing written here holds the API key.
set -uo pipefail
[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
for t in openssl python3; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done
server="${HELION_SOURCE_DIR:?}/tests/tools/fake_llm_server.py"
LAND="${HELION_TEST_DATA:?}/landscapes/gemm_RTX_3090.json.gz"
. "$(dirname "$0")/llm_certs.sh"
llm_test_setup llm_cases "$server"
H="http://127.0.0.1:$http_port"
S="https://127.0.0.1:$https_port"

fails=0
n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# sim LABEL BASE ALGO [VAR=VALUE...]: one simulate; $tmp/LABEL.{json,err,
# trace,rc}. One LLM round, no random seeds beside the default, so every
# count is exact. Replies get 5 s; only the stall case has 0.5 s (the
# test failed once under a parallel ctest when every case had 0.5 s; a
# slow healthy reply is the likely cause, not a confirmed one).
sim() {
  local label=$1 base=$2 algo=$3
  shift 3
  local rounds=(--set max_rounds=1)
  [ "$algo" = LLMGuidedSearch ] || rounds=(--set llm_max_rounds=1)
  env HELION_LLM_PROVIDER=openai-chat HELION_LLM_MODEL=test-model \
    HELION_LLM_API_KEY="$KEY" HELION_LLM_API_BASE="$base" \
    HELION_LLM_TIMEOUT_S=5 "$@" "$HELION_TUNE" simulate "$LAND" \
    --algorithm "$algo" "${rounds[@]}" --set initial_random_configs=0 \
    --max-evals 20 --json --trace "$tmp/$label.trace" \
    >"$tmp/$label.json" 2>"$tmp/$label.err"
  echo $? >"$tmp/$label.rc"
}

# accepted LABEL ALGO INDICES REJECTED: a reply that parsed. The run
# succeeded; its one "llm" line holds exactly SIM_OK[i] for i in INDICES
# (comma-separated), each measured "ok" at the landscape's recorded time,
# and REJECTED rejected configs; the default plus those are the LLM's
# configs; the hybrid's stage 2 starts from their best.
accepted() {
  n=$((n + 1))
  local rc
  rc=$(cat "$tmp/$1.rc")
  [ "$rc" = 0 ] || { fail "$1: exit $rc: $(cat "$tmp/$1.err")"; return; }
  python3 - "$tmp/$1" "$2" "$3" "$4" "$server" "$LAND" <<'PY' || fail "$1: outcome"
import gzip, json, sys
base, algo, idx, rejected, server, land = sys.argv[1:]
idx = [int(i) for i in idx.split(",")]
# The canned configs, as the server's case table holds them.
src = open(server).read()
ns = {}
exec(src[src.index("GEMM_KEYS ="):src.index("\n\n\ndef compact")], ns)
want = [ns["SIM_OK"][i] for i in idx]
cache = json.load(gzip.open(land))["cache"]
ex = [json.loads(l)["llm"] for l in open(base + ".trace")
      if l.startswith('{"llm"')]
assert len(ex) == 1, ex
e = ex[0]
assert "error" not in e and e["rejected"] == int(rejected) and \
    e["duplicates"] == 0, e
got = [c["config"] for c in e["configs"]]
assert got == [dict(sorted(w.items())) for w in want], got
for c in e["configs"]:
    rec = cache[",".join(str(c["config"][k]) for k in ns["GEMM_KEYS"])]
    assert c["status"] == "ok" and abs(c["ms"] - rec["time"]) < 1e-9, c
run = json.load(open(base + ".json"))["runs"][0]
m = run.get("llm")
assert m and m["llm_requests"] == 1, run
if algo == "LLMGuidedSearch":
    assert run["evaluations"] == 1 + len(want), run
else:
    assert m["used_llm_seed"] is True, m
    assert m["llm_configs_tested"] == 1 + len(want), m
    assert abs(m["llm_seed_ms"] - min(c["ms"] for c in e["configs"])) < 1e-9
    assert m["second_stage_configs_tested"] == run["evaluations"] - 1 - \
        len(want) > 0, (m, run)
PY
  grep -q warning "$tmp/$1.err" && fail "$1: a warning: $(grep warning "$tmp/$1.err")"
}

# failed LABEL ALGO MESSAGE [prefix]: the provider failed with MESSAGE
# (exact; with "prefix", the message starts with it: curl's words for a
# reset connection vary).
# LLMGuidedSearch exits 1 with it as the run's error; the hybrid warns once,
# runs stage 2 unseeded and succeeds. Either way the trace's "llm" line
# holds the message.
failed() {
  n=$((n + 1))
  local label=$1 algo=$2 msg=$3 prefix=${4:-} rc
  rc=$(cat "$tmp/$label.rc")
  if [ "$algo" = LLMGuidedSearch ]; then
    [ "$rc" = 1 ] || fail "$label: exit $rc, expected 1"
    local line want="helion-tune simulate: $LAND: run with seed 0: LLMGuidedSearch: $msg"
    line=$(tail -n1 "$tmp/$label.err")
    [ "$line" = "$want" ] || { [ -n "$prefix" ] && [ "${line#"$want"}" != "$line" ]; } ||
      fail "$label: stderr
  '$(tail -n1 "$tmp/$label.err")', expected
  'helion-tune simulate: $LAND: run with seed 0: LLMGuidedSearch: $msg'"
  else
    [ "$rc" = 0 ] || fail "$label: exit $rc: $(cat "$tmp/$label.err")"
    [ "$(grep -c warning "$tmp/$label.err")" = 1 ] ||
      fail "$label: not one warning: $(grep warning "$tmp/$label.err")"
    local w="[1s] warning: LLMSeededLFBOTreeSearch: the LLM stage failed, so LFBOTreeSearch runs unseeded: $msg"
    { grep -qxF "$w" "$tmp/$label.err" || { [ -n "$prefix" ] && grep -qF "$w" "$tmp/$label.err"; }; } || fail "$label: the warning: $(grep warning "$tmp/$label.err")"
    python3 - "$tmp/$label.json" <<'PY' || fail "$label: not unseeded"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
m = run["llm"]
assert m["llm_requests"] == 1 and m["used_llm_seed"] is False, m
assert m["llm_configs_tested"] == 1 and m["llm_seed_ms"] is None, m
assert m["second_stage_configs_tested"] == run["evaluations"] - 1 > 0, m
PY
  fi
  python3 - "$tmp/$label.trace" "$msg" "$prefix" <<'PY' || fail "$label: trace"
import json, sys
ex = [json.loads(l)["llm"] for l in open(sys.argv[1]) if l.startswith('{"llm"')]
err = ex[0]["error"] if len(ex) == 1 else None
assert err == sys.argv[2] or (sys.argv[3] and err.startswith(sys.argv[2])), ex
assert ex[0]["response"] is None and ex[0]["configs"] == [], ex
PY
}

ALGOS="LLMGuidedSearch LLMSeededLFBOTreeSearch"
for algo in $ALGOS; do
  for case in ok fenced python truncated invalid; do
    sim "$case.$algo" "$H/sim-$case" "$algo"
  done
  accepted "ok.$algo" "$algo" 0,1,2,3 0
  accepted "fenced.$algo" "$algo" 0,1,2,3 0
  accepted "python.$algo" "$algo" 0,1,2 0
  accepted "truncated.$algo" "$algo" 0,1,2 0
  accepted "invalid.$algo" "$algo" 1,2 4
  grep -qF "Round 0: the LLM proposed 2 valid configs (4 rejected: configs[0]: BLOCK_M: unknown key; known keys: KWG, " \
    "$tmp/invalid.$algo.err" || fail "invalid.$algo: the log lacks the first reason"

  E401='{"error": {"message": "Incorrect API key provided: [redacted]", "type": "invalid_request_error"}}'
  E429='{"error": {"message": "Rate limit reached for key [redacted]", "type": "rate_limit_error"}}'
  sim "http401.$algo" "$H/sim-http401" "$algo"
  failed "http401.$algo" "$algo" "HTTP 401 from $H/sim-http401/v1/chat/completions: $E401"
  sim "http429.$algo" "$H/sim-http429" "$algo"
  failed "http429.$algo" "$algo" "HTTP 429 from $H/sim-http429/v1/chat/completions: $E429"
  sim "http500.$algo" "$H/sim-http500" "$algo"
  failed "http500.$algo" "$algo" "HTTP 500 from $H/sim-http500/v1/chat/completions: upstream failed for key [redacted]"
  sim "reset.$algo" "$H/sim-reset" "$algo"
  failed "reset.$algo" "$algo" "request to $H/sim-reset/v1/chat/completions failed: " prefix
  t0=$(date +%s)
  sim "stall.$algo" "$H/sim-stall" "$algo" HELION_LLM_TIMEOUT_S=0.5
  t1=$(date +%s)
  failed "stall.$algo" "$algo" "request to $H/sim-stall/v1/chat/completions failed: no complete reply within 0.5 s (HELION_LLM_TIMEOUT_S)"
  [ $((t1 - t0)) -le 6 ] || fail "stall.$algo: took $((t1 - t0)) s with a 0.5 s timeout"

  # HTTPS, verified against the test CA.
  sim "https_ok.$algo" "$S/sim-ok" "$algo" "HELION_LLM_CA_BUNDLE=$c/ca.pem"
  accepted "https_ok.$algo" "$algo" 0,1,2,3 0
  sim "https_401.$algo" "$S/sim-http401" "$algo" "HELION_LLM_CA_BUNDLE=$c/ca.pem"
  failed "https_401.$algo" "$algo" "HTTP 401 from $S/sim-http401/v1/chat/completions: $E401"
done
# Every request matched its case (the server answers a mismatch with 418,
# which fails its case above; this says which).
if grep -v ' ok$' "$tmp/server.log" >"$tmp/mismatch.txt"; then
  fail "requests that did not match: $(cat "$tmp/mismatch.txt")"
fi
[ "$(grep -c ' ok$' "$tmp/server.log")" = 24 ] ||
  fail "the server saw $(grep -c ' ok$' "$tmp/server.log") good requests, expected 24"

# --- the key is nowhere in what the tests wrote (the server's files too)
llm_check_key_leaks

[ "$fails" -eq 0 ] && echo "ok ($n cases)" || exit 1
