#!/usr/bin/env python3
"""Configure-time tuning budget (issue 14): the flags helion_add_tuned_kernel()
passes to `helion-tune tune` (cmake/HelionTuneDefaults.cmake) and other
candidates, against LFBOTreeSearch at full effort, on every shared landscape.

Every candidate runs the same seeds (S..S+R-1) on every landscape. For each
landscape and candidate it prints median ratio (best found / optimum), share
of runs within 5%, median evaluations and median simulated seconds (the
landscape's recorded compile + benchmark times of the configs measured), next
to full effort's median ratio. Exit status 1 when the chosen default's median
ratio exceeds --target on any landscape.

usage: configure_budget.py [--tune build-rel/helion-tune] [--runs 20]
           [--seed 1] [--jobs 2] [--landscapes DIR] [--target 1.10]
           [--candidate 'FLAGS' ...] [--no-full]
"""
import argparse
import glob
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../.."))
DEFAULTS_CMAKE = os.path.join(ROOT, "cmake/HelionTuneDefaults.cmake")
FULL = "--algorithm LFBOTreeSearch --effort full"
# Candidates compared with the default (the default is read from the CMake
# file, so the table always checks the flags the build really passes).
QUICK_PAD = "--algorithm LFBOTreeSearch --effort quick --set pad_random=true"
OTHERS = [
    "--algorithm LFBOTreeSearch --effort quick",  # Helion's quick: no padding
    QUICK_PAD,
    QUICK_PAD + " --set max_generations=15",
    "--algorithm LFBOTreeSearch --effort full --max-evals 100",
    "--algorithm LFBOTreeSearch --effort full --max-evals 130",
    "--algorithm LFBOTreeSearch --effort full --max-evals 150",
]


def default_flags():
    """The flags of set(HELION_DEFAULT_TUNE_FLAGS ...) in the CMake file."""
    text = open(DEFAULTS_CMAKE).read()
    m = re.search(r"set\(\s*HELION_DEFAULT_TUNE_FLAGS\s+([^)]*)\)", text)
    if not m:
        sys.exit(f"{DEFAULTS_CMAKE}: no set(HELION_DEFAULT_TUNE_FLAGS ...)")
    return " ".join(shlex.split(m.group(1), comments=True))


def simulate(tune, landscape, flags, runs, seed):
    cmd = [tune, "simulate", landscape, *shlex.split(flags), "--runs",
           str(runs), "--seed", str(seed), "--json", "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {shlex.join(cmd)}\n{p.stderr}")
    d = json.loads(p.stdout)
    runs_ = d["runs"]
    return {
        "median": d["summary"]["median_ratio"],
        "within5": d["summary"]["within_1_05"],
        "evals": statistics.median(r["evaluations"] for r in runs_),
        "sim_s": statistics.median(r["sim_seconds"] for r in runs_),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", default=os.path.join(ROOT, "build-rel/helion-tune"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1, help="seed of the first run")
    ap.add_argument("--jobs", "-j", type=int, default=2,
                    help="simulate processes at once (default 2)")
    ap.add_argument("--landscapes", default=os.path.join(ROOT, "tests/data/landscapes"),
                    help="folder of *.json.gz landscapes (tiny_* skipped)")
    ap.add_argument("--target", type=float, default=1.10,
                    help="highest allowed median ratio of the default")
    ap.add_argument("--candidate", action="append",
                    help="flags of a candidate to compare instead of the "
                         "built-in ones (repeatable)")
    ap.add_argument("--no-full", action="store_true",
                    help="skip the full-effort reference (its column shows -)")
    a = ap.parse_args()

    files = sorted(f for f in glob.glob(os.path.join(a.landscapes, "*.json.gz"))
                   if not os.path.basename(f).startswith("tiny_"))
    if not files:
        sys.exit(f"no landscapes in {a.landscapes}")
    chosen = default_flags()
    cands = [chosen] + [c for c in (a.candidate or OTHERS) if c != chosen]
    jobs = [(f, c) for f in files for c in cands + ([] if a.no_full else [FULL])]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(a.jobs) as ex:
        res = dict(zip(jobs, ex.map(
            lambda j: simulate(a.tune, j[0], j[1], a.runs, a.seed), jobs)))
    wall = time.perf_counter() - t0

    print(f"Seeds {a.seed}..{a.seed + a.runs - 1} for every cell; "
          f"default (cmake/HelionTuneDefaults.cmake): `{chosen}`\n")
    print("| landscape | flags | median ratio | within 5% | median evals "
          "| median sim s | full effort: median ratio / evals |")
    print("|---|---|---|---|---|---|---|")
    worst = {}
    for f in files:
        name = os.path.basename(f).replace(".json.gz", "")
        full = "-" if a.no_full else "{:.3f} / {:.0f}".format(
            res[(f, FULL)]["median"], res[(f, FULL)]["evals"])
        for c in cands:
            r = res[(f, c)]
            worst[c] = max(worst.get(c, 0), r["median"])
            tag = " (default)" if c == chosen else ""
            print(f"| {name} | `{c}`{tag} | {r['median']:.3f} | "
                  f"{100 * r['within5']:.0f}% | {r['evals']:.0f} | "
                  f"{r['sim_s']:.0f} | {full} |")
    print("\n| flags | worst median ratio | lowest within 5% | sum over "
          "landscapes of median evals / median sim s |\n|---|---|---|---|")
    for c in cands:
        ev = sum(res[(f, c)]["evals"] for f in files)
        ss = sum(res[(f, c)]["sim_s"] for f in files)
        low = min(res[(f, c)]["within5"] for f in files)
        print(f"| `{c}` | {worst[c]:.3f} | {100 * low:.0f}% | {ev:.0f} / {ss:.0f} |")
    print(f"\n{len(jobs)} simulate calls of {a.runs} runs, {a.jobs} at once: "
          f"{wall:.0f} s wall")
    if worst[chosen] > a.target:
        print(f"FAIL: the default's median ratio {worst[chosen]:.3f} > {a.target}")
        return 1
    print(f"OK: the default's median ratio is at most {a.target} everywhere")
    return 0


if __name__ == "__main__":
    sys.exit(main())
