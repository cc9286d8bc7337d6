#!/usr/bin/env python3
"""Search quality on the recorded landscapes: every algorithm on every
landscape at several evaluation budgets, R runs each, against the exact
expectation of uniform random sampling.

usage: landscapes.py [--tune build/helion-tune] [--runs 20]
                     [--budgets 100,220,500] [--algorithms A,B,...]
                     [--landscapes DIR] [--out RESULTS-section.md]

Prints a Markdown table (median ratio best/optimum, share of runs within 5%,
mean evaluations used) and the wall time of each simulate call.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_baseline  # noqa: E402

DEFAULT_ALGOS = "RandomSearch,PatternSearch,DifferentialEvolutionSearch"


def simulate(tune, landscape, algo, evals, runs, extra):
    cmd = [tune, "simulate", landscape, "--algorithm", algo, "--max-evals",
           str(evals), "--runs", str(runs), "--seed", "1", "--json", "--quiet"]
    cmd += extra
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return json.loads(p.stdout), wall


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", default=os.path.join(HERE, "../../build/helion-tune"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--budgets", default="100,220,500")
    ap.add_argument("--algorithms", default=DEFAULT_ALGOS)
    ap.add_argument("--landscapes", default=os.path.join(HERE, "../data/landscapes"))
    ap.add_argument("--effort", default="full")
    ap.add_argument("--out")
    a = ap.parse_args()
    budgets = [int(b) for b in a.budgets.split(",")]
    files = sorted(f for f in glob.glob(os.path.join(a.landscapes, "*.json.gz"))
                   if not f.endswith("_T4.json.gz")
                   and not os.path.basename(f).startswith("tiny_"))
    lines = []
    head = "| landscape | algorithm | " + " | ".join(
        f"{b}: median / within 5% / evals" for b in budgets) + " |"
    lines.append(head)
    lines.append("|" + "---|" * (2 + len(budgets)))
    walls = []
    for f in files:
        name = os.path.basename(f).replace(".json.gz", "")
        times = random_baseline.load_times(f)
        cells = []
        for b in budgets:
            q = random_baseline.quality(times, b)
            cells.append(f"{q['median_ratio']:.3f} / {100*q['within_1_05']:.0f}% / {b}")
        lines.append(f"| {name} | uniform random (exact) | " + " | ".join(cells) + " |")
        for algo in a.algorithms.split(","):
            cells = []
            for b in budgets:
                res, wall = simulate(a.tune, f, algo, b, a.runs,
                                     ["--effort", a.effort])
                s = res["summary"]
                evals = sum(r["evaluations"] for r in res["runs"]) / len(res["runs"])
                cells.append(f"{s['median_ratio']:.3f} / {100*s['within_1_05']:.0f}% / {evals:.0f}")
                walls.append((name, algo, b, wall))
            lines.append(f"| {name} | {algo} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    out = "\n".join(lines) + "\n\nWall time per simulate call ({} runs):\n\n".format(a.runs)
    out += "| landscape | algorithm | evals | seconds |\n|---|---|---|---|\n"
    out += "\n".join(f"| {n} | {al} | {b} | {w:.2f} |" for n, al, b, w in walls) + "\n"
    print(out)
    if a.out:
        with open(a.out, "w") as fh:
            fh.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
