#!/usr/bin/env bash
# The LLM transport (tool/src/llm/llm_transport.c) against a real HTTP and
# HTTPS server on 127.0.0.1 (tests/tools/fake_llm_server.py), driven by
# tests/tools/llm_request: each provider's request shape (method, path,
# headers, JSON body) and reply extraction; HTTP errors, a reset connection,
# a stalled reply past the timeout, non-JSON and oversized replies, each with
# its error code and message; the key redacted from every message; HTTPS
# verified against a CA given in HELION_LLM_CA_BUNDLE or CURL_CA_BUNDLE and
# refused without it, with another CA, or under another host name; a server
# that requires a client certificate refusing a request without one and
# answering one with HELION_LLM_CLIENT_CERT/KEY. Certificates are made here
# with the openssl CLI. Everything is written under one temporary directory,
# and at the end nothing in it holds the key.
set -uo pipefail
req="${HELION_TEST_TOOLS:?}/llm_request"
server="${HELION_SOURCE_DIR:?}/tests/tools/fake_llm_server.py"
[ -x "$req" ] || { echo "FAIL: $req is not built"; exit 1; }
for t in openssl python3; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done

# The certificates (a CA, a server certificate for 127.0.0.1, a client
# certificate, an unrelated CA) and the server.
. "$(dirname "$0")/llm_certs.sh"
llm_test_setup llm_transport "$server"
H="http://127.0.0.1:$http_port"
S="https://127.0.0.1:$https_port"
M="https://127.0.0.1:$mtls_port"

fails=0
n=0
# run LABEL VAR=VALUE... -- ROLE TEXT...: one request; out/err/rc kept.
run() {
  local label=$1
  shift
  local vars=()
  while [ "$1" != "--" ]; do vars+=("$1"); shift; done
  shift
  env "${vars[@]}" "$req" "$@" >"$tmp/$label.out" 2>"$tmp/$label.err"
  echo $? >"$tmp/$label.rc"
}
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect LABEL RC STDOUT STDERR: exact output
expect() {
  n=$((n + 1))
  local rc out err
  rc=$(cat "$tmp/$1.rc") out=$(cat "$tmp/$1.out") err=$(cat "$tmp/$1.err")
  [ "$rc" = "$2" ] || fail "$1: exit $rc, expected $2 (stderr: $err)"
  [ "$out" = "$3" ] || fail "$1: stdout '$out', expected '$3'"
  [ "$err" = "$4" ] || fail "$1: stderr
  '$err', expected
  '$4'"
}
# expect_err LABEL CODE PREFIX: exit 1, stderr starts with "error CODE ...:
# PREFIX"
expect_err() {
  n=$((n + 1))
  local rc err
  rc=$(cat "$tmp/$1.rc") err=$(cat "$tmp/$1.err")
  [ "$rc" = 1 ] || fail "$1: exit $rc, expected 1 (stderr: $err)"
  [[ "$err" == "error $2 ("*"): $3"* ]] ||
    fail "$1: stderr '$err', expected 'error $2 (...): $3...'"
  [ -s "$tmp/$1.out" ] && fail "$1: wrote to stdout"
}
K="HELION_LLM_API_KEY=$KEY"

# --- request shapes and reply extraction, per provider
run openai_ok "$K" "HELION_LLM_API_BASE=$H/openai-ok/" \
  "HELION_LLM_EXTRA_HEADERS={\"X-Tenant\": \"t1\", \"X-Gateway-Token\": \"gw-123\"}" -- \
  system "sys one" user hello system "sys two" assistant prev user again
expect openai_ok 0 "OPENAI-TEXT é" ""
# a base ending in /v1 gets /responses; Name: value lines; OPENAI_API_KEY
run openai_v1 "OPENAI_API_KEY=$KEY" "OPENAI_BASE_URL=$H/openai-ok/v1" \
  "HELION_LLM_EXTRA_HEADERS=X-Tenant: t1
X-Gateway-Token:gw-123
not a header line" -- \
  system "sys one" user hello system "sys two" assistant prev user again
