#!/usr/bin/env bash
# helion-tune generate: headers for samples/vector_add and samples/softmax
# from the fixture results files of tests/data/generate (made current by
# tools/fresh_results); byte-identical twice; compiled as C11 and C++17 with
# -Werror, with and without HELION_IMPLEMENTATION; a program linked with
# the runtime library checks the dispatcher's picks through the generated
# functions; stale and unparsable entries warn, and fail --require-fresh;
# hostile names are refused, hostile device names come out escaped;
# distilled decision trees (see below).
set -uo pipefail
tune="${HELION_TUNE:?}"
src="${HELION_SOURCE_DIR:?}"
data="${HELION_TEST_DATA:?}/generate"
tools="${HELION_TEST_TOOLS:?}"
rtlib="${HELION_RUNTIME_LIB:?}"
inc="$src/runtime/include"
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
lacks() { ! grep -qF -- "$2" "$1" || fail "$(basename "$1") has '$2'"; }
command -v cc >/dev/null && command -v c++ >/dev/null ||
  { echo "skipping: no cc/c++ to compile the headers with"; exit 77; }

for k in softmax vector_add vector_add_stale; do
  spec="$src/samples/${k%_stale}/${k%_stale}.json"
  "$tools/fresh_results" "$spec" "$data/$k.tuned.json" "$TMP/$k.tuned.json" ||
    fail "fresh_results $k"
done
SOFT="$src/samples/softmax/softmax.json"
VA="$src/samples/vector_add/vector_add.json"

# --help answers what goes in, how to use it and the exit codes.
expect_rc 0 "$tune" generate --help
for w in "HELION_IMPLEMENTATION" "--require-fresh" "Exit status" "PTX" \
         "_explain" "helion::runtime"; do has "$TMP/out" "$w"; done
expect_rc 2 "$tune" generate
expect_rc 2 "$tune" generate "$SOFT"
expect_rc 2 "$tune" generate "$SOFT" -o "$TMP/x.h" --arch sm_x
expect_rc 2 "$tune" generate "$SOFT" -o "$SOFT"
# No entries and no --arch: asks for --arch; with it, the default only.
expect_rc 2 "$tune" generate "$SOFT" --tuned "$TMP/none.json" -o "$TMP/x.h"
has "$TMP/err" "--arch 90"
[ -e "$TMP/x.h" ] && fail "a header was written without an architecture"
expect_rc 0 "$tune" generate "$SOFT" --tuned "$TMP/none.json" --arch 90 -o "$TMP/x.h"
has "$TMP/err" "no tuned entries: every call uses the default config; tune with"
[ "$(grep -c 'warning' "$TMP/err")" -eq 1 ] || fail "not exactly one warning"
has "$TMP/x.h" "NULL, 0u,"

# Two generates give the same bytes.
for k in softmax vector_add; do
  spec="$src/samples/$k/$k.json"
  expect_rc 0 "$tune" generate "$spec" --tuned "$TMP/$k.tuned.json" -o "$TMP/${k}_tuned.h"
  lacks "$TMP/err" "warning"
  expect_rc 0 "$tune" generate "$spec" --tuned "$TMP/$k.tuned.json" -o "$TMP/${k}_again.h" --require-fresh
  cmp -s "$TMP/${k}_tuned.h" "$TMP/${k}_again.h" || fail "$k: two generates differ"
  lacks "$TMP/${k}_tuned.h" "$TMP"
done
H="$TMP/softmax_tuned.h"
has "$H" "helion_status helion_softmax(void *helion_stream, const float *X, float *Y, int32_t M, int32_t N);"
has "$H" "int helion_softmax_explain_on(const helion_device_t *helion_dev, int64_t M, int64_t N,"
has "$H" "{80, 0, 0, helion_softmax_image_"
has "$H" "{90, 1, 0, helion_softmax_image_"
# The hostile device name is only in string literals, escaped.
VH="$TMP/vector_add_tuned.h"
has "$VH" '{"Evil \"*/ GPU\n#define x \?\?= \\ \303\251", 9, 0},'
[ "$(grep -c '^#define' "$VH")" -eq 1 ] || fail "a #define came out of a device name"

# Compiles as C11 and C++17, declarations only and with the definitions.
for k in softmax vector_add; do
  for impl in "" -DHELION_IMPLEMENTATION; do
    printf '#include "%s_tuned.h"\nint main(void) { return 0; }\n' "$k" >"$TMP/use.c"
    cp "$TMP/use.c" "$TMP/use.cpp"
    cc -std=c11 -Wall -Wextra -Werror -pedantic $impl -I"$inc" -I"$TMP" \
      -c "$TMP/use.c" -o "$TMP/use.o" 2>"$TMP/cc.err" ||
      fail "$k $impl: C11: $(head -5 "$TMP/cc.err")"
    c++ -std=c++17 -Wall -Wextra -Werror -pedantic $impl -I"$inc" -I"$TMP" \
      -c "$TMP/use.cpp" -o "$TMP/use.o" 2>"$TMP/cc.err" ||
      fail "$k $impl: C++17: $(head -5 "$TMP/cc.err")"
  done
