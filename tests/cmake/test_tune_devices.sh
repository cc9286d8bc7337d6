#!/usr/bin/env bash
# test_tune_devices.sh: configure-time tuning spreads over the build
# machine's GPUs (HELION_TUNE_DEVICES, default all), on a machine without a
# GPU: a fake libcuda (tests/gpu/fake_libcuda.c) makes `results --need` see
# a GPU, and the benchmark worker's test double (HELION_BENCH_WORKER) plays
# two of them (HELION_FAKE_DEVICES=2). A project with one kernel:
#  - default: configure tunes that shape with --devices all, both fake GPUs
#    time configs, the entry is back in the results file;
#  - HELION_TUNE_DEVICES reaches the configure-time tune and the re-tune
#    target (0 here), a bad value is a FATAL_ERROR naming the variable;
#  - HELION_TARGET_DEVICE (a cross build) still tunes nothing.
set -uo pipefail
SRC="${HELION_SOURCE_DIR:?}"
TOOL="${HELION_TUNE:?}"
WORKER="${HELION_BUILD_DIR:?}/tests/tools/fake_bench_worker"
[ -x "$WORKER" ] || { echo "no $WORKER: skipped"; exit 77; }
command -v cc >/dev/null || { echo "no C compiler for the fake libcuda: skipped"; exit 77; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
cc -shared -fPIC -o "$TMP/libcuda.so.1" "$SRC/tests/gpu/fake_libcuda.c" ||
  { echo "FAIL: cannot build the fake libcuda"; exit 1; }
export HELION_LIBCUDA_PATH="$TMP/libcuda.so.1" HELION_BENCH_WORKER="$WORKER" \
  HELION_FAKE_DEVICES=2 HELION_CACHE_DIR="$TMP/cache" HELION_AUTOTUNE_PROGRESS_BAR=0
unset HELION_FAKE_OTHER_MODEL HELION_FAKE_DIE

# A project with one kernel (the fake GPU's name has no entries, so its
# one shape is tuned at configure time).
APP="$TMP/proj"
mkdir -p "$APP/tuned"
TUNED="$APP/tuned/vector_add.tuned.json"
cat >"$APP/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.24)
project(TuneDevices LANGUAGES C)
add_subdirectory("$SRC" helion EXCLUDE_FROM_ALL)
helion_add_tuned_kernel(vector_add
  SPEC "$SRC/samples/vector_add/vector_add.json"
  SHAPES "N=16777216"
  TUNED_FILE tuned/vector_add.tuned.json
  EFFORT quick SEED 1
  ARCHS 90)
CM
configure() { # DIR [ARGS...]
  local dir="$1"
  shift
  cmake -S "$APP" -B "$dir" -DHELION_TUNE_EXECUTABLE="$TOOL" \
    -DCMAKE_PREFIX_PATH="${CMAKE_PREFIX_PATH:-}" "$@" >"$dir.log" 2>&1
}

# --- a bad HELION_TUNE_DEVICES: refused, named.
configure "$TMP/bad" -DHELION_TUNE_DEVICES="0;1" -DHELION_TUNE=OFF &&
  fail "HELION_TUNE_DEVICES='0;1' configured"
grep -q "HELION_TUNE_DEVICES='0;1'" "$TMP/bad.log" ||
  fail "the error does not name HELION_TUNE_DEVICES: $(grep -A3 Error "$TMP/bad.log")"

# --- a cross build tunes nothing, whatever the GPUs here.
configure "$TMP/cross" -DHELION_TARGET_DEVICE="Some Other GPU" ||
  fail "cross configure: $(tail -20 "$TMP/cross.log")"
grep -q "Helion: tuning" "$TMP/cross.log" && fail "a cross build tuned"

# --- default: tuned at configure time on both fake GPUs.
configure "$TMP/a" || fail "configure: $(tail -20 "$TMP/a.log")"
tr '\n' ' ' <"$TMP/a.log" | tr -s ' ' >"$TMP/a.flat"
grep -q "Helion: tuning vector_add for 1 shape(s) on fake H200 (test double, no CUDA) (GPUs all)" "$TMP/a.flat" ||
  fail "configure did not tune vector_add on all GPUs: $(grep Helion "$TMP/a.log" | head -5)"
grep -q "GPUs 0,1: each fake H200" "$TMP/a.log" ||
  fail "the tune did not use both fake GPUs: $(grep -E 'GPU|error' "$TMP/a.log" | head -5)"
grep -q "configs timed: GPU 0: [1-9][0-9]*, GPU 1: [1-9]" "$TMP/a.log" ||
  fail "the configs were not spread over both GPUs: $(grep 'configs timed' "$TMP/a.log")"
python3 - "$TUNED" <<'PY' || fail "no entry for the fake GPU in $TUNED"
import json, sys
r = json.load(open(sys.argv[1]))
assert any(e["device"]["name"].startswith("fake H200") and e["shape"] == {"N": 16777216}
           for e in r["entries"])
PY
grep -q -- "--devices all" "$TMP/a/CMakeFiles/helion_retune_vector_add.dir/build.make" ||
  fail "helion_retune_vector_add does not pass --devices all"

# --- HELION_TUNE_DEVICES=0: one GPU, at configure time and in the re-tune.
configure "$TMP/b" -DHELION_TUNE=ALL -DHELION_TUNE_DEVICES=0 ||
  fail "configure with HELION_TUNE_DEVICES=0: $(tail -20 "$TMP/b.log")"
grep -q "GPU 0: fake H200" "$TMP/b.log" ||
  fail "HELION_TUNE_DEVICES=0 did not tune on GPU 0 alone: $(grep -E 'GPU' "$TMP/b.log" | head -5)"
grep -q "configs timed" "$TMP/b.log" && fail "HELION_TUNE_DEVICES=0 tuned on several GPUs"
grep -q -- "--devices 0" "$TMP/b/CMakeFiles/helion_retune_vector_add.dir/build.make" ||
  fail "helion_retune_vector_add does not pass --devices 0"

[ "$FAILS" -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
echo "ok"
