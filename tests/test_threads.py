"""Thread hygiene: numba-parallel kernels run one at a time, with BLAS single-threaded."""

from __future__ import annotations

import os
import pickle

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import plrnn_explorer as pe
from plrnn_explorer import _basins, _kernels
from plrnn_explorer._threads import parallel_section
from plrnn_explorer.bifurcations import _batch


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_blas_limited_inside_and_restored_after():
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        inside = parallel_section(_blas_threads)()
        assert inside and all(n == 1 for n in inside)
        assert _blas_threads() == before


def test_parallel_kernels_are_wrapped_and_picklable():
    for wrapped in (_kernels.simulate_batch, _basins.basin_labels, _batch.search_points, _batch.check_words):
        assert wrapped.__wrapped__.targetoptions.get("parallel")
        assert pickle.loads(pickle.dumps(wrapped)) is wrapped  # Dask ships functions by reference


def test_wrapped_simulation_matches_numpy():
    model = pe.systems.random_plrnn(5, "expanding", seed=4)
    z0 = np.random.default_rng(0).normal(size=(3, 5))
    traj = model.simulate(z0, 6)
    cf = model.canonical
    z = z0.copy()
    for t in range(1, 6):
        z = z @ cf.A.T + np.maximum(z @ cf.W_in.T + cf.b_in, 0.0) @ cf.W_out.T + cf.h
        np.testing.assert_allclose(traj[:, t], z, rtol=1e-12, atol=1e-12 * (1 + np.abs(z).max()))


def test_import_defaults_omp_wait_policy():
    assert os.environ.get("OMP_WAIT_POLICY")  # PASSIVE unless the user chose otherwise


def test_parallel_kernels_from_two_threads():
    import threading

    model = pe.systems.random_plrnn(6, "intermediate", seed=2)
    z0 = np.random.default_rng(1).normal(size=(32, 6))
    expected = model.simulate(z0, 200)
    results = []

    def run():
        for _ in range(20):
            results.append(model.simulate(z0, 200))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_parallel_kernels_from_two_threads_workqueue_layer():
    # numba's workqueue layer (no TBB/OpenMP) aborts the whole process on
    # concurrent parallel launches: the lock in parallel_section prevents it
    import subprocess
    import sys

    code = ("import threading, numpy as np, plrnn_explorer as pe\n"
            "m = pe.systems.random_plrnn(6, 'intermediate', seed=2)\n"
            "z0 = np.ones((32, 6))\n"
            "def run():\n"
            "    for _ in range(50): m.simulate(z0, 200)\n"
            "ts = [threading.Thread(target=run) for _ in range(2)]\n"
            "[t.start() for t in ts]; [t.join() for t in ts]\n"
            "import numba; print(numba.threading_layer())\n")
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith("workqueue")


def test_parallel_lock_is_granted_in_arrival_order():
    """Two threads that run kernel after kernel take turns (a plain lock lets the releaser take it again)."""
    import threading
    import time

    from plrnn_explorer._threads import PARALLEL_LOCK

    order = []

    def run(name):
        for _ in range(20):
            with PARALLEL_LOCK:
                order.append(name)
                time.sleep(0.002)

    threads = [threading.Thread(target=run, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    switches = sum(x != y for x, y in zip(order, order[1:]))
    assert len(order) == 40 and switches >= 30 and PARALLEL_LOCK.waiting() == 0


def test_parallel_lock_survives_an_interrupted_waiter():
    from plrnn_explorer._threads import FairLock

    lock = FairLock()
    lock.acquire()
    lock._next += 1                       # a waiter took ticket 1 ...
    lock._dropped.add(1)                  # ... and was interrupted (KeyboardInterrupt) before its turn
    lock.release()
    with lock:                            # ticket 2 is served, not blocked behind the dead ticket 1
        assert lock.waiting() == 0
