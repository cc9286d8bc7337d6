#!/usr/bin/env bash
# The build's options as a consumer uses them: a configure with
# HELION_BUILD_TESTS=OFF must not look for cmocka (a consumer need not have
# it), and HELION_BUILD_SAMPLES=OFF drops the samples' check target.
set -euo pipefail
src="${HELION_SOURCE_DIR:?}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cmake -S "$src" -B "$tmp/off" -DHELION_BUILD_TESTS=OFF -DHELION_BUILD_SAMPLES=OFF \
  >"$tmp/off.log" 2>&1 || { cat "$tmp/off.log"; echo "FAIL: configure with tests off"; exit 1; }
if grep -qi cmocka "$tmp/off/CMakeCache.txt"; then
  grep -i cmocka "$tmp/off/CMakeCache.txt"
  echo "FAIL: a configure with HELION_BUILD_TESTS=OFF looked for cmocka"; exit 1
fi
if grep -q helion_samples "$tmp/off/Makefile"; then
  echo "FAIL: HELION_BUILD_SAMPLES=OFF still has the helion_samples target"; exit 1
fi
# With samples on, the target exists (the test would pass vacuously otherwise).
cmake -S "$src" -B "$tmp/on" -DHELION_BUILD_TESTS=OFF >"$tmp/on.log" 2>&1 \
  || { cat "$tmp/on.log"; echo "FAIL: configure with samples on"; exit 1; }
grep -q helion_samples "$tmp/on/Makefile" \
  || { echo "FAIL: HELION_BUILD_SAMPLES=ON has no helion_samples target"; exit 1; }
echo "ok"