expect openai_v1 0 "OPENAI-TEXT é" ""
run openai_effort "$K" "HELION_LLM_API_BASE=$H/openai-effort/v1/responses" \
  HELION_LLM_MODEL=openai/gpt-5.4 HELION_LLM_EFFORT_LEVEL=max -- user hello
expect openai_effort 0 "FLAT-TEXT" ""
run anthropic_ok "ANTHROPIC_API_KEY=$KEY" "OPENAI_API_KEY=wrong-key" \
  "ANTHROPIC_BASE_URL=$H/anthropic-ok" HELION_LLM_MODEL=anthropic/claude-sonnet-4-5 -- \
  system sys user hello assistant prev user again
expect anthropic_ok 0 "ANTHROPIC-TEXT" ""
run anthropic_adaptive "$K" "HELION_LLM_API_BASE=$H/anthropic-adaptive" \
  HELION_LLM_MODEL=claude-opus-4-7 HELION_LLM_EFFORT_LEVEL=High \
  "HELION_LLM_EXTRA_HEADERS=anthropic-version: 2024-01-01" -- user hello
expect anthropic_adaptive 0 "ANTHROPIC-TEXT" ""
run anthropic_budget "$K" "HELION_LLM_API_BASE=$H/anthropic-budget" \
  HELION_LLM_PROVIDER=anthropic HELION_LLM_MODEL=claude-opus-4-20250514 \
  HELION_LLM_EFFORT_LEVEL=low -- user hello
expect anthropic_budget 0 "ANTHROPIC-TEXT" ""
run chat_nokey HELION_LLM_PROVIDER=openai-chat "HELION_LLM_API_BASE=$H/chat-nokey" \
  HELION_LLM_MODEL=openai/gpt-oss-120b HELION_LLM_EFFORT_LEVEL=high -- \
  system sys user hello
expect chat_nokey 0 "CHAT-TEXT" ""
run chat_key HELION_LLM_PROVIDER=openai_chat "OPENAI_API_KEY=$KEY" \
  "OPENAI_API_BASE=$H/chat-key" HELION_LLM_MODEL=local-model -- user hello
expect chat_key 0 "CHAT-TEXT" ""
# the server's mismatch check can fail: a wrong key is caught
run wrong_key "HELION_LLM_API_KEY=sk-other" "HELION_LLM_API_BASE=$H/chat-key" \
  HELION_LLM_PROVIDER=openai-chat HELION_LLM_MODEL=local-model -- user hello
expect wrong_key 1 "" "error 4 (invalid value): HTTP 418 from $H/chat-key/v1/chat/completions: MISMATCH: header authorization wrong (1 values)"

# --- errors: HTTP status (body echoing the key), network, reply shape
for code in 401 429; do
  run "http$code" "$K" "HELION_LLM_API_BASE=$H/http$code" -- user hello
  expect "http$code" 1 "" "error 4 (invalid value): HTTP $code from $H/http$code/v1/responses: {\"error\": {\"message\": \"Incorrect API key provided: [redacted]\", \"type\": \"invalid_request_error\"}}"
