#!/usr/bin/env bash
# llm_bench.sh BUILD_DIR: LLMSeededLFBOTreeSearch with a local provider
# (tests/tools/llm_propose_server.py) proposing (a) the landscape's true top
# configs, best first, (b) random valid configs of the landscape, (c)
# invalid ones, against LFBOTreeSearch alone: 20 runs of 220 evaluations on
# every shared landscape; prints a markdown table of median and p90 ratio.
# The pool is every config the landscape records a time for, sorted by
# time: --mode top proposes its head, --mode random a shuffle of it (the
# same shuffle for every run: the server starts its pool over per search).
# Each hybrid cell checks every run's trace: round 0's proposals were all
# accepted (none rejected, every new one measured "ok"), except in (c).
# LLM_BENCH_LANDSCAPES, LLM_BENCH_MODES (none top random invalid) and
# LLM_BENCH_RUNS (20) narrow or widen it.
set -eu
B="${1:-build}"
T="$B/helion-tune"
D="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TMP"' EXIT
MODES="${LLM_BENCH_MODES:-none top random invalid}"
head="| landscape" rule="|---"
for mode in $MODES; do
  case "$mode" in
    none) head="$head | LFBOTreeSearch" ;; top) head="$head | (a) top" ;;
    random) head="$head | (b) random" ;; invalid) head="$head | (c) invalid" ;;
    *) echo "llm_bench.sh: unknown mode '$mode'" >&2; exit 2 ;;
  esac
  rule="$rule|---"
done
echo "$head |"
echo "$rule|"
for L in ${LLM_BENCH_LANDSCAPES:-convolution_A4000 convolution_A4000_T4 \
  dedispersion_A100 dedispersion_W6600 gemm_RTX_3090 pnpoly_RTX_3090}; do
  F="$D/data/landscapes/$L.json.gz"
  python3 - "$F" "$TMP/pool.json" <<'PY'
import gzip, json, sys
d = json.load(gzip.open(sys.argv[1]))
if "cache" in d:  # Kernel Tuner cache
    rows = [({k: v[k] for k in d["tune_params_keys"]}, v["time"])
            for v in d["cache"].values()
            if isinstance(v.get("time"), (int, float))]
else:  # T4 results
    rows = [(r["configuration"], m["value"]) for r in d["results"]
            if r.get("invalidity") == "correct"
            for m in r["measurements"] if m["name"] == "time"]
rows.sort(key=lambda r: r[1])
json.dump([c for c, _ in rows], open(sys.argv[2], "w"))
PY
  row="| $L"
  for mode in $MODES; do
    if [ "$mode" = none ]; then
      "$T" simulate "$F" --algorithm LFBOTreeSearch --max-evals 220 --runs "${LLM_BENCH_RUNS:-20}" \
        --json >"$TMP/o.json" 2>/dev/null
    else
      rm -f "$TMP/port" "$TMP"/o.trace*
      python3 "$D/tools/llm_propose_server.py" --mode "$mode" \
        --configs "$TMP/pool.json" --port-file "$TMP/port" &
      SPID=$!
      while [ ! -s "$TMP/port" ]; do sleep 0.05; done
      HELION_LLM_PROVIDER=openai-chat HELION_LLM_MODEL=bench \
        HELION_LLM_API_KEY=sk-bench \
        HELION_LLM_API_BASE="http://127.0.0.1:$(cat "$TMP/port")" \
        "$T" simulate "$F" --algorithm LLMSeededLFBOTreeSearch \
        --max-evals 220 --runs "${LLM_BENCH_RUNS:-20}" --json --trace "$TMP/o.trace" \
        >"$TMP/o.json" 2>/dev/null
      kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=""
      python3 - "$mode" "$L" "$TMP"/o.trace.* <<'PY'
import json, sys
for path in sys.argv[3:]:
    ex = next(json.loads(l)["llm"] for l in open(path)
              if l.startswith('{"llm"'))
    ok = ex["rejected"] == 0 and len(ex["configs"]) > 0 and \
        all(c["status"] == "ok" for c in ex["configs"])
    if (sys.argv[1] != "invalid") != ok:
        sys.exit("%s %s %s: round 0: %d rejected, %d configs, statuses %s"
                 % (sys.argv[2], sys.argv[1], path, ex["rejected"],
                    len(ex["configs"]),
                    sorted({c["status"] for c in ex["configs"]})))
PY
    fi
    row="$row | $(python3 -c "
import json; s=json.load(open('$TMP/o.json'))['summary']
print('%.4f / %.4f' % (s['median_ratio'], s['p90_ratio']))")"
  done
  echo "$row |"
done
