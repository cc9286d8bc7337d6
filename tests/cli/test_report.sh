#!/usr/bin/env bash
# test_report.sh: drives `helion-tune report` on the fixture traces and checks
# the SVG it writes: well-formed XML, one dot per OK evaluation and one cross
# per failure in each panel (counted from the fixture by python, not by the
# tool), the optimum line, escaped titles, exit codes 0/1/2, and a sane size
# for a 10,000-evaluation trace.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
TRACES="${HELION_TEST_DATA:?}/traces"
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

# check_svg SVG TRACE [TITLE]: validates SVG as XML and compares its marks
# with counts taken from the trace file itself.
check_svg() {
  python3 - "$@" <<'PY' || fail "check_svg $*"
import json, math, sys
import xml.etree.ElementTree as E

svg, trace = sys.argv[1], sys.argv[2]
title = sys.argv[3] if len(sys.argv) > 3 else None
root = E.parse(svg).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag

meta, evals, rebench = {}, [], []
for line in open(trace):
    if not line.strip():
        continue
    o = json.loads(line)
    if "meta" in o:
        meta = o["meta"]
    elif o.get("rebench"):
        rebench.append(o)
    else:
        evals.append(o)

def classes(el):
    return (el.get("class") or "").split()

def count(tag, cls):
    return sum(1 for el in root.iter("{http://www.w3.org/2000/svg}" + tag)
               if cls in classes(el))

ok = [e for e in evals if e["status"] == "ok"]
errors = []
def want(name, got, expected):
    if got != expected:
        errors.append(f"{name}: got {got}, want {expected}")

want("ok dots", count("circle", "ok"), 2 * len(ok))
want("failure marks", count("path", "fail"), 2 * (len(evals) - len(ok)))
for kind in ("compile", "runtime", "accuracy", "timeout"):
    n = sum(1 for e in evals if e["status"] == kind)
    want(kind + " marks", count("path", kind), 2 * n)
want("rebench marks", count("path", "rebench"), 2 * len(rebench))
want("best lines", count("path", "best"), 2 if ok else 0)
opt = meta.get("optimum_ms")
want("optimum lines", count("line", "optimum"), 2 if opt else 0)

texts = {el.get("class"): "".join(el.itertext())
         for el in root.iter("{http://www.w3.org/2000/svg}text")
         if el.get("class")}
fails = len(evals) - len(ok)
summary = texts.get("summary", "")
if not summary.startswith(f"{len(evals)} evaluations, {fails} failed"):
    errors.append("summary: " + summary)
if ok:
    best = min(e["ms"] for e in ok)
    if f"best {best:.4g} ms" not in summary:
        errors.append(f"summary lacks best {best:.4g}: {summary}")
    if opt and f"{best / opt:.3f}x the optimum" not in summary:
        errors.append(f"summary lacks ratio {best / opt:.3f}: {summary}")
    if math.isfinite(best) and "best config: " not in texts.get("config", ""):
        errors.append("no best config line")
if title is not None:
    want("title", texts.get("title"), title)
    want("<title>", root.find("{http://www.w3.org/2000/svg}title").text, title)
if errors:
    print("\n".join(errors))
    sys.exit(1)
PY
}

# Help and usage errors.
expect_rc 0 "$HELION_TUNE" report --help
grep -q -- "-o, --output FILE" "$TMP/out" || fail "--help lacks -o"
grep -q -- "--title TEXT" "$TMP/out" || fail "--help lacks --title"
expect_rc 2 "$HELION_TUNE" report
grep -q "missing TRACE" "$TMP/err" || fail "no 'missing TRACE' message"
expect_rc 2 "$HELION_TUNE" report "$TRACES/small.jsonl" --frobnicate
grep -q "unknown option '--frobnicate'" "$TMP/err" || fail "unknown option"
expect_rc 2 "$HELION_TUNE" report "$TRACES/small.jsonl" -o
expect_rc 2 "$HELION_TUNE" report "$TRACES/small.jsonl" "$TRACES/small.jsonl"

# The realistic fixture: log scale, optimum, rebenchmarks, all failure kinds.
expect_rc 0 "$HELION_TUNE" report "$TRACES/pattern_search.jsonl" -o "$TMP/ps.svg"
check_svg "$TMP/ps.svg" "$TRACES/pattern_search.jsonl" \
  "PatternSearch on gemm_RTX_3090, seed 3"
