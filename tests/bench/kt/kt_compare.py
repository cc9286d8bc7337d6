#!/usr/bin/env python3
"""Runs Kernel Tuner on the same kernel and configuration space as helion-tune.

Issue 19: to compare configs/s and the best config found with Kernel Tuner
(the Python autotuner), both tools must search the same space of the same
kernel. This harness takes the space from `helion-tune space SPEC --shape S
--list` (every valid config with its -D macros, grid, block and dynamic
shared memory, exactly as our GPU backend computes them) and gives it to
Kernel Tuner:

  * tune_params are named by the kernel's macros, so Kernel Tuner's own
    `#define NAME value` lines are what the kernel reads; num_warps becomes
    block_size_x = 32 * num_warps and a prologue derives HL_NUM_WARPS and
    HL_NUM_THREADS from it;
  * restrictions: membership of the parameter tuple in the listed set, as
    a constraint that also prunes partial assignments (listed_set_constraint);
    Kernel Tuner's Searchspace is asserted to be exactly the listed set;
  * grid: a callable problem_size returning the listed grid, with empty
    grid_div lists (Kernel Tuner then divides by 1);
  * dynamic shared memory: smem_args={"size": callable};
  * the NVRTC options of our compile (nvrtc_compile.c) except the
    architecture, which CuPy chooses (it adds its own -arch for the device).

Parameters Kernel Tuner cannot vary per config are removed from a copy of
the spec first (maxnreg: an NVRTC option; Kernel Tuner 1.4 passes one
compiler_options list to every config), so both tools must be run on that
copy (DIR/<spec>.json) for a like-for-like comparison.

Writes DIR/kt_result.json (summary, best config in helion-tune's config JSON)
and DIR/kt_series.json (one entry per evaluation). With --check-space, only
builds Kernel Tuner's Searchspace (no GPU) and checks that it is exactly
the listed set.
"""

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from operator import itemgetter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]

# Parameters whose values Kernel Tuner cannot pass per config.
NON_MACRO_PARAMS = ("maxnreg",)

# Macros derived from block_size_x (= 32 * num_warps) in the prologue.
PROLOGUE = """\
/* kt_compare.py: num_warps is Kernel Tuner's block_size_x / 32. */
#define HL_NUM_WARPS (block_size_x / 32)
#define HL_NUM_THREADS block_size_x
"""
DERIVED_MACROS = ("HL_NUM_WARPS", "HL_NUM_THREADS")

# Dynamic shared memory a kernel may use without opting in (CUDA's 48 KiB).
SMEM_DEFAULT_LIMIT = 48 * 1024

C_TYPES = {
    "__half": np.float16,
    "half": np.float16,
    "float": np.float32,
    "double": np.float64,
    "int": np.int32,
    "int32_t": np.int32,
    "unsigned": np.uint32,
    "uint32_t": np.uint32,
    "long long": np.int64,
    "int64_t": np.int64,
}


def parse_shape(text):
    """"M=4096,N=1024" -> {"M": 4096, "N": 1024}."""
    shape = {}
    for item in text.split(","):
        key, value = item.split("=", 1)
        shape[key.strip()] = int(value)
    return shape


