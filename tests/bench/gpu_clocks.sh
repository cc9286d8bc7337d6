#!/usr/bin/env bash
# The clock probe (tests/bench/clock_probe.py) on the GPU machine, through
# `tests/gpu/device_run.sh bench-clocks`: how a GEMM's time and the SM clock
# move under sustained load, under duty cycles, and between two runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
PYTHONUNBUFFERED=1 python3 tests/bench/clock_probe.py