grep -q "time (ms), log scale" "$TMP/ps.svg" || fail "pattern_search: no log scale"
grep -q ">optimum 0.0119 ms<" "$TMP/ps.svg" || fail "pattern_search: no optimum label"
grep -q "wrote $TMP/ps.svg" "$TMP/err" || fail "no 'wrote' message"

# Default output name, and a title with XML in it.
( cd "$TMP" && "$HELION_TUNE" report "$TRACES/small.jsonl" --title 'a<b> & "c"' \
    >/dev/null 2>&1 ) || fail "small.jsonl with --title"
[ -f "$TMP/report.svg" ] || fail "no default report.svg"
check_svg "$TMP/report.svg" "$TRACES/small.jsonl" 'a<b> & "c"'
grep -q "log scale" "$TMP/report.svg" && fail "small.jsonl (2x span) drawn on a log scale"

# Writing to stdout.
expect_rc 0 "$HELION_TUNE" report "$TRACES/small.jsonl" -o -
cp "$TMP/out" "$TMP/stdout.svg"
check_svg "$TMP/stdout.svg" "$TRACES/small.jsonl"

# Every evaluation failed: still a chart; the landscape name is escaped.
expect_rc 0 "$HELION_TUNE" report "$TRACES/all_failed.jsonl" --output="$TMP/af.svg"
check_svg "$TMP/af.svg" "$TRACES/all_failed.jsonl" \
  "RandomSearch on pnpoly <RTX 3090> & co, seed 7"

# A malformed trace: exit 1, the exact message, no output file.
expect_rc 1 "$HELION_TUNE" report "$TRACES/bad_ms_string.jsonl" -o "$TMP/bad.svg"
want="helion-tune report: $TRACES/bad_ms_string.jsonl:3: \"ms\": expected a number or null, got string"
[ "$(cat "$TMP/err")" = "$want" ] || fail "bad_ms_string: got '$(cat "$TMP/err")'"
[ ! -e "$TMP/bad.svg" ] || fail "bad.svg written for a malformed trace"
expect_rc 1 "$HELION_TUNE" report "$TMP/no-such.jsonl" -o "$TMP/x.svg"
grep -q "$TMP/no-such.jsonl: cannot open" "$TMP/err" || fail "missing file message: $(cat "$TMP/err")"

