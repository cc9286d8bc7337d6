#!/usr/bin/env python3
"""Fingerprint of what every search does on the shared landscapes, to show a
refactoring changed no behaviour.

For each shared landscape, each algorithm (FiniteSearch aside: it needs
user-given configs), seeds 1..5 and budgets of 100 and 220 evaluations, runs
`simulate --json --trace` and records every run's numbers and a sha256 of its
trace's evaluation lines (the meta header line is left out: it describes the
run and may gain fields). `--write FILE` stores the fingerprint; `--check FILE`
compares against a stored one and names every cell that differs.

usage: behaviour.py [--tune build/helion-tune] (--write F | --check F)
"""
import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ALGORITHMS = ["LFBOTreeSearch", "LFBOPatternSearch", "PatternSearch",
              "DifferentialEvolutionSearch", "DESurrogateHybrid", "RandomSearch"]
BUDGETS = [100, 220]
SEED, RUNS = 1, 5


def trace_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for line in f:
            if not line.startswith(b'{"meta"'):
                h.update(line)
    return h.hexdigest()


def fingerprint(tune):
    files = sorted(f for f in glob.glob(os.path.join(HERE, "../data/landscapes/*.json.gz"))
                   if not os.path.basename(f).startswith("tiny_"))
    cells = {}
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            name = os.path.basename(f).replace(".json.gz", "")
            for algo in ALGORITHMS:
                for evals in BUDGETS:
                    trace = os.path.join(tmp, "t.jsonl")
                    p = subprocess.run(
                        [tune, "simulate", f, "--algorithm", algo, "--max-evals",
                         str(evals), "--runs", str(RUNS), "--seed", str(SEED),
                         "--json", "--quiet", "--trace", trace],
                        capture_output=True, text=True)
                    if p.returncode != 0:
                        sys.exit(f"{name} {algo} {evals}: exit {p.returncode}: {p.stderr}")
                    out = json.loads(p.stdout)
                    runs = []
                    for r in out["runs"]:
                        r = {k: r[k] for k in ("seed", "evaluations", "best_ms",
                                               "measured_ms", "ratio", "sim_seconds",
                                               "best_config")}
                        r["trace_sha256"] = trace_digest(f"{trace}.{r['seed']}")
                        runs.append(r)
                    cells[f"{name} {algo} {evals}"] = {"runs": runs,
                                                       "summary": out["summary"]}
                    print(f"{name:28} {algo:28} {evals:4} median "
                          f"{out['summary']['median_ratio']:.4f}", file=sys.stderr)
    return cells


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", default=os.path.join(HERE, "../../build/helion-tune"))
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--write")
    g.add_argument("--check")
    a = ap.parse_args()
    now = fingerprint(a.tune)
    if a.write:
        with open(a.write + ".tmp", "w") as f:
            json.dump(now, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(a.write + ".tmp", a.write)
        print(f"wrote {len(now)} cells to {a.write}")
        return
    with open(a.check) as f:
        before = json.load(f)
    bad = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    for k in bad:
        print(f"DIFFERS: {k}\n  before: {json.dumps(before.get(k))[:300]}\n"
              f"  now:    {json.dumps(now.get(k))[:300]}")
    print(f"{len(now) - len(bad)} of {len(set(before) | set(now))} cells identical")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
