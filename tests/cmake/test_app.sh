#!/usr/bin/env bash
# test_app.sh: samples/app, the consumer project, configured and built from
# scratch with CMake on a machine without a GPU (no GPU is asked: the CUDA
# driver is pointed at nothing), from its committed results files.
#
#  - committed: two configures in two build directories use the results
#    files as they are (nothing tuned, the files unchanged), both build, and
#    their generated headers are byte-identical;
#  - exact rebuilds: touching one kernel's source regenerates exactly that
#    kernel's header; touching app.c regenerates none (make's dry run);
#  - cross build: HELION_TARGET_DEVICE counts that device's entries only;
#  - missing: with one entry removed, HELION_REQUIRE_TUNED=ON fails configure
#    naming the kernel and the shape; without it, one warning and a build
#    with the default config.
# The tool is the build's (HELION_TUNE_EXECUTABLE); test_package.sh covers
# the installed package and FetchContent, where the module finds or builds
# the tool itself.
set -uo pipefail
SRC="${HELION_SOURCE_DIR:?}"
TOOL="${HELION_TUNE:?}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
export HELION_LIBCUDA_PATH=/nonexistent/libcuda.so.1 HELION_CACHE_DIR="$TMP/cache"
JOBS="${HELION_TEST_JOBS:-2}"

# A copy of the samples: the test edits kernels and results files.
cp -r "$SRC/samples" "$TMP/samples"
APP="$TMP/samples/app"
ls "$APP"/tuned/*.tuned.json >/dev/null 2>&1 || { fail "no committed results in samples/app/tuned"; exit 1; }
sha() { sha256sum "$APP"/tuned/*.tuned.json; }
sha >"$TMP/results.before"

configure() { # DIR [ARGS...]
  local dir="$1"
  shift
  cmake -S "$APP" -B "$dir" -DHELION_APP_FROM_SOURCE=ON \
    -DHELION_APP_SOURCE_TREE="$SRC" -DHELION_TUNE_EXECUTABLE="$TOOL" \
    -DCMAKE_PREFIX_PATH="${CMAKE_PREFIX_PATH:-}" "$@" >"$dir.log" 2>&1
}

# --- committed results: deterministic, nothing tuned.
for d in a b; do
  configure "$TMP/$d" || { fail "configure $d: $(tail -20 "$TMP/$d.log")"; continue; }
  grep -q "Helion: tuning" "$TMP/$d.log" && fail "configure $d tuned: $(grep Helion "$TMP/$d.log")"
  grep -q "no tuned entry" "$TMP/$d.log" && fail "configure $d warned of a missing entry"
  cmake --build "$TMP/$d" -j"$JOBS" >"$TMP/$d.build" 2>&1 ||
    fail "build $d: $(grep -iE 'error' "$TMP/$d.build" | head -10)"
done
sha | cmp -s - "$TMP/results.before" || fail "configure changed a results file"
# The configure-time default search (cmake/HelionTuneDefaults.cmake) reaches
# the tune commands, here the re-tune target's.
grep -q -- "--max-evals 150" "$TMP/a/CMakeFiles/helion_retune_softmax.dir/build.make" ||
  fail "helion_retune_softmax does not use the default search flags: $(grep -h 'helion-tune' "$TMP/a/CMakeFiles/helion_retune_softmax.dir/build.make" | head -3)"
for h in "$TMP"/a/helion_*/*_tuned.h; do
  other="$TMP/b/${h#"$TMP"/a/}"
  cmp -s "$h" "$other" || fail "headers differ between two builds: $(basename "$h")"
done
[ "$(ls "$TMP"/a/helion_*/*_tuned.h | wc -l)" -eq 6 ] || fail "want 6 generated headers in a"

# --- a cross build names its target GPU: that device's entries count, and
# no other device's.
dev=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["entries"][0]["device"]["name"])' "$APP/tuned/softmax.tuned.json")
configure "$TMP/t1" -DHELION_TARGET_DEVICE="$dev" || fail "configure for $dev: $(tail -20 "$TMP/t1.log")"
grep -q "no tuned entry" "$TMP/t1.log" && fail "HELION_TARGET_DEVICE=$dev warned of a missing entry"
configure "$TMP/t2" -DHELION_TARGET_DEVICE="Some Other GPU" || fail "configure for another GPU"
n=$(grep -c "no tuned entry" "$TMP/t2.log")
[ "$n" -eq 6 ] || fail "HELION_TARGET_DEVICE=Some Other GPU: want one warning per kernel (6), got $n"
tr '\n' ' ' <"$TMP/t2.log" | tr -s ' ' | grep -q "on Some Other GPU" ||
  fail "the warning does not name the target device"