# 10,000 evaluations: must stay a few MB and well-formed.
python3 - "$TMP/big.jsonl" <<'PY'
import json, random, sys
rng = random.Random(11)
best, t = 1.0, 0.0
with open(sys.argv[1], "w") as f:
    f.write(json.dumps({"meta": {"landscape": "big", "algorithm": "DE",
                                 "seed": 11, "optimum_ms": 0.0101}}) + "\n")
    for i in range(1, 10001):
        t += rng.uniform(0.1, 0.6)
        cfg = {"block_size": 2 ** rng.randint(4, 10), "num_warps": rng.choice([1, 2, 4, 8])}
        r = rng.random()
        if r < 0.1:
            st = rng.choice(["compile", "runtime", "accuracy", "timeout"])
            ms = None
        else:
            st = "ok"
            ms = round(0.0101 * (1 + 60 * rng.random() ** (1 + i / 800)), 6)
        f.write(json.dumps({"evaluation": i, "config": cfg, "ms": ms, "status": st,
                            "elapsed": round(t, 3), "generation": i // 100}) + "\n")
PY
expect_rc 0 "$HELION_TUNE" report "$TMP/big.jsonl" -o "$TMP/big.svg"
check_svg "$TMP/big.svg" "$TMP/big.jsonl" "DE on big, seed 11"
size=$(wc -c <"$TMP/big.svg")
[ "$size" -lt 3000000 ] || fail "big.svg is $size bytes"

# 30,000 evaluations: past the thinning threshold, so overlapping dots are
# drawn once and the legend says so.
python3 - "$TMP/huge.jsonl" <<'PY'
import json, random, sys
rng = random.Random(5)
with open(sys.argv[1], "w") as f:
    for i in range(30000):
        f.write(json.dumps({"evaluation": i, "config": {"a": i},
                            "ms": 0.01 * (1 + 50 * rng.random() ** 3),
                            "status": "ok", "elapsed": 0.3 * i}) + "\n")
PY
expect_rc 0 "$HELION_TUNE" report "$TMP/huge.jsonl" -o "$TMP/huge.svg"
python3 - "$TMP/huge.svg" <<'PY' || fail "huge.svg"
import sys
import xml.etree.ElementTree as E
root = E.parse(sys.argv[1]).getroot()
dots = sum(1 for el in root.iter("{http://www.w3.org/2000/svg}circle")
           if el.get("class") == "ok")
assert 1000 < dots < 2 * 30000, dots
note = [t for t in root.itertext() if "overlapping marks drawn once" in t]
assert note, "no thinning note"
PY
size=$(wc -c <"$TMP/huge.svg")
[ "$size" -lt 3000000 ] || fail "huge.svg is $size bytes"

# --- interrupted traces and output files (issue 12) ------------------------
# A trace whose writer was killed mid-record: the whole records are drawn and
# stderr says the last line was cut; a torn line in the middle is an error.
head -c -25 "$TRACES/small.jsonl" >"$TMP/cut.jsonl"
whole=$(($(wc -l <"$TMP/cut.jsonl")))
expect_rc 0 "$HELION_TUNE" report "$TMP/cut.jsonl" -o "$TMP/cut.svg"
grep -qF "cut.jsonl: the last line ($((whole + 1))) is cut off (the run was interrupted?); reporting the $whole whole records" "$TMP/err" ||
  fail "cut trace: no note on stderr: $(cat "$TMP/err")"
grep -q "<svg" "$TMP/cut.svg" 2>/dev/null || fail "cut trace: no SVG"
{ head -n 3 "$TRACES/small.jsonl"; echo '{"evaluation": 99, "con'; tail -n +4 "$TRACES/small.jsonl"; } >"$TMP/torn.jsonl"
expect_rc 1 "$HELION_TUNE" report "$TMP/torn.jsonl" -o "$TMP/torn.svg"
grep -qF "torn.jsonl:4:" "$TMP/err" || fail "torn line 4 not named: $(cat "$TMP/err")"

# -o naming the trace itself (or a link to it) is refused; the trace is kept.
cp "$TRACES/small.jsonl" "$TMP/self.jsonl"
ln -s self.jsonl "$TMP/self_link.svg"
for out in "$TMP/self.jsonl" "$TMP/self_link.svg"; do
  expect_rc 2 "$HELION_TUNE" report "$TMP/self.jsonl" -o "$out"
  grep -qF "that is the trace this command reads" "$TMP/err" ||
    fail "-o $out: not refused as the input: $(cat "$TMP/err")"
  cmp -s "$TRACES/small.jsonl" "$TMP/self.jsonl" || fail "-o $out overwrote the trace"
done

# A FIFO (as /dev/stdout in a pipe) is written through, not replaced by a
# regular file; a link to a regular file replaces the file, the link stays.
mkfifo "$TMP/fifo"
timeout 10 cat "$TMP/fifo" >"$TMP/from_fifo" &
reader=$!
expect_rc 0 "$HELION_TUNE" report "$TRACES/small.jsonl" -o "$TMP/fifo"
wait "$reader"
[ -p "$TMP/fifo" ] || fail "-o FIFO: the FIFO was replaced"
grep -q "</svg>" "$TMP/from_fifo" || fail "-o FIFO: the reader got no SVG"
ln -s "$TMP/fifo" "$TMP/fifo_link"
timeout 10 cat "$TMP/fifo" >"$TMP/from_fifo" &
reader=$!
expect_rc 0 "$HELION_TUNE" report "$TRACES/small.jsonl" -o "$TMP/fifo_link"
wait "$reader"
[ -L "$TMP/fifo_link" ] && [ -p "$TMP/fifo" ] || fail "-o link to FIFO: replaced"
grep -q "</svg>" "$TMP/from_fifo" || fail "-o link to FIFO: the reader got no SVG"
echo old >"$TMP/target.svg"
ln -s target.svg "$TMP/link.svg"
expect_rc 0 "$HELION_TUNE" report "$TRACES/small.jsonl" -o "$TMP/link.svg"
[ -L "$TMP/link.svg" ] || fail "-o link: the link was replaced by a file"
grep -q "</svg>" "$TMP/target.svg" || fail "-o link: the target file not written"
ln -s "$TMP/missing/x.svg" "$TMP/dangling.svg"
expect_rc 1 "$HELION_TUNE" report "$TRACES/small.jsonl" -o "$TMP/dangling.svg"
grep -qF "a symbolic link to a missing file" "$TMP/err" || fail "-o dangling link: $(cat "$TMP/err")"
# (Not tried on /dev/stdout itself: a build without this fix, run as root,
# would replace the machine's /dev/stdout; the FIFO and the links above are
# the same cases in $TMP.)

[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "all report checks passed"
