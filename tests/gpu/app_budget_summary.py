#!/usr/bin/env python3
"""The configure-time default budget against a full tune, on one GPU.

  app_budget_summary.py --list APP_DIR
      prints "name spec shape" per helion_add_tuned_kernel() shape of the
      app's CMakeLists.txt (spec paths relative to the repository root)
  app_budget_summary.py --device NAME DEFAULT_DIR FULL_DIR
      prints a Markdown table: for every entry of GPU NAME in DEFAULT_DIR's
      results files, the configs, wall seconds and best ms of it and of the
      entry for the same shape in FULL_DIR, and the ratio of the two bests
Used by tests/gpu/device_run.sh (step app-full).
"""
import json
import os
import re
import sys


def app_shapes(app_dir):
    text = open(os.path.join(app_dir, "CMakeLists.txt")).read()
    for call in re.finditer(r"helion_add_tuned_kernel\((.*?)\)", text, re.S):
        words = re.findall(r'"[^"]*"|\S+', call.group(1))
        words = [w.strip('"') for w in words]
        name, spec, shapes, i = words[0], None, [], 1
        while i < len(words):
            if words[i] == "SPEC":
                spec = words[i + 1].replace("${HELION_APP_SAMPLES}", "samples")
                i += 2
            elif words[i] == "SHAPES":
                i += 1
                while i < len(words) and "=" in words[i]:
                    shapes.append(words[i])
                    i += 1
            else:
                i += 1
        if spec is None or not shapes:
            sys.exit(f"{app_dir}/CMakeLists.txt: {name}: no SPEC or SHAPES")
        for shape in shapes:
            print(name, spec, shape)


def entries(path, device):
    with open(path) as f:
        doc = json.load(f)
    return {json.dumps(e["shape"], sort_keys=True): e
            for e in doc["entries"] if e["device"]["name"] == device}


def compare(device, default_dir, full_dir):
    print(f"GPU: {device}")
    print()
    print("| kernel, shape | default: configs | wall s | best ms "
          "| full: configs | wall s | best ms | default / full |")
    print("|---|---|---|---|---|---|---|---|")
    worst, missing = 0.0, 0
    for fname in sorted(os.listdir(default_dir)):
        if not fname.endswith(".tuned.json"):
            continue
        kernel = fname[: -len(".tuned.json")]
        dflt = entries(os.path.join(default_dir, fname), device)
        full = entries(os.path.join(full_dir, fname), device)
        for key, d in sorted(dflt.items()):
            shape = ",".join(f"{k}={v}" for k, v in d["shape"].items())
            f = full.get(key)
            if f is None:
                print(f"| {kernel} {shape} | {d['configs_tested']} "
                      f"| {d['wall_seconds']:.1f} | {d['best_ms']:.4f} "
                      "| no full entry | | | |")
                missing += 1
                continue
            ratio = d["best_ms"] / f["best_ms"]
            worst = max(worst, ratio)
            print(f"| {kernel} {shape} | {d['configs_tested']} "
                  f"| {d['wall_seconds']:.1f} | {d['best_ms']:.4f} "
                  f"| {f['configs_tested']} | {f['wall_seconds']:.1f} "
                  f"| {f['best_ms']:.4f} | {ratio:.3f} |")
    print()
    print(f"worst default / full: {worst:.3f}; shapes without a full entry: {missing}")
    return 1 if missing else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--list":
        app_shapes(argv[2])
        return 0
    if len(argv) == 5 and argv[1] == "--device":
        return compare(argv[2], argv[3], argv[4])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
