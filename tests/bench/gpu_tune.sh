#!/usr/bin/env bash
# GPU benchmarks of real tuning (issue 4), run on the H200 through
# tests/gpu/device_run.sh bench-tune (after its build into build-gpu/):
#   - ceilings measured in the same run: copy bandwidth and cuBLAS fp16 GEMM
#     (tests/bench/gpu_reference.cu);
#   - timing noise: the same config timed in two separate tune runs;
#   - softmax tuned, as a fraction of the copy bandwidth;
#   - fp16 matmul tuned at 4096^3 (full effort, time-boxed), as a fraction
#     of cuBLAS, with configs compiled+benchmarked per second and the share
#     of time the GPU waited for compiles.
# Prints a table last. Env: SOFTMAX_SHAPE, MATMUL_SHAPE, SOFTMAX_BUDGET,
# MATMUL_BUDGET (seconds of tuning each; the searches are time-boxed so the
# whole script fits in one device call).
set -uo pipefail
cd "$(dirname "$0")/../.."
tune=build-gpu/helion-tune
out="${OUT:-/tmp/helion-gpu-out}/bench-tune"
mkdir -p "$out"
softmax_shape="${SOFTMAX_SHAPE:-M=32768,N=4096}"
matmul_shape="${MATMUL_SHAPE:-M=4096,N=4096,K=4096}"
matmul_budget="${MATMUL_BUDGET:-150}"
softmax_budget="${SOFTMAX_BUDGET:-60}"
export HELION_AUTOTUNE_PROGRESS_BAR=0

nvcc -O2 -arch=native -o "$out/gpu_reference" tests/bench/gpu_reference.cu \
  -lcublas || exit 1
"$out/gpu_reference" 1024 4096 4096 4096 > "$out/reference.json" || exit 1
cat "$out/reference.json"

# Timing noise: two separate processes time the same (default) config.
for i in 1 2; do
  "$tune" tune samples/softmax/softmax.json --shape "$softmax_shape" \
    --effort none --json > "$out/noise_softmax_$i.json" 2> "$out/noise_softmax_$i.log"
  "$tune" tune samples/matmul/matmul.json --shape "$matmul_shape" \
    --effort none --json > "$out/noise_matmul_$i.json" 2> "$out/noise_matmul_$i.log"
done

"$tune" tune samples/softmax/softmax.json --shape "$softmax_shape" \
  --effort full --seed 1 --budget-seconds "$softmax_budget" --json \
  --trace "$out/softmax.trace.jsonl" \
  > "$out/softmax.json" 2> "$out/softmax.log"
echo "softmax tune rc=$?"; tail -5 "$out/softmax.log"

"$tune" tune samples/matmul/matmul.json --shape "$matmul_shape" \
  --effort full --seed 1 --budget-seconds "$matmul_budget" --json \
  --trace "$out/matmul.trace.jsonl" > "$out/matmul.json" 2> "$out/matmul.log"
echo "matmul tune rc=$?"; tail -5 "$out/matmul.log"

# The search times candidates while 16 compile processes load the machine and
# the GPU has been busy for minutes; cuBLAS above ran alone. For a fair ratio,
# time the winner (and the default) alone, side by side, then cuBLAS again.
best=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['shapes'][0]['best_config'], separators=(',', ':')))" "$out/matmul.json")
dflt=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['shapes'][0]['best_config'], separators=(',', ':')))" "$out/noise_matmul_1.json")
if [ "$best" != "$dflt" ]; then
  "$tune" tune samples/matmul/matmul.json --shape "$matmul_shape" \
    --algorithm FiniteSearch --config "$best" --config "$dflt" --json \
    > "$out/matmul_isolated.json" 2> "$out/matmul_isolated.log"
  echo "isolated rc=$?"; tail -3 "$out/matmul_isolated.log"
else
  cp "$out/noise_matmul_1.json" "$out/matmul_isolated.json"
fi
"$out/gpu_reference" 1024 4096 4096 4096 > "$out/reference2.json"

python3 - "$out" "$softmax_shape" "$matmul_shape" <<'PY'
import json, sys, os
out, sshape, mshape = sys.argv[1:4]
def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except Exception as e:
        return {"error": str(e)}
def shape0(d):
    s = d.get("shapes") or [{}]
    return s[0]
ref = load("reference.json")
rows = []
for k in ("softmax", "matmul"):
    a, b = shape0(load(f"noise_{k}_1.json")), shape0(load(f"noise_{k}_2.json"))
    if a.get("default_ms") and b.get("default_ms"):
        d = abs(a["default_ms"] / b["default_ms"] - 1)
        rows.append((f"{k}: same config, two runs", f"{a['default_ms']:.4f} / {b['default_ms']:.4f} ms", f"{100*d:.2f}% (target < 2%)"))
dims = dict(kv.split("=") for kv in sshape.split(","))
M, N = int(dims["M"]), int(dims["N"])
s = shape0(load("softmax.json"))
if s.get("best_ms"):
    gbs = 2 * M * N * 4 / (s["best_ms"] * 1e-3) / 1e9
    rows.append(("softmax tuned", f"{s['best_ms']:.4f} ms = {gbs:.0f} GB/s", f"{gbs / ref['copy_gbs']:.3f} of copy {ref['copy_gbs']:.0f} GB/s (target >= 0.85)"))
    rows.append(("softmax default", f"{s['default_ms']:.4f} ms", f"speedup {s.get('speedup')}"))
dims = dict(kv.split("=") for kv in mshape.split(","))
M, N, K = int(dims["M"]), int(dims["N"]), int(dims["K"])
m = shape0(load("matmul.json"))
if m.get("best_ms"):
    tf = 2 * M * N * K / (m["best_ms"] * 1e-3) / 1e12
    rows.append(("matmul tuned, timed in the search", f"{m['best_ms']:.4f} ms = {tf:.0f} TFLOP/s", f"{ref['cublas_ms'] / m['best_ms']:.3f} of cuBLAS {ref['cublas_tflops']:.0f} TFLOP/s"))
    iso = shape0(load("matmul_isolated.json"))
    ref2 = load("reference2.json")
    if iso.get("best_ms") and ref2.get("cublas_ms"):
        tf = 2 * M * N * K / (iso["best_ms"] * 1e-3) / 1e12
        rows.append(("matmul tuned, timed alone", f"{iso['best_ms']:.4f} ms = {tf:.0f} TFLOP/s", f"{ref2['cublas_ms'] / iso['best_ms']:.3f} of cuBLAS {ref2['cublas_tflops']:.0f} TFLOP/s timed right after (target >= 0.60)"))
    rows.append(("matmul search", f"{m.get('configs_tested')} configs in {m.get('seconds'):.0f} s", f"{m.get('configs_per_second'):.1f} configs/s (target >= 10), GPU idle {100*m.get('gpu_idle_fraction', 0):.0f}% (target < 20%)"))
    rows.append(("matmul failures", json.dumps(m.get("failures")), f"best {json.dumps(m.get('best_config'))}"))
print()
print("| measure | value | against |")
print("|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
PY