def eval_expr(expr, shape):
    """Evaluates a spec expression over the shape (integer arithmetic)."""
    if isinstance(expr, (int, float)):
        return expr
    scope = dict(shape)
    scope["cdiv"] = lambda a, b: -(-a // b)
    return eval(str(expr).replace("/", "//"), {"__builtins__": {}}, scope)


def write_spec_copy(spec_path, out_dir):
    """Copies the spec without NON_MACRO_PARAMS, next to its kernel source.

    Returns (path of the copy, the spec as loaded, the kernel source text).
    """
    spec_path = Path(spec_path).resolve()
    spec = json.loads(spec_path.read_text())
    removed = [p for p in NON_MACRO_PARAMS if p in spec.get("space", {})]
    for name in removed:
        del spec["space"][name]
        spec.get("defaults", {}).pop(name, None)
    source = spec_path.parent / spec["source"]
    shutil.copyfile(source, out_dir / source.name)
    spec["source"] = source.name
    copy = out_dir / spec_path.name
    copy.write_text(json.dumps(spec, indent=2) + "\n")
    if removed:
        print(f"kt_compare: removed {', '.join(removed)} from the space "
              f"(not a macro); tune {copy} for the comparison", file=sys.stderr)
    return copy, spec, source.read_text()


def list_space(tune, spec_copy, shape_text, arch):
    """Every valid config of `spec_copy` at the shape, as listed by the tool."""
    cmd = [tune, "space", str(spec_copy), "--shape", shape_text, "--arch",
           arch, "--list"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line]


def macro_value(text):
    """A macro's value as Kernel Tuner should print it (int when it is one)."""
    try:
        return int(text)
    except ValueError:
        return text


class Problem:
    """The listed space as Kernel Tuner parameters, and the way back."""

    def __init__(self, lines):
        self.failed_launch = [l for l in lines if l.get("grid") is None]
        self.lines = [l for l in lines if l.get("grid") is not None]
        if not self.lines:
            raise SystemExit("kt_compare: no listed config can launch")
        names = ["block_size_x"]
        for line in self.lines:
            if line["options"]:
                raise SystemExit(f"kt_compare: config {line['config']} needs "
                                 f"NVRTC options {line['options']}, which "
                                 "Kernel Tuner cannot vary per config")
            for d in line["defines"]:
                name = d.split("=", 1)[0]
                if name not in DERIVED_MACROS and name not in names:
                    names.append(name)
        self.names = names
        self.by_key = {}
        values = {n: set() for n in names}
        for line in self.lines:
            block = line["block"]
            defines = dict(d.split("=", 1) for d in line["defines"])
            warps = int(defines["HL_NUM_WARPS"])
            if block[1:] != [1, 1] or block[0] != 32 * warps or int(
                    defines.get("HL_NUM_THREADS", block[0])) != block[0]:
                raise SystemExit(f"kt_compare: block {block} is not "
                                 f"32 * num_warps for {line['config']}")
            params = {"block_size_x": block[0]}
            for n in names[1:]:
                params[n] = macro_value(defines[n])
            key = tuple(params[n] for n in names)
            if key in self.by_key:
                raise SystemExit(f"kt_compare: configs {line['config']} and "
                                 f"{self.by_key[key]['config']} have the same "
                                 "macros; the mapping is not a bijection")
            self.by_key[key] = line
            for n in names:
                values[n].add(params[n])
        self.tune_params = {n: sorted(values[n], key=lambda v: (str(type(v)), v))
                            for n in names}
        self.default = next((l for l in self.lines if l.get("default")), None)
        # The key of the config Kernel Tuner is working on (see verify()).
        self.current = None

    def key(self, params):
        return tuple(params[n] for n in self.names)

    def line(self, params):
        return self.by_key[self.key(params)]

    def params_of(self, line):
        """Kernel Tuner's params dict of a listed line."""
        for key, l in self.by_key.items():
            if l is line:
                return dict(zip(self.names, key))
        raise KeyError(line["config"])

    def restrictions(self):
        """Kernel Tuner restrictions: the tuple is one of the listed configs.

        One python-constraint2 Constraint over all parameters that also
        rejects partial assignments no listed config extends, so the solver
        prunes at every level instead of enumerating the raw product.
        """
        return [listed_set_constraint(self.names, self.by_key)]

    def problem_size(self, params):
        """The listed grid (grid_div lists are empty, so grid = this)."""
        # Kernel Tuner builds each instance (and calls this) right before it
        # compiles, runs and verifies it; verify() has no params argument.
        self.current = self.key(params)
        return tuple(self.line(params)["grid"])

    def smem_size(self, params):
        return self.line(params)["shared_mem"]


def listed_set_constraint(names, listed):
    """A python-constraint2 Constraint: membership in `listed` (tuples of the
    values of `names`), checked on partial assignments too.

    Kernel Tuner 1.4 builds its Searchspace by backtracking (python-constraint2,
    OptimizedBacktrackingSolver), checking a variable's constraints each time
    it assigns one. A plain callable restriction is only decided once every
    parameter is assigned, so all raw combinations are enumerated (806400 for
    matmul, minutes). This constraint accepts a partial assignment if and only
    if its values are the projection of some listed config onto the assigned
    parameters, whatever order the solver assigns them in: every dead branch
    is cut at its first parameter, and a complete assignment passes exactly
    when it is listed. The space is therefore the listed set; check_space()
    and the tune run assert it (check_same_space).
    """
    from constraint import FunctionConstraint

    # A FunctionConstraint so that Kernel Tuner's check of a whole config
    # outside the solver (util.check_restriction: _func(*values in
    # tune_params order)) works too.
    class ListedSet(FunctionConstraint):
        def __init__(self):
            super().__init__(lambda *values: values in listed)
            # frozenset of assigned names -> (getter of their values from an
            # assignment, the set of the listed configs' values for them)
            self.projections = {}

        def __call__(self, variables, domains, assignments, forwardcheck=False):
            assigned = frozenset(assignments)
            projection = self.projections.get(assigned)
            if projection is None:
                order = [n for n in names if n in assigned]
                # itemgetter gives a value for one name, a tuple for several,
                # the same way for an assignment and for a listed tuple.
                of_listed = itemgetter(*[names.index(n) for n in order])
                projection = (itemgetter(*order), set(map(of_listed, listed)))
                self.projections[assigned] = projection
            values_of, allowed = projection
            return values_of(assignments) in allowed

        def __deepcopy__(self, memo):
            # Kernel Tuner deep-copies its restrictions several times; this
            # one is never modified, so copies can share it.
            return self

    return ListedSet()


def make_arguments(spec, shape, seed):
    """Kernel arguments as the spec inits them; outputs poisoned with NaN."""
    rng = np.random.default_rng(seed)
    args, outputs = [], []
    for a in spec["args"]:
        ctype = a["type"].replace("const", "").strip()
        pointer = ctype.endswith("*")
        base = ctype.rstrip("*").strip()
        if base not in C_TYPES:
            raise SystemExit(f"kt_compare: argument type {a['type']} unknown")
        dtype = C_TYPES[base]
        if not pointer:
            args.append(dtype(eval_expr(a["value"], shape)))
            continue
        n = int(eval_expr(a["numel"], shape))
        init = a.get("init")
        if a.get("output"):
            poison = np.nan if np.issubdtype(dtype, np.floating) else -1
            args.append(np.full(n, poison, dtype=dtype))
            outputs.append(len(args) - 1)
        elif init == "randn":
            args.append(rng.standard_normal(n, dtype=np.float32).astype(dtype))
        elif init == "rand":
            args.append(rng.random(n, dtype=np.float32).astype(dtype))
        elif init == "arange":
            args.append(np.arange(n).astype(dtype))
        elif init == "ones":
            args.append(np.ones(n, dtype=dtype))
        elif init in (None, "zeros"):
            args.append(np.zeros(n, dtype=dtype))
        elif isinstance(init, (int, float)):
            args.append(np.full(n, init, dtype=dtype))
        else:
            raise SystemExit(f"kt_compare: init {init!r} not supported")
    return args, outputs


def reference(spec, shape, args):
    """The expected outputs in float32 (numpy), by kernel name."""
    name = spec["name"]
    f32 = [a.astype(np.float32) if isinstance(a, np.ndarray) else a
           for a in args]
    if name == "matmul":
        M, N, K = shape["M"], shape["N"], shape["K"]
        return {2: (f32[0].reshape(M, K) @ f32[1].reshape(K, N)).ravel()}
    if name == "softmax":
        x = f32[0].reshape(shape["M"], shape["N"])
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return {1: (e / e.sum(axis=1, keepdims=True)).ravel()}
    raise SystemExit(f"kt_compare: no numpy reference for kernel {name}")


def compiler_options(include_dir):
    """Our NVRTC options (nvrtc_compile.c), less -arch (CuPy sets it) and
    --ptxas-options=-v (diagnostics only)."""
    cuda_home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
    opts = ["-std=c++17", "-default-device", f"--include-path={include_dir}"]
    if Path(cuda_home, "include").is_dir():
        opts.append(f"--include-path={cuda_home}/include")
    return opts


def allow_large_smem():
    """Lets kernels use over 48 KiB of dynamic shared memory under CuPy.

    Kernel Tuner 1.4's cupy backend launches with shared_mem=smem_size but
    never sets the function's max-dynamic-shared-memory attribute, so such
    launches fail. Our runner sets it to the launch's size when over 48 KiB
    (runner.c); this patch does the same before each launch.
    """
    from kernel_tuner.backends import cupy as kt_cupy

    original = kt_cupy.CupyFunctions.run_kernel

    def run_kernel(self, func, gpu_args, threads, grid, stream=None):
        if self.smem_size > SMEM_DEFAULT_LIMIT:
            func.max_dynamic_shared_size_bytes = int(self.smem_size)
        return original(self, func, gpu_args, threads, grid, stream)

    kt_cupy.CupyFunctions.run_kernel = run_kernel


def device_sms():
    """The GPU's SM count (CuPy), or None when it cannot be read."""
    try:
        import cupy

        return cupy.cuda.Device().attributes["MultiProcessorCount"]
    except Exception:  # reported as unknown, never fatal
        return None


def check_same_space(searchspace, problem):
    """Exits unless Kernel Tuner's Searchspace is exactly the listed set."""
    built = set(searchspace.list)
    listed = set(problem.by_key)
    if len(searchspace.list) != len(built) or built != listed:
        raise SystemExit(
            f"kt_compare: FAIL: Kernel Tuner's space ({len(searchspace.list)}"
            f" configs, {len(built - listed)} not listed) is not the listed "
            f"one ({len(listed)} configs, {len(listed - built)} missing)")


def time_searchspace(timing, problem):
    """Records how long tune_kernel spends building its Searchspace.

    Kernel Tuner 1.4 enumerates the whole space (with python-constraint2)
    before its first evaluation, inside the timed call (seconds with
    listed_set_constraint; minutes for matmul with a plain membership
    callable). The time is reported apart so that configs/s can be given with
    and without it. The space is then checked against the listing (not
    timed).
    """
    import kernel_tuner.interface as kti

    original = kti.Searchspace

    def timed(*args, **kwargs):
        start = time.perf_counter()
        searchspace = original(*args, **kwargs)
        timing["searchspace_seconds"] = time.perf_counter() - start
        check_same_space(searchspace, problem)
        return searchspace

    kti.Searchspace = timed


def check_space(problem):
    """Builds Kernel Tuner's Searchspace (no GPU) and checks that it is the
    listed set, config for config."""
    from kernel_tuner.searchspace import Searchspace

    start = time.perf_counter()
    ss = Searchspace(problem.tune_params, problem.restrictions(), 1024)
    seconds = time.perf_counter() - start
    print(f"kt_compare: Kernel Tuner searchspace: {ss.size} configs "
          f"(built in {seconds:.1f} s); listed: {len(problem.lines)} "
          f"launchable, {len(problem.failed_launch)} that cannot launch; "
          f"params: " + ", ".join(f"{n}[{len(v)}]"
                                  for n, v in problem.tune_params.items()))
    check_same_space(ss, problem)
    print("kt_compare: ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tune", required=True, help="the helion-tune binary")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--shape", required=True, help="K=V,... (one shape)")
    ap.add_argument("--arch", default="sm_90",
                    help="device assumed by the listing (its SM count sets "
                         "persistent grids; default sm_90)")
    ap.add_argument("--strategy", default="genetic_algorithm")
    ap.add_argument("--max-fevals", type=int, default=220)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=7)
    ap.add_argument("--include-dir", default=str(REPO / "runtime/include"),
                    help="helion's runtime headers (<helion/device.cuh>)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--check-space", action="store_true",
                    help="only build Kernel Tuner's Searchspace (no GPU)")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec_copy, spec, source = write_spec_copy(args.spec, out)
    shape = parse_shape(args.shape)
    lines = list_space(args.tune, spec_copy, args.shape, args.arch)
    problem = Problem(lines)
    if args.check_space:
        check_space(problem)
        return

    # CuPy keeps compiled kernels on disk (~/.cupy/kernel_cache); a second
    # run would skip NVRTC. A fresh cache directory per run keeps compile
    # time in the measurement (set before cupy is imported).
    cupy_cache = out / "cupy_cache"
    shutil.rmtree(cupy_cache, ignore_errors=True)
    os.environ["CUPY_CACHE_DIR"] = str(cupy_cache)
    import kernel_tuner

    random.seed(args.seed)
    np.random.seed(args.seed)
    allow_large_smem()
    timing = {}
    time_searchspace(timing, problem)
    kernel_string = PROLOGUE + source
    arguments, outputs = make_arguments(spec, shape, args.seed)
    expected = reference(spec, shape, arguments)
    acc = spec.get("accuracy", {})
    atol, rtol = acc.get("atol", 1e-6), acc.get("rtol", 0.0)
    answer = [expected.get(i) for i in range(len(arguments))]
    wrong = {}

    def max_error(result, want):
        got = result.astype(np.float32)
        if not np.all(np.isfinite(got)):
            return math.inf
        return float(np.max(np.abs(got - want) - rtol * np.abs(want)))

    def verify(answer_, result_host, atol=None):
        """Records wrong answers and lets the run go on.

        Kernel Tuner 1.4 aborts the whole tune on a failed verification; our
        tool counts the config as failed instead, so a wrong config is kept
        here and left out of the results afterwards.
        """
        for want, got in zip(answer_, result_host):
            if want is not None:
                err = max_error(got, want)
                if err > atol:
                    wrong[problem.current] = err
        return True

    common = dict(grid_div_x=[], grid_div_y=[], grid_div_z=[], lang="cupy",
                  compiler_options=compiler_options(args.include_dir),
                  smem_args={"size": problem.smem_size})

    # The default config must be right before anything is timed.
    default = problem.default or problem.lines[0]
    dparams = problem.params_of(default)
    got = kernel_tuner.run_kernel(spec["entry"], kernel_string,
                                  problem.problem_size, arguments, dparams,
                                  quiet=True, **common)
    for i, want in expected.items():
        err = max_error(got[i], want)
        if err > atol:
            raise SystemExit(f"kt_compare: default config {default['config']}"
                             f" is wrong: error {err} > atol {atol}")
    print(f"kt_compare: default config {default['config']} verified",
          file=sys.stderr)

    start_wall = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    results, env = kernel_tuner.tune_kernel(
        spec["entry"], kernel_string, problem.problem_size, arguments,
        problem.tune_params, restrictions=problem.restrictions(),
        answer=answer, atol=atol, verify=verify, iterations=args.iterations,
        strategy=args.strategy,
        strategy_options={"max_fevals": args.max_fevals}, seed=args.seed,
        quiet=True, **common)
    seconds = time.perf_counter() - t0

    series, seen, failed = [], set(), 0
    best = None
    for r in results:
        key = problem.key(r)
        if key in seen:
            continue
        seen.add(key)
        stamp = datetime.fromisoformat(r["timestamp"])
        t = (stamp - start_wall).total_seconds()
        # Kernel Tuner 1.4 marks a compile or launch failure with
        # r["__error__"] (an ErrorConfig); "time" may then be absent.
        error = r.get("__error__")
        ok = (error is None and isinstance(r.get("time"), (int, float)) and
              math.isfinite(r["time"]) and key not in wrong)
        if not ok:
            failed += 1
        elif best is None or r["time"] < best[0]:
            best = (r["time"], key)
        series.append({"seconds": t,
                       "time_ms": r["time"] if ok else None,
                       "error": None if ok else (
                           "wrong answer" if key in wrong else
                           type(error).__name__ if error is not None else
                           str(r.get("time"))),
                       "best_so_far_ms": best[0] if best else None,
                       "config": problem.by_key[key]["config"]})
    evaluated = len(seen) - failed
    summary = {
        "strategy": args.strategy,
        "max_fevals": args.max_fevals,
        "seed": args.seed,
        "spec": str(spec_copy),
        "shape": shape,
        "evaluated": evaluated,
        "failed": failed,
        "wrong_answers": len(wrong),
        "seconds": seconds,
        "configs_per_second": (evaluated + failed) / seconds,
        "searchspace_seconds": timing.get("searchspace_seconds"),
        "configs_per_second_after_searchspace":
            (evaluated + failed) /
            (seconds - timing.get("searchspace_seconds", 0.0)),
        "best_ms_kt": best[0] if best else None,
        "best_config": problem.by_key[best[1]]["config"] if best else None,
        "kernel_tuner_version": kernel_tuner.__version__,
        "device": env.get("device_name"),
        # Persistent grids were listed for --arch's SM count (sm_90: 132);
        # helion-tune uses the device's own, so they should agree.
        "device_sms": device_sms(),
        "arch_assumed": args.arch,
    }
    if best:
        final = best[0]
        reach = next(s["seconds"] for s in series
                     if s["best_so_far_ms"] is not None and
                     s["best_so_far_ms"] <= 1.02 * final)
        summary["seconds_to_within_2pct"] = reach
    (out / "kt_result.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "kt_series.json").write_text(json.dumps(series, indent=1) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
