#!/usr/bin/env bash
# Builds Helion-C on the GPU machine and runs the GPU tests, then optional
# benchmark steps. Meant for the device tool: the working tree is copied
# there, .deps/ (Debian packages of cJSON and cmocka, which that image lacks)
# is carried along and unpacked into a prefix. Logs go under $OUT; a short
# table is printed last.
#
# usage: tests/gpu/device_run.sh [STEP ...]
#   steps: tests (default), tests-quick (the worker and samples tests only),
#          generated (the generated headers, the miss loop and the
#          launcher's overhead), app (samples/app configured from scratch:
#          configure-time tuning, build, run, retune; results in $OUT),
#          app-full (after app: every app shape tuned at full effort,
#          compared with the configure-time default budget), app-distill
#          (samples/app with DISTILL ON: tuned and distilled at configure
#          time), distill
#          (tests/gpu/distill_bench.sh: held-back shapes' dispatch),
#          profile (where the time of a short matmul tune goes: worker
#          phases per config, compile waits, rebenchmarks; run with the
#          defaults and with Helion's timing), samples-bench (the samples'
#          listed configs timed), compare-tune (the softmax sample tuned
#          by this tree and by the tree in $OLD_SRC, e.g. `git archive` of
#          the commit before a change, carried along), bench-<name> runs
#          tests/bench/gpu_<name>.sh
#
# Preparing .deps here (once):
#   mkdir -p .deps && (cd .deps && apt-get download libcjson1 libcjson-dev \
#     libcmocka0 libcmocka-dev)
set -uo pipefail
# Benchmarks measure: never a best-config cache hit.
export HELION_SKIP_CACHE=1
cd "$(dirname "$0")/../.."
OUT="${OUT:-/tmp/helion-gpu-out}"
mkdir -p "$OUT"
prefix=/tmp/helion-deps
mkdir -p "$prefix"
for f in .deps/*.deb; do dpkg -x "$f" "$prefix"; done
# libcurl: link against the machine's own libcurl.so.4 where it has one (the
# carried Debian build wants a newer libssh2 than that image has); the
# carried headers stay.
syscurl=$(ls /usr/lib/x86_64-linux-gnu/libcurl.so.4 2>/dev/null)
if [ -n "$syscurl" ]; then
  rm -f "$prefix"/usr/lib/x86_64-linux-gnu/libcurl.so*
  ln -s "$syscurl" "$prefix/usr/lib/x86_64-linux-gnu/libcurl.so"
fi
export LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
# Also for trees built by the steps (the "before" tree of bench-throughput).
export CMAKE_PREFIX_PATH="$prefix/usr"
summary=()

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm \
  --format=csv > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

t0=$(date +%s)
if ! cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release \
     -DCMAKE_PREFIX_PATH="$prefix/usr" > "$OUT/configure.log" 2>&1; then
  tail -30 "$OUT/configure.log"
  exit 1
fi
if ! cmake --build build-gpu -j"$(nproc)" > "$OUT/build.log" 2>&1; then
  grep -E "error|Error" "$OUT/build.log" | head -40
  exit 1
fi
summary+=("build: ok ($(( $(date +%s) - t0 )) s)")

steps=("$@")
[ "${#steps[@]}" -eq 0 ] && steps=(tests)
for step in "${steps[@]}"; do
  t0=$(date +%s)
  case "$step" in
    tests)
      # test_generated.sh also measures the launcher's overhead here.
      # GPU_TESTS_TIMEOUT (seconds, 0 = none) bounds the step, so that a
      # call that runs it after benchmarks still ends inside its limit;
      # GPU_TESTS_REGEX picks tests by name (ctest -R).
      HELION_BENCH_LAUNCH=1 HELION_BENCH_OUT="$OUT" \
        timeout "${GPU_TESTS_TIMEOUT:-0}" \
        ctest --test-dir build-gpu -L gpu -R "${GPU_TESTS_REGEX:-.}" \
        --output-on-failure \
        > "$OUT/gpu-tests.log" 2>&1
      rc=$?
      grep -E "Test +#|tests passed|Failed|Skipped" "$OUT/gpu-tests.log" | tail -40
      summary+=("gpu tests: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    generated)
      # The generated headers and the runtime on the GPU, and the launcher's
      # overhead (test_generated.sh with HELION_BENCH_LAUNCH=1).
      HELION_BENCH_LAUNCH=1 HELION_BENCH_OUT="$OUT" \
        ctest --test-dir build-gpu -R "gpu_test_generated_sh|gpu_launch_overhead" \
        --output-on-failure > "$OUT/gpu-generated.log" 2>&1
      rc=$?
      grep -E "Test +#|tests passed|FAIL|overhead" "$OUT/gpu-generated.log" | tail -30
      summary+=("generated + launch overhead: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    app)
      # samples/app configured with HELION_TUNE=$APP_TUNE (default ALL):
      # every kernel shape tuned at configure time with the default budget
      # (HelionTuneDefaults.cmake) for this GPU, beside the committed entries
      # of other GPUs; built, run; configured again (MISSING: nothing to
      # tune, timed); one kernel re-tuned through helion_retune_<name>. The
      # results files come back in $OUT/app-tuned.tgz.
      rm -rf build-app
      a0=$(date +%s.%N)
      cmake -S samples/app -B build-app -DHELION_APP_FROM_SOURCE=ON \
        -DHELION_TUNE="${APP_TUNE:-ALL}" \
        -DHELION_TUNE_EXECUTABLE="$PWD/build-gpu/helion-tune" \
        -DCMAKE_PREFIX_PATH="$prefix/usr" > "$OUT/app-configure-tune.log" 2>&1
      rc1=$?
      a1=$(date +%s.%N)
      cmake --build build-app -j"$(nproc)" > "$OUT/app-build.log" 2>&1
      rc2=$?
      build-app/helion_app > "$OUT/app-run.txt" 2>&1
      rc3=$?
      cat "$OUT/app-run.txt"
      b0=$(date +%s.%N)
      cmake -S samples/app -B build-app -DHELION_TUNE=MISSING \
        > "$OUT/app-configure-again.log" 2>&1
      rc4=$?
      b1=$(date +%s.%N)
      sha256sum samples/app/tuned/vector_add.tuned.json > "$OUT/app-retune.sha"
      r0=$(date +%s.%N)
      cmake --build build-app --target helion_retune_vector_add > "$OUT/app-retune.log" 2>&1
      rc5=$?
      r1=$(date +%s.%N)
      sha256sum -c "$OUT/app-retune.sha" >/dev/null 2>&1 && rc5="$rc5 (file unchanged!)"
      # One archive: the device tool brings back a limited number of files.
      tar czf "$OUT/app-tuned.tgz" samples/app/tuned
      grep -E "Helion:|Autotuning complete|Best config|Recorded" "$OUT/app-configure-tune.log" | head -40
      summary+=("app: configure+tune rc=$rc1 $(awk "BEGIN{printf \"%.1f\", $a1 - $a0}") s; build rc=$rc2; run rc=$rc3; configure again rc=$rc4 $(awk "BEGIN{printf \"%.2f\", $b1 - $b0}") s; retune vector_add rc=$rc5 $(awk "BEGIN{printf \"%.1f\", $r1 - $r0}") s")
      ;;
    app-full)
      # After `app`: the configure-time entries this GPU just got (default
      # budget) are kept in $OUT/app-default.tgz, then every samples/app
      # kernel shape is tuned again at full effort into the same results
      # files (so the committed entries are full tunes) and the two are
      # compared shape by shape: configs, wall seconds, best ms, ratio.
      rm -rf "$OUT/tuned-default" && cp -r samples/app/tuned "$OUT/tuned-default"
      tar czf "$OUT/app-default.tgz" -C "$OUT" tuned-default
      rc=0
      while read -r name spec shape; do
        HELION_AUTOTUNE_PROGRESS_BAR=0 build-gpu/helion-tune tune "$spec" \
          --shape "$shape" --algorithm LFBOTreeSearch --effort full \
          --tuned "samples/app/tuned/$name.tuned.json" \
          > /dev/null 2> "$OUT/app-full-$name.log" || rc=$?
      done < <(python3 tests/gpu/app_budget_summary.py --list samples/app)
      tar czf "$OUT/app-tuned.tgz" samples/app/tuned
      python3 tests/gpu/app_budget_summary.py --device "$(sed -n 2p "$OUT/gpu.txt" | cut -d, -f1)" \
        "$OUT/tuned-default" samples/app/tuned | tee "$OUT/app-budget.md"
      summary+=("app-full: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    distill)
      # Issue 16: tune + distill matmul and softmax over many shapes, the
      # held-back shapes' dispatched configs against their own winners
      # (tests/gpu/distill_bench.sh); results, reports, heat maps in
      # $OUT/distill.tgz.
      bash tests/gpu/distill_bench.sh build-gpu/helion-tune "$OUT/distill" \
        > "$OUT/distill.md" 2>&1
      rc=$?
      cat "$OUT/distill.md"
      tar czf "$OUT/distill.tgz" -C "$OUT" distill && rm -rf "$OUT/distill"
      summary+=("distill: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    app-distill)
      # DISTILL ON through CMake on the GPU: a copy of samples/app whose
      # softmax gets a second shape and DISTILL ON, configured with
      # HELION_TUNE=MISSING: the new shape is tuned and the kernel distilled
      # at configure time; built and run; helion_distill_softmax again; the
      # header holds the tree. Results in $OUT/app-distill.tgz.
      rm -rf /tmp/app-distill && cp -r samples /tmp/app-distill
      app=/tmp/app-distill/app
      sed -i 's|  SHAPES "M=4096,N=1024"|  SHAPES "M=4096,N=1024" "M=1024,N=4096"\n  DISTILL ON|' \
        "$app/CMakeLists.txt"
      rm -rf build-app-distill
      cmake -S "$app" -B build-app-distill -DHELION_APP_FROM_SOURCE=ON \
        -DHELION_APP_SOURCE_TREE="$PWD" -DHELION_TUNE=MISSING \
        -DHELION_TUNE_EXECUTABLE="$PWD/build-gpu/helion-tune" \
        -DCMAKE_PREFIX_PATH="$prefix/usr" > "$OUT/app-distill-configure.log" 2>&1
      rc1=$?
      grep -E "Helion:|distill:" "$OUT/app-distill-configure.log" | head -20
      python3 -c "
import json,sys
d=json.load(open('$app/tuned/softmax.tuned.json')).get('distilled',[])
print('distilled elements:', [(x['device']['name'], len(x['shapes']), len(x['selected'])) for x in d])
sys.exit(0 if d else 1)"
      rc2=$?
      cmake --build build-app-distill -j"$(nproc)" > "$OUT/app-distill-build.log" 2>&1
      rc3=$?
      grep -c "helion_softmax_tree_" build-app-distill/helion_softmax/softmax_tuned.h
      rc4=$?
      build-app-distill/helion_app > "$OUT/app-distill-run.txt" 2>&1
      rc5=$?
      tail -3 "$OUT/app-distill-run.txt"
      cmake --build build-app-distill --target helion_distill_softmax > "$OUT/app-distill-target.log" 2>&1
      rc6=$?
      tar czf "$OUT/app-distill.tgz" -C "$app" tuned
      summary+=("app-distill: configure rc=$rc1, distilled rc=$rc2, build rc=$rc3, tree in header rc=$rc4, run rc=$rc5, helion_distill_softmax rc=$rc6 ($(( $(date +%s) - t0 )) s)")
      ;;
    tests-quick)
      ctest --test-dir build-gpu -L gpu -R "bench_worker|samples|compare" \
        --output-on-failure > "$OUT/gpu-tests.log" 2>&1
      rc=$?
      grep -E "Test +#|tests passed|Failed|Skipped" "$OUT/gpu-tests.log" | tail -40
      summary+=("gpu tests (worker, samples, compare): rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    profile)
      # The same 30-second tune of a GEMM sample ($PROFILE_SAMPLES, default
      # matmul) in each of $PROFILE_MODES: default, and helion (Helion's
      # timing: fixed rebenchmark rounds, every config timed in full).
      rc=0
      for sample in ${PROFILE_SAMPLES:-matmul}; do
      for mode in ${PROFILE_MODES:-default helion}; do
        log="$OUT/profile-$sample-$mode.log"
        extra=()
        [ "$mode" = helion ] && extra=(HELION_AUTOTUNE_REBENCH_PRECISION=0
                                      HELION_AUTOTUNE_SLOW_CUTOFF=0)
        env HELION_BENCH_PROFILE=1 HELION_AUTOTUNE_PROGRESS_BAR=0 \
          HELION_AUTOTUNE_LOG_LEVEL=DEBUG "${extra[@]}" \
          build-gpu/helion-tune tune "samples/$sample/$sample.json" \
          --shape M=4096,N=4096,K=4096 --budget-seconds 30 --seed 1 \
          --trace "$OUT/profile-$sample-$mode.trace" > /dev/null 2> "$log" \
          || rc=$?
        echo "== $sample, timing: $mode"
        python3 tests/gpu/profile_summary.py "$log"
      done
      done
      summary+=("profile: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    samples-bench)
      # Every sample's listed configs timed at its benchmark size (no
      # checks: the tests step does those).
      HELION_SOURCE_DIR="$PWD" HELION_SAMPLES_ONLY_BENCH=1 \
        build-gpu/tests/gpu_test_samples --bench \
        > "$OUT/samples-bench.log" 2>&1
      rc=$?
      grep -E "^bench|device:" "$OUT/samples-bench.log"
      summary+=("samples bench: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    compare-tune)
      # Behaviour check of a change on the GPU: the same softmax tune (seed,
      # shape, budget) by the tree in $OLD_SRC and by this one, twice each,
      # alternating; each run's winner and its side-by-side speedup over the
      # default config. Same winner, or speedups within the run-to-run
      # spread, is "within noise".
      old="${OLD_SRC:?compare-tune needs OLD_SRC (a source tree)}"
      rc=0
      if ! { cmake -S "$old" -B "$old/build" -DCMAKE_BUILD_TYPE=Release \
               -DHELION_BUILD_TESTS=OFF -DHELION_BUILD_SAMPLES=OFF \
               -DCMAKE_PREFIX_PATH="$prefix/usr" && \
             cmake --build "$old/build" -j"$(nproc)" --target helion-tune; } \
           > "$OUT/old-build.log" 2>&1; then
        tail -20 "$OUT/old-build.log"; rc=1
      fi
      shape="${COMPARE_SHAPE:-M=32768,N=4096}"
      for round in $(seq 1 "${COMPARE_ROUNDS:-2}"); do
        for which in old new; do
          exe=build-gpu/helion-tune
          [ "$which" = old ] && exe="$old/build/helion-tune"
          HELION_AUTOTUNE_PROGRESS_BAR=0 "$exe" tune samples/softmax/softmax.json \
            --shape "$shape" --seed 1 --budget-seconds "${COMPARE_BUDGET:-30}" \
            --json > "$OUT/compare-$which-$round.json" \
            2> "$OUT/compare-$which-$round.log" || rc=$?
        done
      done
      COMPARE_ROUNDS="${COMPARE_ROUNDS:-2}" python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print("| run | winner | best ms | default ms | speedup |")
print("|---|---|---|---|---|")
import os
for rnd in range(1, int(os.environ.get("COMPARE_ROUNDS", "2")) + 1):
    for which in ("old", "new"):
        try:
            s = json.load(open(f"{out}/compare-{which}-{rnd}.json"))["shapes"][0]
        except Exception as e:
            print(f"| {which} {rnd} | unreadable: {e} | | | |")
            continue
        cfg = json.dumps(s["best_config"], sort_keys=True, separators=(",", ":"))
        print(f"| {which} {rnd} | {cfg} | {s['best_ms']:.4f} | "
              f"{s['default_ms']:.4f} | {s['default_ms'] / s['best_ms']:.3f} |")
PY
      summary+=("compare-tune: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    bench-*)
      name="${step#bench-}"
      bash "tests/bench/gpu_${name}.sh" > "$OUT/bench-${name}.log" 2>&1
      rc=$?
      tail -25 "$OUT/bench-${name}.log"
      summary+=("bench ${name}: rc=$rc ($(( $(date +%s) - t0 )) s)")
      ;;
    *)
      echo "unknown step '$step'" >&2
      exit 2
      ;;
  esac
done

# The device tool brings back a few files only: everything but the
# archives and Markdown tables goes into one archive of logs.
# (The archive is written outside $OUT first: tar fails with "file changed
# as we read it" when it grows inside the folder it reads.)
(cd "$OUT" && tar czf /tmp/helion-logs.tgz --exclude='*.tgz' . &&
  mv /tmp/helion-logs.tgz logs.tgz &&
  find . -mindepth 1 -type f ! -name '*.tgz' ! -name '*.md' -delete) 2>/dev/null

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
