"""Numba kernel of the randomised cycle heuristic, resumable so that it runs in short slices.

Private: :func:`plrnn_explorer.find_cycles` validates input and calls these.

:func:`heuristic_slice` does at most ``max_solves`` cycle solves and returns;
everything it needs to go on (the random state, the loop counters, the
current word, the chain's history, the found words and their hash table)
lives in arrays owned by the caller. A search cut into slices of any size
therefore does exactly the same work as one uninterrupted call: the result
depends on the seed only, never on timing or threads.

Two phases per order (``ctl[PHASE]``):

0. **The paper's loop** (Eisenmann et al. 2023), step for step as in
   :func:`plrnn_explorer._kernels.scyfi_order` (same random stream, same
   words): random restarts, chains re-initialised with the candidate's own
   regions, stop after ``n_outer`` outer iterations of ``n_inner`` solves
   without a new cycle.
1. **Enrichment**: chains started, in this order, from caller-given seed
   words (realised words of sampled trajectories, words built from
   lower-order cycles), from the one-gate neighbours of every cycle found at
   this order (a breadth-first walk through the cycles' itineraries, which
   keeps going while neighbours keep yielding new cycles), then from random
   draws. It stops once the seeds and neighbours are used up and no new
   cycle has appeared for ``max(patience, solves until the last find)``
   solves (so the effort doubles while cycles keep appearing), or when it
   has spent ``ctl[CAP]`` solves plus ``ctl[CAP_PER_CYCLE]`` per cycle found.

Found words are stored canonically (least rotation) and looked up in an
open-addressing hash table, so a search with tens of thousands of cycles
does not scan its store for every consistent candidate.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import (CONSISTENT, INCONSISTENT, SINGULAR, _check_word, _draw_word, _find_word, _is_primitive,
                       _least_rotation, _rotate_into, _step_sparse_into, _store_word, _workspace)
from ._lowrank import REJECTED, check_fixed_point

# -- layout of the int64 control array ``ctl`` ------------------------------------------------------------------
#: 0: the paper's loop, 1: enrichment, 2: finished
PHASE = 0
#: paper loop: outer iterations without a new cycle; enrichment: unused
OUTER = 1
#: paper loop: solves in the current outer iteration; enrichment: solves in the current chain
INNER = 2
#: words remembered in the current chain's history
N_HIST = 3
#: 1 when the paper loop is at the top of an outer iteration (a fresh draw is due)
TOP = 4
#: enrichment: 1 while a chain is running (``word`` holds its next word)
IN_CHAIN = 5
#: enrichment: next seed word to start a chain from
SEED_NEXT = 6
#: enrichment: found cycle whose neighbours are being tried, and the next (position * G + gate) flip
NBR_CYCLE = 7
NBR_FLIP = 8
#: enrichment: longest chain from a seed or neighbour word
SEED_CHAIN = 9
#: enrichment: solves without a new cycle that end the search at least (the paper's N_out * N_in)
PATIENCE = 10
#: enrichment: solves it may spend (on entry); from its start, the total of solves after which it stops
CAP = 11
#: solves in the chain (since its random draw or seed) that is running
CHAIN = 12
#: new cycles found by the paper's loop (phase 0)
FOUND_PAPER = 13
#: enrichment: longest chain of the running chain (SEED_CHAIN or the paper's N_in)
CHAIN_LIMIT = 14
#: enrichment: solves its cap grows by per cycle found (enough to try every neighbour of every cycle)
CAP_PER_CYCLE = 15
N_CTL = 16

# -- layout of the int64 statistics array ``stats`` (as in _kernels.scyfi_order) -------------------------------
#: 0 n_found, 1 n_singular_stored, 2 candidate solves, 3 random draws, 4 singular equations,
#: 5 consistent candidates, 6 solves at the last find, 7 1 if found_words is full (grow it and resume),
#: 8 solves in the chain that made the last find, 9 chains started from seeds, 10 chains from neighbours,
#: 11 solves by the low-rank update (order 1, large M: :mod:`plrnn_explorer._lowrank`), 12 low-rank solves
#: rejected by its acceptance tests (then solved by the full LU, like all others)
N_STATS = 13


@njit(cache=True, nogil=True)
def _word_hash(word, k, G):
    """FNV-1a hash of a (k, G) 0/1 word, as a non-negative int64."""
    hsh = np.uint64(0xCBF29CE484222325)
    for s in range(k):
        for g in range(G):
            hsh = (hsh ^ np.uint64(word[s, g] + 1 + g)) * np.uint64(0x100000001B3)
    return np.int64(hsh >> np.uint64(1))


@njit(cache=True, nogil=True)
def _table_find(table, store, word, k, G):
    """Slot of ``word`` in the hash table (its index there is >= 0) or the free slot where it belongs (-1)."""
    mask = table.shape[0] - 1
    slot = _word_hash(word, k, G) & mask
    while table[slot] >= 0:
        j = table[slot]
        same = True
        for s in range(k):
            for g in range(G):
                if store[j, s, g] != word[s, g]:
                    same = False
                    break
            if not same:
                break
        if same:
            return slot
        slot = (slot + 1) & mask
    return slot


@njit(cache=True, nogil=True)
def build_table(store, n, table):
    """Fill ``table`` (size a power of two, > 2 n) with the indices of store[:n]; -1 marks free slots."""
    k, G = store.shape[1], store.shape[2]
    table[:] = -1
    for i in range(n):
        slot = _table_find(table, store, store[i], k, G)
        table[slot] = i


@njit(cache=True, nogil=True)
def _record_singular(word, canon, k, G, singular, stats):
    stats[4] += 1
    if _is_primitive(word, k, G):
        _rotate_into(canon, word, k, G, _least_rotation(word, k, G))
        if stats[1] < singular.shape[0] and not _find_word(singular, stats[1], canon, k, G):
            _store_word(singular, stats[1], canon, k, G, 0)
            stats[1] += 1


@njit(cache=True, nogil=True)
def _record_consistent(word, canon, k, G, found, table, stats, ctl):
    """Store the canonical word of a consistent primitive candidate if new.

    Returns 1 for a new cycle, 0 for a known one (or a power), -1 when the
    store is full (nothing changed; the caller undoes the solve and returns).
    """
    if not _is_primitive(word, k, G):
        return 0
    _rotate_into(canon, word, k, G, _least_rotation(word, k, G))
    slot = _table_find(table, found, canon, k, G)
    if table[slot] >= 0:
        return 0
    n = stats[0]
    if n >= found.shape[0] or 2 * (n + 1) > table.shape[0]:
        return -1
    _store_word(found, n, canon, k, G, 0)
    table[slot] = n
    stats[0] = n + 1
    stats[6] = stats[2]
    stats[8] = ctl[CHAIN]
    return 1


@njit(cache=True, nogil=True)
def _check(A, W_out, W_in, b_in, h, word, k, ws, lr, rel_tol, stats, blas):
    """The outcome of :func:`~plrnn_explorer._kernels._check_word`, by the low-rank update where it is certified."""
    if blas is not None:        # a BLAS-path method (it starts above that crossover): scalar searches do not compile it
        if k == 1:
            status = check_fixed_point(A, W_out, W_in, b_in, h, word, ws, lr, rel_tol)
            if status >= 0:
                stats[11] += 1
                return status
            if status == REJECTED:
                stats[12] += 1
    return _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol, blas)


@njit(cache=True, nogil=True)
def _next_start(word, k, G, pool, seeds, found, state, stats, ctl):
    """Put the next enrichment chain start into ``word``: a seed, a neighbour of a found cycle, or a random word.

    Returns 0 when the search is over (seeds and neighbours used up and no
    new cycle for the patience, or the solve cap reached), 1 for a seed or
    neighbour, 2 for a random word.
    """
    if stats[2] >= ctl[CAP] + ctl[CAP_PER_CYCLE] * stats[0]:
        return 0
    if ctl[SEED_NEXT] < seeds.shape[0]:
        i = ctl[SEED_NEXT]
        for s in range(k):
            for g in range(G):
                word[s, g] = seeds[i, s, g]
        ctl[SEED_NEXT] = i + 1
        stats[9] += 1
        return 1
    n_flips = k * G
    while ctl[NBR_CYCLE] < stats[0]:
        if ctl[NBR_FLIP] < n_flips:
            f = ctl[NBR_FLIP]
            ctl[NBR_FLIP] = f + 1
            c = ctl[NBR_CYCLE]
            for s in range(k):
                for g in range(G):
                    word[s, g] = found[c, s, g]
            s, g = f // G, f % G
            word[s, g] = 1 - word[s, g]
            stats[10] += 1
            return 1
        ctl[NBR_CYCLE] += 1
        ctl[NBR_FLIP] = 0
    if stats[2] - stats[6] >= max(ctl[PATIENCE], stats[6]):
        return 0
    _draw_word(word, k, G, pool, state)
    stats[3] += 1
    return 2


@njit(cache=True, nogil=True)
def heuristic_slice(A, W_out, W_in, b_in, h, k, n_outer, n_inner, pool, seeds, state, ctl, word, history, found,
                    table, singular, rel_tol, stats, max_solves, lr, blas):
    """Advance the search of order k by at most ``max_solves`` solves; the state arrays carry it on.

    ``state`` (1,) uint64 is the splitmix64 random state, ``ctl`` (N_CTL,)
    int64 the loop state (initialise with :func:`new_control`), ``word``
    (k, G) and ``history`` (16, k, G) uint8 the chain's current word and
    recent words, ``found`` (cap, k, G) the canonical words of the cycles
    found (``stats[0]`` of them; preloaded words count), ``table`` their hash
    table (:func:`build_table`), ``singular`` (cap_s, k, G) canonical words
    with singular cycle equations, ``stats`` (N_STATS,) the counters. When
    ``found`` fills up, ``stats[7]`` is set and the call returns without
    losing the candidate: grow ``found`` and ``table`` and call again.
    ``lr``: the low-rank bases of :func:`plrnn_explorer._lowrank.precompute_bases`
    (order 1) or :func:`~plrnn_explorer._lowrank.disabled_bases`; candidates
    get the same outcome either way. ``blas``: see
    :func:`plrnn_explorer._kernels.blas_arg`. Returns the number of solves done.
    """
    M = A.shape[0]
    G = W_in.shape[0]
    n_hist_max = history.shape[0]
    canon = np.empty((k, G), np.uint8)
    ws = _workspace(M, G, k)
    actual = ws[7]
    stats[7] = 0
    done = 0
    while ctl[PHASE] == 0:
        if ctl[TOP] == 1:
            if ctl[OUTER] >= n_outer:
                ctl[PHASE] = 1
                ctl[FOUND_PAPER] = stats[0]
                ctl[CAP] += stats[2]            # the enrichment's cap counts from here
                break
            _draw_word(word, k, G, pool, state)
            stats[3] += 1
            ctl[N_HIST] = 0
            ctl[CHAIN] = 0
            ctl[INNER] = 0
            ctl[TOP] = 0
        if ctl[INNER] >= n_inner:
            ctl[OUTER] += 1
            ctl[TOP] = 1
            continue
        if done >= max_solves:
            return done
        ctl[INNER] += 1
        stats[2] += 1
        ctl[CHAIN] += 1
        done += 1
        status = _check(A, W_out, W_in, b_in, h, word, k, ws, lr, rel_tol, stats, blas)
        if status == SINGULAR:
            _record_singular(word, canon, k, G, singular, stats)
            _draw_word(word, k, G, pool, state)
            stats[3] += 1
            ctl[N_HIST] = 0
            ctl[CHAIN] = 0
            continue
        if status == CONSISTENT:
            new = _record_consistent(word, canon, k, G, found, table, stats, ctl)
            if new < 0:                         # store full: undo this solve, the caller grows it
                ctl[INNER] -= 1
                stats[2] -= 1
                ctl[CHAIN] -= 1
                stats[7] = 1
                return done - 1
            stats[5] += 1
            if new == 1:
                ctl[OUTER] = 0
                ctl[INNER] = 0
            _draw_word(word, k, G, pool, state)
            stats[3] += 1
            ctl[N_HIST] = 0
            ctl[CHAIN] = 0
        elif status == INCONSISTENT and not _find_word(history, min(ctl[N_HIST], n_hist_max), actual, k, G):
            # a "virtual" cycle: re-initialise with the candidate's own regions
            _store_word(history, ctl[N_HIST] % n_hist_max, word, k, G, 0)
            ctl[N_HIST] += 1
            for s in range(k):
                for g in range(G):
                    word[s, g] = actual[s, g]
        else:
            # diverged, or back at a word of this chain: the iteration is deterministic, so restart
            _draw_word(word, k, G, pool, state)
            stats[3] += 1
            ctl[N_HIST] = 0
            ctl[CHAIN] = 0
    while ctl[PHASE] == 1:
        if ctl[IN_CHAIN] == 0:
            kind = _next_start(word, k, G, pool, seeds, found, state, stats, ctl)
            if kind == 0:
                ctl[PHASE] = 2
                break
            ctl[CHAIN_LIMIT] = ctl[SEED_CHAIN] if kind == 1 else n_inner
            ctl[IN_CHAIN] = 1
            ctl[N_HIST] = 0
            ctl[CHAIN] = 0
            ctl[INNER] = 0
        if done >= max_solves:
            return done
        stats[2] += 1
        ctl[CHAIN] += 1
        ctl[INNER] += 1
        done += 1
        status = _check(A, W_out, W_in, b_in, h, word, k, ws, lr, rel_tol, stats, blas)
        if status == SINGULAR:
            _record_singular(word, canon, k, G, singular, stats)
            ctl[IN_CHAIN] = 0
        elif status == CONSISTENT:
            new = _record_consistent(word, canon, k, G, found, table, stats, ctl)
            if new < 0:
                stats[2] -= 1
                ctl[CHAIN] -= 1
                ctl[INNER] -= 1
                stats[7] = 1
                return done - 1
            stats[5] += 1
            ctl[IN_CHAIN] = 0
        elif (status == INCONSISTENT and ctl[INNER] < ctl[CHAIN_LIMIT]
              and not _find_word(history, min(ctl[N_HIST], n_hist_max), actual, k, G)):
            _store_word(history, ctl[N_HIST] % n_hist_max, word, k, G, 0)
            ctl[N_HIST] += 1
            for s in range(k):
                for g in range(G):
                    word[s, g] = actual[s, g]
        else:
            ctl[IN_CHAIN] = 0
    return done


@njit(cache=True, nogil=True)
def new_control(seed_chain, patience, cap, cap_per_cycle):
    """A fresh control array: the paper's loop at the top of its first outer iteration."""
    ctl = np.zeros(N_CTL, np.int64)
    ctl[CAP_PER_CYCLE] = cap_per_cycle
    ctl[TOP] = 1
    ctl[SEED_CHAIN] = seed_chain
    ctl[PATIENCE] = patience
    ctl[CAP] = cap
    return ctl


