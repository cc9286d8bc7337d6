#!/usr/bin/env bash
# helion-tune space: exact counts on a tiny spec whose numbers are worked out
# by hand, the JSON form, and the exit codes.
set -euo pipefail
tune="${HELION_TUNE:?}"
spec="${HELION_TEST_DATA:?}/space/tiny.json"
fail() { echo "FAIL: $*" >&2; exit 1; }

# BLOCK in {16,32,64} x num_warps in {1,2,4} = 9 configurations.
# "BLOCK >= 16 * num_warps" keeps (16,1) (32,1) (32,2) (64,1) (64,2) (64,4);
# with n=20, "BLOCK <= 2 * n" also drops BLOCK=64: 3 remain.
out=$("$tune" space "$spec" 2>&1)
grep -q "total size:        9$" <<<"$out" || fail "total size: $out"
grep -q "remove 3 (33.33%), 6 valid (counted exactly)" <<<"$out" || fail "n=1000: $out"
grep -q "remove 6 (66.67%), 3 valid (counted exactly)" <<<"$out" || fail "n=20: $out"

out=$("$tune" space "$spec" --shape n=20 2>&1)
[ "$(grep -c "total size" <<<"$out")" = 1 ] || fail "--shape should report one shape: $out"

"$tune" space "$spec" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["spec"] == "tiny", d
s = d["shapes"]
assert [x["shape"] for x in s] == [{"n": 1000}, {"n": 20}], s
for x, removed in zip(s, (3, 6)):
    assert x["size"] == "9" and x["valid_exact"] is True, x
    assert x["removed_by_restrictions"] == removed, x
    assert [(p["name"], p["kind"], p["cardinality"]) for p in x["parameters"]] == [
        ("BLOCK", "power_of_two", 3), ("num_warps", "power_of_two", 3)], x
' || fail "--json"

# A space beyond the enumeration limit is estimated, and says so; its size is
# still exact (5*5*4*6*7*2*2*5*4*3*9*3*4*3*4 = 1306368000).
big="${HELION_TEST_DATA}/specs/matmul.json"
out=$("$tune" space "$big" --shape M=4096,N=4096,K=4096 --samples 1000 2>&1)
grep -q "total size:        1306368000$" <<<"$out" || fail "big size: $out"
grep -q "valid (estimated from 1000 samples)" <<<"$out" || fail "estimate: $out"

# Exit codes: 2 for usage, 1 for a bad spec.
set +e
"$tune" space --bogus >/dev/null 2>&1; [ $? = 2 ] || fail "unknown flag should exit 2"
"$tune" space >/dev/null 2>&1; [ $? = 2 ] || fail "missing SPEC should exit 2"
"$tune" space "$spec" --shape m=3 >/dev/null 2>&1; [ $? = 2 ] || fail "bad --shape should exit 2"
# --samples has an upper bound, said with the range.
msg=$("$tune" space "$spec" --samples 100000001 2>&1); rc=$?
[ $rc = 2 ] || fail "--samples over the bound should exit 2"
grep -qF -- "--samples 100000001: give 1 to 100000000 samples" <<<"$msg" || fail "message: $msg"
msg=$("$tune" space "$spec" --samples 0 2>&1); rc=$?
[ $rc = 2 ] || fail "--samples 0 should exit 2"
msg=$("$tune" space /nonexistent.json 2>&1); rc=$?
set -e
[ $rc = 1 ] || fail "missing spec should exit 1"
grep -q "/nonexistent.json: cannot open" <<<"$msg" || fail "message: $msg"
"$tune" space --help | grep -q "usage: helion-tune space" || fail "--help"
echo "ok"
