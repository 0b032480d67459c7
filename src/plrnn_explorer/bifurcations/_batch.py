"""Numba kernels running SCYFI and itinerary checks over many parameter points.

Private. Every kernel takes *stacked* canonical arrays: ``A`` (N, M, M),
``W_out`` (N, M, G), ``W_in`` (N, G, M), ``b_in`` (N, G), ``h`` (N, M), one
slice per parameter point, and works on a subset of points given by index.

The random stream of a point depends only on ``(base_seed, point id, order)``
(never on the thread or the chunk that processes it), so a grid split into
chunks — across threads or Dask workers — gives identical results.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .. import _kernels
from .._threads import parallel_section

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ODD = np.uint64(0xD1B54A32D192ED03)


@njit(cache=True, nogil=True)
def _point_state(base_seed, point_id, order):
    """A splitmix64 state for one (point, order), mixed from the base seed."""
    st = np.empty(1, np.uint64)
    st[0] = base_seed ^ (np.uint64(point_id) * _ODD)
    st[0] = _kernels._rand_u64(st) ^ (np.uint64(order) * _GOLDEN)
    st[0] = _kernels._rand_u64(st)
    return st


@njit(cache=True, nogil=True)
def _search_one(A, W_out, W_in, b_in, h, p, seed_id, k, n_out, n_in, pool, base_seed, exhaustive, found, n_found,
                overflow, rel_tol, blas):
    G = W_in.shape[1]
    if exhaustive:
        counts = np.zeros(4, np.int64)
        singular = np.empty((found.shape[1], k, G), np.uint8)
        letters = np.empty(k, np.int64)
        letters[0] = -1
        pos = np.ones(1, np.int64)
        # one call to the end (the map's slices are over points); a full buffer stops it: the caller retries larger
        _kernels.exhaustive_order(A[p], W_out[p], W_in[p], b_in[p], h[p], k, rel_tol, letters, pos, found[p],
                                  singular, counts, np.int64(1) << 62, blas)
        n_found[p] = counts[0]
        overflow[p] = counts[3] != 0
        return
    stats = np.zeros(9, np.int64)
    stats[0] = n_found[p]
    no_singular = np.empty((0, k, G), np.uint8)
    _kernels.scyfi_order(A[p], W_out[p], W_in[p], b_in[p], h[p], k, n_out, n_in, pool,
                         _point_state(base_seed, seed_id, k), found[p], no_singular, rel_tol, stats, blas)
    n_found[p] = stats[0]
    overflow[p] = stats[7] != 0


@parallel_section
@njit(cache=True, nogil=True, parallel=True)
def search_points(A, W_out, W_in, b_in, h, seed_ids, k, n_out, n_in, pool, base_seed, exhaustive, found, n_found,
                  overflow, rel_tol, blas):
    """Cycles of order k at every stacked point (threads over points).

    SCYFI with budgets ``(n_out, n_in)``, or, with ``exhaustive``, every
    Lyndon word (exact; for orders with few words). ``seed_ids`` (n,) are the
    points' global ids (they select the random streams); ``found`` (n, cap,
    k, G) receives canonical words, ``n_found`` (n,) their number (on entry:
    words preloaded there), ``overflow`` (n,) marks points whose buffer filled
    up (rerun them with a larger ``cap``). ``blas``: see
    :func:`plrnn_explorer._kernels.blas_arg`.
    """
    for p in prange(seed_ids.shape[0]):
        _search_one(A, W_out, W_in, b_in, h, p, seed_ids[p], k, n_out, n_in, pool, base_seed, exhaustive, found,
                    n_found, overflow, rel_tol, blas)


@njit(cache=True, nogil=True)
def search_points_serial(A, W_out, W_in, b_in, h, seed_ids, k, n_out, n_in, pool, base_seed, exhaustive, found,
                         n_found, overflow, rel_tol, blas):
    """Single-threaded :func:`search_points` (for Dask workers: one task, one core)."""
    for p in range(seed_ids.shape[0]):
        _search_one(A, W_out, W_in, b_in, h, p, seed_ids[p], k, n_out, n_in, pool, base_seed, exhaustive, found,
                    n_found, overflow, rel_tol, blas)


@njit(cache=True, nogil=True)
def _check_one(A, W_out, W_in, b_in, h, pid, word, ok, P_out, i, rel_tol, blas):
    ws = _kernels._workspace(A.shape[1], W_in.shape[1], word.shape[0])
    status = _kernels._check_word(A[pid], W_out[pid], W_in[pid], b_in[pid], h[pid], word, word.shape[0], ws, rel_tol,
                                  blas)
    ok[i] = status == _kernels.CONSISTENT
    P = ws[1]
    for r in range(P.shape[0]):     # element loops: an array assignment would compile numba's shape-error formatter
        for c in range(P.shape[1]):
            P_out[i, r, c] = P[r, c]


@parallel_section
@njit(cache=True, nogil=True, parallel=True)
def check_words(A, W_out, W_in, b_in, h, point_ids, words, rel_tol, blas):
    """For each pair (point_ids[i], words[i]): is the word a self-consistent cycle there?

    Returns ``(ok (n,) bool, monodromies (n, M, M))``; one cycle solve per pair.
    """
    n = point_ids.shape[0]
    M = A.shape[1]
    ok = np.zeros(n, np.bool_)
    P_out = np.zeros((n, M, M))
    for i in prange(n):
        _check_one(A, W_out, W_in, b_in, h, point_ids[i], words[i], ok, P_out, i, rel_tol, blas)
    return ok, P_out
