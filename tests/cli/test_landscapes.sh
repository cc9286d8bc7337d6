#!/usr/bin/env bash
# test_landscapes.sh: hostile landscapes and option values against
# `helion-tune simulate` (issue 12, classes 7, 8 and 9): every algorithm on a
# one-config space (no undefined behaviour: under the ASan+UBSan build a
# finding aborts the run), a gzip bomb refused at the cap without unpacking
# it all, records with absurd times refused naming the record and the value,
# and every search option's environment variable refused out of its range
# (exit 2, the variable, the value and the range named) or, where Helion
# documents a clamp, clamped with a warning.
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

# expect_rc WANT CMD...: runs CMD with stdout/stderr in $TMP/out, $TMP/err;
# a sanitizer finding fails whatever the exit status.
expect_rc() {
  local want="$1"
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $* (stderr: $(head -c 2000 "$TMP/err"))"
  ! grep -q "runtime error\|AddressSanitizer" "$TMP/err" ||
    fail "sanitizer finding: $*: $(grep -m1 "runtime error\|AddressSanitizer" "$TMP/err")"
}

expect_err() {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(head -c 2000 "$TMP/err")"
}

SIM() { "$HELION_TUNE" simulate "$@"; }
NOKEY() { env -u HELION_LLM_API_KEY -u OPENAI_API_KEY -u ANTHROPIC_API_KEY \
  -u HELION_LLM_REPLAY "$HELION_TUNE" simulate "${@:2}"; }

# --- class 8: a one-config space, every algorithm ---------------------------
ONE="$LAND/one_config.json"
ALGOS="$(SIM --help | sed -n 's/^ \{26\}\([A-Z][A-Za-z]*\) .*/\1/p')"
[ "$(echo "$ALGOS" | wc -l)" -ge 7 ] || fail "--help lists too few algorithms: $ALGOS"
for algo in $ALGOS; do
  for effort in quick full; do
    for noise in "" --noise; do
      case "$algo" in
      DifferentialEvolutionSearch | DESurrogateHybrid)
        expect_rc 1 SIM "$ONE" --algorithm "$algo" --effort "$effort" $noise --quiet
        expect_err "the space has only 1 valid configurations and the search needs at least 4"
        ;;
      FiniteSearch)
        expect_rc 1 SIM "$ONE" --algorithm "$algo" --effort "$effort" $noise --quiet
        expect_err "FiniteSearch needs at least 2 configurations"
        ;;
      LLMGuidedSearch)
        # No provider configured: the pure LLM search fails, saying why
        # (tests/cli/test_llm.sh runs it against a local provider).
        expect_rc 1 NOKEY SIM "$ONE" --algorithm "$algo" --effort "$effort" $noise --quiet
        expect_err "LLMGuidedSearch: "
        ;;
      *)
        expect_rc 0 NOKEY SIM "$ONE" --algorithm "$algo" --effort "$effort" $noise --json
        python3 - "$TMP/out" <<'EOF' || fail "$algo $effort $noise: one-config result"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
assert run["ratio"] == 1 and run["evaluations"] == 1, run
EOF
        ;;
      esac
    done
  done
done

# --- class 7: a gzip bomb ---------------------------------------------------
# 1200 MiB of text from 1.2 MiB of file (concatenated gzip members, one gzip
# file to zlib). Refused at the cap, in less memory than the text would take
# (about 300 MB, 800 MB under ASan; the old soft cap unpacked all of it).
python3 - "$TMP/bomb.json.gz" <<'EOF'
import gzip, sys
m = gzip.compress(b" " * (1 << 20), 9)
with open(sys.argv[1], "wb") as f:
    f.write(gzip.compress(b'{"results": [') + m * 1200 + gzip.compress(b"]}"))
EOF
if [ -x /usr/bin/time ]; then
  expect_rc 1 /usr/bin/time -f "maxrss_kb=%M" "$HELION_TUNE" simulate "$TMP/bomb.json.gz"
  rss="$(sed -n 's/^maxrss_kb=//p' "$TMP/err")"
  [ -n "$rss" ] && [ "$rss" -lt 1000000 ] || fail "gzip bomb: max RSS ${rss:-?} KB"
else
  expect_rc 1 SIM "$TMP/bomb.json.gz"
fi
expect_err "bomb.json.gz: unpacks to more than 256 MiB; the largest known landscape"

