#!/usr/bin/env bash
# test_cache.sh: `helion-tune cache ls|show|rm` without a GPU, on entries
# written here in the cache's file format: ls lists them newest first and
# skips a corrupt file with one warning naming it, show prints one by hash or
# unique prefix, rm deletes one or --all, --dir and HELION_CACHE_DIR choose
# the directory, --help answers, and usage errors exit 2, missing or
# ambiguous keys 1. `tune` refuses an unknown HELION_AUTOTUNE_CACHE with 2.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
expect_rc() {
  local want="$1"
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $* (stderr: $(cat "$TMP/err"))"
}
has() { grep -qE -- "$2" "$1" || fail "$(basename "$1") lacks /$2/: $(cat "$1")"; }
lacks() { grep -qE -- "$2" "$1" && fail "$(basename "$1") has /$2/"; }

D="$TMP/c"
mkdir -p "$D"
# entry HASH KERNEL SHAPE MTIME
entry() {
  cat >"$D/$1.best_config" <<JSON
{
  "entry": {"best_config": {"ITEMS": 4}, "best_ms": 0.125, "algorithm": "LFBOTreeSearch", "effort": "quick", "seed": 1},
  "flat_config": [1, 2],
  "format": 1,
  "key": {"fields": {"hardware": "NVIDIA H100", "kernel": "$2", "shape": "$3"}, "type": "LooseAutotuneCacheKey"}
}
JSON
  touch -d "@$4" "$D/$1.best_config"
}
entry aaaa1111 vector_add N=1024 1000000000
entry aaaa2222 matmul M=64,N=64 1000000100
entry bbbb3333 softmax N=8 1000000050
printf '{"key": ' >"$D/cccc4444.best_config"

expect_rc 0 "$HELION_TUNE" cache ls --dir "$D"
has "$TMP/out" '^KEY +KERNEL +SHAPE +DEVICE +BEST_MS +AGE'
has "$TMP/out" '^aaaa2222 +matmul +M=64,N=64 +NVIDIA H100 +0.1250 +[0-9]+d$'
[ "$(sed -n 2p "$TMP/out" | cut -c1-8)$(sed -n 3p "$TMP/out" | cut -c1-8)$(sed -n 4p "$TMP/out" | cut -c1-8)" = aaaa2222bbbb3333aaaa1111 ] ||
  fail "ls not newest first: $(cat "$TMP/out")"
[ "$(grep -c 'Skipping corrupt cache file' "$TMP/err")" -eq 1 ] || fail "want one warning: $(cat "$TMP/err")"
has "$TMP/err" "Skipping corrupt cache file $D/cccc4444.best_config: "
has "$TMP/err" '^3 entries in '
HELION_CACHE_DIR="$D" expect_rc 0 "$HELION_TUNE" cache ls
has "$TMP/out" 'softmax'

expect_rc 0 "$HELION_TUNE" cache show bbbb --dir "$D"
cmp -s "$TMP/out" "$D/bbbb3333.best_config" || fail "show differs from the file"
expect_rc 1 "$HELION_TUNE" cache show aaaa --dir "$D"
has "$TMP/err" "'aaaa' names 2 entries"
expect_rc 1 "$HELION_TUNE" cache show dddd --dir "$D"
has "$TMP/err" "no entry 'dddd'"
expect_rc 2 "$HELION_TUNE" cache show --dir "$D"
has "$TMP/err" 'missing KEY'
expect_rc 2 "$HELION_TUNE" cache show '../x' --dir "$D"
expect_rc 2 "$HELION_TUNE" cache frob
has "$TMP/err" "unknown command 'frob'"
expect_rc 2 "$HELION_TUNE" cache
expect_rc 2 "$HELION_TUNE" cache ls --all
expect_rc 2 "$HELION_TUNE" cache rm aaaa1111 --all --dir "$D"
expect_rc 2 "$HELION_TUNE" cache ls --bogus
HELION_AUTOTUNE_CACHE=RemoteAutotuneCache expect_rc 2 "$HELION_TUNE" cache ls --dir "$D"
has "$TMP/err" 'HELION_AUTOTUNE_CACHE'
HELION_AUTOTUNE_CACHE=Bogus expect_rc 2 "$HELION_TUNE" tune \
  "${HELION_SOURCE_DIR:?}/samples/vector_add/vector_add.json"
has "$TMP/err" 'HELION_AUTOTUNE_CACHE'

expect_rc 0 "$HELION_TUNE" cache --help
for w in HELION_CACHE_DIR HELION_FORCE_AUTOTUNE HELION_SKIP_CACHE StrictLocalAutotuneCache \
  HELION_BEST_AVAILABLE_MAX_CACHE_SCAN 'ls ' 'show KEY' 'rm KEY' --all --dir 'Exit status'; do
  has "$TMP/out" "$w"
done
expect_rc 0 "$HELION_TUNE" --help
has "$TMP/out" '^  cache '

expect_rc 0 "$HELION_TUNE" cache rm bbbb --dir "$D"
has "$TMP/out" "^removed $D/bbbb3333.best_config$"
[ -e "$D/bbbb3333.best_config" ] && fail "rm left the file"
expect_rc 1 "$HELION_TUNE" cache rm bbbb --dir "$D"
expect_rc 0 "$HELION_TUNE" cache rm --all --dir "$D"
[ "$(grep -c '^removed ' "$TMP/out")" -eq 3 ] || fail "rm --all: $(cat "$TMP/out")"
[ -z "$(ls -A "$D")" ] || fail "rm --all left $(ls -A "$D")"
expect_rc 0 "$HELION_TUNE" cache ls --dir "$TMP/none"
has "$TMP/err" '^0 entries'

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "cache CLI passed"
