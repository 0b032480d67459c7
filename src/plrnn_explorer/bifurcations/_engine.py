"""Cycles at every point of a parameter grid: batch SCYFI plus continuation.

Two phases, both deterministic for a given seed and independent of how the
points are split into chunks, threads or Dask tasks:

1. **Search** (the expensive part, parallel over points): SCYFI for every
   order at every point, with a random stream that depends only on the
   point's id and the order (see :mod:`._batch`). Orders with no more
   candidate words than the heuristic's minimum work (N_out * N_in, or
   2^10) are instead enumerated exactly, as ``find_cycles`` does.
2. **Continuation** (cheap): every itinerary found at a point is tried at the
   point's grid neighbours, one cycle solve each, and spreads on wherever it
   is self-consistent, until nothing new is found. The result is the same as
   warm-starting every point from all its neighbours' itineraries, repeated
   to convergence: a cycle found *anywhere* in the connected region of the
   grid where it exists is reported at every point of that region. This is
   what lets the search phase use much smaller loop budgets than a single
   :func:`~plrnn_explorer.find_cycles` call.

Long runs report progress after every chunk of points, can be cancelled
between chunks (``cancel()`` returning True) and survive ``KeyboardInterrupt``:
the points searched so far are kept and marked in ``computed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numba
import numpy as np

from .. import _kernels
from ..exhaustive import n_lyndon_words
from ..itineraries import SINGULAR_RTOL
from .._progress import Progress, ProgressArg
from .._slices import check_cancel, is_interrupt, run_in_slices
from .._validation import as_int, check_limit, search_work
from ..scyfi import default_budgets
from . import _batch
from ._points import PointSet

CancelArg = Callable[[], bool] | None

#: initial number of word slots per point and order (grown on overflow)
_CAP = 16
#: orders with at most max(N_out * N_in, this) candidate words are enumerated exactly at every point
EXHAUSTIVE_WORDS = 2**10
#: the client holds the canonical arrays of all points at once up to this size, bytes (else builds them per slice)
FULL_ARRAYS_BYTES = 256 * 2**20


@dataclass
class GridCycles:
    """Itineraries of the cycles found at every point of a grid (flat point index).

    For each order k: ``words[k]`` (U, k, G) uint8 canonical words and the
    pairs ``point[k][i]`` / ``word[k][i]`` (a cycle with word ``word[k][i]``
    exists at point ``point[k][i]``), with ``monodromy[k][i]`` (M, M) and
    ``stable[k][i]``.
    """

    n_points: int
    orders: list[int]
    words: dict[int, np.ndarray]
    point: dict[int, np.ndarray]
    word: dict[int, np.ndarray]
    monodromy: dict[int, np.ndarray]
    stable: dict[int, np.ndarray]
    computed: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    def counts(self, stable_only: bool = False) -> np.ndarray:
        """(n_points, len(orders)) number of cycles per point and order (-1 where not computed)."""
        out = np.zeros((self.n_points, len(self.orders)), np.int64)
        for j, k in enumerate(self.orders):
            sel = self.stable[k] if stable_only else slice(None)
            out[:, j] = np.bincount(self.point[k][sel], minlength=self.n_points)
        out[~self.computed] = -1
        return out

    def words_at(self, p: int) -> list[np.ndarray]:
        """Canonical words of all cycles at point ``p``, lowest order first."""
        return [self.words[k][i] for k in self.orders for i in np.sort(self.word[k][self.point[k] == p])]


def resolve_budgets(orders: Sequence[int], budgets: Any,
                    default: Callable[[int], tuple[int, int]] = default_budgets) -> dict[int, tuple[int, int]]:
    """Loop budgets per order from None (``default``), a pair, or a callable ``k -> (n_out, n_in)``."""
    if budgets is None:
        fn = default
    elif callable(budgets):
        fn = budgets
    else:
        try:
            n_out, n_in = budgets
        except (TypeError, ValueError):
            raise TypeError("budgets must be None, a pair (outer_loop_iterations, inner_loop_iterations) "
                            "or a callable order -> pair") from None
        fn = lambda k: (n_out, n_in)  # noqa: E731
    out = {}
    for k in orders:
        pair = fn(k)
        if (not isinstance(pair, tuple) or len(pair) != 2
                or not all(isinstance(x, (int, np.integer)) and x >= 0 for x in pair)):
            raise ValueError(f"budgets for order {k} must be a pair of non-negative integers, got {pair!r}")
        out[k] = (int(pair[0]), int(pair[1]))
    return out


def search_chunk(arrays: tuple[np.ndarray, ...], seed_ids: np.ndarray, orders: Sequence[int],
                 budgets: dict[int, tuple[int, int]], pool: np.ndarray, base_seed: int,
                 serial: bool = False) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Search phase for one chunk of stacked points.

    Returns ``{k: (n_found (n,), words (sum n_found, k, G))}``. Module level so
    Dask can ship it to workers; ``serial`` runs one thread (one core per task).
    """
    kernel = _batch.search_points_serial if serial else _batch.search_points
    n = seed_ids.shape[0]
    G = arrays[2].shape[1]
    seed = np.uint64(base_seed)
    out = {}
    for k in orders:
        n_out, n_in = budgets[k]
        exhaustive = G * k <= 62 and n_lyndon_words(2 ** G, k) <= max(n_out * n_in, EXHAUSTIVE_WORDS)
        n_found = np.zeros(n, np.int64)
        todo = np.arange(n)
        cap = _CAP
        collected: dict[int, np.ndarray] = {}
        while todo.size:
            sub = tuple(np.ascontiguousarray(a[todo]) for a in arrays)
            found = np.zeros((todo.size, cap, k, G), np.uint8)
            nf = np.zeros(todo.size, np.int64)
            overflow = np.zeros(todo.size, np.bool_)
            with numba.parallel_chunksize(1):
                kernel(*sub, np.ascontiguousarray(seed_ids[todo]), k, n_out, n_in, pool, seed, exhaustive, found, nf,
                       overflow, SINGULAR_RTOL, _kernels.blas_arg(arrays[0].shape[1]))
            for j, p in enumerate(todo):
                if not overflow[j]:
                    n_found[p] = nf[j]
                    collected[int(p)] = found[j, : nf[j]]
            todo = todo[overflow]
            cap *= 4
        words = [collected[p] for p in range(n)]
        out[k] = (n_found, np.concatenate(words) if words else np.zeros((0, k, G), np.uint8))
    return out


