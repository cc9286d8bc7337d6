#!/usr/bin/env python3
"""Summarises a `helion-tune tune` log written with HELION_BENCH_PROFILE=1
and HELION_AUTOTUNE_LOG_LEVEL=DEBUG: the benchmark worker's phases per
config, where the wall time went (benchmark batches, waiting for NVRTC,
rebenchmarks, the rest: search and setup), and the final throughput line.

usage: profile_summary.py LOG
"""
import re
import statistics
import sys

PHASES = re.compile(r"load ([0-9.]+) ms, checked run ([0-9.]+) ms, "
                    r"timing and unload ([0-9.]+) ms")
BENCH = re.compile(r"bench: (\d+) configs in ([0-9.]+)s \(worker busy "
                   r"([0-9.]+)s, waiting for NVRTC ([0-9.]+)s\)")
REBENCH = re.compile(r"rebench: (\d+) configs, (\d+) of (\d+) rounds .* in "
                     r"([0-9.]+)s")
DONE = re.compile(r"Autotuning complete in ([0-9.]+)s")


def main(path):
    lines = open(path, errors="replace").read().splitlines()
    phases = [tuple(map(float, m.groups())) for m in map(PHASES.search, lines)
              if m]
    for name, k in (("load", 0), ("checked run", 1), ("timing+unload", 2)):
        v = [p[k] for p in phases]
        if v:
            print(f"  worker {name:14s} median {statistics.median(v):7.1f} ms"
                  f"  mean {statistics.mean(v):7.1f} ms  (n={len(v)})")
    bench = [m.groups() for m in map(BENCH.search, lines) if m]
    reb = [m.groups() for m in map(REBENCH.search, lines) if m]
    done = [float(m.group(1)) for m in map(DONE.search, lines) if m]
    b_wall = sum(float(g[1]) for g in bench)
    b_busy = sum(float(g[2]) for g in bench)
    b_wait = sum(float(g[3]) for g in bench)
    r_wall = sum(float(g[3]) for g in reb)
    r_cfg = sum(int(g[0]) for g in reb)
    r_rounds = sum(int(g[1]) for g in reb)
    r_max = sum(int(g[2]) for g in reb)
    if done:
        total = done[-1]
        print(f"  wall {total:.1f}s: bench batches {b_wall:.1f}s (worker "
              f"{b_busy:.1f}s, waiting for NVRTC {b_wait:.1f}s), "
              f"rebenchmarks {r_wall:.1f}s ({len(reb)} calls, {r_cfg} "
              f"configs, {r_rounds} of {r_max} rounds), rest "
              f"{total - b_wall - r_wall:.1f}s")
    for line in lines:
        if "configs/s" in line:
            print("  " + line.strip())


if __name__ == "__main__":
    main(sys.argv[1])
