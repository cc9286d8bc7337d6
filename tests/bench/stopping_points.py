#!/usr/bin/env python3
"""Where each search stops on its own: Helion's quick and full effort
profiles with no evaluation cap, R runs per landscape. Prints median ratio
(best / optimum), share of runs within 5%, and median evaluations used.

usage: stopping_points.py [--tune build/helion-tune] [--runs 20]
                          [--algorithms A,B,...]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", default=os.path.join(HERE, "../../build/helion-tune"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--algorithms", default="LFBOTreeSearch,LFBOPatternSearch,"
                    "PatternSearch,DifferentialEvolutionSearch,DESurrogateHybrid")
    a = ap.parse_args()
    files = sorted(f for f in glob.glob(os.path.join(HERE, "../data/landscapes/*.json.gz"))
                   if not f.endswith("_T4.json.gz")
                   and not os.path.basename(f).startswith("tiny_"))
    names = [os.path.basename(f).replace(".json.gz", "") for f in files]
    print("| algorithm | effort | " + " | ".join(names) + " |")
    print("|---" * (2 + len(names)) + "|")
    for algo in a.algorithms.split(","):
        for effort in ("quick", "full"):
            cells = []
            for f in files:
                p = subprocess.run([a.tune, "simulate", f, "--algorithm", algo,
                                    "--effort", effort, "--runs", str(a.runs),
                                    "--seed", "1", "--json", "--quiet"],
                                   capture_output=True, text=True, check=True)
                d = json.loads(p.stdout)
                s = d["summary"]
                ev = statistics.median(r["evaluations"] for r in d["runs"])
                cells.append(f"{s['median_ratio']:.3f} / {100*s['within_1_05']:.0f}% / {ev:.0f}")
            print(f"| {algo} | {effort} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
