#!/usr/bin/env bash
# Tuning throughput and timing trust (issue 19), on the GPU machine through
# `tests/gpu/device_run.sh bench-throughput` (after its build into
# build-gpu/). Per sample (the first shape of its spec): a full-effort tune
# capped at 220 evaluations by this tree and, with OLD_SRC set, by the tree
# there (the "before", built here into $OLD_SRC/build), alternating which
# runs first; with the Kernel Tuner wheels in .whl/ and the sample in
# KT_SAMPLES, Kernel Tuner's genetic algorithm on the same kernel and space
# (tests/bench/kt/kt_compare.py); then every winner (and the default) timed
# side by side in one isolated FiniteSearch process; and the noise check
# (the default config timed by two separate processes after the GPU idled).
# `nvidia-smi dmon` records clocks and power all along (dmon.txt).
# Prints a table last (tests/bench/throughput_summary.py).
#
# Env: SAMPLES (default "matmul matmul_wgmma softmax rmsnorm transpose
# vector_add"), OLD_SRC, KT_SAMPLES (default "matmul softmax"), MAX_EVALS
# (220), NOISE (1: run the noise check), NOISE_GAP (8 s), NOISE_SAMPLES
# (default "matmul softmax"), NOISE_DUTIES (the duty cycles the noise check
# runs under, default "0.5 1"), NOISE_RUNS (processes each, default 2),
# VARIANTS ("LABEL:VAR=VALUE,VAR=VALUE ..."; each also tunes every sample
# with this tree under those variables, as run LABEL; SET=KEY=VALUE there is
# a search option, `--set KEY=VALUE`).
set -uo pipefail
export HELION_SKIP_CACHE=1 HELION_AUTOTUNE_PROGRESS_BAR=0
cd "$(dirname "$0")/../.."
tune=build-gpu/helion-tune
out="${OUT:-/tmp/helion-gpu-out}/throughput"
mkdir -p "$out"
samples="${SAMPLES:-matmul matmul_wgmma softmax rmsnorm transpose vector_add}"
max_evals="${MAX_EVALS:-220}"

nvidia-smi dmon -s pc -o T -f "$out/dmon.txt" > /dev/null 2>&1 &
dmon=$!
trap 'kill $dmon 2> /dev/null' EXIT

old_tune=""
if [ -n "${OLD_SRC:-}" ]; then
  if cmake -S "$OLD_SRC" -B "$OLD_SRC/build" -DCMAKE_BUILD_TYPE=Release \
       -DHELION_BUILD_TESTS=OFF -DHELION_BUILD_SAMPLES=OFF \
       ${CMAKE_PREFIX_PATH:+-DCMAKE_PREFIX_PATH="$CMAKE_PREFIX_PATH"} \
       > "$out/old-build.log" 2>&1 &&
     cmake --build "$OLD_SRC/build" -j"$(nproc)" --target helion-tune \
       >> "$out/old-build.log" 2>&1; then
    old_tune="$OLD_SRC/build/helion-tune"
  else
    tail -20 "$out/old-build.log"
  fi
fi

