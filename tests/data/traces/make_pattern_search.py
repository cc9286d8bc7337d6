#!/usr/bin/env python3
# make_pattern_search.py: writes pattern_search.jsonl, a realistic hand-made
# search trace (the search driver did not exist when it was made). A pattern
# search on a GEMM-like space: a random first generation, then neighbour
# generations around the best that improve in steps, ~8% failures of all four
# kinds, and three rebenchmarks of the finalists at the end.
# Deterministic: python3 make_pattern_search.py > pattern_search.jsonl
import json
import math
import random

rng = random.Random(3)
OPT = 0.0119
CHOICES = {
    "block_m": [16, 32, 64, 128],
    "block_n": [16, 32, 64, 128],
    "block_k": [8, 16, 32, 64],
    "num_warps": [1, 2, 4, 8],
    "num_stages": [1, 2, 3, 4],
    "swizzle": [False, True],
}
BEST = {"block_m": 64, "block_n": 64, "block_k": 32, "num_warps": 4,
        "num_stages": 3, "swizzle": True}


def cost(cfg):
    # Distance from the optimum in index steps sets a multiplicative penalty.
    d = sum(abs(CHOICES[k].index(cfg[k]) - CHOICES[k].index(BEST[k]))
            for k in CHOICES)
    return OPT * math.exp(0.45 * d) * rng.uniform(1.0, 1.04)


def outcome(cfg):
    if cfg["block_m"] * cfg["block_n"] * cfg["num_stages"] > 32768:
        return "compile"  # shared memory overflow
    r = rng.random()
    if r < 0.03:
        return "runtime"
    if r < 0.05:
        return "accuracy"
    if r < 0.07:
        return "timeout"
    return "ok"


def main():
    out = [{"meta": {"landscape": "gemm_RTX_3090", "algorithm": "PatternSearch",
                     "seed": 3, "optimum_ms": OPT}}]
    elapsed = 0.0
    n = 0
    seen = set()

    def evaluate(cfg, gen):
        nonlocal elapsed, n
        n += 1
        st = outcome(cfg)
        if st == "timeout":
            elapsed += 5.0
        else:
            elapsed += rng.uniform(0.25, 1.2)
        ms = round(cost(cfg), 6) if st == "ok" else None
        out.append({"evaluation": n, "config": cfg, "ms": ms, "status": st,
                    "elapsed": round(elapsed, 3), "generation": gen})
        return ms

    best_cfg, best_ms = None, math.inf
    for _ in range(60):
        cfg = {k: rng.choice(v) for k, v in CHOICES.items()}
        key = json.dumps(cfg, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        ms = evaluate(cfg, 0)
        if ms is not None and ms < best_ms:
            best_cfg, best_ms = cfg, ms
    gen = 1
    while gen < 12:
        improved = False
        for k, vals in CHOICES.items():
            i = vals.index(best_cfg[k])
            for j in (i - 1, i + 1):
                if not 0 <= j < len(vals):
                    continue
                cfg = dict(best_cfg)
                cfg[k] = vals[j]
                key = json.dumps(cfg, sort_keys=True)
                if key in seen:
                    continue
                seen.add(key)
                ms = evaluate(cfg, gen)
                if ms is not None and ms < best_ms:
                    best_cfg, best_ms, improved = cfg, ms, True
        gen += 1
        if not improved:
            break
    finalists = sorted((o for o in out[1:] if o["ms"] is not None),
                       key=lambda o: o["ms"])[:3]
    for f in finalists:
        elapsed += 0.8
        out.append({"rebench": True, "config": f["config"],
                    "ms": round(f["ms"] * rng.uniform(0.99, 1.01), 6),
                    "elapsed": round(elapsed, 3)})
    for o in out:
        print(json.dumps(o))


main()
