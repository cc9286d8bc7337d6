#!/usr/bin/env bash
# test_distill.sh (GPU): `helion-tune distill` on the softmax sample over 3
# shapes: the shapes without entries are tuned first and recorded, every
# distinct winner is timed on every shape, and the results file gets one
# "distilled" element whose matrix, subset, slowdowns and tree agree with
# the entries; a second run tunes nothing; --refit (no GPU) with a huge
# threshold keeps one config and a one-leaf tree; --report prints the table
# and writes the heat map; generate bakes the tree into the header; usage
# errors. Exits 77 without a CUDA driver or device (on CI it also runs
# against tests/tools/fake_bench_worker).
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
SPEC="${HELION_SOURCE_DIR:?}/samples/softmax/softmax.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_CACHE_DIR="$TMP/cache" HELION_SKIP_CACHE=1
R="$TMP/softmax.tuned.json"
SHAPES=(--shape M=4096,N=1024 --shape M=256,N=8192 --shape M=16384,N=128)
SEARCH=(--effort quick --max-evals 24 --seed 3)

"$HELION_TUNE" distill "$SPEC" --tuned "$R" "${SHAPES[@]}" "${SEARCH[@]}" \
  >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qE "no CUDA (driver|device) found|CUDA_ERROR_NO_DEVICE" "$TMP/err"; then
  echo "no CUDA device: skipped"
  exit 77
fi
cat "$TMP/err"
[ "$rc" -eq 0 ] || fail "distill exited $rc"
grep -q "3 of 3 shapes have no current entry" "$TMP/err" || fail "the missing shapes were not announced"
grep -q "distill: timing .* distinct winners on each of 3 shapes" "$TMP/err" || fail "no timing line"
python3 - "$R" <<'PY' || fail "the distilled element does not agree with the entries"
import json, math, sys
doc = json.load(open(sys.argv[1]))
entries = doc["entries"]
assert len(entries) == 3, len(entries)
(d,) = doc["distilled"]
dev = entries[0]["device"]
assert d["device"] == {"name": dev["name"], "compute_capability": dev["compute_capability"]}, d["device"]
assert d["keys"] == ["M", "N"], d["keys"]
shapes = [[e["shape"]["M"], e["shape"]["N"]] for e in entries]
assert sorted(d["shapes"]) == sorted(shapes), (d["shapes"], shapes)
canon = lambda c: json.dumps(c, sort_keys=True)
winners = {canon(e["best_config_minimized"]) for e in entries}
assert sorted(canon(c) for c in d["configs"]) == sorted(winners), "columns are not the distinct winners"
assert len(d["ms"]) == 3 and all(len(r) == len(d["configs"]) for r in d["ms"])
for e in entries:
    r = d["shapes"].index([e["shape"]["M"], e["shape"]["N"]])
    c = [canon(x) for x in d["configs"]].index(canon(e["best_config_minimized"]))
    v = d["ms"][r][c]
    assert v is not None and v > 0 and math.isfinite(v), ("own winner not timed", e["shape"], v)
assert d["selected"] and len(d["selected"]) <= d["max_configs"]
for r, row in enumerate(d["ms"]):
    best = min(x for x in row if x is not None)
    sel = min(row[c] for c in d["selected"] if row[c] is not None)
    assert abs(d["slowdown"][r] - sel / best) < 1e-9, (r, d["slowdown"][r], sel / best)
assert "tree" in d
assert d["source_hash"] == entries[0]["source_hash"]
PY
cp "$R" "$TMP/first.json"

# Again: every shape has its entry, so nothing is tuned; the entries stay.
"$HELION_TUNE" distill "$SPEC" --tuned "$R" "${SHAPES[@]}" "${SEARCH[@]}" 2>"$TMP/err2"
[ $? -eq 0 ] || fail "second distill: $(tail -3 "$TMP/err2")"
grep -q "no current entry" "$TMP/err2" && fail "the second distill tuned again"
python3 -c "
import json,sys
a=json.load(open('$TMP/first.json'))['entries']; b=json.load(open('$R'))['entries']
sys.exit(a != b)" || fail "the second distill changed the entries"

# --refit: no GPU (the driver pointed at nothing), one config for all.
HELION_LIBCUDA_PATH=/nonexistent/libcuda.so.1 HELION_BENCH_WORKER=/nonexistent \
  "$HELION_TUNE" distill "$SPEC" --tuned "$R" --refit --threshold 100 --report \
  --svg "$TMP/heat.svg" >"$TMP/report" 2>"$TMP/err3"
[ $? -eq 0 ] || fail "--refit: $(tail -3 "$TMP/err3")"
python3 - "$R" <<'PY' || fail "--refit --threshold 100 did not keep one config and one leaf"
import json, sys
(d,) = json.load(open(sys.argv[1]))["distilled"]
assert d["threshold"] == 100 and len(d["selected"]) == 1, d["selected"]
assert d["tree"] == {"config": d["selected"][0]}, d["tree"]
PY
grep -q "M=16384,N=128" "$TMP/report" || fail "the report does not list the shapes: $(head -5 "$TMP/report")"
head -c 4 "$TMP/heat.svg" | grep -q "<svg" || fail "no heat map written"

# generate bakes the tree.
"$HELION_TUNE" generate "$SPEC" --tuned "$R" --arch 90 -o "$TMP/softmax_tuned.h" 2>"$TMP/err4" ||
  fail "generate: $(tail -3 "$TMP/err4")"
grep -q "helion_softmax_tree_" "$TMP/softmax_tuned.h" || fail "the header has no tree"

# Usage errors.
"$HELION_TUNE" distill "$SPEC" --tuned "$R" --shape M=4096,N=1024 2>"$TMP/e1"
[ $? -eq 2 ] && grep -q "at least 2 shapes" "$TMP/e1" || fail "one shape: $(cat "$TMP/e1")"
"$HELION_TUNE" distill "$SPEC" --tuned "$TMP/none.json" --refit 2>"$TMP/e2"
[ $? -eq 1 ] && grep -q "has no distilled matrix" "$TMP/e2" || fail "--refit without a matrix: $(cat "$TMP/e2")"
"$HELION_TUNE" distill "$SPEC" --threshold 0.5 2>"$TMP/e3"
[ $? -eq 2 ] && grep -q -- "--threshold" "$TMP/e3" || fail "--threshold 0.5: $(cat "$TMP/e3")"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "distill passed"
