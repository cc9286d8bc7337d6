#!/usr/bin/env python3
"""How the GPU's clock and a kernel's time move under sustained load (issue 19).

Runs on the device machine (PyTorch there), from an idle GPU:
  sustained   an fp16 GEMM 4096^3 (cuBLAS, tensor cores) back to back for
              SECONDS, every launch timed with CUDA events;
  duty D      the same GEMM, each launch followed by an idle gap so that the
              GPU is busy a fraction D of the time;
  memory      a memory-bound kernel (a 1 GiB copy) back to back.
Each pattern runs twice, after IDLE seconds of idle each time, so the
steady state's reproducibility shows too. `nvidia-smi` samples the SM clock,
power and the active clock-event reasons every 20 ms alongside.

Prints, per pattern and run, the median kernel time in windows of 100 ms
(first second) then 500 ms, and the SM clock over the same windows: when the
time starts to rise, where it settles, and whether a duty cycle keeps it at
the idle-start level. Writes the raw series to OUT/clock_probe.json.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import torch

SECONDS = float(os.environ.get("PROBE_SECONDS", "3"))
IDLE = float(os.environ.get("PROBE_IDLE", "8"))
OUT = os.environ.get("OUT", "/tmp")


def timed_series(fn, duty):
    """Launches fn back to back (duty 1) or with idle gaps, for SECONDS;
    returns [(t_start_s, kernel_ms)]."""
    series = []
    t0 = time.perf_counter()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
        enable_timing=True)
    pending = []
    while time.perf_counter() - t0 < SECONDS:
        s = torch.cuda.Event(enable_timing=True)
        e = torch.cuda.Event(enable_timing=True)
        t = time.perf_counter() - t0
        s.record()
        fn()
        e.record()
        pending.append((t, s, e))
        if duty < 1.0:
            e.synchronize()
            ms = s.elapsed_time(e)
            gap = ms * (1.0 - duty) / duty / 1000.0
            until = time.perf_counter() + gap
            while time.perf_counter() < until:
                pass
        elif len(pending) > 64:
            pending[-32][2].synchronize()
    torch.cuda.synchronize()
    del start, end
    for t, s, e in pending:
        series.append((t, s.elapsed_time(e)))
    return series


def windows(series, clocks):
    rows = []
    edges = [i * 0.1 for i in range(11)] + [1.0 + i * 0.5 for i in range(1, 9)]
    edges = [e for e in edges if e <= SECONDS + 1e-9]
    for a, b in zip(edges, edges[1:]):
        ms = [m for t, m in series if a <= t < b]
        mhz = [c["sm"] for c in clocks if a <= c["t"] < b]
        pw = [c["w"] for c in clocks if a <= c["t"] < b]
        rows.append({
            "from_s": round(a, 2), "to_s": round(b, 2), "n": len(ms),
            "median_ms": round(statistics.median(ms), 5) if ms else None,
            "sm_mhz": round(statistics.median(mhz)) if mhz else None,
            "power_w": round(statistics.median(pw)) if pw else None,
        })
    return rows


def sample_clocks():
    return subprocess.Popen(
        ["nvidia-smi",
         "--query-gpu=timestamp,clocks.sm,power.draw,clocks_event_reasons.active",
         "--format=csv,noheader,nounits", "-lms", "20"],
        stdout=subprocess.PIPE, text=True)


def parse_clocks(text, t0_wall):
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 4:
            continue
        try:
            # "2026/12/07 16:10:01.123"
            tm = time.mktime(time.strptime(parts[0][:19], "%Y/%m/%d %H:%M:%S"))
            tm += float("0" + parts[0][19:]) if len(parts[0]) > 19 else 0.0
            out.append({"t": tm - t0_wall, "sm": float(parts[1]),
                        "w": float(parts[2]), "reasons": parts[3]})
        except ValueError:
            continue
    return out


def main():
    n = 4096
    a = torch.randn(n, n, device="cuda", dtype=torch.half)
    b = torch.randn(n, n, device="cuda", dtype=torch.half)
    c = torch.empty(n, n, device="cuda", dtype=torch.half)
    src = torch.empty(1 << 28, device="cuda", dtype=torch.float32)
    dst = torch.empty_like(src)
    gemm = lambda: torch.matmul(a, b, out=c)
    copy = lambda: dst.copy_(src)
    gemm(), copy()
    torch.cuda.synchronize()
    patterns = [("sustained", gemm, 1.0), ("duty 0.5", gemm, 0.5),
                ("duty 0.25", gemm, 0.25), ("memory", copy, 1.0)]
    result = {"gpu": torch.cuda.get_device_name(), "runs": []}
    for name, fn, duty in patterns:
        for run in (1, 2):
            time.sleep(IDLE)
            smi = sample_clocks()
            time.sleep(0.2)
            t0_wall = time.time()
            series = timed_series(fn, duty)
            smi.terminate()
            text, _ = smi.communicate()
            clocks = parse_clocks(text, t0_wall)
            rows = windows(series, clocks)
            reasons = sorted({c["reasons"] for c in clocks if c["t"] >= 0})
            result["runs"].append({"pattern": name, "run": run, "rows": rows,
                                   "reasons": reasons,
                                   "series": series[:: max(1, len(series) // 2000)]})
            print(f"== {name}, run {run}: {len(series)} launches; "
                  f"clock-event reasons seen: {' '.join(reasons)}")
            print("  window s     n  median ms  SM MHz  power W")
            for r in rows:
                print(f"  {r['from_s']:4.1f}-{r['to_s']:<4.1f} {r['n']:5d}  "
                      f"{r['median_ms'] if r['median_ms'] is not None else '-':>9}"
                      f"  {r['sm_mhz'] if r['sm_mhz'] is not None else '-':>6}"
                      f"  {r['power_w'] if r['power_w'] is not None else '-':>7}")
            sys.stdout.flush()
    with open(os.path.join(OUT, "clock_probe.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
