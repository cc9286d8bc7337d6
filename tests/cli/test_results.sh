#!/usr/bin/env bash
# helion-tune results: lists a spec's results file and marks stale entries.
# A temp copy of samples/vector_add is tuned (with the benchmark worker's test
# double, no GPU) so the entries are real; then the kernel is edited and the
# entries turn stale with the command that re-tunes them. Also --json, a
# missing file, a malformed and a newer-format file, --help and the exit codes.
set -uo pipefail
tune="${HELION_TUNE:?}"
fake="$(dirname "$tune")/tests/tools/fake_bench_worker"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
expect_rc() {
  local want=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "$* -> exit $rc, want $want: $(head -3 "$TMP/err")"
}
has() { grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks '$2': $(head -5 "$1")"; }

cp "${HELION_SOURCE_DIR:?}/samples/vector_add/vector_add."{json,cu} "$TMP/"
SPEC="$TMP/vector_add.json"
FILE="$TMP/vector_add.tuned.json"

expect_rc 0 "$tune" results --help
has "$TMP/out" "STALE"
has "$TMP/out" "--tuned FILE"
expect_rc 0 "$tune" results -h
expect_rc 2 "$tune" results
expect_rc 2 "$tune" results "$SPEC" "$SPEC"
expect_rc 2 "$tune" results "$SPEC" --frobnicate
expect_rc 2 "$tune" results "$SPEC" --tuned=
expect_rc 1 "$tune" results "$TMP/missing.json"

# No file yet: no entries, exit 0.
expect_rc 0 "$tune" results "$SPEC"
has "$TMP/err" "0 entries"
has "$TMP/err" "no entries yet"
expect_rc 0 "$tune" results "$SPEC" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["entries"] == [] and d["spec"] == "vector_add", d' \
  "$TMP/out" || fail "empty --json"

# Malformed and newer files: exit 1, the message names the place and what to do.
printf '{"format_version": 1,\n "entries": [}\n' >"$TMP/bad.json"
expect_rc 1 "$tune" results "$SPEC" --tuned "$TMP/bad.json"
has "$TMP/err" "bad.json:2:"
has "$TMP/err" "fix it"
printf '{"format_version": 9, "entries": []}\n' >"$TMP/new.json"
expect_rc 1 "$tune" results "$SPEC" --tuned "$TMP/new.json"
has "$TMP/err" "newer helion-tune"
# tune refuses them too, before any GPU work, and never overwrites them.
expect_rc 1 "$tune" tune "$SPEC" --shape N=4096 --tuned "$TMP/bad.json"
has "$TMP/err" "bad.json:2:"
expect_rc 2 "$tune" tune "$SPEC" --shape N=4096 --tuned "$SPEC"
has "$TMP/err" "that is the spec"

if [ ! -x "$fake" ]; then
  echo "no fake_bench_worker: the listing of tuned entries is skipped"
  [ "$FAILS" -eq 0 ] && exit 77 || exit 1
fi
export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_CACHE_DIR="$TMP/cache"
for n in 4096 1000; do
  HELION_BENCH_WORKER="$fake" "$tune" tune "$SPEC" --shape N=$n --effort quick \
    --max-evals 4 --jobs 2 >"$TMP/tout" 2>"$TMP/terr" ||
    fail "tune N=$n: exit $?: $(tail -3 "$TMP/terr")"
  has "$TMP/terr" "Recorded N=$n in $FILE (new entry)"
done
expect_rc 0 "$tune" results "$SPEC"
has "$TMP/err" "$FILE: 2 entries"
has "$TMP/err" "(9.0) N=1000: "
has "$TMP/err" '    config {"block_sizes": ['
grep -q STALE "$TMP/err" && fail "fresh entries marked stale: $(cat "$TMP/err")"
# Sorted by shape value: N=1000 before N=4096.
[ "$(grep -o 'N=[0-9]*:' "$TMP/err" | tr '\n' ' ')" = "N=1000: N=4096: " ] ||
  fail "entries not sorted: $(cat "$TMP/err")"

# An edit of the kernel makes both stale, each with its re-tune command.
echo "// edited" >>"$TMP/vector_add.cu"
expect_rc 0 "$tune" results "$SPEC"
[ "$(grep -c '^STALE ' "$TMP/err")" -eq 2 ] || fail "want 2 STALE: $(cat "$TMP/err")"
has "$TMP/err" "source changed since the entry was tuned"
has "$TMP/err" "re-tune with helion-tune tune $SPEC --shape N=4096"
has "$TMP/err" "2 of 2 entries stale"
expect_rc 0 "$tune" results "$SPEC" --json
python3 - "$TMP/out" <<'PY' || fail "--json of stale entries"
import json, sys
d = json.load(open(sys.argv[1]))
e = d["entries"]
assert [x["shape"] for x in e] == [{"N": 1000}, {"N": 4096}], e
for x in e:
    assert x["stale"] is True and x["stale_reasons"] == ["source"], x
    assert x["other_tool_version"] is False and x["algorithm"] == "LFBOTreeSearch", x
    assert "block_sizes" in x["config"] and x["best_ms"] > 0 and x["speedup"] > 0, x
    assert "re-tune with helion-tune tune" in x["message"], x
PY
# --need: per shape, what a device has (current, stale or missing). With no
# driver, `auto` finds no GPU and any device's entry counts.
need() {
  HELION_LIBCUDA_PATH=/nonexistent/libcuda.so.1 "$tune" results "$SPEC" --need --json "$@" \
    >"$TMP/need" 2>"$TMP/neederr" || fail "results --need $*: exit $?: $(cat "$TMP/neederr")"
  python3 -c 'import json,sys; n=json.load(open(sys.argv[1]))["need"]; print(n["device"], n["gpu"], " ".join(s["shape"]+":"+s["status"] for s in n["shapes"]))' \
    "$TMP/need" 2>&1
}
DEV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"][0]["device"]["name"])' "$FILE")
[ "$(need --shape N=4096 --shape N=7)" = "None False N=4096:stale N=7:missing" ] ||
  fail "--need with no GPU: $(need --shape N=4096 --shape N=7)"
[ "$(need --device "$DEV" --shape N=1000)" = "$DEV False N=1000:stale" ] ||
  fail "--need --device: $(need --device "$DEV" --shape N=1000)"
[ "$(need --device "Some Other GPU" --shape N=1000)" = "Some Other GPU False N=1000:missing" ] ||
  fail "--need for another device: $(need --device "Some Other GPU" --shape N=1000)"
need --shape N=7 >/dev/null
has "$TMP/need" '"note": "no GPU (no CUDA driver found'
# The spec's shapes by default; lines on stderr without --json.
HELION_LIBCUDA_PATH=/nonexistent/libcuda.so.1 expect_rc 0 "$tune" results "$SPEC" --need
has "$TMP/err" "need N=1048576 on any device: missing"
has "$TMP/err" "need N=1000003 on any device: missing"
expect_rc 2 "$tune" results "$SPEC" --device auto
expect_rc 2 "$tune" results "$SPEC" --need --shape N=x
has "$TMP/err" "--shape"

# Re-tuning one shape freshens it and leaves the other entry's lines alone.
python3 - "$FILE" >"$TMP/before_1000" <<'PY'
import sys
t = open(sys.argv[1]).read()
print(t[:t.index('"N": 4096')])
PY
HELION_BENCH_WORKER="$fake" "$tune" tune "$SPEC" --shape N=4096 --effort quick \
  --max-evals 4 --jobs 2 >"$TMP/tout" 2>"$TMP/terr" || fail "re-tune: exit $?"
has "$TMP/terr" "Recorded N=4096 in $FILE (entry replaced)"
expect_rc 0 "$tune" results "$SPEC"
[ "$(grep -c '^STALE ' "$TMP/err")" -eq 1 ] || fail "want 1 STALE after re-tune: $(cat "$TMP/err")"
grep -q '^STALE .* N=1000: ' "$TMP/err" || fail "N=1000 should stay stale"
python3 - "$FILE" "$TMP/before_1000" <<'PY' || fail "N=1000's entry changed on re-tuning N=4096"
import sys
t = open(sys.argv[1]).read()
before = open(sys.argv[2]).read()[:-1]
# The N=1000 group (everything up to the N=4096 group's start) is untouched.
start = before.rindex("\n    {\n")
assert t[:start] == before[:start], "bytes before the re-tuned entry differ"
PY
[ "$(need --device "$DEV" --shape N=1000 --shape N=4096)" = "$DEV False N=1000:stale N=4096:current" ] ||
  fail "--need after the re-tune: $(need --device "$DEV" --shape N=1000 --shape N=4096)"
# --no-results writes nothing.
rm -f "$FILE"
HELION_BENCH_WORKER="$fake" "$tune" tune "$SPEC" --shape N=4096 --effort none \
  --no-results >"$TMP/tout" 2>"$TMP/terr" || fail "--no-results: exit $?"
[ ! -e "$FILE" ] || fail "--no-results wrote $FILE"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "results passed"