done

# The dispatcher through the generated functions, linked with the runtime,
# and the launcher without a driver: a clean error, no crash.
# shellcheck disable=SC2086 # HELION_TEST_LINK_FLAGS: the build's sanitizers
if cc -std=c11 -Wall -Wextra -Werror ${HELION_TEST_LINK_FLAGS:-} -I"$inc" -I"$TMP" \
     "$data/softmax_app.c" "$rtlib" -ldl -lpthread -lm -o "$TMP/app" 2>"$TMP/cc.err"; then
  HELION_LIBCUDA_PATH=/nonexistent "$TMP/app" >"$TMP/app.out" 2>&1 ||
    fail "softmax_app: $(cat "$TMP/app.out")"
else
  fail "softmax_app does not build: $(head -5 "$TMP/cc.err")"
fi

# --depfile: a Makefile rule from the header to its inputs, paths escaped.
mkdir -p "$TMP/d ir"
expect_rc 0 "$tune" generate "$VA" --tuned "$TMP/vector_add.tuned.json" \
  -o "$TMP/d ir/va.h" --depfile "$TMP/d ir/va.d"
grep -qF "$(printf '%s' "$TMP/d ir/va.h" | sed 's/ /\\ /g'):" "$TMP/d ir/va.d" ||
  fail "depfile target: $(cat "$TMP/d ir/va.d")"
for dep in vector_add.json vector_add.cu helion/device.cuh vector_add.tuned.json; do
  grep -qF "$dep" "$TMP/d ir/va.d" || fail "depfile lacks $dep: $(cat "$TMP/d ir/va.d")"
done
[ "$(wc -l <"$TMP/d ir/va.d")" -eq 1 ] || fail "depfile: want one line"

# Stale and unparsable entries: one warning each, still used / dropped;
# --require-fresh fails and writes nothing.
expect_rc 0 "$tune" generate "$VA" --tuned "$TMP/vector_add_stale.tuned.json" -o "$TMP/stale.h"
has "$TMP/err" "N=1000003: source changed since the entry was tuned"
has "$TMP/err" "re-tune with helion-tune tune"
has "$TMP/err" "N=77: dropped: its best_config does not parse"
[ "$(grep -c 'warning' "$TMP/err")" -eq 2 ] || fail "want 2 warnings: $(cat "$TMP/err")"
has "$TMP/stale.h" 'N=1000003: config'
expect_rc 1 "$tune" generate "$VA" --tuned "$TMP/vector_add_stale.tuned.json" -o "$TMP/fresh.h" --require-fresh
has "$TMP/err" "--require-fresh"
[ -e "$TMP/fresh.h" ] && fail "--require-fresh wrote a header"

# Hostile names: refused by check and generate, with the reason.
long="$(head -c 100000 /dev/zero | tr '\0' a)"
i=0
# (Spelled for sed: \\ is one backslash of the JSON string.)
for name in 'a\\"b' 'a\\nb' 'x*/y' class int "$long" helion_x; do
  i=$((i + 1))
  sed "s|\"name\": \"vector_add\"|\"name\": \"$name\"|" "$VA" >"$TMP/h$i.json"
  cp "$src/samples/vector_add/vector_add.cu" "$TMP/"
  for cmd in check generate; do
    if [ $cmd = check ]; then expect_rc 1 "$tune" check "$TMP/h$i.json"
    else expect_rc 1 "$tune" generate "$TMP/h$i.json" --arch 90 -o "$TMP/h$i.h"; fi
    grep -q "json: name: " "$TMP/err" || fail "$cmd: name #$i: not refused as a name: $(head -c 300 "$TMP/err")"
    grep -qE "not a C identifier|keyword|characters long|reserved" "$TMP/err" ||
      fail "$cmd: name #$i: unclear message: $(head -c 300 "$TMP/err")"
  done
  [ -e "$TMP/h$i.h" ] && fail "a header was written for name #$i"
done

# A results file with "distilled" sections (softmax_distilled.tuned.json:
# trees written by hand over the real softmax configs, with ratio and
# product features and thresholds training shapes land on): the header's
# tree function, the leaf-only config in the table; stale, foreign-key,
# unknown-device and tree-less sections warn and fail --require-fresh; a
# malformed one is an error naming the file. Then the agreement test: a
# program linked with the runtime holds the generated dispatcher against
# the tool's own tree (tools/distill_predict) on every training shape and
# thousands between and around them.
TDIR="$TMP/tree"
mkdir -p "$TDIR"
for k in softmax_distilled softmax_distilled_bad; do
  "$tools/fresh_results" "$SOFT" "$data/$k.tuned.json" "$TDIR/$k.tuned.json" ||
    fail "fresh_results $k"
done
GOOD="$TDIR/softmax_distilled.tuned.json"
BAD="$TDIR/softmax_distilled_bad.tuned.json"
TH="$TDIR/softmax_tuned.h"

