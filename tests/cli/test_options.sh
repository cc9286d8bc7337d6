#!/usr/bin/env bash
# test_options.sh: search options recorded and replayed through
# `helion-tune simulate`. A run with non-default options (some from the
# environment, some from --set, an LFBO knob among them) records its
# resolved options in the trace's meta line and in --json; replaying that
# meta object with --options-json, in a clean environment and without
# --set, gives a byte-identical trace (evaluation lines) and the same best
# config. Flags override the file, the file overrides the environment; bad
# files and values exit 2 naming the file, the key and the range.
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

# Every HELION_ variable unset: the replay must not lean on the environment.
CLEAN=(env)
for v in $(env | sed -n 's/^\(HELION_[A-Z0-9_]*\)=.*/\1/p'); do
  case "$v" in HELION_TUNE | HELION_TEST_DATA | HELION_SOURCE_DIR) ;;
  *) CLEAN+=(-u "$v") ;; esac
done

P="$LAND/pnpoly_RTX_3090.json.gz"
# meta FILE: the trace's first line's "meta" object.
meta() { python3 -c 'import json,sys; print(json.dumps(json.loads(open(sys.argv[1]).readline())["meta"]))' "$1"; }
# evals FILE: the trace without its meta line.
evals() { tail -n +2 "$1"; }
# field JSON PATH: a value of simulate --json output (python expression).
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps(eval(sys.argv[2])))' "$1" "$2"; }

for algo in LFBOTreeSearch DifferentialEvolutionSearch; do
  if [ "$algo" = LFBOTreeSearch ]; then
    ENV=(HELION_LFBO_RADIUS=3 HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K=4)
    SETS=(--set quantile=0.2 --set copies=3 --set keep_current=0)
  else
    ENV=(HELION_AUTOTUNE_MAX_GENERATIONS=9 HELION_REBENCHMARK_THRESHOLD=1.2)
    SETS=(--set population_size=12 --set crossover_rate=0.6)
  fi
  "${CLEAN[@]}" "${ENV[@]}" "$HELION_TUNE" simulate "$P" --algorithm "$algo" \
    --max-evals 150 --seed 11 "${SETS[@]}" --trace "$TMP/a.jsonl" --json \
    --quiet >"$TMP/a.json" 2>"$TMP/err" || fail "$algo: first run: $(cat "$TMP/err")"
  meta "$TMP/a.jsonl" >"$TMP/replay.json"
  # The recorded options carry what was asked for.
  if [ "$algo" = LFBOTreeSearch ]; then
    want='{"copies": 3, "final_top_k": 4, "keep_current": false, "quantile": 0.2, "radius": 3}'
    got=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["options"]; print(json.dumps({k: o[k] for k in ("copies","final_top_k","keep_current","quantile","radius")}, sort_keys=True))' "$TMP/replay.json")
  else
    want='{"crossover_rate": 0.6, "max_generations": 9, "population_size": 12, "rebenchmark_threshold": 1.2}'
    got=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["options"]; print(json.dumps({k: o[k] for k in ("crossover_rate","max_generations","population_size","rebenchmark_threshold")}, sort_keys=True))' "$TMP/replay.json")
  fi
  [ "$got" = "$want" ] || fail "$algo: recorded $got, want $want"
  # --json's runs[0].options is the same object as the trace's.
  [ "$(field "$TMP/a.json" 'd["runs"][0]["options"]')" = \
    "$(field "$TMP/replay.json" 'd["options"]')" ] ||
    fail "$algo: --json options differ from the trace's"

  # Replay: clean environment, no --set, no --algorithm / --seed / --max-evals.
  "${CLEAN[@]}" "$HELION_TUNE" simulate "$P" --options-json "$TMP/replay.json" \
    --trace "$TMP/b.jsonl" --json --quiet >"$TMP/b.json" 2>"$TMP/err" ||
    fail "$algo: replay: $(cat "$TMP/err")"
  cmp -s <(evals "$TMP/a.jsonl") <(evals "$TMP/b.jsonl") ||
    fail "$algo: replayed trace differs"
  [ "$(evals "$TMP/a.jsonl" | wc -l)" -gt 100 ] || fail "$algo: short trace"
  [ "$(field "$TMP/a.json" 'd["runs"][0]["best_config"]')" = \
    "$(field "$TMP/b.json" 'd["runs"][0]["best_config"]')" ] ||
    fail "$algo: replay picked another config"
  cmp -s <(head -1 "$TMP/a.jsonl") <(head -1 "$TMP/b.jsonl") ||
    fail "$algo: replay resolved other options"
  # Without the recorded options the run differs (the test can fail).
  "${CLEAN[@]}" "$HELION_TUNE" simulate "$P" --algorithm "$algo" \
    --max-evals 150 --seed 11 --trace "$TMP/c.jsonl" --quiet 2>/dev/null
  cmp -s <(evals "$TMP/a.jsonl") <(evals "$TMP/c.jsonl") &&
    fail "$algo: default options gave the same trace"
