#!/usr/bin/env bash
# test_shard.sh: `helion-tune tune SPEC... --shard I/N` against the benchmark
# worker's test double (HELION_BENCH_WORKER, tests/tools/fake_bench_worker:
# real NVRTC compiles, pretend runs whose times are a hash of the cubin, so a
# search with a fixed seed and --max-evals is repeatable). Four sample specs
# copied to a temp directory, 14 (spec, shape) work items:
#   - several SPECs without --shard tune every spec into its own default
#     results file, one --json line per spec;
#   - --shard 0/1 (searching again, no cache) writes fragments whose entries
#     equal the unsharded run's in everything but wall-clock times;
#   - for N = 2..5, the shards' --dry-run items and the entries of the
#     fragments they write (from the cache the first run filled) each cover
#     every item exactly once, and agree shard by shard;
#   - --shard auto from Slurm's variables and from JOB_COMPLETION_INDEX plus
#     --shards picks the same shard as the explicit I/N;
#   - bad values exit 2 naming the problem.
set -u

[ -n "${HELION_TUNE:-}" ] || { echo "HELION_TUNE not set"; exit 77; }
[ -n "${HELION_BENCH_WORKER:-}" ] || { echo "HELION_BENCH_WORKER not set"; exit 77; }
SRC="${HELION_SOURCE_DIR:?}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
  echo "FAIL: $*"
  FAILS=$((FAILS + 1))
}
python3 -c 'import json' || { echo "python3 missing"; exit 77; }

export HELION_AUTOTUNE_PROGRESS_BAR=0 HELION_CACHE_DIR="$TMP/cache"
# Relative paths (./helion-fragments) land in a directory of the test's own.
mkdir "$TMP/work" && cd "$TMP/work" || exit 1
unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN \
  SLURM_ARRAY_TASK_STEP JOB_COMPLETION_INDEX
for s in softmax rmsnorm vector_add transpose; do
  mkdir -p "$TMP/specs/$s"
  cp "$SRC/samples/$s/$s.json" "$SRC/samples/$s/$s.cu" "$TMP/specs/$s/"
done
# Given in no particular order: the work items' order is the specs' names.
SPECS=("$TMP/specs/vector_add/vector_add.json" "$TMP/specs/softmax/softmax.json"
  "$TMP/specs/transpose/transpose.json" "$TMP/specs/rmsnorm/rmsnorm.json")
TUNE=("$HELION_TUNE" tune "${SPECS[@]}" --effort quick --max-evals 4 --seed 3
  --jobs 2)

# expect_rc WANT CMD...: runs CMD with stdout/stderr in $TMP/out, $TMP/err.
expect_rc() {
  local want="$1"
  shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "exit $rc, want $want: $* (stderr: $(tail -5 "$TMP/err"))"
}
expect_err() {
  grep -qF -- "$1" "$TMP/err" || fail "stderr lacks '$1': $(cat "$TMP/err")"
}

# --help documents the flags and the scheduler variables.
expect_rc 0 "$HELION_TUNE" tune --help
for w in "SPEC..." --shard --shards --fragment-dir --dry-run --list-shards \
  SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_MIN SLURM_ARRAY_TASK_COUNT \
  JOB_COMPLETION_INDEX "results merge" "ceil(log2"; do
  grep -qF -- "$w" "$TMP/out" || fail "--help does not mention $w"
done

# Usage errors: exit 2, the problem named, nothing tuned.
expect_rc 2 "${TUNE[@]}" --shard 3/2
expect_err "the index 3 is not below the shard count 2"
expect_rc 2 "${TUNE[@]}" --shard -1/2
expect_err "the index '-1'"
expect_rc 2 "${TUNE[@]}" --shard a/b
expect_err "the index 'a'"
expect_rc 2 "${TUNE[@]}" --shard 0/0
expect_err "the shard count '0'"
expect_rc 2 "${TUNE[@]}" --shard auto
expect_err "SLURM_ARRAY_TASK_ID is not set"
expect_rc 2 "${TUNE[@]}" --shard auto --shards 4
expect_err "JOB_COMPLETION_INDEX is not set"
JOB_COMPLETION_INDEX=4 expect_rc 2 "${TUNE[@]}" --shard auto --shards 4
expect_err "JOB_COMPLETION_INDEX=4 is not below --shards 4"
SLURM_ARRAY_TASK_ID=3 expect_rc 2 "${TUNE[@]}" --shard auto
expect_err "SLURM_ARRAY_TASK_COUNT is not set"
expect_rc 2 "${TUNE[@]}" --shard 0/2 --shards 2
expect_err "--shards goes with --shard auto"
expect_rc 2 "${TUNE[@]}" --dry-run
expect_err "--dry-run goes with --shard"
expect_rc 2 "${TUNE[@]}" --fragment-dir "$TMP/x"
expect_err "--fragment-dir goes with --shard"
for flag in "--shape N=4096" "--trace $TMP/t" "--tuned $TMP/t.json" \
  "--config {}" "--options-json $TMP/o.json" "--shapes-from $TMP/m"; do
  # shellcheck disable=SC2086
  expect_rc 2 "${TUNE[@]}" $flag
  expect_err "${flag%% *} needs exactly one SPEC (4 given)"
