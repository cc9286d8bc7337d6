#!/usr/bin/env python3
"""Summarises tests/bench/gpu_throughput.sh's output directory as Markdown.

usage: throughput_summary.py OUT_DIR

Per sample: configs/s, GPU idle, seconds to reach within 2% of the final
best (from each trace), the phases of the new tune, Kernel Tuner's run, and
every winner timed again in fresh processes: side by side with the default
alone in its process (the protocol of a tune's best_ms, so "in-search /
isolated" compares like with like), and back to back for 50 ms, all winners
in one process; then the noise check. Reads only what the script wrote; a missing file is a missing row.
"""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def shape0(d):
    return (d or {}).get("shapes", [{}])[0]


def trace_lines(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return rows


def to_within(series, frac=0.02):
    """Seconds until the running best is within frac of the final best;
    series: (elapsed, ms) in order."""
    finite = [ms for _, ms in series if ms is not None and ms == ms and ms < 1e30]
    if not finite:
        return None
    goal = min(finite) * (1 + frac)
    for t, ms in series:
        if ms is not None and ms <= goal:
            return t
    return None


def tune_row(out, name, which):
    s = shape0(load(os.path.join(out, f"{name}.{which}.json")))
    if not s.get("best_ms"):
        return None
    evals = [(r["elapsed"], r.get("ms")) for r in
             trace_lines(os.path.join(out, f"{name}.{which}.trace.jsonl"))
             if "evaluation" in r]
    return {
        "configs": s.get("configs_tested"),
        "seconds": s.get("seconds"),
        "cps": s.get("configs_per_second"),
        "idle": s.get("gpu_idle_fraction"),
        "best_ms": s.get("best_ms"),
        "best": s.get("best_config"),
        "to2": to_within(evals),
        "phases": s.get("phases"),
        "stops": s.get("timing_stops"),
        "pool": s.get("compile_pool"),
    }


def key(cfg):
    return json.dumps(cfg, sort_keys=True, separators=(",", ":"))


def iso_times(out, name):
    """Each config's time in the back-to-back run (FiniteSearch: one full
    timing each), by the config as the tool writes it. Kernel Tuner's
    configs (and those of the tune on its spec copy) are written otherwise
    and have only the side-by-side column."""
    return {key(r["config"]): r["ms"]
            for r in trace_lines(os.path.join(out, f"{name}.iso.trace.jsonl"))
            if "evaluation" in r}


def sbs_time(out, name, which):
    """The run's winner timed side by side with the default, alone in a
    fresh process (FiniteSearch over the two); None when the default won
    there (no side-by-side timing of the winner then)."""
    s = shape0(load(os.path.join(out, f"{name}.sbs.{which}.json")))
    return s.get("best_ms") if s.get("side_by_side") else None


def fmt(x):
    return "" if x is None else f"{x:.4f}"


def main():
    out = sys.argv[1]
    gpu = open(os.path.join(out, "gpu_name.txt")).read().strip() \
        if os.path.exists(os.path.join(out, "gpu_name.txt")) else "?"
    samples = sorted(f[:-6] for f in os.listdir(out) if f.endswith(".shape"))
    print(f"GPU: {gpu}\n")
    print("| sample | run | configs | s | configs/s | GPU idle |"
          " compile pool use | to 2% (s) |"
          " best in search (ms) | isolated, side by side (ms) |"
          " in-search / isolated | back to back (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    phases = []
    for name in samples:
        iso = iso_times(out, name)
        extra = sorted(
            f[len(name) + 1:-len(".trace.jsonl")] for f in os.listdir(out)
            if f.startswith(name + ".") and f.endswith(".trace.jsonl"))
        extra = [w for w in extra
                 if w not in ("old", "new", "newkt", "iso") and "." not in w]
        for which in ["old", "new", "newkt"] + extra:
            r = tune_row(out, name, which)
            if not r:
                continue
            i = sbs_time(out, name, which)
            ratio = f"{r['best_ms'] / i:.3f}" if i else ""
            pool = (f"{100 * r['pool']['use']:.0f}%" if r["pool"] else "")
            print(f"| {name} | {which} | {r['configs']} | {r['seconds']:.1f} |"
                  f" {r['cps']:.1f} | {100 * r['idle']:.0f}% | {pool} |"
                  f" {r['to2'] if r['to2'] is None else round(r['to2'], 1)} |"
                  f" {r['best_ms']:.4f} | {fmt(i)} | {ratio} |"
                  f" {fmt(iso.get(key(r['best'])))} |")
            if which == "new" and r["phases"]:
                phases.append((name, r["phases"], r["stops"], r["pool"]))
        kt = load(os.path.join(out, f"{name}.kt", "kt_result.json"))
        if kt:
            i = sbs_time(out, name, "kt")
            to2 = kt.get("seconds_to_within_2pct")
            # Configs/s after Kernel Tuner's search-space build (its own
            # start-up, which helion-tune does not have), in its favour.
            print(f"| {name} | Kernel Tuner {kt.get('strategy')} |"
                  f" {kt.get('evaluated')} + {kt.get('failed')} failed |"
                  f" {kt.get('seconds', 0):.1f} (space"
                  f" {kt.get('searchspace_seconds') or 0:.1f}) |"
                  f" {kt.get('configs_per_second_after_searchspace', 0):.1f} | | |"
                  f" {to2 if to2 is None else round(to2, 1)} |"
                  f" {fmt(kt.get('best_ms_kt'))} (its timer) | {fmt(i)} | | |")
    if phases:
        names = list(phases[0][1].keys())
        print("\nWhere the new tune's wall time went (seconds):\n")
        print("| sample | " + " | ".join(names) +
              " | timing stops | compile pool use (compiles, jobs) |")
        print("|---" * (len(names) + 3) + "|")
        for name, p, st, pool in phases:
            use = (f"{100 * pool['use']:.0f}% ({pool['compiles']}, "
                   f"{pool['jobs']})" if pool else "")
            print(f"| {name} | " + " | ".join(f"{p[k]:.2f}" for k in names) +
                  f" | {json.dumps(st)} | {use} |")
    rows = []
    for f in sorted(os.listdir(out)):
        if f.startswith("noise_") and f.endswith("_1.json"):
            n = f[len("noise_"):-len("_1.json")]
            ms = []
            for k in range(1, 100):
                p = os.path.join(out, f"noise_{n}_{k}.json")
                if not os.path.exists(p):
                    break
                ms.append(shape0(load(p)).get("default_ms"))
            if len(ms) >= 2 and all(ms):
                d = max(ms) / min(ms) - 1
                rows.append(f"| {n} | " + " / ".join(f"{m:.4f}" for m in ms) +
                            f" ms | {100 * d:.2f}% |")
    if rows:
        print("\nNoise: the default config, separate processes after idling"
              " (sample.dutyD: HELION_AUTOTUNE_DUTY_CYCLE=D)\n")
        print("| sample | runs | max / min - 1 (target < 2%) |\n|---|---|---|")
        print("\n".join(rows))


if __name__ == "__main__":
    main()
