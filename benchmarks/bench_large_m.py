"""Cycle solves at large M: scalar loops against BLAS/LAPACK, beside a minimal NumPy step.

Run: ``python benchmarks/bench_large_m.py [--long] [--repeats N]`` (about 2 min;
``--long`` adds M = 500 to the table, M = 1000 at order 1 and the M = 1000 search, several minutes more).

Everything runs in this one process with single-threaded BLAS (threadpoolctl),
so the figures compare like with like:

1. the machine's matmul rate (GFLOP/s of a 500 x 500 dgemm);
2. the cost of one candidate (solve the cycle equation of a random region word
   and check it by iterating the map) on random PLRNNs: the kernels' scalar
   path, their BLAS path, and a minimal NumPy version of the same step
   (build J = A + W_out diag(r) W_in, ``np.linalg.solve``, one map step), plus
   the crossover dimension where the BLAS path starts to win (compare it with
   ``plrnn_explorer._kernels.BLAS_MIN_DIM``); at order 1 also the low-rank update of
   ``plrnn_explorer._lowrank`` (words with half of the gates on, as drawn by the
   search) and its crossover with the BLAS path (compare it with ``LOWRANK_MIN_DIM``);
3. end-to-end searches: a PLRNN with M = 200 at orders 1..2 (default budgets,
   ``strategy="auto"``), an ALRNN with M = 100 at order 3 beside the plain-NumPy
   reference of the same algorithm (``benchmarks/numpy_reference.py``), and with
   ``--long`` a PLRNN with M = 1000 at order 1 (``--compare-full``: the PLRNN searches
   again with the low-rank update switched off, i.e. every candidate by a full LU).

Medians over ``--repeats``; on a loaded machine compare ratios, not seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import plrnn_explorer as pe
from plrnn_explorer import _heuristic, _kernels, _lowrank
from plrnn_explorer.certified import random_words
from plrnn_explorer.itineraries import SINGULAR_RTOL

sys.path.insert(0, os.path.dirname(__file__))
from numpy_reference import numpy_find_cycles  # noqa: E402

DIMS = (2, 5, 10, 16, 20, 24, 28, 32, 40, 50, 64, 100, 128, 200)


def random_plrnn(M: int, seed: int = 0) -> pe.PLRNN:
    """The random PLRNN of ``bench_scyfi.py``: A in [0.3, 0.9], W ~ N(0, 1/M) off the diagonal, h ~ N(0, 1/4)."""
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1 / np.sqrt(M), (M, M))
    np.fill_diagonal(W, 0)
    return pe.PLRNN(rng.uniform(0.3, 0.9, M), W, rng.normal(0, 0.5, M))


def median_time(fn, repeats: int, min_seconds: float = 0.05) -> float:
    """Median seconds per call of ``fn(n)`` (which does n calls), n grown until one run takes min_seconds."""
    fn(1)
    n = 1
    while True:
        t = time.perf_counter()
        fn(n)
        if time.perf_counter() - t > min_seconds or n >= 1 << 20:
            break
        n *= 4
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(n)
        runs.append((time.perf_counter() - t) / n)
    return statistics.median(runs)


def matmul_gflops(repeats: int) -> float:
    n = 500
    a, b = np.random.default_rng(0).normal(size=(2, n, n))
    return 2 * n**3 / median_time(lambda m: [a @ b for _ in range(m)], repeats) / 1e9


def kernel_check(cf, k: int, path: int, repeats: int) -> float:
    words: dict[int, np.ndarray] = {}     # drawn once per batch size, outside the timed calls that follow

    def run(n: int) -> None:
        if n not in words:
            words[n] = random_words(cf.n_gates, k, n)
        _kernels.check_words(*cf.arrays, words[n], 1e-12, np.zeros(n, np.int64), _kernels.blas_arg(cf.dim, path))

    return median_time(run, repeats)


def lowrank_check(cf, repeats: int) -> tuple[float, float]:
    """Seconds per order-1 candidate by the low-rank update (falling back to the full LU where it must), and the
    fraction it solved; words with each gate on with probability 1/2."""
    lr = _lowrank.precompute_bases(*cf.arrays, SINGULAR_RTOL, min_dim=0)
    words: dict[int, np.ndarray] = {}
    share = []

    def run(n: int) -> None:
        if n not in words:
            words[n] = random_words(cf.n_gates, 1, n)
        n_lowrank = _lowrank.check_words(*cf.arrays, words[n], lr, SINGULAR_RTOL, np.zeros(n, np.int64), True)
        share.append(n_lowrank / n)

    return median_time(run, repeats), share[-1]


def numpy_step(cf, repeats: int) -> float:
    """Minimal NumPy order-1 candidate: build J and c, solve, one step of the map with its regions."""
    rng = np.random.default_rng(1)
    M, G = cf.dim, cf.n_gates
    words = rng.integers(0, 2, size=(64, G)).astype(float)
    eye = np.eye(M)

    def run(n):
        for i in range(n):
            r = words[i % 64]
            Wr = cf.W_out * r
            J, c = cf.A + Wr @ cf.W_in, cf.h + Wr @ cf.b_in
            z = np.linalg.solve(eye - J, c)
            gates = cf.W_in @ z + cf.b_in
            _ = cf.A @ z + cf.W_out @ np.maximum(gates, 0) + cf.h, gates > 0

    return median_time(run, repeats)


def crossover(rows: list[tuple[int, float, float]]) -> int | None:
    """Smallest M from which the BLAS path is at least as fast as the scalar path at every larger M measured."""
    best = None
    for M, scalar, blas in reversed(rows):
        if blas > scalar:
            break
        best = M
    return best


def per_candidate_table(dims, repeats: int) -> None:
    print("\nPer candidate (one random region word: solve + check), microseconds, single-threaded BLAS")
    print("|    M | order 1 scalar | order 1 BLAS | order 1 low-rank (solved by it) | BLAS / low-rank "
          "| order 1 NumPy step | BLAS vs NumPy | order 2 scalar | order 2 BLAS |")
    print("|-----:|---------------:|-------------:|--------------------------------:|----------------:"
          "|-------------------:|--------------:|---------------:|-------------:|")
    rows1, rows2, rows_lr = [], [], []
    for M in dims:
        cf = random_plrnn(M).canonical
        s1, b1 = (kernel_check(cf, 1, p, repeats) for p in (_kernels.SCALAR_PATH, _kernels.BLAS_PATH))
        s2, b2 = (kernel_check(cf, 2, p, repeats) for p in (_kernels.SCALAR_PATH, _kernels.BLAS_PATH))
        lr, share = lowrank_check(cf, repeats) if M >= _kernels.BLAS_MIN_DIM else (float("nan"), 0.0)
        ref = numpy_step(cf, repeats)
        rows1.append((M, s1, b1))
        rows2.append((M, s2, b2))
        if M >= _kernels.BLAS_MIN_DIM:
            rows_lr.append((M, b1, lr))
        print(f"| {M:4d} | {s1 * 1e6:14.1f} | {b1 * 1e6:12.1f} | {lr * 1e6:20.1f} ({share:6.1%}) | {b1 / lr:14.2f}x "
              f"| {ref * 1e6:18.1f} | {ref / b1:12.1f}x | {s2 * 1e6:14.1f} | {b2 * 1e6:12.1f} |", flush=True)
    print(f"\ncrossover (BLAS path at least as fast from here on): order 1 at M = {crossover(rows1)}, "
          f"order 2 at M = {crossover(rows2)}; the kernels switch at BLAS_MIN_DIM = {_kernels.BLAS_MIN_DIM}")
    print(f"crossover (low-rank update at least as fast as the BLAS path from here on): order 1 at "
          f"M = {crossover(rows_lr)}; the heuristic uses it from LOWRANK_MIN_DIM = {_lowrank.LOWRANK_MIN_DIM}")


def search(label: str, model, orders, target: float | None, repeats: int, numpy_reference: bool = False,
           lowrank: bool = True) -> None:
    times, res = [], None
    saved = _heuristic.precompute_bases
    if not lowrank:
        _heuristic.precompute_bases = lambda *args: _lowrank.disabled_bases()
    try:
        for r in range(repeats):
            t = time.perf_counter()
            res = pe.find_cycles(model, orders=orders, seed=r)
            times.append(time.perf_counter() - t)
    finally:
        _heuristic.precompute_bases = saved
    t_med = statistics.median(times)
    solves = res.stats["candidates_solved"]
    per_order = res.stats["per_order"].values()
    strategies = sorted({s["strategy"] for s in per_order})
    n_lowrank = sum(s.get("lowrank_solves", 0) for s in per_order)
    n_rejected = sum(s.get("lowrank_rejected", 0) for s in per_order)
    line = (f"{label}: {t_med:.2f} s (median of {repeats}), {solves} candidates "
            f"({t_med / max(solves, 1) * 1e3:.3f} ms each incl. set-up; {solves - n_lowrank} by a full LU, "
            f"{n_lowrank} by the low-rank update, {n_rejected} rejected by its checks), {strategies}, "
            f"{sum(res.counts().values())} cycles")
    if target is not None:
        line += f"; target <= {target:g} s: {'met' if t_med <= target else 'NOT met'}"
    print(line, flush=True)
    if numpy_reference:
        t = time.perf_counter()
        _, np_solves = numpy_find_cycles(model, list(orders), seed=0)
        dt = time.perf_counter() - t
        print(f"    plain-NumPy reference of the same algorithm: {dt:.2f} s, {np_solves} candidates "
              f"({dt / np_solves * 1e3:.3f} ms each)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--long", action="store_true", help="add M = 500 to the table, M = 1000 at order 1 and the M = 1000 search")
    parser.add_argument("--compare-full", action="store_true",
                        help="run the M = 200 (and with --long the M = 1000) search again without the low-rank update")
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        print(f"machine: {os.cpu_count()} cores, matmul {matmul_gflops(args.repeats):.1f} GFLOP/s "
              "(500 x 500 dgemm, one thread)")
        per_candidate_table(DIMS + ((500,) if args.long else ()), args.repeats)
        if args.long:
            cf = random_plrnn(1000).canonical
            b1 = kernel_check(cf, 1, _kernels.BLAS_PATH, args.repeats)
            lr, share = lowrank_check(cf, args.repeats)
            print(f"M = 1000, order 1, per candidate: BLAS {b1 * 1e3:.2f} ms, low-rank {lr * 1e3:.2f} ms "
                  f"({share:.0%} solved by it), ratio {b1 / lr:.2f}x", flush=True)
        print("\nEnd to end (find_cycles, default budgets and strategy):")
        search("PLRNN M = 200, orders 1..2", random_plrnn(200), [1, 2], 5.0, args.repeats)
        if args.compare_full:
            search("PLRNN M = 200, orders 1..2, without the low-rank update", random_plrnn(200), [1, 2], 5.0,
                   args.repeats, lowrank=False)
        alrnn = random_plrnn(100, seed=1)
        alrnn = pe.ALRNN(alrnn.params["A"], alrnn.params["W"], alrnn.params["h"], n_relu=6)
        search("ALRNN M = 100 (6 ReLU units), order 3", alrnn, [3], None, args.repeats, numpy_reference=True)
        if args.long:
            search("PLRNN M = 1000, order 1", random_plrnn(1000), [1], 60.0, 1)
            if args.compare_full:
                search("PLRNN M = 1000, order 1, without the low-rank update", random_plrnn(1000), [1], 60.0, 1,
                       lowrank=False)


if __name__ == "__main__":
    main()
