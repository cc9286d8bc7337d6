#!/usr/bin/env python3
"""Does each algorithm beat uniform random sampling at a budget? Median
ratio and share within 5% over R runs (default 200: the convolution
landscape is bimodal, so 20-run medians flip between its two modes) against
the exact random expectation.

usage: beats_random.py [--tune build/helion-tune] [--runs 200] [--evals 220]
                       [--algorithms A,B]
"""
import argparse
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_baseline  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", default=os.path.join(HERE, "../../build/helion-tune"))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--evals", type=int, default=220)
    ap.add_argument("--algorithms", default="PatternSearch,DifferentialEvolutionSearch")
    a = ap.parse_args()
    files = sorted(f for f in glob.glob(os.path.join(HERE, "../data/landscapes/*.json.gz"))
                   if not f.endswith("_T4.json.gz")
                   and not os.path.basename(f).startswith("tiny_"))
    print(f"| landscape | random (exact) | " +
          " | ".join(a.algorithms.split(",")) + " |")
    print("|---" * (2 + len(a.algorithms.split(","))) + "|")
    ok = True
    for f in files:
        q = random_baseline.quality(random_baseline.load_times(f), a.evals)
        cells = [f"{q['median_ratio']:.4f} / {100*q['within_1_05']:.0f}%"]
        for algo in a.algorithms.split(","):
            p = subprocess.run([a.tune, "simulate", f, "--algorithm", algo,
                                "--max-evals", str(a.evals), "--runs", str(a.runs),
                                "--seed", "1", "--json", "--quiet"],
                               capture_output=True, text=True, check=True)
            s = json.loads(p.stdout)["summary"]
            beats = s["median_ratio"] < q["median_ratio"]
            ok &= beats
            cells.append(f"{s['median_ratio']:.4f} / {100*s['within_1_05']:.0f}%"
                         + ("" if beats else " (not better)"))
        name = os.path.basename(f).replace(".json.gz", "")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\nall beat random" if ok else "\nsome do not beat random")
    return 0


if __name__ == "__main__":
    sys.exit(main())
