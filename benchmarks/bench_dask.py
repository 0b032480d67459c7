"""Dask: client memory before the first task, bytes per task, and scaling over worker processes.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dask.py [--repeats 3] [--workers 1 2 4]``

1. Client memory (tracemalloc peak) from the call of ``bifurcation_map`` until the first search task is
   submitted, for the 100 x 100 map of a ShallowPLRNN with M = 20, H = 200 (a stand-in client stops there).
2. Pickled size of what one search task carries, for M = 2 and for M = 20, H = 200.
3. Wall time of one fixed map on ``LocalCluster(processes=True, n_workers=w, threads_per_worker=1)`` for
   each w, on one worker with 2 threads and without Dask: ``--repeats`` rounds that run every configuration
   once (round-robin, so that a changing machine load hits all alike) after a warm-up run, the median per
   configuration, and the speed-up over one single-threaded worker. The search phase runs on the workers; continuation and
   boundary location run on the client (serial).

Prints markdown tables (docs/dask.md quotes them). Timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pickle
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

import plrnn_explorer as pe

GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])


class _FirstTask(Exception):
    pass


class FirstTaskProbe:
    """Stands in for a Client: records the traced memory peak when the first search task is submitted."""

    def __init__(self) -> None:
        self.peak = None
        self.task_args: list[tuple] = []

    def nthreads(self) -> dict[str, int]:
        return {"worker": 2}

    def submit(self, fn, *args, **kwargs):
        if fn.__name__ == "_shared":
            return "shared-future"
        self.peak = tracemalloc.get_traced_memory()[1]
        self.task_args.append(args[1:])
        raise _FirstTask


def shallow(M: int, H: int) -> pe.ShallowPLRNN:
    rng = np.random.default_rng(0)
    return pe.ShallowPLRNN(rng.uniform(0, 0.9, M), rng.normal(size=(M, H)) / np.sqrt(H),
                           rng.normal(size=(H, M)) / np.sqrt(M), rng.normal(size=M), rng.normal(size=H))


def client_memory() -> None:
    model = shallow(20, 200)
    axis = np.linspace(0.1, 0.9, 100)
    probe = FirstTaskProbe()
    tracemalloc.start()
    try:
        pe.bifurcation_map(model, ("A[0,0]", axis), ("A[1,1]", axis), 1, seed=0, client=probe)
    except _FirstTask:
        pass
    tracemalloc.stop()
    model_kib = len(pickle.dumps(model)) / 1024
    print("| client memory before the first task (100 x 100 map, ShallowPLRNN M = 20, H = 200) | MiB |")
    print("|---|---|")
    print(f"| tracemalloc peak | {probe.peak / 2**20:.0f} |")
    print(f"\nmodel pickled: {model_kib:.0f} KiB; bytes per search task (pickled arguments besides the shared "
          f"future): {len(pickle.dumps(probe.task_args[0]))}")
    small = pe.PLRNN([0.5, 0.3], [[0.0, 0.2], [0.1, 0.0]], [0.1, 0.2])
    probe = FirstTaskProbe()
    try:
        pe.bifurcation_map(small, ("A[0,0]", axis), ("A[1,1]", axis), 1, seed=0, client=probe)
    except _FirstTask:
        pass
    print(f"bytes per search task for a PLRNN with M = 2: {len(pickle.dumps(probe.task_args[0]))}\n")


def scaling(workers: list[int], repeats: int) -> None:
    import distributed

    src = str(Path(pe.__file__).resolve().parents[1])
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
           "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    xs = 0.8377689 + np.linspace(-0.3, 0.3, 12)
    ys = 0.96461297 + np.linspace(-0.3, 0.3, 12)

    def run(client) -> tuple[float, float, np.ndarray, float]:
        """Map seconds, search seconds, counts, and the tasks' compute seconds summed (0 without Dask)."""
        with contextlib.ExitStack() as stack:
            stream = None if client is None else stack.enter_context(distributed.get_task_stream(client))
            t0 = time.perf_counter()
            bm = pe.bifurcation_map(GT16, ("A[0,0]", xs), ("A[1,1]", ys), 10, seed=0, budgets=(60, 60),
                                    client=client)
            elapsed = time.perf_counter() - t0
        busy = 0.0 if stream is None else sum(
            ss["stop"] - ss["start"] for task in stream.data if task["key"].startswith("search_task")
            for ss in task["startstops"] if ss["action"] == "compute")
        return elapsed, bm.stats["search_seconds"], bm.counts, busy

    configs = [(w, 1) for w in workers] + [(1, 2)]
    print(f"fixed map: GT16 system, 12 x 12 cells, orders 1..10, budgets (60, 60); {repeats} rounds, each running "
          f"every configuration once (round-robin, so that changing machine load hits all alike), median; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f} at start\n")
    with contextlib.ExitStack() as stack:
        clients = {}
        for w, threads in configs:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=w, threads_per_worker=threads, processes=True, dashboard_address=None, env=env))
            clients[w, threads] = stack.enter_context(distributed.Client(cluster))
            run(clients[w, threads])  # warm-up: workers import the package and load the compiled kernels
        clients["local", 0] = None
        times: dict = {key: [] for key in clients}
        for _ in range(repeats):
            for key, client in clients.items():
                times[key].append(run(client))
    reference = times[configs[0]][0][2]
    assert all(np.array_equal(t[2], reference) for ts in times.values() for t in ts), "results differ"
    base = statistics.median(t[0] for t in times[configs[0]])
    print("| workers x threads | map, s | search phase, s | speed-up of the map over 1 x 1 | tasks running at once "
          "(task compute time / search phase) |")
    print("|---|---|---|---|---|")
    for key, ts in times.items():
        total = statistics.median(t[0] for t in ts)
        search = statistics.median(t[1] for t in ts)
        overlap = statistics.median(t[3] / t[1] for t in ts)
        label = "no Dask (numba threads in the client)" if key[0] == "local" else f"{key[0]} x {key[1]}"
        print(f"| {label} | {total:.2f} | {search:.2f} | {base / total:.2f} | "
              f"{'-' if key[0] == 'local' else f'{overlap:.2f}'} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    client_memory()
    scaling(args.workers, args.repeats)


if __name__ == "__main__":
    main()