@njit(cache=True, nogil=True)
def trajectory_words(A, W_out, W_in, b_in, h, k, starts, n_steps, n_burn, a_nz, w_nz):
    """Canonical (least-rotation) region words of every length-k window of the trajectories from ``starts``.

    Each trajectory runs ``n_burn + n_steps`` steps; windows start after the
    burn-in and stop where the orbit leaves the finite numbers. Every window
    is a realised word (the orbit follows it), so it is a good chain start.
    ``a_nz``, ``w_nz``: the nonzeros of A and W_in (:func:`~plrnn_explorer._kernels.nonzeros`);
    the map steps skip the zeros (same orbits). Returns an (n, k, G) uint8
    array with repetitions (the caller removes them).
    """
    M = A.shape[0]
    G = W_in.shape[0]
    n_traj = starts.shape[0]
    regions = np.empty((n_steps + k, G), np.uint8)
    out = np.empty((n_traj * n_steps, k, G), np.uint8)
    z = np.empty(M)
    zn = np.empty(M)
    gate_buf = np.empty(G)
    on = np.empty(G, np.int64)
    row = 0
    for t in range(n_traj):
        for i in range(M):
            z[i] = starts[t, i]
        n_ok = 0
        for s in range(n_burn + n_steps + k - 1):
            if not _step_sparse_into(W_out, b_in, h, z, a_nz[0], a_nz[1], a_nz[2], w_nz[0], w_nz[1], w_nz[2],
                                     gate_buf, zn, on):
                break
            if s >= n_burn:
                for g in range(G):
                    regions[n_ok, g] = 1 if gate_buf[g] > 0.0 else 0
                n_ok += 1
            for i in range(M):
                z[i] = zn[i]
        for s in range(n_ok - k + 1):
            _rotate_into(out[row], regions[s:s + k], k, G, _least_rotation(regions[s:s + k], k, G))
            row += 1
    return out[:row]