done
expect_rc 2 "$HELION_TUNE" tune "${SPECS[0]}" --shard 0/2 --tuned "$TMP/t.json"
expect_err "--tuned and --shard"
[ -e "$TMP/x" ] || [ -e helion-fragments ] && fail "a usage error wrote files"

# items FILE...: the work items of --dry-run outputs, one "spec shape" each.
items() { cat "$@" | awk '{print $1, $2}'; }
# entries FILE...: the items of results files, in the same form.
entries() {
  python3 - "$@" <<'PY'
import json, re, sys
for f in sys.argv[1:]:
    spec = re.sub(r"\.(shard-.*\.)?tuned\.json$", "", f.split("/")[-1])
    for e in json.load(open(f))["entries"]:
        print(spec, ",".join("%s=%d" % kv for kv in e["shape"].items()))
PY
}

# Every item once: --shard 0/1 lists the 14 shapes of the four specs, in
# canonical order (specs by name, shapes in spec order).
expect_rc 0 "${TUNE[@]}" --shard 0/1 --dry-run
items "$TMP/out" >"$TMP/all"
[ "$(wc -l <"$TMP/all")" -eq 14 ] || fail "0/1 lists $(wc -l <"$TMP/all") items, want 14"
[ "$(cut -d' ' -f1 "$TMP/all" | uniq | tr '\n' ' ')" = "rmsnorm softmax transpose vector_add " ] ||
  fail "items not in spec-name order: $(cut -d' ' -f1 "$TMP/all" | uniq | tr '\n' ' ')"
head -1 "$TMP/all" | grep -qx "rmsnorm M=4096,N=4096" || fail "first item $(head -1 "$TMP/all")"
expect_err "shard 0/1: 14 of 14 work items"
[ -e helion-fragments ] && fail "--dry-run created helion-fragments"
# --list-shards is --dry-run.
expect_rc 0 "${TUNE[@]}" --shard 1/3 --list-shards
cp "$TMP/out" "$TMP/list13"
expect_rc 0 "${TUNE[@]}" --shard 1/3 --dry-run
cmp -s "$TMP/out" "$TMP/list13" || fail "--list-shards differs from --dry-run"

# The unsharded run: every spec into its own default results file (and the
# cache, which the sharded runs below read).
HELION_FORCE_AUTOTUNE=1 expect_rc 0 "${TUNE[@]}" --json
[ "$(wc -l <"$TMP/out")" -eq 4 ] || fail "--json printed $(wc -l <"$TMP/out") lines, want one per spec"
python3 -c '
import json, sys
names = [json.loads(l)["spec"] for l in open(sys.argv[1])]
assert names == ["rmsnorm", "softmax", "transpose", "vector_add"], names
' "$TMP/out" || fail "--json lines not one per spec in name order"
WHOLE=()
for s in rmsnorm softmax transpose vector_add; do
  WHOLE+=("$TMP/specs/$s/$s.tuned.json")
done
entries "${WHOLE[@]}" | sort >"$TMP/whole"
sort "$TMP/all" | cmp -s - "$TMP/whole" || fail "unsharded results hold other items than 0/1 lists"

# same A B: the entries of results files A and B (lists, space-separated)
# equal in everything but the times a clock measured.
same() {
  python3 - "$1" "$2" <<'PY' || fail "entries differ: $1 vs $2"
import json, sys
CLOCK = {"wall_seconds", "backend_seconds"}
def load(files):
    out = {}
    for f in files.split():
        for e in json.load(open(f))["entries"]:
            key = (e["space_fingerprint"], json.dumps(e["shape"], sort_keys=True))
            assert key not in out, "item twice: %r" % (key,)
            out[key] = {k: v for k, v in e.items() if k not in CLOCK}
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
assert sorted(a) == sorted(b), "different items"
bad = [k for k in a if a[k] != b[k]]
for k in bad:
    print("differs:", k, {f: (a[k].get(f), b[k].get(f)) for f in a[k] if a[k].get(f) != b[k].get(f)})
sys.exit(1 if bad else 0)
PY
}