kt_ok=0
if ls .whl/*.whl > /dev/null 2>&1 && [ -f tests/bench/kt/kt_compare.py ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/kt-site .whl/*.whl > "$out/kt-install.log" 2>&1 &&
    kt_ok=1
fi

first_shape() {
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['shapes'][0]; print(','.join(f'{k}={v}' for k,v in s.items()))" "$1"
}
best_of() {
  python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['shapes'][0]['best_config'], separators=(',', ':')))" "$1" 2> /dev/null
}

# run_tune WHICH EXE SPEC SHAPE NAME [VAR=VALUE ...]: SET=KEY=VALUE is
# `--set KEY=VALUE`, anything else a variable of the environment.
run_tune() {
  local t0=$(date +%s.%N) envs=() sets=()
  for v in "${@:6}"; do
    case "$v" in
      SET=*) sets+=(--set "${v#SET=}") ;;
      *) envs+=("$v") ;;
    esac
  done
  env HELION_BENCH_PROFILE=1 HELION_AUTOTUNE_LOG_LEVEL=DEBUG "${envs[@]}" \
    "$2" tune "$3" \
    --shape "$4" --effort full \
    --seed 1 --max-evals "$max_evals" --no-results --json "${sets[@]}" \
    --trace "$out/$5.$1.trace.jsonl" > "$out/$5.$1.json" 2> "$out/$5.$1.log"
  echo "$5 $1 rc=$? $(python3 -c "import sys; print(round($(date +%s.%N) - $t0, 1))") s"
}

i=0
for name in $samples; do
  spec="samples/$name/$name.json"
  shape=$(first_shape "$spec")
  echo "$shape" > "$out/$name.shape"
  order="new old"
  [ $((i % 2)) -eq 1 ] && order="old new"
  for which in $order; do
    if [ "$which" = old ]; then
      [ -n "$old_tune" ] || continue
      run_tune old "$old_tune" "$spec" "$shape" "$name"
    else
      run_tune new "$tune" "$spec" "$shape" "$name"
    fi
    sleep 3
  done
  labels=""
  for v in ${VARIANTS:-}; do
    IFS=, read -ra vars <<< "${v#*:}"
    run_tune "${v%%:*}" "$tune" "$spec" "$shape" "$name" "${vars[@]}"
    labels="$labels ${v%%:*}"
    sleep 3
  done
  if [ "$kt_ok" = 1 ] && [[ " ${KT_SAMPLES:-matmul softmax} " == *" $name "* ]]; then
    PYTHONPATH=/tmp/kt-site PYTHONUNBUFFERED=1 timeout 400 python3 \
      tests/bench/kt/kt_compare.py --tune "$tune" --spec "$spec" \
      --shape "$shape" --strategy genetic_algorithm --max-fevals "$max_evals" \
      --seed 1 --out "$out/$name.kt" > "$out/$name.kt.log" 2>&1
    echo "$name kt rc=$?"
    sleep 3
    # Like for like: this tree on Kernel Tuner's copy of the spec (without
    # the parameters Kernel Tuner cannot vary per config).
    if [ -f "$out/$name.kt/$name.json" ]; then
      run_tune newkt "$tune" "$out/$name.kt/$name.json" "$shape" "$name"
      sleep 3
    fi
  fi
  # Every winner (and the default) in fresh processes, on the tunes' input
  # data (--seed 1; until session 3 of issue 19 they ran on seed 0's): each
  # winner with
  # the default, side by side, alone in its process (the protocol of a
  # tune's reported best_ms: $name.sbs.WHICH.json), and all of them in one
  # process, each timed back to back for the full 50 ms.
  args=(--config '{}')
  for which in new old newkt kt $labels; do
    if [ "$which" = kt ]; then
      b=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['best_config'], separators=(',', ':')))" "$out/$name.kt/kt_result.json" 2> /dev/null)
    else
      b=$(best_of "$out/$name.$which.json")
    fi
    [ -n "$b" ] || continue
    args+=(--config "$b")
    "$tune" tune "$spec" --shape "$shape" --algorithm FiniteSearch \
      --seed 1 --config '{}' --config "$b" --no-results --json \
      > "$out/$name.sbs.$which.json" 2> "$out/$name.sbs.$which.log"
    echo "$name $which side by side rc=$?"
  done
  if [ "${#args[@]}" -gt 2 ]; then
    # Helion's FiniteSearch times each config once, in order: with the
    # early stop off, each for the full 50 ms.
    HELION_AUTOTUNE_EARLY_STOP=0 "$tune" tune "$spec" --shape "$shape" \
      --algorithm FiniteSearch --seed 1 \
      "${args[@]}" --no-results --json --trace "$out/$name.iso.trace.jsonl" \
      > "$out/$name.iso.json" 2> "$out/$name.iso.log"
    echo "$name isolated rc=$?"
  fi
  i=$((i + 1))
done

if [ "${NOISE:-1}" = 1 ]; then
  for name in ${NOISE_SAMPLES:-matmul softmax}; do
    spec="samples/$name/$name.json"
    for duty in ${NOISE_DUTIES:-0.5 1}; do
      for k in $(seq 1 "${NOISE_RUNS:-2}"); do
        sleep "${NOISE_GAP:-8}"
        HELION_AUTOTUNE_DUTY_CYCLE=$duty "$tune" tune "$spec" \
          --shape "$(first_shape "$spec")" --effort none --no-results --json \
          > "$out/noise_${name}.duty${duty}_$k.json" 2> /dev/null
      done
    done
  done
fi
kill $dmon 2> /dev/null
nvidia-smi --query-gpu=name --format=csv,noheader > "$out/gpu_name.txt" 2>&1
python3 tests/bench/throughput_summary.py "$out" | tee "$out/summary.md"
