#!/usr/bin/env python3
"""Held-back shapes for `helion-tune distill` (issue 16's measurement).

The device script distills over training AND held-back shapes, so one
side-by-side matrix times every winner on every shape. Then:

  distill_heldout.py split FULL OUT --held S [S ...]
      writes OUT: FULL's results file with the distilled element cut down to
      the training shapes (rows) and the training shapes' winners (columns),
      its subset and tree removed, ready for `helion-tune distill --refit`
  distill_heldout.py evaluate FULL TRAINED --held S [S ...]
      for each held-back shape, the dispatched config (TRAINED's tree; where
      its config cannot run the shape, the nearest training shape's winner
      that can, as the generated dispatcher does) and one single config
      (the best geometric mean over the training shapes), each timed on the
      held-back shape over that shape's own tuned winner, from FULL's matrix;
      prints a Markdown table, then median and worst of each

Shapes are "K=V,..." in the spec's key order. Exit status 1 when a shape or
a config the evaluation needs is missing.
"""
import json
import math
import statistics
import sys


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def load(path):
    with open(path) as f:
        doc = json.load(f)
    (dist,) = doc["distilled"]  # one device
    return doc, dist


def parse_shape(text, keys):
    kv = dict(p.split("=") for p in text.split(","))
    return [int(kv[k]) for k in keys]


def row_of(dist, shape):
    for i, s in enumerate(dist["shapes"]):
        if s == shape:
            return i
    sys.exit(f"shape {shape} is not in the distilled matrix")


def winner_column(doc, dist, shape):
    """The column of the shape's own tuned winner (its results entry)."""
    keys = dist["keys"]
    for e in doc["entries"]:
        if (e["device"]["name"] == dist["device"]["name"]
                and [e["shape"][k] for k in keys] == shape):
            want = canon(e["best_config_minimized"])
            for c, cfg in enumerate(dist["configs"]):
                if canon(cfg) == want:
                    return c
            sys.exit(f"the winner of {shape} is not a column")
    sys.exit(f"no entry for {shape}")


def feature(name, keys, shape):
    v = dict(zip(keys, (float(x) for x in shape)))
    if "*" in name:
        a, b = name.split("*")
        return v[a] * v[b]
    if "/" in name:
        a, b = name.split("/")
        return 0.0 if v[b] == 0.0 else v[a] / v[b]
    return v[name]


def predict(tree, keys, shape):
    while "config" not in tree:
        x = feature(tree["feature"], keys, shape)
        tree = tree["left"] if x <= tree["threshold"] else tree["right"]
    return tree["config"]


def split(full_path, out_path, held):
    doc, dist = load(full_path)
    keys = dist["keys"]
    held_shapes = [parse_shape(h, keys) for h in held]
    train = [i for i, s in enumerate(dist["shapes"]) if s not in held_shapes]
    cols = sorted({winner_column(doc, dist, dist["shapes"][i]) for i in train})
    dist["shapes"] = [dist["shapes"][i] for i in train]
    dist["ms"] = [[dist["ms"][i][c] for c in cols] for i in train]
    dist["configs"] = [dist["configs"][c] for c in cols]
    dist["selected"] = [0]
    dist["slowdown"] = [None] * len(train)
    dist.pop("tree", None)
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def evaluate(full_path, trained_path, held):
    doc, full = load(full_path)
    _, trained = load(trained_path)
    keys = full["keys"]
    col = {canon(c): i for i, c in enumerate(full["configs"])}
    tcols = [col[canon(c)] for c in trained["configs"]]
    tree = trained.get("tree")
    if tree is None:
        sys.exit(f"{trained_path}: no tree")
    # One config for every shape: the best geometric-mean slowdown over the
    # training shapes (a config failing on one of them is out).
    best_single, best_g = None, math.inf
    for tc, c in enumerate(tcols):
        slow = []
        for r, s in enumerate(trained["shapes"]):
            row = trained["ms"][r]
            if row[tc] is None:
                break
            slow.append(row[tc] / min(x for x in row if x is not None))
        else:
            if geomean(slow) < best_g:
                best_single, best_g = c, geomean(slow)
    print("| held-back shape | own winner ms | dispatched | ratio | how "
          "| single config ratio |")
    print("|---|---|---|---|---|---|")
    ratios, singles = [], []
    for h in held:
        shape = parse_shape(h, keys)
        row = full["ms"][row_of(full, shape)]
        own = row[winner_column(doc, full, shape)]
        pick, how = tcols[predict(tree, keys, shape)], "tree"
        if row[pick] is None:
            # The generated dispatcher's next rung: the nearest training
            # shape (log space) whose winner can run this shape.
            def dist2(s):
                return sum((math.log2(max(a, 1)) - math.log2(max(b, 1))) ** 2
                           for a, b in zip(s, shape))
            for s in sorted(trained["shapes"], key=dist2):
                c = winner_column(doc, full, s)
                if row[c] is not None:
                    pick, how = c, "nearest (tree's config illegal)"
                    break
        r = row[pick] / own if row[pick] is not None else math.inf
        sr = row[best_single] / own if row[best_single] is not None else math.inf
        ratios.append(r)
        singles.append(sr)
        print(f"| {h} | {own:.4f} | C{pick} | {r:.3f} | {how} | {sr:.3f} |")
    print()
    print(f"dispatched: median {statistics.median(ratios):.3f}, worst "
          f"{max(ratios):.3f}; single config C{best_single}: median "
          f"{statistics.median(singles):.3f}, worst {max(singles):.3f}")


def main(argv):
    if len(argv) >= 6 and argv[1] in ("split", "evaluate") and argv[4] == "--held":
        fn = split if argv[1] == "split" else evaluate
        fn(argv[2], argv[3], argv[5:])
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