done

# Flags override the file; the file overrides the environment.
echo '{"algorithm": "PatternSearch", "seed": 4, "options": {"copies": 2, "max_evals": 60}}' >"$TMP/f.json"
"${CLEAN[@]}" HELION_CAP_AUTOTUNE_NUM_NEIGHBORS=7 "$HELION_TUNE" simulate "$P" \
  --options-json "$TMP/f.json" --seed 5 --set copies=4 --json --quiet \
  >"$TMP/o.json" 2>"$TMP/err" || fail "precedence run: $(cat "$TMP/err")"
[ "$(field "$TMP/o.json" '[d["algorithm"], d["runs"][0]["seed"], d["runs"][0]["options"]["copies"], d["runs"][0]["options"]["num_neighbors_cap"], d["runs"][0]["evaluations"]]')" = \
  '["PatternSearch", 5, 4, 7, 60]' ] || fail "precedence: $(cat "$TMP/o.json")"
echo '{"options": {"num_neighbors_cap": 3}}' >"$TMP/g.json"
"${CLEAN[@]}" HELION_CAP_AUTOTUNE_NUM_NEIGHBORS=7 "$HELION_TUNE" simulate "$P" \
  --algorithm PatternSearch --max-evals 30 --options-json "$TMP/g.json" \
  --json --quiet >"$TMP/o.json" 2>/dev/null
[ "$(field "$TMP/o.json" 'd["runs"][0]["options"]["num_neighbors_cap"]')" = 3 ] ||
  fail "the file does not override the environment"

# Errors exit 2 naming the file, the key and the valid range.
echo '{"algorithm": "DifferentialEvolutionSearch", "options": {"population_size": -3}}' >"$TMP/bad.json"
"$HELION_TUNE" simulate "$P" --options-json "$TMP/bad.json" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] || fail "bad options file: exit not 2"
grep -qF "$TMP/bad.json: options.population_size: -3 is below the minimum 4" "$TMP/err" ||
  fail "bad options file message: $(cat "$TMP/err")"
"$HELION_TUNE" simulate "$P" --options-json "$TMP/missing.json" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] || fail "missing options file: exit not 2"
"$HELION_TUNE" simulate "$P" --algorithm RandomSearch --set nope=1 >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] || fail "unknown --set key: exit not 2"
grep -qF "unknown search option 'nope'; RandomSearch's options are count" "$TMP/err" ||
  fail "unknown key message: $(cat "$TMP/err")"
HELION_LFBO_QUANTILE=1.5 "$HELION_TUNE" simulate "$P" >/dev/null 2>"$TMP/err"
[ $? -eq 2 ] || fail "bad env value: exit not 2"
grep -qF "HELION_LFBO_QUANTILE: 1.5 is above the maximum 1" "$TMP/err" ||
  fail "bad env message: $(cat "$TMP/err")"

[ "$FAILS" -eq 0 ] && echo "ok" || { echo "$FAILS failure(s)"; exit 1; }
