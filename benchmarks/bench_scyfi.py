"""SCYFI speed: the numba engine against the plain-NumPy reference of the same algorithm.

Run: ``python benchmarks/bench_scyfi.py [--repeats N] [--full]``

Both engines run side by side in this process on the same systems with the
same budgets (strategy="scyfi", so no exact enumeration shortcut). Their random
streams differ, so they do not do identical numbers of solves; the fair figure
is the time per candidate solve, and the ratio of those. Prints markdown
tables with medians over ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import plrnn_explorer as pe

sys.path.insert(0, os.path.dirname(__file__))
from numpy_reference import numpy_find_cycles  # noqa: E402

GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])


def random_plrnn(M, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1 / np.sqrt(M), (M, M))
    np.fill_diagonal(W, 0)
    return pe.PLRNN(rng.uniform(0.3, 0.9, M), W, rng.normal(0, 0.5, M))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def compare(name, model, orders, n_out, n_in, repeats):
    nb_t, nb_s, np_t, np_s = [], [], [], []
    for r in range(repeats):
        t, res = timed(lambda: pe.find_cycles(model, orders=orders, outer_loop_iterations=n_out,
                                              inner_loop_iterations=n_in, seed=r, strategy="scyfi"))
        nb_t.append(t)
        nb_s.append(res.stats["candidates_solved"])
        t, (found, solves) = timed(lambda: numpy_find_cycles(model, orders, n_out, n_in, seed=r))
        np_t.append(t)
        np_s.append(solves)
    per_nb = statistics.median(t / s for t, s in zip(nb_t, nb_s))
    per_np = statistics.median(t / s for t, s in zip(np_t, np_s))
    return (f"| {name} | {orders[0]}..{orders[-1]} | {n_out}/{n_in} | {statistics.median(nb_t):.3f} | "
            f"{statistics.median(np_t):.2f} | {1 / per_nb:,.0f} | {1 / per_np:,.0f} | {per_np / per_nb:.0f}x |")


def compile_times():
    """Import + first find_cycles with an empty numba cache, then again with it warm."""
    code = ("import time; t=time.perf_counter(); import plrnn_explorer as pe; "
            "m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2]); pe.find_cycles(m, 3, seed=0); "
            "pe.exhaustive_cycles(m, 2); print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        run = lambda: float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,  # noqa: E731
                                           text=True, check=True).stdout)
        cold = run()
        warm = [run() for _ in range(3)]
    return cold, statistics.median(warm)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="also run NumPy on all orders 1..83 (minutes)")
    args = ap.parse_args()
    pe.find_cycles(GT16, 3, seed=0)  # compile outside the timings

    print("## Warm find_cycles on the 2-D GT16 PLRNN (numba)\n")
    print("| task | median s |\n|---|---|")
    for label, kw in [("orders 1..83, N_out 20 / N_in 100", dict(max_order=83, outer_loop_iterations=20,
                                                               inner_loop_iterations=100)),
                      ("orders 1..83, default budgets", dict(max_order=83)),
                      ("orders 1..16, default budgets", dict(max_order=16))]:
        ts = [timed(lambda: pe.find_cycles(GT16, seed=r, **kw))[0] for r in range(args.repeats)]
        print(f"| {label} | {statistics.median(ts):.3f} |")

    print("\n## numba against plain NumPy, same algorithm, same budgets\n")
    print("| system | orders | N_out/N_in | numba s | NumPy s | numba solves/s | NumPy solves/s | per-solve speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    top = 83 if args.full else 30
    print(compare("GT16 (M=2)", GT16, list(range(1, top + 1)), 20, 100, args.repeats))
    print(compare("random PLRNN M=5", random_plrnn(5, 0), list(range(1, 9)), 20, 100, args.repeats))
    print(compare("random PLRNN M=20", random_plrnn(20, 1), [1, 2, 3], 20, 50, args.repeats))

    cold, warm = compile_times()
    print("\n## Import + first search (2-D model, orders 1..3, plus exhaustive)\n")
    print("| numba cache | seconds |\n|---|---|")
    print(f"| empty (first run, compiles) | {cold:.1f} |\n| warm (cache=True, median of 3) | {warm:.2f} |")


if __name__ == "__main__":
    main()
