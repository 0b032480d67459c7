"""Thread hygiene: numba's threads, BLAS's threads and the GIL.

Part 1, oversubscription. Each configuration runs in a fresh process: heavy
multi-threaded NumPy linear algebra first (it wakes OpenBLAS's thread pool),
then a workload that alternates numba-parallel kernels (a parameter sweep and
batched simulations) with small BLAS solves, the pattern of an analysis session.

* ``BLAS 1 thread``: OPENBLAS_NUM_THREADS=1 (the reference),
* ``before``: numba's OpenMP runtime started with libgomp's default (spinning)
  wait policy and parallel kernels called without the BLAS limit,
* ``BLAS limit only``: spinning OpenMP threads, threadpoolctl limit on,
* ``as shipped``: OMP_WAIT_POLICY defaulted to PASSIVE by the package import
  and BLAS limited to one thread inside every numba-parallel kernel.

Part 2, the GIL: two SCYFI searches in two threads against one after the other
(target: <= 0.75x the sequential time).

Run: ``python benchmarks/bench_threads.py``. Figures depend on the machine and
on its load; the script prints the idle cores it saw.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time

WORKLOAD = r"""
import sys, time
import numpy as np
if sys.argv[1] in ("before", "limit-only"):
    # start numba's OpenMP runtime before the package sets OMP_WAIT_POLICY
    from numba import njit, prange
    @njit(parallel=True)
    def _touch(n):
        s = np.zeros(n)
        for i in prange(n):
            s[i] = i
        return s
    _touch(4)
import plrnn_explorer as pe
if sys.argv[1] == "before":
    from plrnn_explorer import _kernels, _basins
    from plrnn_explorer.bifurcations import _batch
    _kernels.simulate_batch = _kernels.simulate_batch.__wrapped__
    _basins.basin_labels = _basins.basin_labels.__wrapped__
    _batch.search_points = _batch.search_points.__wrapped__
    _batch.check_words = _batch.check_words.__wrapped__
model = pe.systems.skew_tent(0.2, 0.0, 1.0)
big = pe.systems.random_plrnn(20, "intermediate", seed=1)
z0 = np.random.default_rng(0).normal(size=(64, 20))
def work():
    pe.sweep(model, "W[0,0]", np.linspace(-2.2, 1.3, 71), max_order=4, seed=0)
    rng = np.random.default_rng(1)
    for _ in range(200):
        big.simulate(z0, 50)
        a = rng.normal(size=(200, 200))
        np.linalg.solve(a, a[:, 0])
work()  # compile (cache=True: later processes load it)
rng = np.random.default_rng(2)
a = rng.normal(size=(1500, 1500))
for _ in range(5):
    a = np.linalg.inv(a @ a.T + 1500 * np.eye(1500))
t = time.perf_counter()
work()
print(time.perf_counter() - t)
"""


def _idle_cores(seconds: float = 1.0) -> float:
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (os.cpu_count() or 1) * (i1 - i0) / max(t1 - t0, 1)


def oversubscription(repeats: int = 3) -> None:
    configs = [("BLAS 1 thread (reference)", {"OPENBLAS_NUM_THREADS": "1"}, "shipped"),
               ("before (spinning OpenMP, no BLAS limit)", {}, "before"),
               ("BLAS limit only", {}, "limit-only"),
               ("as shipped (passive OpenMP + BLAS limit)", {}, "shipped")]
    base = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "OMP_WAIT_POLICY"}
    for name, extra, mode in configs:
        times = [float(subprocess.run([sys.executable, "-c", WORKLOAD, mode], env={**base, **extra},
                                      check=True, capture_output=True, text=True).stdout.split()[-1])
                 for _ in range(repeats)]
        print(f"  {name:42s} median {statistics.median(times):6.2f} s   runs {[round(x, 2) for x in times]}")


def gil(repeats: int = 3) -> None:
    import plrnn_explorer as pe
    model = pe.systems.random_plrnn(8, "intermediate", seed=3)

    def search():
        pe.find_cycles(model, orders=[3], strategy="scyfi", outer_loop_iterations=20000,
                       inner_loop_iterations=20, seed=0)

    search()
    ratios = []
    for _ in range(repeats):
        t = time.perf_counter()
        search()
        search()
        sequential = time.perf_counter() - t
        threads = [threading.Thread(target=search) for _ in range(2)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ratios.append((time.perf_counter() - t) / sequential)
    print(f"  two threads / sequential: median {statistics.median(ratios):.2f} (target <= 0.75)"
          f"   runs {[round(r, 2) for r in ratios]}")


if __name__ == "__main__":
    print(f"cores {os.cpu_count()}, idle before start {_idle_cores():.1f}")
    print("oversubscription (sweep + batched simulation + small solves after heavy linear algebra):")
    oversubscription()
    print("GIL (two SCYFI searches, M = 8, order 3):")
    gil()
