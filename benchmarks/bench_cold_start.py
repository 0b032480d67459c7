"""Cold start of the README's examples.

Every example runs in fresh processes, each example with its own empty,
temporary ``NUMBA_CACHE_DIR`` (as if it were the first thing a user runs
after installing):

1. cold: empty cache, so every kernel the example needs is compiled;
2. warm cache: a new process loads the kernels the first one cached;
3. the example again inside the warm process (everything compiled and loaded).

The examples are the README's code blocks, in its order: the first example
(``find_cycles`` of GT16 up to order 16), the shell example
(``plrnn-explorer cycles``, timed as a whole command), the bifurcation block
(a sweep and a 40 x 40 map), the training block (GTF training, the analysis
of its checkpoints and a 200 x 200 loss landscape) and the panels block (the
Explorer's constructor, which searches up to order 16 before it returns when no
event loop runs).

Compile speed varies between hosts (and on shared virtual machines from one
minute to the next) by up to 2x, so a fresh process beside each cold run
compiles a fixed reference function (plain loops and one ``np.linalg.solve``,
numba only, not cached), and the cold figures are printed as ratios to it too.

Run: ``python benchmarks/bench_cold_start.py [--repeats N] [--first-only]``
(about 2 min per repeat of the first example, 6 min for one pass over all).
Medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

#: the README's examples, each timed from after the import to its end
EXAMPLES = {
    "first example: find_cycles(GT16, max_order=16)": """
res = pe.find_cycles(pe.systems.gt16(), max_order=16, seed=0)
""",
    "bifurcations: sweep + 40 x 40 map": """
sw = pe.sweep(pe.systems.skew_tent(0.2, 0.0, 1.0), "W[0,0]", np.linspace(-2.2, 1.3, 71), max_order=4)
sw.plot()
bm = pe.bifurcation_map(pe.systems.gt16(), ("A[0,0]", np.linspace(0.5, 1.1, 40)),
                        ("A[1,1]", np.linspace(0.8, 1.1, 40)), max_order=16)
bm.plot(); bm.to_xarray(); bm.to_netcdf("map.nc")
""",
    "training: train + analyze_training + loss_landscape": """
data = pe.systems.simulate_data(pe.systems.gt16(), 500, seed=0)
run = pe.train(pe.systems.gt16().replace(A=[0.6, 0.8]), data, 300, method="gtf", alpha=0.1,
               seq_len=100, lr=0.01, checkpoint_every=10, seed=0)
ta = pe.analyze_training(run.checkpoints, 16, losses=run.losses, epochs=run.epochs)
ta.plot()
ls = pe.loss_landscape(pe.systems.gt16(), data, ("A[0,0]", np.linspace(0, 1.2, 200)),
                       ("A[1,1]", np.linspace(0, 1.2, 200)), seq_len=500)
ls.plot()
""",
    "panels: widgets.Explorer(GT16, max_order=16)": """
from plrnn_explorer import widgets
ex = widgets.Explorer(pe.systems.gt16(), max_order=16)
""",
}

TIMED = r"""
import json, time
import matplotlib
matplotlib.use("Agg")
import numpy as np
t0 = time.perf_counter()
import plrnn_explorer as pe
t1 = time.perf_counter()
exec(compile({code!r}, "example", "exec"))
t2 = time.perf_counter()
exec(compile({code!r}, "example", "exec"))
t3 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first": t2 - t1, "second": t3 - t2}}))
"""

SHELL = "shell: plrnn-explorer cycles model.json --max-order 16"

REFERENCE = r"""
import json, time
import numpy as np
from numba import njit

@njit
def reference(a, b):            # a fixed yardstick of the host's compile speed
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j] * b[j]
    return np.linalg.solve(a, b) * s

t0 = time.perf_counter()
reference(np.eye(2), np.ones(2))
print(json.dumps({"reference": time.perf_counter() - t0}))
"""


def _env(cache_dir: str) -> dict:
    return {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "MPLBACKEND": "Agg"}


def run_python(cache_dir: str, script: str, cwd: str) -> dict:
    out = subprocess.run([sys.executable, "-c", script], env=_env(cache_dir), cwd=cwd, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def run_shell(cache_dir: str, cwd: str) -> dict:
    """The README's shell example: the whole command (interpreter start, import, search, printing)."""
    cli = shutil.which("plrnn-explorer")
    if cli is None:
        raise SystemExit("plrnn-explorer is not on PATH: install the package first (pip install -e .)")
    save = "import plrnn_explorer as pe; pe.save_model(pe.systems.gt16(), 'model.json')"
    subprocess.run([sys.executable, "-c", save], env=_env(cache_dir), cwd=cwd, check=True, capture_output=True)
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([cli, "cycles", "model.json", "--max-order", "16"], env=_env(cache_dir), cwd=cwd, check=True,
                       capture_output=True)
        times.append(time.perf_counter() - t0)
    return {"import": float("nan"), "first": times[0], "second": times[1]}


def measure(name: str, repeats: int) -> tuple[list[dict], list[dict], list[float]]:
    """(cold runs, warm-cache runs, reference compiles) of one example."""
    cold, warm, reference = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache_dir, tempfile.TemporaryDirectory() as cwd:
            reference.append(run_python(cache_dir, REFERENCE, cwd)["reference"])
            for out in (cold, warm):
                if name == SHELL:
                    out.append(run_shell(cache_dir, cwd))
                else:
                    out.append(run_python(cache_dir, TIMED.format(code=EXAMPLES[name]), cwd))
    return cold, warm, reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the first example (others: 1)")
    parser.add_argument("--first-only", action="store_true", help="only the README's first example")
    args = parser.parse_args()
    names = list(EXAMPLES)[:1] if args.first_only else [list(EXAMPLES)[0], SHELL, *list(EXAMPLES)[1:]]
    print("| README example | cold: first use | = x reference compile | warm cache: first use | again in the "
          "same process |\n|---|---|---|---|---|")
    for i, name in enumerate(names):
        cold, warm, reference = measure(name, args.repeats if i == 0 else 1)
        med = lambda rs, key: statistics.median(r[key] for r in rs)          # noqa: E731
        ratio = statistics.median(c["first"] / r for c, r in zip(cold, reference))
        what = "whole command" if name == SHELL else f"import {med(cold, 'import'):.1f} s +"
        print(f"| {name} | {what} {med(cold, 'first'):.1f} s | {ratio:.2f} | {med(warm, 'first'):.1f} s | "
              f"{med(warm, 'second'):.2f} s |", flush=True)
    print(f"\nreference compile (fresh process, numba only): medians as measured beside each cold run; "
          f"{args.repeats} repeat(s) of the first example, 1 of the others")


if __name__ == "__main__":
    main()
