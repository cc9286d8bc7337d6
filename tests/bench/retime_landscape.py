#!/usr/bin/env python3
"""Rewrites a recorded landscape (Kernel Tuner cache JSON, gzipped) with this
tool's latencies, for the simulator's --compile-jobs clock: each config's
compile time drawn from a log-normal of median 0.26 s (NVRTC on the H100
machine, issue 19: 0.1-0.6 s), 40 ms of GPU time per working config. The
recorded kernel times, and so the search's choices and ratios, are kept.

usage: retime_landscape.py IN.json.gz OUT.json.gz [SEED [COMPILE_S [GPU_MS]]]
(COMPILE_S the compile time's median, default 0.26; GPU_MS the GPU time per
working config, default 40: softmax on the H100 is about 0.14 and 6.)
"""
import math
import gzip
import json
import random
import sys


def main():
    src, dst = sys.argv[1], sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    mu = math.log(float(sys.argv[4]) if len(sys.argv) > 4 else 0.26)
    gpu_ms = float(sys.argv[5]) if len(sys.argv) > 5 else 40.0
    with gzip.open(src, "rt") as f:
        land = json.load(f)
    for rec in land["cache"].values():
        rec["compile_time"] = rng.lognormvariate(mu, 0.4) * 1000
        ok = isinstance(rec.get("time"), (int, float))
        rec["benchmark_time"] = gpu_ms if ok else 0.0
    with gzip.open(dst, "wt") as f:
        json.dump(land, f)


if __name__ == "__main__":
    main()