done
run http500 "$K" "HELION_LLM_API_BASE=$H/http500" -- user hello
expect http500 1 "" "error 4 (invalid value): HTTP 500 from $H/http500/v1/responses: upstream failed for key [redacted]"
run redirect "$K" "HELION_LLM_API_BASE=$H/redirect" -- user hello
expect redirect 1 "" "error 4 (invalid value): HTTP 302 from $H/redirect/v1/responses: "
run notjson "$K" "HELION_LLM_API_BASE=$H/notjson" -- user hello
expect notjson 1 "" "error 3 (malformed input): $H/notjson/v1/responses:1:1: malformed JSON near '<html>key [redacted]'"
run notobject "$K" "HELION_LLM_API_BASE=$H/notobject" -- user hello
expect notobject 1 "" "error 3 (malformed input): unexpected JSON payload from $H/notobject/v1/responses: array, expected an object"
run notext "$K" "HELION_LLM_API_BASE=$H/notext" -- user hello
expect notext 1 "" "error 3 (malformed input): no text in the reply from $H/notext/v1/responses (expected output[].content[] entries of type output_text): {\"output\": [{\"type\": \"reasoning\", \"summary\": []}], \"status\": \"incomplete\"}"
run huge "$K" "HELION_LLM_API_BASE=$H/huge" -- user hello
expect huge 1 "" "error 7 (size limit exceeded): reply from $H/huge/v1/responses is over 8 MiB; not read"
run reset "$K" "HELION_LLM_API_BASE=$H/reset" -- user hello
expect_err reset 2 "request to $H/reset/v1/responses failed: "
t0=$(date +%s)
run stall "$K" "HELION_LLM_API_BASE=$H/stall" HELION_LLM_TIMEOUT_S=0.5 -- user hello
t1=$(date +%s)
expect stall 1 "" "error 12 (timed out): request to $H/stall/v1/responses failed: no complete reply within 0.5 s (HELION_LLM_TIMEOUT_S)"
[ $((t1 - t0)) -le 4 ] || fail "stall: took $((t1 - t0)) s with a 0.5 s timeout"
run refused "$K" "HELION_LLM_API_BASE=http://127.0.0.1:1" -- user hello
expect_err refused 2 "request to http://127.0.0.1:1/v1/responses failed: "
run settings "HELION_LLM_PROVIDER=vertex" -- user hello
[ "$(cat "$tmp/settings.rc")" = 2 ] && grep -q "^error 14 (not supported): .*Vertex" "$tmp/settings.err" ||
  fail "settings: vertex not refused: $(cat "$tmp/settings.err")"

# --- HTTPS: verified against the test CA, refused otherwise
run https_ca "$K" "HELION_LLM_API_BASE=$S/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/ca.pem" -- user hello
expect https_ca 0 "FLAT-TEXT" ""
run https_curl_ca "$K" "HELION_LLM_API_BASE=$S/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "CURL_CA_BUNDLE=$c/ca.pem" -- user hello
expect https_curl_ca 0 "FLAT-TEXT" ""
run https_noca "$K" "HELION_LLM_API_BASE=$S/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max -- user hello
expect_err https_noca 2 "request to $S/openai-effort/v1/responses failed: SSL certificate problem"
run https_otherca "$K" "HELION_LLM_API_BASE=$S/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/other.pem" -- user hello
expect_err https_otherca 2 "request to $S/openai-effort/v1/responses failed: SSL certificate problem"
run https_name "$K" "HELION_LLM_API_BASE=https://localhost:$https_port/openai-effort" \
  HELION_LLM_MODEL=gpt-5.4 HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/ca.pem" -- user hello
expect_err https_name 2 "request to https://localhost:$https_port/openai-effort/v1/responses failed: "
grep -qi "subject name\|host name\|hostname" "$tmp/https_name.err" ||
  fail "https_name: not a host name error: $(cat "$tmp/https_name.err")"
[ "$(grep -c ' ok$' "$tmp/server.log")" -ge 2 ] || fail "HTTPS: the server saw no good request"

# --- mutual TLS
run mtls_nocert "$K" "HELION_LLM_API_BASE=$M/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/ca.pem" -- user hello
expect_err mtls_nocert 2 "request to $M/openai-effort/v1/responses failed: "
run mtls_cert "$K" "HELION_LLM_API_BASE=$M/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/ca.pem" \
  "HELION_LLM_CLIENT_CERT=$c/client.pem" "HELION_LLM_CLIENT_KEY=$c/client.key" -- user hello
expect mtls_cert 0 "FLAT-TEXT" ""
cat "$c/client.pem" "$c/client.key" >"$c/client_both.pem"
run mtls_combined "$K" "HELION_LLM_API_BASE=$M/openai-effort" HELION_LLM_MODEL=gpt-5.4 \
  HELION_LLM_EFFORT_LEVEL=max "HELION_LLM_CA_BUNDLE=$c/ca.pem" \
  "HELION_LLM_CLIENT_CERT=$c/client_both.pem" -- user hello
expect mtls_combined 0 "FLAT-TEXT" ""

# --- the key is nowhere in what the tests wrote (the server's log included)
llm_check_key_leaks

[ "$fails" -eq 0 ] && echo "ok ($n cases)" || exit 1
