#!/usr/bin/env python3
"""Exact quality of uniform random sampling on a recorded landscape.

For n evaluations drawn without replacement from the N valid configurations
(failed ones count as +inf), P(best > t_(k)) = C(N-k, n) / C(N, n) with the
times sorted ascending. This prints the median and 90th-percentile ratio
best/optimum and the probability of landing within 2%, 5% and 10% of the
optimum: the baseline row of the bench table, computed independently of the
C simulator.

usage: random_baseline.py LANDSCAPE.json[.gz] N [N ...]
"""
import gzip
import json
import math
import sys


def load_times(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    d = json.loads(raw)
    times = []
    if "cache" in d:
        for rec in d["cache"].values():
            t = rec.get("time")
            err = rec.get("__error__")
            if t == "InvalidConfig" or err == "InvalidConfig":
                continue
            if isinstance(t, (int, float)) and not err:
                times.append(float(t))
            else:
                times.append(math.inf)
    else:
        for r in d["results"]:
            inv = r.get("invalidity", "correct")
            if inv == "constraints":
                continue
            rt = r.get("times", {}).get("runtimes") or []
            if inv == "correct" and rt:
                times.append(sum(rt) / len(rt))
            else:
                times.append(math.inf)
    times.sort()
    return times


def log_comb(a, b):
    if b < 0 or b > a:
        return -math.inf
    return math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)


def quality(times, n):
    big_n = len(times)
    n = min(n, big_n)
    opt = times[0]
    total = log_comb(big_n, n)

    def p_best_le(k):  # P(best <= times[k-1]), k is 1-based
        return 1.0 - math.exp(log_comb(big_n - k, n) - total)

    def quantile(q):
        for k in range(1, big_n + 1):
            if p_best_le(k) >= q:
                return times[k - 1] / opt
        return math.inf

    def within(r):
        k = sum(1 for t in times if t <= opt * r)
        return p_best_le(k)

    return {
        "median_ratio": quantile(0.5),
        "p90_ratio": quantile(0.9),
        "within_1_02": within(1.02),
        "within_1_05": within(1.05),
        "within_1_10": within(1.10),
        "valid_configs": big_n,
        "optimum_ms": opt,
    }


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    times = load_times(sys.argv[1])
    out = {int(n): quality(times, int(n)) for n in sys.argv[2:]}
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
