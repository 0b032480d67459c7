"""Maps, sweeps and training analyses on a real process cluster: same result, small tasks, progress, Cancel,
retries, killed workers, partial results.

The cluster is ``LocalCluster(processes=True, n_workers=2, threads_per_worker=1)``: worker processes unpickle
the package, so the test points them at the same source tree (PYTHONPATH) as this process.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.bifurcations import _dask
from plrnn_explorer.bifurcations._common import base_seed, map_budgets
from plrnn_explorer.bifurcations._engine import grid_neighbours, resolve_budgets, search_grid
from plrnn_explorer.bifurcations._points import ParamGrid

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
XS = 0.8377689 + np.linspace(-0.3, 0.3, 10)
YS = 0.96461297 + np.linspace(-0.3, 0.3, 8)
ORDERS = [1, 2, 3, 4, 5, 6]


@pytest.fixture(scope="module")
def client():
    import dask

    src = str(Path(pe.__file__).resolve().parents[1])
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
           "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
    # one worker death per task is forgiven, the second is KilledWorker (the default, 3, makes the tests slower)
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     env=env) as cluster, distributed.Client(cluster) as c:
        c.run(lambda: __import__("plrnn_explorer.bifurcations._dask"))  # workers import (and load kernels) once
        yield c


@pytest.fixture(scope="module")
def local_map():
    return pe.bifurcation_map(GT16, ("A[0,0]", XS), ("A[1,1]", YS), 6, seed=3)


def _same_map(a, b) -> None:
    assert np.array_equal(a.computed, b.computed)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.stable_counts, b.stable_counts)
    assert [(s.kind, s.value, s.cells) for s in a.boundaries] == [(s.kind, s.value, s.cells) for s in b.boundaries]
    for k in a._grid.orders:
        assert np.array_equal(a._grid.words[k], b._grid.words[k])
        assert np.array_equal(a._grid.point[k], b._grid.point[k]) and np.array_equal(a._grid.word[k], b._grid.word[k])


def _wait_for_two_workers(client) -> None:
    client.wait_for_workers(2, timeout=60)


def test_map_sweep_and_training_on_processes_equal_the_local_run(client, local_map):
    seen = []
    bm = pe.bifurcation_map(GT16, ("A[0,0]", XS), ("A[1,1]", YS), 6, seed=3, client=client,
                            progress=lambda done, total: seen.append((done, total)))
    _same_map(bm, local_map)
    assert bm.complete and "failed_chunks" not in bm.stats
    # progress as chunks finish: one call per task (2 threads -> about 12 tasks), increasing, ending at the total
    n_tasks = len(_dask.dask_chunks(80, 2))
    assert n_tasks >= 10 and len(seen) == n_tasks
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1] == (80, 80)

    vals = np.linspace(0.6, 1.0, 9)
    a = pe.sweep(GT16, "A[0,0]", vals, 5, seed=4, budgets=(5, 10))
    b = pe.sweep(GT16, "A[0,0]", vals, 5, seed=4, budgets=(5, 10), client=client)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.stable_counts, b.stable_counts)
    assert [(e.kind, e.value) for e in a.events] == [(e.kind, e.value) for e in b.events]

    ckpts = [GT16.set_param("A[0,0]", v) for v in vals]
    ta = pe.analyze_training(ckpts, 4, seed=5)
    tb = pe.analyze_training(ckpts, 4, seed=5, client=client)
    assert [cs.counts() for cs in ta.cycles] == [cs.counts() for cs in tb.cycles]
    assert [(e.kind, e.epoch) for e in ta.events] == [(e.kind, e.epoch) for e in tb.events]


class _Recorder:
    """A Client stand-in that records what is submitted, and forwards everything."""

    def __init__(self, client) -> None:
        self._client, self.submitted = client, []

    def submit(self, fn, *args, **kwargs):
        self.submitted.append((fn.__name__, args))
        return self._client.submit(fn, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_model_is_sent_once_and_tasks_carry_only_point_ranges(client):
    rng = np.random.default_rng(0)
    small = pe.PLRNN([0.5, 0.3], [[0.0, 0.2], [0.1, 0.0]], [0.1, 0.2])
    M, H = 20, 200
    big = pe.ShallowPLRNN(rng.uniform(0, 0.9, M), rng.normal(size=(M, H)) / np.sqrt(H),
                          rng.normal(size=(H, M)) / np.sqrt(M), rng.normal(size=M), rng.normal(size=H))
    sizes = {}
    for name, model in (("small", small), ("big", big)):
        rec = _Recorder(client)
        bm = pe.bifurcation_map(model, ("A[0,0]", np.linspace(0.1, 0.5, 6)), ("A[1,1]", [0.2, 0.3]), 1, seed=0,
                                budgets=(2, 2), boundaries=False, client=rec)
        assert bm.complete
        (first, (points, _pool)), *tasks = rec.submitted     # the model leaves the client once ...
        assert first == "_shared" and points.base is model and points.n == 12
        assert len(tasks) == len(_dask.dask_chunks(12, 2)) and {fn for fn, _ in tasks} == {"search_task"}
        assert all(isinstance(args[0], distributed.Future) and args[1] is None for _, args in tasks)
        sizes[name] = max(len(pickle.dumps(args[1:])) for _, args in tasks)  # ... each task carries a few numbers
    model_bytes = len(pickle.dumps(big))
    assert model_bytes > 60_000
    assert sizes["big"] == sizes["small"] < 1_000, (sizes, model_bytes)

    # distinct models (checkpoints) are not sent whole: each task carries the models of its own points
    rec = _Recorder(client)
    ckpts = [small.set_param("A[0,0]", v) for v in np.linspace(0.1, 0.5, 12)]
    pe.analyze_training(ckpts, 1, seed=0, budgets=(2, 2), client=rec)
    (first, (whole, _pool)), *tasks = rec.submitted
    assert whole is None
    for _, (_, part, start, stop, *_) in tasks:
        assert [part.model(p) for p in range(start, stop)] == ckpts[start:stop]
        assert len(part._models) == stop - start


def _flaky_grid(base: pe.PLRNN, marker: Path, victim: int, how: str, always: bool) -> ParamGrid:
    """A ParamGrid whose worker task for the chunk holding point ``victim`` dies (``how="kill"``) or raises.

    ``always=False``: only the first attempt fails (a marker file tells later attempts). Defined inside a
    function so that it travels by value (cloudpickle) to the worker processes.
    """
    client_pid = os.getpid()

    class FlakyGrid(ParamGrid):
        def canonical_arrays(self, idx):
            on_worker = os.getpid() != client_pid
            if on_worker and victim in set(np.asarray(idx).tolist()) and (always or not marker.exists()):
                marker.touch()
                if how == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                raise RuntimeError(f"simulated failure at point {victim}")
            return super().canonical_arrays(idx)

    return FlakyGrid(base, ("A[0,0]", XS), ("A[1,1]", YS))


def _search(points, client, **kwargs):
    budgets = resolve_budgets(ORDERS, None, map_budgets)
    pool = np.zeros((0, GT16.n_gates), np.uint8)
    return search_grid(points, grid_neighbours((len(YS), len(XS))), ORDERS, budgets, pool, base_seed(3),
                       client=client, **kwargs)


@pytest.fixture(scope="module")
def local_grid():
    return _search(ParamGrid(GT16, ("A[0,0]", XS), ("A[1,1]", YS)), None)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_chunk_failing_once_is_retried_and_the_result_is_complete(client, local_grid, tmp_path, how):
    grid = _search(_flaky_grid(GT16, tmp_path / "failed", 37, how, always=False), client, chunk_size=8)
    assert (tmp_path / "failed").exists()                    # it did fail once
    assert grid.computed.all() and "failed_chunks" not in grid.stats and not grid.stats["interrupted"]
    assert np.array_equal(grid.counts(), local_grid.counts())
    _wait_for_two_workers(client)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_chunk_failing_for_good_gives_a_partial_result_with_the_failure_recorded(client, local_grid, tmp_path,
                                                                                  how):
    t0 = time.perf_counter()
    with pytest.warns(RuntimeWarning, match=r"Dask task\(s\) failed .*stats\['failed_chunks'\]"):
        grid = _search(_flaky_grid(GT16, tmp_path / "failed", 37, how, always=True), client, chunk_size=8)
    assert time.perf_counter() - t0 < 45
    failed = grid.stats["failed_chunks"]
    assert {"first_point": 32, "last_point": 39} in [{k: f[k] for k in ("first_point", "last_point")}
                                                     for f in failed]
    error = {f["first_point"]: f["error"] for f in failed}[32]
    assert ("KilledWorker" in error) if how == "kill" else ("RuntimeError: simulated failure at point 37" in error)
    not_computed = np.zeros(grid.n_points, bool)
    for f in failed:
        not_computed[f["first_point"]:f["last_point"] + 1] = True
    assert np.array_equal(grid.computed, ~not_computed)
    assert (grid.counts()[not_computed] == -1).all()
    # every cycle reported at a computed point is one the complete run reports there too
    for p in np.flatnonzero(grid.computed):
        mine = {w.tobytes() for w in grid.words_at(p)}
        assert mine <= {w.tobytes() for w in local_grid.words_at(p)}, p
    assert grid.computed.sum() >= 48
    _wait_for_two_workers(client)


def test_a_worker_killed_mid_run_from_outside_does_not_lose_the_map(client, local_map):
    pids = list(client.run(os.getpid).values())
    killed = []

    def kill_one_worker(done, total):
        if not killed:
            os.kill(pids[1], signal.SIGKILL)
            killed.append(done)

    bm = pe.bifurcation_map(GT16, ("A[0,0]", XS), ("A[1,1]", YS), 6, seed=3, client=client, chunk_size=4,
                            progress=kill_one_worker)
    assert killed and killed[0] < 80
    if "failed_chunks" in bm.stats:          # a task unlucky twice (allowed-failures=1): recorded, not lost
        assert not bm.complete and bm.computed.sum() >= 60
    else:
        _same_map(bm, local_map)
    _wait_for_two_workers(client)


def _scheduler_tasks(client) -> int:
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


@pytest.mark.parametrize("stop", ["cancel", "ctrl-c"])
def test_cancel_and_ctrl_c_stop_within_a_second_and_keep_finished_chunks(client, local_map, stop):
    flag = threading.Event()
    stopped_at = []

    def progress(done, total):
        if not stopped_at:
            stopped_at.append(time.perf_counter())
            if stop == "ctrl-c":
                raise KeyboardInterrupt
            flag.set()

    bm = pe.bifurcation_map(GT16, ("A[0,0]", XS), ("A[1,1]", YS), 10, seed=3, client=client, chunk_size=1,
                            budgets=lambda k: (60, 60), progress=progress, cancel=flag.is_set)
    elapsed = time.perf_counter() - stopped_at[0]
    assert elapsed < 1.0, elapsed
    assert not bm.complete and 0 < bm.computed.sum() < 80 and bm.stats["interrupted"]
    assert (bm.counts[~bm.computed] == -1).all()
    deadline = time.perf_counter() + 5
    while _scheduler_tasks(client) and time.perf_counter() < deadline:   # outstanding tasks were cancelled
        time.sleep(0.1)
    assert _scheduler_tasks(client) == 0


def _failing_first_chunk(real):
    """A search task that raises for the chunk starting at point 0 (defined in a function: travels by value)."""
    def search_task(shared, part, start, stop, *args):
        if start == 0:
            raise ValueError("simulated bug in the first chunk")
        return real(shared, part, start, stop, *args)
    return search_task


def test_failed_chunks_mark_training_analyses_and_cli_runs_incomplete(client, tmp_path, monkeypatch, capsys):
    from plrnn_explorer import cli

    _wait_for_two_workers(client)  # chunks of 4 points (2 threads)
    monkeypatch.setattr(_dask, "search_task", _failing_first_chunk(_dask.search_task))
    ckpts = [GT16.set_param("A[0,0]", v) for v in np.linspace(0.6, 1.0, 12)]
    with pytest.warns(RuntimeWarning, match="simulated bug"):
        ta = pe.analyze_training(ckpts, 3, seed=5, client=client)
    assert ta.stats["failed_chunks"][0]["first_point"] == 0
    assert ta.to_xarray().attrs["complete"] in (0, False)
    assert all(sum(cs.counts().values()) == 0 for cs in ta.cycles[:4]) and sum(ta.cycles[5].counts().values()) > 0

    path = tmp_path / "gt16.json"
    pe.save_model(GT16, path)
    monkeypatch.setattr(cli, "_client", lambda address: client)
    with pytest.warns(RuntimeWarning):
        code = cli.main(["map", str(path), "--x", "A[0,0]=0.6:1.0:6", "--y", "A[1,1]=0.7:1.1:5", "--max-order", "2",
                         "--seed", "0", "--scheduler", "tcp://unused", "--npz", str(tmp_path / "map.npz")])
    err = capsys.readouterr().err
    assert code == 1 and "Dask task(s) failed for good (first error: ValueError: simulated bug" in err, err
    bm = pe.bifurcations.load_bifurcation_map(tmp_path / "map.npz")
    assert not bm.computed.ravel()[:4].any() and bm.computed.ravel()[4:].all()


def test_continuation_without_holding_all_canonical_arrays_gives_the_same_map(monkeypatch, local_map):
    from plrnn_explorer.bifurcations import _engine

    monkeypatch.setattr(_engine, "FULL_ARRAYS_BYTES", 0)   # build the arrays slice by slice, as for huge grids
    store = _engine.CanonicalStore(ParamGrid(GT16, ("A[0,0]", XS), ("A[1,1]", YS)))
    assert store._arrays is None
    _same_map(pe.bifurcation_map(GT16, ("A[0,0]", XS), ("A[1,1]", YS), 6, seed=3), local_map)
