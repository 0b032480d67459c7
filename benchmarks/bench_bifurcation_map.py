"""Bifurcation maps: the GT16 system (paper Fig. 3) over (A[0,0], A[1,1]), orders 1..16.

Run: ``python benchmarks/bench_bifurcation_map.py [--n 40] [--repeats 2] [--full] [--no-dask]``

Measures, side by side in one process:

* ``pe.bifurcation_map`` on an n x n grid (Delta a00, Delta a11 in [-1, 1]):
  batch SCYFI over numba threads + continuation, then the located boundaries;
* the same map's search phase fanned out over a 2-worker Dask LocalCluster
  (results must be identical to the local run);
* references, timed on a sample of cells and extrapolated to the grid:
  the plain-NumPy SCYFI of ``numpy_reference.py`` with the map's budgets (the
  same search phase without numba), and a serial loop of independent
  ``pe.find_cycles`` calls with the paper's default budgets (how the paper's
  grid was computed, minus its multithreading);
* the 200 x 200 grid of the paper: measured with ``--full``, else estimated
  from the per-cell time of the n x n run.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.bifurcations import map_budgets

sys.path.insert(0, os.path.dirname(__file__))
from numpy_reference import numpy_find_cycles  # noqa: E402

GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
ORDERS = list(range(1, 17))


def axes(n):
    return (("A[0,0]", GT16.get_param("A[0,0]") + np.linspace(-1, 1, n)),
            ("A[1,1]", GT16.get_param("A[1,1]") + np.linspace(-1, 1, n)))


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def sample_cells(n, n_cells, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_cells, 2))


def reference_per_cell(n, cells, fn):
    (px, xs), (py, ys) = axes(n)
    times = []
    for iy, ix in cells:
        m = GT16.set_param(px, xs[ix]).set_param(py, ys[iy])
        times.append(timed(lambda: fn(m))[0])
    return statistics.median(times), float(np.mean(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="also run the 200 x 200 grid")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--ref-cells", type=int, default=8)
    args = ap.parse_args()
    n = args.n
    x, y = axes(n)
    pe.bifurcation_map(GT16, (x[0], x[1][:3]), (y[0], y[1][:3]), 16, seed=0)   # JIT warm-up (cached kernels)

    rows = []
    runs = []
    for r in range(args.repeats):
        t, bm = timed(lambda: pe.bifurcation_map(GT16, x, y, 16, seed=0))
        runs.append((t, bm))
    t_map = statistics.median(t for t, _ in runs)
    bm = runs[0][1]
    assert all(np.array_equal(b.counts, bm.counts) for _, b in runs), "same seed must give the same map"
    t_search = bm.stats["search_seconds"]
    t_counts, _ = timed(lambda: pe.bifurcation_map(GT16, x, y, 16, seed=0, boundaries=False))
    per_cell = t_counts / n**2
    rows.append((f"bifurcation_map {n}x{n}, numba threads (counts + located boundaries)", t_map, ""))
    rows.append(("  of which search phase", t_search, ""))
    rows.append((f"bifurcation_map {n}x{n}, counts only (boundaries=False)", t_counts, ""))

    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
                Client(lc) as client:
            pe.bifurcation_map(GT16, (x[0], x[1][:3]), (y[0], y[1][:3]), 16, seed=0, client=client)  # warm-up
            t_dask, bmd = timed(lambda: pe.bifurcation_map(GT16, x, y, 16, seed=0, client=client))
        same = np.array_equal(bmd.counts, bm.counts) and len(bmd.boundaries) == len(bm.boundaries)
        rows.append((f"bifurcation_map {n}x{n}, 2-worker Dask LocalCluster (identical: {same})", t_dask,
                     f"{t_dask / t_map:.2f}x local"))

    cells = sample_cells(n, args.ref_cells)
    _, mean_np = reference_per_cell(n, cells, _numpy_map_budgets)
    est_np = mean_np * n**2
    rows.append((f"plain-NumPy SCYFI, map budgets, serial (est. from {len(cells)} cells)", est_np,
                 f"{est_np / t_counts:.0f}x slower"))
    _, mean_fc = reference_per_cell(n, cells, lambda m: pe.find_cycles(m, 16, seed=0))
    est_fc = mean_fc * n**2
    rows.append(("independent pe.find_cycles per cell, paper budgets, serial (est.)", est_fc,
                 f"{est_fc / t_counts:.1f}x slower"))

    if args.full:
        x2, y2 = axes(200)
        t200, bm200 = timed(lambda: pe.bifurcation_map(GT16, x2, y2, 16, seed=0, progress=True))
        rows.append(("bifurcation_map 200x200 (measured)", t200,
                     f"{len(bm200.boundaries)} segments, search {bm200.stats['search_seconds']:.0f} s"))
    else:
        rows.append(("bifurcation_map 200x200 counts (estimated: per-cell time x 40000)", per_cell * 200**2, ""))

    print(f"\nGT16 bifurcation map, orders 1..16, map budgets {map_budgets(1)} (k<8) / {map_budgets(16)} (k>=8), "
          f"{os.cpu_count()} cores\n")
    print("| run | seconds | note |")
    print("|---|---:|---|")
    for name, t, note in rows:
        print(f"| {name} | {t:.1f} | {note} |")
    tot = bm.counts.sum(axis=(0, 1))
    print(f"\ncycles found over the grid per order: {dict(zip(ORDERS, tot.tolist()))}; "
          f"{len(bm.boundaries)} boundary segments; continuation solves {bm.stats['continuation_solves']}")


def _numpy_map_budgets(m):
    """The map's search phase in plain NumPy: SCYFI per order with the map budgets."""
    for k in ORDERS:
        n_out, n_in = map_budgets(k)
        numpy_find_cycles(m, [k], n_out, n_in, seed=0)


if __name__ == "__main__":
    main()
