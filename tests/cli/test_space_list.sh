#!/usr/bin/env bash
# helion-tune space --list: one line per valid configuration (as many as
# `space --json` counts), each config accepted by `tune --config`, its
# macros matching its values, and the launch geometry of one config worked
# out by hand; the refusals (several shapes, a space too large, --json).
set -euo pipefail
tune="${HELION_TUNE:?}"
src="${HELION_SOURCE_DIR:?}"
softmax="$src/samples/softmax/softmax.json"
shape="M=4096,N=1024"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$tune" space "$softmax" --shape "$shape" --list >"$tmp/list"
"$tune" space "$softmax" --shape "$shape" --json >"$tmp/space.json"

python3 - "$tmp/list" "$tmp/space.json" <<'EOF' || fail "listing"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
shape = json.load(open(sys.argv[2]))["shapes"][0]
assert shape["valid_exact"] is True, shape
valid = int(shape["size"]) - int(shape["removed_by_restrictions"])
assert len(lines) == valid, (len(lines), valid)
configs = [json.dumps(l["config"], sort_keys=True) for l in lines]
assert len(set(configs)) == len(configs), "duplicate configs"
pid_codes = {"flat": 0, "persistent_blocked": 2, "persistent_interleaved": 3}
for l in lines:
    c = l["config"]
    d = dict(x.split("=", 1) for x in l["defines"])
    assert l["options"] == [], l
    # The macros carry the config's values (DESIGN.md section 4's table).
    assert d["BLOCK_N"] == str(c["block_sizes"][0]), l
    assert d["HL_NUM_WARPS"] == str(c["num_warps"]), l
    assert d["HL_NUM_THREADS"] == str(32 * c["num_warps"]), l
    assert d["ROWS_PER_BLOCK"] == str(c["ROWS_PER_BLOCK"]), l
    assert d["HL_PID_TYPE"] == str(pid_codes[c["pid_type"]]), l
    # The restrictions hold (the spec's three).
    r, w, b = c["ROWS_PER_BLOCK"], c["num_warps"], c["block_sizes"][0]
    assert r <= w and 32 * w <= b * r <= 32 * 32 * w, l
    assert l["block"] == [32 * w, 1, 1] and l["shared_mem"] == 0, l
    # Flat: cdiv(M, ROWS_PER_BLOCK) blocks; persistent: min(that, 132 SMs).
    tiles = -(-4096 // r)
    want = tiles if c["pid_type"] == "flat" else min(tiles, 132)
    assert l["grid"] == [want, 1, 1], l
# The default config (BLOCK_N 1024, 4 warps, 1 row, flat), by hand.
default = [l for l in lines if l["config"] == {
    "ROWS_PER_BLOCK": 1, "block_sizes": [1024], "num_warps": 4,
    "pid_type": "flat"}]
assert len(default) == 1, "default config not listed"
assert [l["default"] for l in lines].count(True) == 1, "one default"
assert default[0]["default"] is True, default
assert default[0]["grid"] == [4096, 1, 1], default
assert default[0]["block"] == [128, 1, 1], default
EOF

# A listed config is one `tune --config` accepts: it parses and gets as far
# as loading the driver (kept away here, so that no GPU is used).
cfg=$(sed -n 7p "$tmp/list" | python3 -c \
  'import json, sys; print(json.dumps(json.load(sys.stdin)["config"]))')
set +e
msg=$(HELION_LIBCUDA_PATH=/nonexistent/libcuda.so.1 "$tune" tune "$softmax" \
  --shape "$shape" --config "$cfg" 2>&1)
set -e
grep -q -- "--config" <<<"$msg" && fail "config rejected: $msg"
grep -q "no CUDA driver found" <<<"$msg" || fail "tune --config: $msg"

# maxnreg is an NVRTC option, not a macro: it goes to "options". The tiny
# spec has 6 valid configs at n=1000 (test_space.sh), so 12 with maxnreg.
cp "${HELION_TEST_DATA:?}/space/tiny.cu" "$tmp/"
python3 - "${HELION_TEST_DATA}/space/tiny.json" "$tmp/tiny.json" <<'EOF'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["space"]["maxnreg"] = [None, 128]
json.dump(spec, open(sys.argv[2], "w"))
EOF
"$tune" space "$tmp/tiny.json" --shape n=1000 --list >"$tmp/tiny" ||
  fail "tiny --list"
python3 - "$tmp/tiny" <<'EOF' || fail "tiny: $(cat "$tmp/tiny")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) == 12, len(lines)
for l in lines:
    want = [] if l["config"]["maxnreg"] is None else ["--maxrregcount=128"]
    assert l["options"] == want, l
    assert not any("maxrregcount" in d for d in l["defines"]), l
EOF

set +e
# Several shapes and no --shape: a usage error.
msg=$("$tune" space "$softmax" --list 2>&1); rc=$?
[ $rc = 2 ] || fail "--list without --shape should exit 2, got $rc"
grep -q -- "--list needs one shape" <<<"$msg" || fail "message: $msg"
# --json and --list together: a usage error.
"$tune" space "$softmax" --shape "$shape" --list --json >/dev/null 2>&1
[ $? = 2 ] || fail "--list --json should exit 2"
# A space beyond the enumeration limit is refused, with its size.
msg=$("$tune" space "$src/samples/matmul/matmul.json" \
  --shape M=4096,N=4096,K=4096 --list 2>&1 >"$tmp/big"); rc=$?
set -e
[ $rc = 1 ] || fail "too large a space should exit 1, got $rc"
grep -q "the space has 2419200 configurations, more than the 2000000" \
  <<<"$msg" || fail "message: $msg"
[ ! -s "$tmp/big" ] || fail "a refused --list printed lines"
"$tune" space --help | grep -q -- "--list" || fail "--help"
"$tune" space --help | grep -q "at most 2000000$" || fail "--help: the limit"
echo "ok"
