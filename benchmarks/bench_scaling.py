"""How SCYFI's work scales (the paper's Fig. 2), at larger sizes than notebooks/02_scaling.ipynb.

Run: ``python benchmarks/bench_scaling.py [--systems N] [--full]``

Counts the candidate solves (= region words visited) until SCYFI found the last
cycle of an order, ``res.stats["per_order"][k]["solves_until_last_find"]``, with
``strategy="scyfi"`` (no exact-enumeration shortcut), and prints it next to a
random exhaustive search's expected cost as markdown tables:

* against the dimension M (fixed points) for the three eigenvalue regimes of
  ``pe.systems.FIG2_UNIFORM`` (systems from ``pe.systems.uniform_plrnn``, only
  those with at least one fixed point), exhaustive (2^M + 1)/2;
* against the order k for 2-D PLRNNs with an attracting k-cycle (random draws
  and perturbations of GT16, verified with ``pe.cycle_from_itinerary``, as in
  the notebook), exhaustive 2^(Mk)/2.

Columns: mean, median and standard error of n over the systems, the ratio of
exhaustive to SCYFI, and the median wall time per system. The same n is used
for both panels (notebook 02 states the definition). The default run takes
1.5-3 minutes on 2 cores; ``--full`` uses the paper's grids (M up to 127,
k up to 100, 10 systems; tens of minutes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import plrnn_explorer as pe

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "notebooks", "data"))
from make_02_scaling import attracting_order, candidate_models  # noqa: E402  (the systems notebook 02 uses)

GT16 = pe.systems.gt16()

GRIDS = {
    "default": {"attracting": [2, 5, 10, 20, 50, 100], "intermediate": [2, 5, 10, 20, 30, 40],
                "expanding": [2, 4, 6, 8, 10, 12, 14, 16],
                "k": [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 40, 50, 75, 100]},
    "full": {"attracting": [5, 10, 20, 30, 50, 75, 100, 120, 127], "intermediate": [10, 20, 30, 50, 75, 100],
             "expanding": [2, 4, 6, 8, 10, 12, 14, 16, 18, 20],
             "k": list(range(1, 11)) + list(range(12, 31, 2)) + [34, 40, 45, 50, 60, 75, 100]},
}


def fixed_point_work(regime: str, M: int, n_systems: int, max_draws: int = 200) -> tuple[list[int], list[float]]:
    """Solves until the last fixed point for ``n_systems`` random systems that have one."""
    n, seconds, seed = [], [], 0
    n_out = 1000 if M <= 20 else None        # generous for small M (recall), the adapted default beyond
    while len(n) < n_systems and seed < max_draws:
        t = time.perf_counter()
        model = pe.systems.uniform_plrnn(M, **pe.systems.FIG2_UNIFORM[regime], seed=1000 * M + seed)
        res = pe.find_cycles(model, orders=[1], seed=seed, strategy="scyfi", outer_loop_iterations=n_out)
        seed += 1
        if len(res):
            n.append(res.stats["per_order"][1]["solves_until_last_find"])
            seconds.append(time.perf_counter() - t)
    return n, seconds


def models_with_cycles(ks: list[int], n_systems: int, n_candidates: int) -> dict[int, list[pe.PLRNN]]:
    found: dict[int, list[pe.PLRNN]] = {k: [] for k in ks}
    for model in candidate_models(n_candidates, seed=0):
        k = attracting_order(model, max(ks))
        if k in found and len(found[k]) < n_systems:
            found[k].append(model)
    return found


def cycle_work(k: int, models: list[pe.PLRNN]) -> tuple[list[int], list[float]]:
    """Solves until the last k-cycle was found, and wall seconds, per system."""
    n, seconds = [], []
    for i, m in enumerate(models):
        t = time.perf_counter()
        st = pe.find_cycles(m, orders=[k], seed=i, strategy="scyfi").stats["per_order"][k]
        n.append(st["solves_until_last_find"])
        seconds.append(time.perf_counter() - t)
    return n, seconds


def row(label: str, n: list[int], seconds: list[float], exhaustive: float) -> str:
    mean = float(np.mean(n))
    se = float(np.std(n, ddof=1) / np.sqrt(len(n))) if len(n) > 1 else float("nan")
    return (f"| {label} | {len(n)} | {mean:,.1f} | {statistics.median(n):,.1f} | {se:,.1f} | {exhaustive:.3g} | "
            f"{exhaustive / max(mean, 1.0):.3g} | {statistics.median(seconds):.3f} |")


HEADER = ("| {} | systems | mean n | median n | SE | exhaustive | exhaustive / SCYFI | s per system |\n"
          "|---|---|---|---|---|---|---|---|")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--systems", type=int, default=None, help="systems per grid point (default 5, full 10)")
    ap.add_argument("--full", action="store_true", help="the paper's grids (tens of minutes)")
    args = ap.parse_args()
    grid = GRIDS["full" if args.full else "default"]
    n_sys = args.systems or (10 if args.full else 5)
    pe.find_cycles(GT16, 2, seed=0, strategy="scyfi")       # compile outside the timings
    t0 = time.perf_counter()

    for regime in ("attracting", "intermediate", "expanding"):
        print(f"\n### Fixed points against M, regime {regime!r} "
              f"(uniform_plrnn {pe.systems.FIG2_UNIFORM[regime]}; paper <lambda_max> "
              f"{pe.systems.FIG2_REGIMES[regime]})\n")
        print(HEADER.format("M"))
        for M in grid[regime]:
            n, sec = fixed_point_work(regime, M, n_sys)
            if n:
                print(row(str(M), n, sec, (2.0 ** M + 1) / 2), flush=True)

    print("\n### k-cycles against k (M = 2)\n")
    print(HEADER.format("k"))
    found = models_with_cycles(grid["k"], n_sys, 200_000 if args.full else 100_000)
    for k, models in found.items():
        if models:
            n, sec = cycle_work(k, models)
            print(row(str(k), n, sec, 2.0 ** (2 * k) / 2), flush=True)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
