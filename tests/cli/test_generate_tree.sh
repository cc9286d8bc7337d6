#!/usr/bin/env bash
# helion-tune generate with a "distilled" section (tests/data/generate/
# softmax_distilled.tuned.json, trees written by hand over the real softmax
# configs, with ratio and product features and thresholds a training shape
# lands on): the header's tree function, the leaf-only config in the
# table, byte-identical twice; stale, foreign-key, unknown-device and
# tree-less sections warn and fail --require-fresh; a malformed one is an
# error naming the file. Then the agreement test: a program linked with the
# runtime holds the generated dispatcher against the tool's own tree
# (tools/distill_predict) on every training shape and thousands between
# and around them.
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
command -v cc >/dev/null || { echo "skipping: no cc to compile the header with"; exit 77; }

SOFT="$src/samples/softmax/softmax.json"
for k in softmax_distilled softmax_distilled_bad; do
  "$tools/fresh_results" "$SOFT" "$data/$k.tuned.json" "$TMP/$k.tuned.json" ||
    fail "fresh_results $k"
done
GOOD="$TMP/softmax_distilled.tuned.json"
BAD="$TMP/softmax_distilled_bad.tuned.json"
H="$TMP/softmax_tuned.h"

# The header: a tree per group, no warning, the same bytes twice.
expect_rc 0 "$tune" generate "$SOFT" --tuned "$GOOD" --arch 90 -o "$H" --require-fresh
grep -q warning "$TMP/err" && fail "warnings: $(cat "$TMP/err")"
expect_rc 0 "$tune" generate "$SOFT" --tuned "$GOOD" --arch 90 -o "$TMP/again.h"
cmp -s "$H" "$TMP/again.h" || fail "two generates differ"
has "$H" "static int helion_softmax_tree_(unsigned helion_group, const int64_t *helion_key) {"
has "$H" "  /* The distilled tree of device group 1 (helion_softmax_groups_[1]). */"
has "$H" "    if (((double)helion_key[1] == 0.0 ? 0.0 : (double)helion_key[0] / (double)helion_key[1]) <= 0x1.5555555555555p-2) {"
has "$H" "      if ((double)helion_key[0] * (double)helion_key[1] <= 0x1p+22) {"
has "$H" "  helion_softmax_legal_, helion_softmax_tree_};"
has "$H" '{"{\"block_sizes\":[128]}", helion_softmax_images_'
has "$H" '"distilled trees: 2\n"'
# An unused column is not compiled in.
grep -qF '"{\"ROWS_PER_BLOCK\":4,' "$H" && fail "an unused column is in the config table"

# The agreement test, per section (A100: group 0, H100: group 1).
# shellcheck disable=SC2086 # HELION_TEST_LINK_FLAGS: the build's sanitizers
if cc -std=c11 -Wall -Wextra -Werror ${HELION_TEST_LINK_FLAGS:-} -I"$inc" -I"$TMP" \
     "$data/softmax_tree_app.c" "$rtlib" -ldl -lpthread -lm -o "$TMP/app" 2>"$TMP/cc.err"; then
  for i in 0 1; do
    "$tools/distill_predict" "$SOFT" "$GOOD" "$i" >"$TMP/pred$i" ||
      fail "distill_predict $i"
    "$TMP/app" <"$TMP/pred$i" >"$TMP/app$i.out" 2>&1 ||
      fail "distilled[$i]: the dispatcher disagrees: $(head -12 "$TMP/app$i.out")"
    # Both kinds of shapes must occur, or the test checks less than it says.
    grep -qE "tree [1-9][0-9]{3,}, exact [1-9][0-9]*, illegal [1-9][0-9]*," "$TMP/app$i.out" ||
      fail "distilled[$i]: want thousands of tree picks, exact and illegal ones: $(cat "$TMP/app$i.out")"
  done
else
  fail "softmax_tree_app does not build: $(head -5 "$TMP/cc.err")"
fi

# Sections that cannot serve: one warning each, the rest of the header as
# without them; --require-fresh fails on the first and writes nothing.
expect_rc 0 "$tune" generate "$SOFT" --tuned "$BAD" --arch 90 -o "$TMP/bad.h"
has "$TMP/err" "distilled[0]: it has no tree: run helion-tune distill"
has "$TMP/err" "distilled[1]: source changed since it was distilled: re-run helion-tune distill"
has "$TMP/err" "distilled[2]: its keys are not the spec's (names and order)"
has "$TMP/err" "distilled[3]: its device Tesla T4 (7.5) has no tuned entries here"
[ "$(grep -c 'the header has no tree for it' "$TMP/err")" -eq 4 ] ||
  fail "want 4 warnings: $(cat "$TMP/err")"
has "$TMP/bad.h" "  helion_softmax_legal_, NULL};"
expect_rc 1 "$tune" generate "$SOFT" --tuned "$BAD" --arch 90 -o "$TMP/fresh.h" --require-fresh
has "$TMP/err" "softmax_distilled_bad.tuned.json: distilled[0]: it has no tree"
has "$TMP/err" "--require-fresh"
[ -e "$TMP/fresh.h" ] && fail "--require-fresh wrote a header"

# A malformed section is an error naming the file and the section.
sed 's/"feature": "M\*N"/"feature": "M*Q"/' "$GOOD" >"$TMP/malformed.tuned.json"
expect_rc 1 "$tune" generate "$SOFT" --tuned "$TMP/malformed.tuned.json" --arch 90 -o "$TMP/m.h"
has "$TMP/err" "malformed.tuned.json: distilled[1]: tree: feature \"M*Q\""
[ -e "$TMP/m.h" ] && fail "a malformed section still gave a header"
# A leaf config that no longer parses in the space: warned, left out.
sed 's/"pid_type": "persistent_blocked"/"pid_type": "gone"/' "$GOOD" >"$TMP/space.tuned.json"
expect_rc 0 "$tune" generate "$SOFT" --tuned "$TMP/space.tuned.json" --arch 90 -o "$TMP/s.h"
has "$TMP/err" "distilled[1]: its config"
has "$TMP/err" "does not parse in the current space"

[ "$FAILS" -eq 0 ] && echo ok || { echo "$FAILS failure(s)"; exit 1; }
