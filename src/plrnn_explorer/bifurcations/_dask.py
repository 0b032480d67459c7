"""The search phase of maps, sweeps and training analyses on a ``dask.distributed`` cluster.

What goes over the wire
    The point set of a map (the base model and the axis values, see
    :mod:`._points`) and the shared region pool leave the client once, as
    the argument of one task whose result every worker fetches once (from a
    peer) and keeps for the run. Unlike a scattered value, it is recomputed
    if every worker holding it dies. A search task carries only its point
    range ``(start, stop)``, the orders, budgets and seed -- under a kilobyte
    whatever the model's size -- and its worker builds the models of its
    points itself. Point sets given as a list of distinct models (sweeps
    along a family, training checkpoints) are not sent whole: each task
    carries the models of its own points, so every model crosses the wire
    once.
Chunk sizes
    About :data:`TASKS_PER_THREAD` tasks per worker thread of the cluster
    (``client.nthreads()``): enough to balance points of uneven cost and to
    show progress, few enough that per-task overhead stays small; at least
    :data:`MIN_CHUNK` points per task. ``chunk_size=`` overrides.
Progress and Cancel
    Results are collected as tasks finish (``distributed.as_completed``);
    every finished chunk is reported to ``progress``. ``cancel()`` and Ctrl-C
    are checked every :data:`POLL_SECONDS`; they cancel the outstanding tasks
    and keep the chunks finished so far.
Failures
    A task that raises is retried :data:`RETRIES` times; a task whose worker
    dies is rescheduled by the scheduler (up to its
    ``distributed.scheduler.allowed-failures``, then ``KilledWorker``); a
    result lost with its worker before the client fetched it is resubmitted
    (:data:`RETRIES` times at most). A chunk that still fails is recorded (its points and the error text), a
    ``RuntimeWarning`` is issued, and its points stay not computed: the rest
    of the result is returned.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._slices import is_interrupt
from ._engine import search_chunk
from ._points import PointSet

__all__ = ["TASKS_PER_THREAD", "MIN_CHUNK", "RETRIES", "POLL_SECONDS", "DaskOutcome", "dask_chunks", "run_search",
           "search_task"]

#: tasks aimed at per worker thread of the cluster
TASKS_PER_THREAD = 6
#: fewest points per task (smaller tasks cost more in scheduling than they compute)
MIN_CHUNK = 4
#: retries of a task that raised
RETRIES = 2
#: how often cancel() and Ctrl-C are checked while waiting for tasks, seconds
POLL_SECONDS = 0.1


@dataclass
class DaskOutcome:
    """What :func:`run_search` collected.

    Attributes
    ----------
    results
        ``[((start, stop), chunk result), ...]`` of the finished chunks, in point order.
    interrupted
        True if cancelled or interrupted (Ctrl-C) before all chunks finished.
    failures
        One dict per chunk that failed for good: ``first_point``, ``last_point``, ``error``.
    """

    results: list[tuple[tuple[int, int], dict]] = field(default_factory=list)
    interrupted: bool = False
    failures: list[dict[str, Any]] = field(default_factory=list)


def dask_chunks(n: int, n_threads: int, chunk_size: int | None = None) -> list[tuple[int, int]]:
    """Point ranges ``(start, stop)`` of the tasks: ``chunk_size`` points each, or sized by the cluster's threads.

    Examples
    --------
    >>> chunks = dask_chunks(100, 2)              # 2 threads: about 12 tasks of 9 points
    >>> len(chunks), chunks[:3], chunks[-1]
    (12, [(0, 9), (9, 18), (18, 27)], (99, 100))
    >>> len(dask_chunks(100, 64)), dask_chunks(10, 1, chunk_size=4)
    (25, [(0, 4), (4, 8), (8, 10)])
    """
    if chunk_size is None:
        chunk_size = max(MIN_CHUNK, -(-n // (TASKS_PER_THREAD * max(1, n_threads))))
    return [(i, min(n, i + chunk_size)) for i in range(0, n, chunk_size)]


def _shared(points: PointSet | None, pool: np.ndarray) -> tuple[PointSet | None, np.ndarray]:
    return points, pool


def search_task(shared: tuple[PointSet | None, np.ndarray], part: PointSet | None, start: int, stop: int,
                orders: Sequence[int], budgets: dict[int, tuple[int, int]],
                base_seed: int) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """One task on a worker: build the models of points ``start..stop-1`` and search them (one thread).

    The models come from the shared point set, or from ``part`` (the task's own models) if it is not None.
    """
    whole, pool = shared
    points = whole if part is None else part
    idx = np.arange(start, stop)
    return search_chunk(points.canonical_arrays(idx), idx, orders, budgets, pool, base_seed, serial=True)


def run_search(client: Any, points: PointSet, pool: np.ndarray, orders: list[int],
               budgets: dict[int, tuple[int, int]], base_seed: int, chunk_size: int | None,
               arrived: Callable[[int, int], Any], cancel: Callable[[], bool] | None) -> DaskOutcome:
    """Run the search phase over ``client``; ``arrived(start, stop)`` is called as each chunk finishes.

    Never raises for a failed chunk or an interrupt: see :class:`DaskOutcome`.
    A ``KeyboardInterrupt`` raised by ``arrived`` or ``cancel`` (or Ctrl-C)
    stops the run like Cancel does.
    """
    try:
        from distributed import as_completed
    except ImportError:
        raise ValueError("client= needs dask.distributed: pip install 'plrnn-explorer[dask]'") from None

    n_threads = sum(client.nthreads().values())
    # the shared data as the result of a task, not scattered: a scattered value lost with its workers cannot be
    # recomputed, a task's result can; every worker fetches it once from a peer and keeps it for the run
    shared = client.submit(_shared, points if points.send_whole else None, pool, pure=False)
    futures: dict[Any, tuple[int, int]] = {}

    def submit(chunk: tuple[int, int]) -> Any:
        part = None if points.send_whole else points.part(*chunk)
        fut = client.submit(search_task, shared, part, *chunk, orders, budgets, base_seed, pure=False,
                            retries=RETRIES)
        futures[fut] = chunk
        return fut

    pending = as_completed([submit(chunk) for chunk in dask_chunks(points.n, n_threads, chunk_size)])
    outcome = DaskOutcome()
    finished: dict[tuple[int, int], dict] = {}
    resubmitted: dict[tuple[int, int], int] = {}
    try:
        while not pending.is_empty():
            if cancel is not None and cancel():
                outcome.interrupted = True
                break
            batch = pending.next_batch(block=False)
            if not batch:
                time.sleep(POLL_SECONDS)
                continue
            for fut in batch:
                chunk = futures.pop(fut)
                result, error = _collect(fut)
                if error is None:
                    finished[chunk] = result
                    arrived(*chunk)
                elif fut.status != "error" and resubmitted.get(chunk, 0) < RETRIES:
                    # finished, but its worker died before the result was fetched (or its input was lost)
                    resubmitted[chunk] = resubmitted.get(chunk, 0) + 1
                    pending.add(submit(chunk))
                else:
                    outcome.failures.append({"first_point": chunk[0], "last_point": chunk[1] - 1, "error": error})
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        outcome.interrupted = True
    finally:
        if futures:
            client.cancel(list(futures))
    outcome.results = sorted(finished.items())
    outcome.failures.sort(key=lambda f: f["first_point"])
    if outcome.failures:
        n_failed = sum(f["last_point"] - f["first_point"] + 1 for f in outcome.failures)
        warnings.warn(f"{len(outcome.failures)} Dask task(s) failed after {RETRIES} retries; their {n_failed} "
                      f"point(s) are not computed (first error: {outcome.failures[0]['error']}); "
                      f"see stats['failed_chunks']", RuntimeWarning, stacklevel=4)
    return outcome


def _collect(fut: Any) -> tuple[Any, str | None]:
    """``(result, None)`` of a finished task, else ``(None, error text)`` (exception after retries, KilledWorker,
    cancelled, or a result lost with its worker)."""
    try:
        if fut.status == "finished":
            return fut.result(), None
        exc = fut.exception(timeout=5)
        return None, (f"task ended with status {fut.status!r}" if exc is None else f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        return None, f"task ended with status {fut.status!r}: {type(exc).__name__}: {exc}"