# --- exact rebuilds (make's dry run lists the commands it would run).
echo "// edited" >>"$TMP/samples/softmax/softmax.cu"
make -C "$TMP/a" -n >"$TMP/dry" 2>&1
n=$(grep -c "generate .*softmax.json" "$TMP/dry")
[ "$n" -eq 1 ] || fail "touching softmax.cu: softmax regenerated $n times, want 1"
others=$(grep "helion-tune.* generate " "$TMP/dry" | grep -vc "softmax.json")
[ "$others" -eq 0 ] || fail "touching softmax.cu regenerated $others other header(s)"
cmake --build "$TMP/a" -j"$JOBS" >"$TMP/a.build2" 2>&1 || fail "rebuild after the edit"
touch "$APP/app.c"
make -C "$TMP/a" -n >"$TMP/dry2" 2>&1
grep -q " generate " "$TMP/dry2" && fail "touching app.c regenerates a header"
grep -q "app.c" "$TMP/dry2" || fail "touching app.c does not rebuild the app (the dry run is not what this test thinks)"

# --- a missing entry: never silent.
python3 - "$APP/tuned/softmax.tuned.json" <<'PY' || fail "cannot remove an entry"
import json, sys
p = sys.argv[1]
r = json.load(open(p))
r["entries"] = [e for e in r["entries"] if e["shape"] != {"M": 4096, "N": 1024}]
json.dump(r, open(p, "w"), indent=2, sort_keys=True)
PY
if configure "$TMP/c" -DHELION_REQUIRE_TUNED=ON; then
  fail "HELION_REQUIRE_TUNED=ON with a missing entry configured"
else
  # CMake wraps messages: compare with the lines joined.
  tr '\n' ' ' <"$TMP/c.log" | tr -s ' ' >"$TMP/c.flat"
  grep -q "softmax: no tuned entry for M=4096,N=1024" "$TMP/c.flat" ||
    fail "the error does not name kernel and shape: $(grep -A3 'Error' "$TMP/c.log")"
  grep -q "helion-tune tune [^ ]*softmax.json --shape M=4096,N=1024" "$TMP/c.flat" ||
    fail "the error does not say the command to run: $(grep -A6 'Error' "$TMP/c.log")"
fi
configure "$TMP/d" || fail "configure with a missing entry: $(tail -20 "$TMP/d.log")"
n=$(grep -c "no tuned entry" "$TMP/d.log")
[ "$n" -eq 1 ] || fail "want one warning for the missing entry, got $n"
cmake --build "$TMP/d" -j"$JOBS" >"$TMP/d.build" 2>&1 || fail "build with a missing entry"

# --- DISTILL: refused for one shape; with two, the re-tune target and
# helion_distill_<name> run `helion-tune distill` (no GPU here, so configure
# tunes and distills nothing: checked on the device machine).
sed -i 's|  SHAPES "M=4096,N=1024"|  SHAPES "M=4096,N=1024"\n  DISTILL ON|' "$APP/CMakeLists.txt"
configure "$TMP/e" && fail "DISTILL ON with one shape configured"
grep -q "DISTILL ON needs 2 or more shapes" "$TMP/e.log" ||
  fail "the DISTILL error does not say why: $(grep -A3 'Error' "$TMP/e.log")"
sed -i 's|  SHAPES "M=4096,N=1024"|  SHAPES "M=4096,N=1024" "M=64,N=1024"|' "$APP/CMakeLists.txt"
configure "$TMP/e" || fail "configure with DISTILL ON: $(tail -20 "$TMP/e.log")"
for t in retune distill; do
  grep -q " distill " "$TMP/e/CMakeFiles/helion_${t}_softmax.dir/build.make" 2>/dev/null ||
    fail "helion_${t}_softmax does not run helion-tune distill"
done
grep -q " distill " "$TMP/e/CMakeFiles/helion_retune_rmsnorm.dir/build.make" &&
  fail "helion_retune_rmsnorm distills without DISTILL ON"
sed -i 's|  DISTILL ON|  DISTILL maybe|' "$APP/CMakeLists.txt"
configure "$TMP/e" && fail "DISTILL maybe configured"
grep -q "DISTILL 'maybe': use ON or OFF" "$TMP/e.log" || fail "the DISTILL value error does not say what to use"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "samples/app with committed results passed"
