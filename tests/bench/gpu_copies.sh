#!/usr/bin/env bash
# Cross-process spread of one config's time, with and without rotating
# argument sets (HELION_BENCH_COPIES, issue 19): the softmax sample's
# call-2 winner and the default, side by side in fresh processes
# (FiniteSearch, the protocol of a tune's reported time), RUNS processes
# each way, alternating. On the GPU machine through
# `tests/gpu/device_run.sh bench-copies` (after its build into build-gpu/).
# Env: RUNS (default 4), COPIES (default 4), GAP (seconds idle before each
# process, default 2). Prints a table last.
set -uo pipefail
export HELION_SKIP_CACHE=1 HELION_AUTOTUNE_PROGRESS_BAR=0
cd "$(dirname "$0")/../.."
tune=build-gpu/helion-tune
out="${OUT:-/tmp/helion-gpu-out}/copies"
mkdir -p "$out"
spec=samples/softmax/softmax.json
win='{"ROWS_PER_BLOCK":16,"block_sizes":[512],"num_warps":16,"pid_type":"flat"}'
for k in $(seq 1 "${RUNS:-4}"); do
  for c in 1 "${COPIES:-4}"; do
    sleep "${GAP:-2}"
    HELION_BENCH_COPIES=$c "$tune" tune "$spec" --shape M=4096,N=1024 \
      --algorithm FiniteSearch --seed 1 --config '{}' --config "$win" --no-results \
      --json > "$out/copies$c.$k.json" 2> "$out/copies$c.$k.log"
    echo "copies=$c run $k rc=$?"
  done
done
python3 - "$out" <<'PY'
import glob, json, sys
out = sys.argv[1]
print("| copies | winner ms per process | spread | default ms per process | spread |")
print("|---|---|---|---|---|")
for c in sorted({f.split("/")[-1].split(".")[0] for f in glob.glob(out + "/copies*.json")}):
    w, d = [], []
    for f in sorted(glob.glob(f"{out}/{c}.*.json")):
        try:
            s = json.load(open(f))["shapes"][0]
        except Exception:
            continue
        w.append(s["best_ms"] if s["best_config"] else float("nan"))
        d.append(s["default_ms"])
    sp = lambda v: f"{(max(v) / min(v) - 1) * 100:.2f}%" if v else "-"
    print(f"| {c[6:]} | {' / '.join(f'{x:.5f}' for x in w)} | {sp(w)} | "
          f"{' / '.join(f'{x:.5f}' for x in d)} | {sp(d)} |")
PY
