#!/usr/bin/env bash
# llm_bench.sh BUILD_DIR: LLMSeededLFBOTreeSearch with a local provider
# (tests/tools/llm_propose_server.py) proposing (a) the best configs of a
# 400-config random sample, (b) random valid configs, (c) invalid ones,
# against LFBOTreeSearch alone: 20 runs of 220 evaluations on the shared
# landscapes; prints a markdown table of median and p90 ratio.
set -eu
B="${1:-build}"
T="$B/helion-tune"
D="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
echo "| landscape | LFBOTreeSearch | (a) best | (b) random | (c) invalid |"
echo "|---|---|---|---|---|"
for L in convolution_A4000 dedispersion_A100 gemm_RTX_3090 pnpoly_RTX_3090; do
  F="$D/data/landscapes/$L.json.gz"
  "$T" simulate "$F" --algorithm RandomSearch --max-evals 400 --quiet \
    --trace "$TMP/s.trace"
  python3 -c "
import json,sys
r=[json.loads(l) for l in open('$TMP/s.trace')]
r=sorted([x for x in r if 'evaluation' in x and x['ms'] is not None],key=lambda x:x['ms'])
json.dump([x['config'] for x in r[:100]],open('$TMP/pool.json','w'))"
  row="| $L"
  for mode in none top random invalid; do
    if [ "$mode" = none ]; then
      "$T" simulate "$F" --algorithm LFBOTreeSearch --max-evals 220 --runs 20 \
        --json >"$TMP/o.json" 2>/dev/null
    else
      rm -f "$TMP/port"
      python3 "$D/tools/llm_propose_server.py" --mode "$mode" \
        --configs "$TMP/pool.json" --port-file "$TMP/port" &
      SPID=$!
      while [ ! -s "$TMP/port" ]; do sleep 0.05; done
      HELION_LLM_PROVIDER=openai-chat HELION_LLM_MODEL=bench \
        HELION_LLM_API_KEY=sk-bench \
        HELION_LLM_API_BASE="http://127.0.0.1:$(cat "$TMP/port")" \
        "$T" simulate "$F" --algorithm LLMSeededLFBOTreeSearch \
        --max-evals 220 --runs 20 --json >"$TMP/o.json" 2>/dev/null
      kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""
    fi
    row="$row | $(python3 -c "
import json; s=json.load(open('$TMP/o.json'))['summary']
print('%.4f / %.4f' % (s['median_ratio'], s['p90_ratio']))")"
  done
  echo "$row |"
done
