#!/usr/bin/env bash
# helion-tune results merge: fragments made from the real entries of
# samples/app/tuned/softmax.tuned.json (shape and best_ms varied) merge into
# the same bytes in any order and under any file names; a conflict keeps the
# faster entry and is reported on stderr (and in --json); --into merges in
# place and leaves the old file intact when the merge fails (a malformed or
# missing fragment, another kernel, a newer format); usage errors exit 2.
set -uo pipefail
tune="${HELION_TUNE:?}"
SRC="${HELION_SOURCE_DIR:?}"
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
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ: $(diff "$1" "$2" | head -5)"; }

SAMPLE="$SRC/samples/app/tuned/softmax.tuned.json"
# frag OUT ENTRY [M [BEST_MS]]: a results file with the sample's entry ENTRY,
# its shape's M and its best_ms replaced when given.
frag() {
  python3 - "$SAMPLE" "$@" <<'EOF'
import json, sys
sample, out, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
e = json.load(open(sample))["entries"][i]
if len(sys.argv) > 4 and sys.argv[4] != "-":
    e["shape"]["M"] = int(sys.argv[4])
if len(sys.argv) > 5:
    e["best_ms"] = float(sys.argv[5])
json.dump({"format_version": 1, "entries": [e]}, open(out, "w"), indent=1)
EOF
}
frag "$TMP/f1.json" 0                 # H100 M=4096
frag "$TMP/f2.json" 1                 # H200 M=4096
frag "$TMP/f3.json" 0 8192            # H100 M=8192
frag "$TMP/f4.json" 0 - 0.5           # H100 M=4096 again, slower: a conflict
F=("$TMP/f1.json" "$TMP/f2.json" "$TMP/f3.json" "$TMP/f4.json")

# Help and usage errors.
expect_rc 0 "$tune" results merge --help
has "$TMP/out" "--into FILE"
has "$TMP/out" "smaller best_ms"
expect_rc 0 "$tune" results --help
has "$TMP/out" "results merge FRAGMENT"
expect_rc 2 "$tune" results merge
expect_rc 2 "$tune" results merge "${F[@]}"
has "$TMP/err" "give one of -o FILE"
expect_rc 2 "$tune" results merge -o "$TMP/x.json"
has "$TMP/err" "missing FRAGMENT"
expect_rc 2 "$tune" results merge "${F[@]}" -o "$TMP/x.json" --into "$TMP/y.json"
expect_rc 2 "$tune" results merge "${F[@]}" -o "$TMP/x.json" -o "$TMP/y.json"
expect_rc 2 "$tune" results merge "${F[@]}" -o "$TMP/x.json" --frobnicate
expect_rc 2 "$tune" results merge "${F[@]}" -o ""
expect_rc 2 "$tune" results merge "${F[@]}" -o "$TMP/f2.json"
has "$TMP/err" "that is the FRAGMENT this command reads"
[ -e "$TMP/x.json" ] && fail "a usage error wrote the output"

# The same bytes in any order, and under other file names.
expect_rc 0 "$tune" results merge "${F[@]}" -o "$TMP/m1.json"
has "$TMP/err" "conflict: NVIDIA H100 80GB HBM3 (9.0) M=4096,N=1024: kept $TMP/f1.json (0.016288ms), dropped $TMP/f4.json (0.5ms)"
has "$TMP/err" "merged 4 files into $TMP/m1.json: 3 entries, 1 conflict"
[ "$(grep -c '^conflict: ' "$TMP/err")" -eq 1 ] || fail "conflict lines: $(cat "$TMP/err")"
expect_rc 0 "$tune" results merge "$TMP/f4.json" "$TMP/f3.json" "$TMP/f2.json" "$TMP/f1.json" -o "$TMP/m2.json"
has "$TMP/err" "kept $TMP/f1.json (0.016288ms), dropped $TMP/f4.json"
expect_rc 0 "$tune" results merge "$TMP/f3.json" "$TMP/f1.json" "$TMP/f4.json" "$TMP/f2.json" -o "$TMP/m3.json"
mkdir "$TMP/d"
cp "$TMP/f1.json" "$TMP/d/z.json"; cp "$TMP/f4.json" "$TMP/d/a.json"
expect_rc 0 "$tune" results merge "$TMP/d/a.json" "$TMP/f2.json" "$TMP/d/z.json" "$TMP/f3.json" -o "$TMP/m4.json"
same "$TMP/m1.json" "$TMP/m2.json"
same "$TMP/m1.json" "$TMP/m3.json"
same "$TMP/m1.json" "$TMP/m4.json"
# The faster entry is the one kept, whole (the sample's provenance members
# included), and the file lists like any results file.
python3 - "$TMP/m1.json" "$SAMPLE" <<'EOF' || fail "merged entries"
import json, sys
m, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
es = m["entries"]
assert len(es) == 3, len(es)
assert es[0] == s["entries"][0], "the kept entry is not the sample's whole entry"
assert [e["shape"]["M"] for e in es] == [4096, 8192, 4096], es
EOF
expect_rc 0 "$tune" results "$SRC/samples/softmax/softmax.json" --tuned "$TMP/m1.json"
has "$TMP/err" "3 entries"