# The header: a tree per group, no warning, the same bytes twice.
expect_rc 0 "$tune" generate "$SOFT" --tuned "$GOOD" --arch 90 -o "$TH" --require-fresh
grep -q warning "$TMP/err" && fail "warnings: $(cat "$TMP/err")"
expect_rc 0 "$tune" generate "$SOFT" --tuned "$GOOD" --arch 90 -o "$TDIR/again.h"
cmp -s "$TH" "$TDIR/again.h" || fail "two generates differ"
has "$TH" "static int helion_softmax_tree_(unsigned helion_group, const int64_t *helion_key) {"
has "$TH" "  /* The distilled tree of device group 1 (helion_softmax_groups_[1]). */"
has "$TH" "    if (((double)helion_key[1] == 0.0 ? 0.0 : (double)helion_key[0] / (double)helion_key[1]) <= 0x1.5555555555555p-2) {"
has "$TH" "      if ((double)helion_key[0] * (double)helion_key[1] <= 0x1p+22) {"
has "$TH" "  helion_softmax_legal_, helion_softmax_tree_};"
has "$TH" '{"{\"block_sizes\":[128]}", helion_softmax_images_'
has "$TH" '"distilled trees: 2\n"'
# An unused column is not compiled in.
grep -qF '"{\"ROWS_PER_BLOCK\":4,' "$TH" && fail "an unused column is in the config table"

# The agreement test, per section (A100: group 0, H100: group 1).
# shellcheck disable=SC2086 # HELION_TEST_LINK_FLAGS: the build's sanitizers
if cc -std=c11 -Wall -Wextra -Werror ${HELION_TEST_LINK_FLAGS:-} -I"$inc" -I"$TDIR" \
     "$data/softmax_tree_app.c" "$rtlib" -ldl -lpthread -lm -o "$TDIR/app" 2>"$TDIR/cc.err"; then
  for i in 0 1; do
    "$tools/distill_predict" "$SOFT" "$GOOD" "$i" >"$TDIR/pred$i" ||
      fail "distill_predict $i"
    "$TDIR/app" <"$TDIR/pred$i" >"$TDIR/app$i.out" 2>&1 ||
      fail "distilled[$i]: the dispatcher disagrees: $(head -12 "$TDIR/app$i.out")"
    # Both kinds of shapes must occur, or the test checks less than it says.
    grep -qE "tree [1-9][0-9]{3,}, exact [1-9][0-9]*, illegal [1-9][0-9]*," "$TDIR/app$i.out" ||
      fail "distilled[$i]: want thousands of tree picks, exact and illegal ones: $(cat "$TDIR/app$i.out")"
  done
else
  fail "softmax_tree_app does not build: $(head -5 "$TDIR/cc.err")"
fi

# Sections that cannot serve: one warning each, the rest of the header as
# without them; --require-fresh fails on the first and writes nothing.
expect_rc 0 "$tune" generate "$SOFT" --tuned "$BAD" --arch 90 -o "$TDIR/bad.h"
has "$TMP/err" "distilled[0]: it has no tree: run helion-tune distill"
has "$TMP/err" "distilled[1]: source changed since it was distilled: re-run helion-tune distill"
has "$TMP/err" "distilled[2]: its keys are not the spec's (names and order)"
has "$TMP/err" "distilled[3]: its device Tesla T4 (7.5) has no tuned entries here"
[ "$(grep -c 'the header has no tree for it' "$TMP/err")" -eq 4 ] ||
  fail "want 4 warnings: $(cat "$TMP/err")"
has "$TDIR/bad.h" "  helion_softmax_legal_, NULL};"
expect_rc 1 "$tune" generate "$SOFT" --tuned "$BAD" --arch 90 -o "$TDIR/fresh.h" --require-fresh
has "$TMP/err" "softmax_distilled_bad.tuned.json: distilled[0]: it has no tree"
has "$TMP/err" "--require-fresh"
[ -e "$TDIR/fresh.h" ] && fail "--require-fresh wrote a header"

# A malformed section is an error naming the file and the section.
sed 's/"feature": "M\*N"/"feature": "M*Q"/' "$GOOD" >"$TDIR/malformed.tuned.json"
expect_rc 1 "$tune" generate "$SOFT" --tuned "$TDIR/malformed.tuned.json" --arch 90 -o "$TDIR/m.h"
has "$TMP/err" "malformed.tuned.json: distilled[1]: tree: feature \"M*Q\""
[ -e "$TDIR/m.h" ] && fail "a malformed section still gave a header"
# A leaf config that no longer parses in the space: warned, left out.
sed 's/"pid_type": "persistent_blocked"/"pid_type": "gone"/' "$GOOD" >"$TDIR/space.tuned.json"
expect_rc 0 "$tune" generate "$SOFT" --tuned "$TDIR/space.tuned.json" --arch 90 -o "$TDIR/s.h"
has "$TMP/err" "distilled[1]: its config"
has "$TMP/err" "does not parse in the current space"

[ "$FAILS" -eq 0 ] && echo ok || { echo "$FAILS failure(s)"; exit 1; }
