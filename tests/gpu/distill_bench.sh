#!/usr/bin/env bash
# distill_bench.sh TOOL OUTDIR: issue 16's measurement on the GPU. For the
# matmul sample over 18 shapes (square, skinny, tall, small, long K) and the
# softmax sample over 12 row/column mixes: every shape tuned with the
# configure-time default search (cmake/HelionTuneDefaults.cmake), then
# `helion-tune distill` over all of them (one side-by-side matrix: every
# winner timed on every shape). The held-back shapes (6 matmul, 4 softmax)
# are then cut out (tests/gpu/distill_heldout.py split), the tree refitted
# on the training shapes alone (distill --refit --report: table and heat
# map), and each held-back shape's dispatched config timed against its own
# tuned winner, next to one single best-on-average config. Prints the
# tables; writes results files, reports and heat maps under OUTDIR.
set -uo pipefail
T="${1:?usage: distill_bench.sh TOOL OUTDIR}"
OUT="${2:?usage: distill_bench.sh TOOL OUTDIR}"
cd "$(dirname "$0")/../.."
mkdir -p "$OUT"
# The configure-time default search, read from its one place.
read -r -a FLAGS < <(sed -n '/^set(HELION_DEFAULT_TUNE_FLAGS/,/)/p' \
  cmake/HelionTuneDefaults.cmake | sed 's/set(HELION_DEFAULT_TUNE_FLAGS//; s/)//' | tr '\n' ' ')
[ "${#FLAGS[@]}" -gt 0 ] || { echo "no default flags found"; exit 1; }
# DISTILL_EXTRA_FLAGS (e.g. "--max-evals 20" for a quick check) go last.
read -r -a EXTRA <<<"${DISTILL_EXTRA_FLAGS:-}"
FLAGS+=("${EXTRA[@]}")

matmul_train=(M=512,N=512,K=512 M=1024,N=1024,K=1024 M=2048,N=2048,K=2048
  M=4096,N=4096,K=4096 M=128,N=4096,K=4096 M=256,N=8192,K=2048
  M=8192,N=256,K=2048 M=4096,N=128,K=4096 M=256,N=256,K=256
  M=128,N=128,K=512 M=1024,N=1024,K=8192 M=2048,N=512,K=1024)
matmul_held=(M=1536,N=1536,K=1536 M=3072,N=3072,K=3072 M=640,N=4096,K=4096
  M=6144,N=256,K=2048 M=384,N=384,K=384 M=1024,N=2048,K=4096)
softmax_train=(M=4096,N=1024 M=1024,N=4096 M=16384,N=256 M=256,N=32768
  M=8192,N=512 M=2048,N=2048 M=512,N=8192 M=32768,N=128)
softmax_held=(M=3072,N=1536 M=12288,N=384 M=768,N=6144 M=128,N=16384)

rc=0
for k in ${DISTILL_KERNELS:-matmul softmax}; do
  declare -n train="${k}_train" held="${k}_held"
  full="$OUT/$k.tuned.json" trained="$OUT/$k.trained.json"
  rm -f "$full" "$trained"
  shapes=()
  for s in "${train[@]}" "${held[@]}"; do shapes+=(--shape "$s"); done
  t0=$(date +%s)
  HELION_AUTOTUNE_PROGRESS_BAR=0 "$T" distill "samples/$k/$k.json" \
    --tuned "$full" "${shapes[@]}" "${FLAGS[@]}" 2>"$OUT/$k-distill.log" ||
    { echo "$k: distill failed: $(tail -3 "$OUT/$k-distill.log")"; rc=1; continue; }
  t1=$(date +%s)
  python3 tests/gpu/distill_heldout.py split "$full" "$trained" --held "${held[@]}" &&
    "$T" distill "samples/$k/$k.json" --tuned "$trained" --refit --report \
      --svg "$OUT/$k.distill.svg" >"$OUT/$k-report.txt" 2>"$OUT/$k-refit.log" ||
    { echo "$k: refit failed: $(tail -3 "$OUT/$k-refit.log")"; rc=1; continue; }
  echo "== $k: ${#train[@]} training shapes, ${#held[@]} held back; tune + distill $((t1 - t0)) s"
  cat "$OUT/$k-report.txt"
  echo
  python3 tests/gpu/distill_heldout.py evaluate "$full" "$trained" --held "${held[@]}" |
    tee "$OUT/$k-heldout.md" || rc=1
  echo
done
exit $rc