# --json: the summary on stdout.
expect_rc 0 "$tune" results merge "${F[@]}" -o "$TMP/m5.json" --json
python3 - "$TMP/out" "$TMP" <<'EOF' || fail "--json: $(cat "$TMP/out")"
import json, sys
d, tmp = json.load(open(sys.argv[1])), sys.argv[2]
assert d["entries"] == 3 and d["inputs"] == 4, d
(c,) = d["conflicts"]
assert c["device"] == "NVIDIA H100 80GB HBM3" and c["compute_capability"] == "9.0", c
assert c["shape"] == {"M": 4096, "N": 1024}, c
assert c["kept"]["file"] == tmp + "/f1.json" and c["dropped"] == {"file": tmp + "/f4.json", "best_ms": 0.5}, c
EOF
same "$TMP/m1.json" "$TMP/m5.json"

# --into: the committed file's entries are inputs too; written in place.
cp "$SAMPLE" "$TMP/softmax.tuned.json"
expect_rc 0 "$tune" results merge "$TMP/f3.json" "$TMP/f4.json" --into "$TMP/softmax.tuned.json"
has "$TMP/err" "merged 3 files into $TMP/softmax.tuned.json: 3 entries, 1 conflict"
expect_rc 0 "$tune" results merge "$SAMPLE" "$TMP/f4.json" "$TMP/f3.json" -o "$TMP/m6.json"
same "$TMP/softmax.tuned.json" "$TMP/m6.json"
# Into a file not there yet: it starts empty.
expect_rc 0 "$tune" results merge "$TMP/f2.json" --into "$TMP/new.tuned.json"
has "$TMP/new.tuned.json" '"NVIDIA H200"'

# A failed merge writes nothing: the old file stays as it was.
cp "$TMP/softmax.tuned.json" "$TMP/before.json"
printf '{"format_version": 1,\n "entries": [}\n' >"$TMP/bad.json"
expect_rc 1 "$tune" results merge "$TMP/f1.json" "$TMP/bad.json" --into "$TMP/softmax.tuned.json"
has "$TMP/err" "bad.json:2:"
has "$TMP/err" "nothing written"
same "$TMP/before.json" "$TMP/softmax.tuned.json"
expect_rc 1 "$tune" results merge "$TMP/f1.json" "$TMP/shard-9.json" --into "$TMP/softmax.tuned.json"
has "$TMP/err" "shard-9.json"
same "$TMP/before.json" "$TMP/softmax.tuned.json"
printf '{"format_version": 9, "entries": []}\n' >"$TMP/newer.json"
expect_rc 1 "$tune" results merge "$TMP/newer.json" "$TMP/f1.json" -o "$TMP/n.json"
has "$TMP/err" "newer helion-tune"
[ -e "$TMP/n.json" ] && fail "a failed merge wrote -o"
# Another kernel: rmsnorm has softmax's shape keys but other parameters.
expect_rc 1 "$tune" results merge "$SRC/samples/app/tuned/rmsnorm.tuned.json" "$TMP/f3.json" \
  --into "$TMP/softmax.tuned.json"
has "$TMP/err" "rmsnorm.tuned.json"
has "$TMP/err" "different kernels"
same "$TMP/before.json" "$TMP/softmax.tuned.json"
expect_rc 1 "$tune" results merge "$SRC/samples/app/tuned/vector_add.tuned.json" "$TMP/f3.json" -o "$TMP/n.json"
has "$TMP/err" "shape keys"

# An entry of another source version: kept, with a warning.
python3 - "$TMP/f3.json" "$TMP/old.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["entries"][0]["source_hash"] = "0" * 64
d["entries"][0]["shape"]["M"] = 512
json.dump(d, open(sys.argv[2], "w"))
EOF
expect_rc 0 "$tune" results merge "$TMP/f1.json" "$TMP/old.json" -o "$TMP/o.json"
has "$TMP/err" "another version of the kernel"
has "$TMP/err" "2 entries"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed"
  exit 1
fi
echo "results merge passed"