# N=1 searches again (no cache): the same entries as the unsharded run.
HELION_SKIP_CACHE=1 expect_rc 0 "${TUNE[@]}" --shard 0/1 --fragment-dir "$TMP/f1"
expect_err "shard 0/1: 14 of 14 work items"
ls "$TMP/f1" | sort >"$TMP/names"
printf '%s.shard-0-of-1.tuned.json\n' rmsnorm softmax transpose vector_add | cmp -s - "$TMP/names" ||
  fail "N=1 fragments: $(cat "$TMP/names")"
same "${WHOLE[*]}" "$(ls "$TMP"/f1/*.json | tr '\n' ' ')"

# N = 2..5: every item in exactly one shard, by --dry-run and by the
# fragments written (cache hits: no search), shard by shard the same items.
for n in 2 3 4 5; do
  : >"$TMP/dry$n"
  : >"$TMP/frag$n"
  for ((i = 0; i < n; i++)); do
    expect_rc 0 "${TUNE[@]}" --shard "$i/$n" --dry-run
    items "$TMP/out" | sort >"$TMP/dry$n.$i"
    cat "$TMP/dry$n.$i" >>"$TMP/dry$n"
    [ -s "$TMP/dry$n.$i" ] || fail "shard $i/$n is empty"
    expect_rc 0 "${TUNE[@]}" --shard "$i/$n" --fragment-dir "$TMP/f$n"
    expect_err "shard $i/$n: $(wc -l <"$TMP/dry$n.$i") of 14 work items"
    frags=$(ls "$TMP/f$n"/*.shard-"$i"-of-"$n".tuned.json)
    # shellcheck disable=SC2086
    entries $frags | sort >"$TMP/frag$n.$i"
    cmp -s "$TMP/dry$n.$i" "$TMP/frag$n.$i" || fail "shard $i/$n: fragments hold other items than --dry-run lists"
    # A fragment only for a spec the shard has items of.
    for f in $frags; do
      s=$(basename "$f" | cut -d. -f1)
      grep -q "^$s " "$TMP/dry$n.$i" || fail "$f: shard $i/$n has no $s items"
    done
    cat "$TMP/frag$n.$i" >>"$TMP/frag$n"
  done
  sort "$TMP/dry$n" | cmp -s - "$TMP/whole" || fail "N=$n: --dry-run items are not every item once"
  sort "$TMP/frag$n" | cmp -s - "$TMP/whole" || fail "N=$n: fragment entries are not every item once"
  same "${WHOLE[*]}" "$(ls "$TMP/f$n"/*.json | tr '\n' ' ')"
done

# The job array's last step: `results merge` of each kernel's fragments
# (cache hits, so the same entries) gives its unsharded results file, byte
# for byte, whatever the order of the fragments.
mkdir -p "$TMP/merged"
for s in rmsnorm softmax transpose vector_add; do
  # shellcheck disable=SC2046
  "$HELION_TUNE" results merge $(ls "$TMP"/f4/"$s".shard-*-of-4.tuned.json | sort -r) \
    -o "$TMP/merged/$s.tuned.json" 2>"$TMP/merr" || fail "merge $s: $(cat "$TMP/merr")"
  cmp -s "$TMP/merged/$s.tuned.json" "$TMP/specs/$s/$s.tuned.json" ||
    fail "merged $s fragments differ from the unsharded results file"
done

# --shard auto: Slurm (an array from 1, so task 2 is shard 1) and a
# Kubernetes Indexed Job give the same items as the explicit shard.
expect_rc 0 "${TUNE[@]}" --shard 1/4 --dry-run
cp "$TMP/out" "$TMP/want14"
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=1 \
  expect_rc 0 "${TUNE[@]}" --shard auto --dry-run
cmp -s "$TMP/out" "$TMP/want14" || fail "Slurm task 2 of 1-4 is not shard 1/4"
expect_err "shard 1/4:"
expect_rc 0 "${TUNE[@]}" --shard 3/5 --dry-run
cp "$TMP/out" "$TMP/want35"
JOB_COMPLETION_INDEX=3 expect_rc 0 "${TUNE[@]}" --shard auto --shards 5 --dry-run
cmp -s "$TMP/out" "$TMP/want35" || fail "JOB_COMPLETION_INDEX=3 --shards 5 is not shard 3/5"
# ...and a real auto run writes that shard's fragments, by default in
# ./helion-fragments.
mkdir "$TMP/cwd"
(cd "$TMP/cwd" && JOB_COMPLETION_INDEX=3 "${TUNE[@]}" --shard auto --shards 5 \
  >"$TMP/out" 2>"$TMP/err") || fail "auto run: $(tail -3 "$TMP/err")"
ls "$TMP/cwd/helion-fragments"/*.shard-3-of-5.tuned.json >/dev/null 2>&1 ||
  fail "no helion-fragments/*.shard-3-of-5.tuned.json: $(ls -R "$TMP/cwd")"

if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS failure(s)"
  exit 1
fi
echo "all shard checks passed"