class CanonicalStore:
    """Canonical arrays of a point set on the client: all at once if they fit in :data:`FULL_ARRAYS_BYTES`,
    else built for every slice of work (a 100 x 100 map of a model with M = 20, G = 200 would need 690 MB).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> from plrnn_explorer.bifurcations._points import ParamGrid
    >>> store = CanonicalStore(ParamGrid(pe.PLRNN([0.5], [[0.0]], [1.0]), ("A[0,0]", [0.1, 0.2, 0.3])))
    >>> arrays, local = store.take(np.array([2, 0, 2]))
    >>> arrays[0][local].ravel().tolist()
    [0.3, 0.1, 0.3]
    """

    def __init__(self, points: PointSet) -> None:
        self.points = points
        per_point = 8 * sum(a.size for a in points.base.canonical.arrays)
        self._arrays = (points.canonical_arrays(np.arange(points.n)) if points.n * per_point <= FULL_ARRAYS_BYTES
                        else None)

    def take(self, ids: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """Stacked arrays holding the points ``ids``, and the index of each of ``ids`` into them."""
        if self._arrays is not None:
            return self._arrays, ids
        uniq, local = np.unique(ids, return_inverse=True)
        return self.points.canonical_arrays(uniq), local.astype(np.int64)


def search_grid(points: PointSet, neighbours: Callable[[np.ndarray], list[np.ndarray]],
                orders: Sequence[int], budgets: dict[int, tuple[int, int]], pool: np.ndarray, base_seed: int, *,
                progress: ProgressArg = None, cancel: CancelArg = None, client: Any = None,
                chunk_size: int | None = None, desc: str = "cycles") -> GridCycles:
    """Both phases over the N points of ``points``.

    ``neighbours(p)`` maps an int array of flat point indices to a list of
    arrays of neighbour indices (-1 = none), one array per direction. With a
    Dask ``client`` the search phase runs on the cluster (see :mod:`._dask`):
    the point set is sent once, and the client builds the points' canonical
    arrays only afterwards, for the continuation phase (all at once or slice
    by slice, see :class:`CanonicalStore`). Chunks that failed on the cluster
    for good are listed in ``stats["failed_chunks"]`` and their points stay
    not computed.
    """
    t0 = time.perf_counter()
    N = points.n
    orders = list(orders)
    cancel = check_cancel(cancel)
    if client is not None and not callable(getattr(client, "submit", None)):
        raise TypeError(f"client must be None or a dask.distributed.Client (pip install 'plrnn-explorer[dask]'), "
                        f"got {type(client).__name__}")
    if chunk_size is not None:
        chunk_size = as_int("chunk_size", chunk_size, minimum=1)
    cf = points.base.canonical
    check_limit(f"estimated work of the search phase over {N} points (flops)",
                N * sum(search_work(cf.dim, [k], *budgets[k]) for k in orders), "max_work")
    update = Progress(progress, N, desc, "pt")
    computed = np.zeros(N, bool)
    tables: dict[int, dict[bytes, int]] = {k: {} for k in orders}
    word_lists: dict[int, list[np.ndarray]] = {k: [] for k in orders}
    pairs: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {k: [] for k in orders}
    interrupted = False
    failures: list[dict[str, Any]] = []

    def absorb(idx: np.ndarray, res: dict[int, tuple[np.ndarray, np.ndarray]]) -> None:
        for k in orders:
            n_found, words = res[k]
            ids = np.empty(len(words), np.int64)
            for i, w in enumerate(words):
                key = w.tobytes()
                if key not in tables[k]:
                    tables[k][key] = len(word_lists[k])
                    word_lists[k].append(w)
                ids[i] = tables[k][key]
            pairs[k].append((np.repeat(idx, n_found), ids))
        computed[idx] = True

    def search_slice(idx: np.ndarray) -> None:
        arrays, local = store.take(idx)
        absorb(idx, search_chunk(tuple(a[local] for a in arrays), idx, orders, budgets, pool, base_seed))
        update(int(computed.sum()), N)

    def arrived(start: int, stop: int) -> None:  # a Dask chunk finished (its words are absorbed at the end)
        arrived_points[start:stop] = True
        update(int(arrived_points.sum()), N)

    store = None
    arrived_points = np.zeros(N, bool)
    try:
        if client is None:
            store = CanonicalStore(points)
            interrupted = run_in_slices(N, search_slice, cancel=cancel, size=chunk_size).interrupted
        else:
            from ._dask import run_search

            outcome = run_search(client, points, pool, orders, budgets, base_seed, chunk_size, arrived, cancel)
            for (start, stop), res in outcome.results:  # in point order: the word tables are deterministic
                absorb(np.arange(start, stop), res)
            interrupted, failures = outcome.interrupted, outcome.failures
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        interrupted = True
    finally:
        update.close()
    t_search = time.perf_counter() - t0
    if store is None:
        store = CanonicalStore(points)

    words = {k: (np.stack(word_lists[k]) if word_lists[k] else np.zeros((0, k, cf.n_gates), np.uint8))
             for k in orders}
    result = GridCycles(N, orders, words, {}, {}, {}, {}, computed)
    n_checked = 0
    continued = True
    for k in orders:
        pts = np.concatenate([p for p, _ in pairs[k]]) if pairs[k] else np.zeros(0, np.int64)
        wid = np.concatenate([w for _, w in pairs[k]]) if pairs[k] else np.zeros(0, np.int64)
        pts, wid, P, checked, done = _continue(store, neighbours, computed, words[k], pts, wid, cancel,
                                               spread=continued)
        n_checked += checked
        continued &= done
        order = np.lexsort((wid, pts))
        result.point[k], result.word[k], result.monodromy[k] = pts[order], wid[order], P[order]
        result.stable[k] = _stable(P[order])
    result.stats = {"seconds": time.perf_counter() - t0, "search_seconds": t_search,
                    "continuation_solves": n_checked, "interrupted": interrupted or not continued,
                    "continuation_complete": continued,
                    "points_computed": int(computed.sum()), "budgets": budgets}
    if failures:
        result.stats["failed_chunks"] = failures
    return result


def _check_sliced(store: CanonicalStore, pts: np.ndarray, words: np.ndarray,
                  cancel: CancelArg) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``check_words`` in time-bounded slices: (ok, monodromies, done, interrupted)."""
    n, M = pts.shape[0], store.points.base.canonical.dim
    ok, P = np.zeros(n, bool), np.zeros((n, M, M))

    def work(idx: np.ndarray) -> None:
        arrays, local = store.take(pts[idx])
        ok[idx], P[idx] = _batch.check_words(*arrays, np.ascontiguousarray(local),
                                             np.ascontiguousarray(words[idx]), SINGULAR_RTOL, _kernels.blas_arg(M))

    outcome = run_in_slices(n, work, cancel=cancel)
    return ok, P, outcome.done, outcome.interrupted


def _continue(store: CanonicalStore, neighbours: Callable[[np.ndarray], list[np.ndarray]],
              computed: np.ndarray, words: np.ndarray, pts: np.ndarray, wid: np.ndarray, cancel: CancelArg = None,
              spread: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool]:
    """Spread every word to neighbouring computed points where it is self-consistent.

    Returns the final pairs, their monodromies, the number of solves and
    whether the spreading ran to the end (False also when ``spread`` is
    False: then only the search results are verified). Stopped by ``cancel``
    or Ctrl-C, it keeps every pair verified so far; a point whose own search
    results could not all be verified (a second Ctrl-C) is marked not
    computed (``computed`` is updated in place).
    """
    N = computed.shape[0]
    U = words.shape[0]
    M = store.points.base.canonical.dim
    if U == 0:
        return pts, wid, np.zeros((0, M, M)), 0, True
    ok, P, done, interrupted = _check_sliced(store, pts, words[wid], None)
    if not done.all():  # Ctrl-C here: finish verifying the search results (one solve each, cheap), keep the map
        rest = np.flatnonzero(~done)
        ok[rest], P[rest], done[rest], _ = _check_sliced(store, pts[rest], words[wid[rest]], None)
    interrupted |= not spread
    if not done.all():
        computed[np.unique(pts[~done])] = False
    keep = ok & done & computed[pts]
    found_p, found_w, found_P = [pts[keep]], [wid[keep]], [P[keep]]
    n_checked = int(done.sum())
    tried = np.zeros((N, U), bool)
    tried[pts, wid] = True
    frontier_p, frontier_w = pts[keep], wid[keep]
    while frontier_p.size and not interrupted:
        cand_p = np.concatenate([q for q in neighbours(frontier_p)])
        cand_w = np.tile(frontier_w, len(cand_p) // max(1, len(frontier_p)))
        keep = cand_p >= 0
        cand_p, cand_w = cand_p[keep], cand_w[keep]
        keep = computed[cand_p] & ~tried[cand_p, cand_w]
        cand = np.unique(cand_p[keep] * U + cand_w[keep])
        cand_p, cand_w = cand // U, cand % U
        if not cand.size:
            break
        ok, P, done, interrupted = _check_sliced(store, cand_p, words[cand_w], cancel)
        tried[cand_p[done], cand_w[done]] = True
        n_checked += int(done.sum())
        good = ok & done
        frontier_p, frontier_w = cand_p[good], cand_w[good]
        found_p.append(frontier_p)
        found_w.append(frontier_w)
        found_P.append(P[good])
    return np.concatenate(found_p), np.concatenate(found_w), np.concatenate(found_P), n_checked, not interrupted


def _stable(P: np.ndarray) -> np.ndarray:
    if P.shape[0] == 0:
        return np.zeros(0, bool)
    return np.all(np.abs(np.linalg.eigvals(P)) < 1.0, axis=1)


def grid_neighbours(shape: tuple[int, ...]) -> Callable[[np.ndarray], list[np.ndarray]]:
    """4-neighbourhood (2-D) or 2-neighbourhood (1-D) on a C-ordered grid of ``shape``."""
    if len(shape) == 1:
        n = shape[0]

        def nb1(p: np.ndarray) -> list[np.ndarray]:
            return [np.where(p > 0, p - 1, -1), np.where(p < n - 1, p + 1, -1)]
        return nb1
    ny, nx = shape

    def nb2(p: np.ndarray) -> list[np.ndarray]:
        iy, ix = np.divmod(p, nx)
        return [np.where(ix > 0, p - 1, -1), np.where(ix < nx - 1, p + 1, -1),
                np.where(iy > 0, p - nx, -1), np.where(iy < ny - 1, p + nx, -1)]
    return nb2