# --- class 7: absurd times --------------------------------------------------
land() { # land NAME TIME: two configs, the first recorded with TIME
  printf '{"tune_params_keys": ["x"], "tune_params": {"x": [1, 2]}, "cache": {"1": {"time": %s}, "2": {"time": 2.5}}}\n' "$2" >"$TMP/$1"
}
for t in 0 -0.0 -3 1e308 1e999; do
  land "t.json" "$t"
  expect_rc 1 SIM "$TMP/t.json" --quiet
  expect_err 'cache["1"].time: '
  expect_err "ms is outside [1e-06, 8.64e+07] ms"
done
# T4: runtimes all 0 (a mean of 0).
printf '{"results": [{"configuration": {"a": 1}, "invalidity": "correct", "times": {"runtimes": [0, 0]}}]}\n' >"$TMP/t4.json"
expect_rc 1 SIM "$TMP/t4.json" --quiet
expect_err "results[0].times.runtimes[0]: 0 ms is outside [1e-06, 8.64e+07] ms"
# The extremes allowed give finite ratios, and the log prints no long numbers.
land "edge.json" 86400000
expect_rc 0 SIM "$TMP/edge.json" --algorithm RandomSearch --json
python3 - "$TMP/out" <<'EOF' || fail "extreme times: ratios not finite"
import json, math, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    assert isinstance(r["ratio"], (int, float)) and math.isfinite(r["ratio"]), r
EOF
! grep -qE '[0-9]{40}' "$TMP/err" || fail "a 40-digit number in the log: $(grep -m1 -E '[0-9]{40}' "$TMP/err")"

# --- class 9: every option's environment variable out of its range ----------
P="$LAND/tiny_cache.json"
SIM --list-options >"$TMP/opts" 2>&1 || fail "--list-options"
python3 - "$TMP/opts" >"$TMP/cases" <<'EOF'
# One line per (algorithm, variable, value, range, clamped) to try: below the
# minimum and above the maximum of every option that has a variable.
import re, sys
algo = ""
for line in open(sys.argv[1]):
    m = re.match(r"Options of (\w+):", line)
    if m:
        algo = "" if m.group(1) == "every" else m.group(1)
        continue
    m = re.match(r"  \w+ .* in \[([^,]+), ([^\]]+)\](, clamped)?  \$(\w+)$", line.rstrip())
    if not m:
        continue
    lo, hi, clamped, var = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
    fmt = lambda x: str(int(x)) if x == int(x) else repr(x)
    rng = "[%s, %s]" % (fmt(lo), fmt(hi))
    for v in (lo - 1, hi * 10 + 10):
        print("|".join([algo or "LFBOTreeSearch", var, fmt(v), rng,
                        "clamped" if clamped else "refused"]))
EOF
[ "$(wc -l <"$TMP/cases")" -ge 20 ] || fail "too few options with variables: $(cat "$TMP/cases")"
while IFS='|' read -r algo var val rng how; do
  if [ "$how" = clamped ]; then
    expect_rc 0 env "$var=$val" "$HELION_TUNE" simulate "$P" --algorithm "$algo" --max-evals 3
    expect_err "warning: $var: $val is outside $rng; using"
  else
    expect_rc 2 env "$var=$val" "$HELION_TUNE" simulate "$P" --algorithm "$algo" --max-evals 3 --quiet
    expect_err "$var: $val is"
    expect_err "in $rng)"
  fi
done <"$TMP/cases"
# The examples of the issue, and text that is no number, in every
# HELION_LFBO_* variable.
expect_rc 2 env HELION_REBENCHMARK_THRESHOLD=-1 "$HELION_TUNE" simulate "$P" --quiet
expect_err "HELION_REBENCHMARK_THRESHOLD: -1 is below the minimum 0 (allowed: a number in [0, 1000000000])"
expect_rc 2 env HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K=-5 "$HELION_TUNE" simulate "$P" --quiet
expect_err "HELION_AUTOTUNE_FINAL_REBENCHMARK_TOP_K: -5 is below the minimum 0 (allowed: a whole number in [0, 1024])"
for var in $(grep -o 'HELION_LFBO_[A-Z_]*' "$TMP/opts" | sort -u); do
  expect_rc 2 env "$var=bogus" "$HELION_TUNE" simulate "$P" --algorithm LFBOTreeSearch --quiet
  expect_err "$var: 'bogus' is not"
done

[ "$FAILS" -eq 0 ] || { echo "$FAILS failure(s)"; exit 1; }
echo "all landscape cases passed"
