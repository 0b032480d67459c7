"""One order of the randomised cycle heuristic, run in slices (Ctrl-C and Cancel act within about a second).

:func:`search_order` runs the kernel :func:`~plrnn_explorer._heuristic_kernels.heuristic_slice`
through the project's slicing mechanism (:func:`~plrnn_explorer._slices.run_resumable`):
the paper's SCYFI loop first, then the enrichment phase, seeded with

- the distinct region words of length k along sampled trajectories (every
  window of an orbit is a word the map realises; unstable cycles of a
  chaotic attractor are shadowed by its orbits), and
- words built from the cycles of lower orders found in the same call:
  concatenations ``u + rotation(v)`` of an a- and a b-cycle with a + b = k,
  and powers ``u^(k/a)`` with one gate flipped (where period-doubling and
  border-collision partners live),

followed by the one-gate neighbours of every cycle found at this order and
random restarts while new cycles keep appearing. All randomness comes from
the seed, so a result never depends on timing, slicing or thread count.

At order 1 and large M, candidates are solved by a low-rank update of two
precomputed factorisations (:mod:`plrnn_explorer._lowrank`) wherever that
is certified to give the full LU's outcome; the search is the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _heuristic_kernels as hk
from ._kernels import nonzeros
from ._lowrank import disabled_bases, precompute_bases
from ._slices import run_resumable
from .itineraries import SINGULAR_RTOL

#: trajectories sampled for seed words, and their length
N_SEED_TRAJECTORIES = 24
SEED_TRAJECTORY_STEPS = 200
#: at most this many seed words built from lower-order cycles
MAX_LOWER_ORDER_SEEDS = 20000
#: longest chain (re-initialisations with the candidate's own regions) from a seed or neighbour word
SEED_CHAIN = 4
#: at most max(MIN_SEEDS, N_out * N_in / SEED_CHAIN) seed words (a seeded random subset of them)
MIN_SEEDS = 64
#: the enrichment stops after this many times the paper's minimum work N_out * N_in, plus the seed chains and
#: the neighbour chains of the cycles found
ENRICH_CAP_FACTOR = 20


@dataclass
class OrderSearch:
    """Outcome of one order: found canonical words, singular words, counters, and why it stopped."""

    words: np.ndarray
    singular: np.ndarray
    stats: np.ndarray
    found_by_paper_loop: int
    n_seeds: int
    stopped: str = ""


def _seed_state(seed: int | None, *key: int) -> np.ndarray:
    ss = np.random.SeedSequence(None if seed is None else [seed, *key])
    return ss.generate_state(1, dtype=np.uint64)


def _unique_words(words: np.ndarray) -> np.ndarray:
    """Distinct (k, G) words of an (n, k, G) array, in a fixed (sorted) order."""
    if len(words) == 0:
        return words
    n = len(words)
    flat = np.ascontiguousarray(words.reshape(n, -1))
    view = flat.view(np.dtype((np.void, flat.shape[1]))).ravel()
    _, first = np.unique(view, return_index=True)
    return np.ascontiguousarray(words[np.sort(first)])


def trajectory_seeds(cf, k: int, seed: int | None) -> np.ndarray:
    """Canonical words of the length-k windows of sampled orbits (distinct), (n, k, G) uint8."""
    M = cf.dim
    rng = np.random.default_rng(_seed_state(seed, k, 1)[0])
    norms = np.linalg.norm(cf.W_in, axis=1)
    dist = np.abs(cf.b_in) / np.where(norms > 0, norms, np.inf)
    scale = max(1.0, float(np.max(dist[np.isfinite(dist)], initial=0.0)))
    n = N_SEED_TRAJECTORIES
    starts = rng.normal(size=(n, M)) * np.repeat([0.1, 1.0, 10.0], n // 3 + 1)[:n, None] * scale
    words = hk.trajectory_words(*cf.arrays, k, np.ascontiguousarray(starts), SEED_TRAJECTORY_STEPS, 0,
                                nonzeros(cf.A), nonzeros(cf.W_in))
    return _unique_words(words)


def lower_order_seeds(k: int, lower: dict[int, np.ndarray], G: int, seed: int | None) -> np.ndarray:
    """Words of length k built from lower-order cycle words ``lower[a]`` ((n_a, a, G) canonical words)."""
    out: list[np.ndarray] = []
    for a, words_a in sorted(lower.items()):
        if a >= k or not len(words_a):
            continue
        if k % a == 0:                                  # near-powers: u^(k/a) with one gate flipped
            powers = np.tile(words_a, (1, k // a, 1))   # (n_a, k, G)
            flips = np.repeat(powers, k * G, axis=0).reshape(len(words_a), k * G, k, G)
            pos = np.arange(k * G)
            flips[:, pos, pos // G, pos % G] ^= 1
            out.append(flips.reshape(-1, k, G))
        b = k - a
        if b > a or b not in lower or not len(lower[b]):
            continue
        words_b = lower[b]
        rots = np.stack([np.roll(words_b, -r, axis=1) for r in range(b)], axis=1).reshape(-1, b, G)
        n_a, n_r = len(words_a), len(rots)
        if n_a * n_r > 4 * MAX_LOWER_ORDER_SEEDS:       # too many pairs: a seeded random subset
            rng = np.random.default_rng(_seed_state(seed, k, 2, a)[0])
            pick = rng.choice(n_a * n_r, 4 * MAX_LOWER_ORDER_SEEDS, replace=False)
            pick.sort()
            ia, ir = pick // n_r, pick % n_r
        else:
            ia, ir = np.repeat(np.arange(n_a), n_r), np.tile(np.arange(n_r), n_a)
        out.append(np.concatenate([words_a[ia], rots[ir]], axis=1))
    if not out:
        return np.zeros((0, k, G), np.uint8)
    seeds = _unique_words(np.ascontiguousarray(np.concatenate(out).astype(np.uint8)))
    if len(seeds) > MAX_LOWER_ORDER_SEEDS:
        rng = np.random.default_rng(_seed_state(seed, k, 3)[0])
        seeds = seeds[np.sort(rng.choice(len(seeds), MAX_LOWER_ORDER_SEEDS, replace=False))]
    return seeds


def search_order(cf, k: int, n_out: int, n_in: int, pool: np.ndarray, seed: int | None,
                 preloaded: list[np.ndarray], lower: dict[int, np.ndarray], *, enrich: bool = True,
                 cancel: Callable[[], bool] | None = None, heartbeat: Callable[[dict], None] | None = None
                 ) -> OrderSearch:
    """Search cycles of minimal period k: the paper's loop, then (``enrich``) the seeded enrichment.

    Runs in slices of about 0.3 s; ``cancel()`` returning True or a
    KeyboardInterrupt stops it between slices with everything found so far
    (``stopped`` then says ``"cancelled"`` or ``"interrupted"``).
    """
    G = cf.n_gates
    if enrich and G > 0:
        seeds = np.concatenate([trajectory_seeds(cf, k, seed), lower_order_seeds(k, lower, G, seed)])
        seeds = _unique_words(np.ascontiguousarray(seeds, dtype=np.uint8))
    else:
        seeds = np.zeros((0, k, G), np.uint8)
    base = n_out * n_in
    max_seeds = max(MIN_SEEDS, base // SEED_CHAIN)       # the seed chains cost at most the paper's minimum work
    if len(seeds) > max_seeds:
        rng = np.random.default_rng(_seed_state(seed, k, 4)[0])
        seeds = seeds[np.sort(rng.choice(len(seeds), max_seeds, replace=False))]
    cap = ENRICH_CAP_FACTOR * base + len(seeds) * SEED_CHAIN if enrich else 0     # 0: phase 1 ends at once
    ctl = hk.new_control(SEED_CHAIN, base, cap, k * G * SEED_CHAIN if enrich else 0)
    state = _seed_state(seed, k).copy()
    word = np.zeros((k, G), np.uint8)
    history = np.zeros((16, k, G), np.uint8)
    cap_found = max(16, 2 * len(preloaded))
    found = np.zeros((cap_found, k, G), np.uint8)
    for i, w in enumerate(preloaded):
        found[i] = w
    table = np.full(4 * cap_found, -1, np.int64)
    stats = np.zeros(hk.N_STATS, np.int64)
    stats[0] = len(preloaded)
    hk.build_table(found, stats[0], table)
    singular = np.zeros((64, k, G), np.uint8)
    lr = precompute_bases(*cf.arrays, SINGULAR_RTOL) if k == 1 else disabled_bases()
    last_beat = [time.perf_counter()]

    def advance(todo: int) -> None:
        nonlocal found, table
        while todo > 0 and ctl[hk.PHASE] < 2:
            todo -= hk.heuristic_slice(*cf.arrays, k, n_out, n_in, pool, seeds, state, ctl, word, history, found,
                                       table, singular, SINGULAR_RTOL, stats, todo, lr, cf.blas)
            if stats[7]:                                # store full: grow it (and its table) and go on
                found = np.concatenate([found, np.zeros_like(found)])
                table = np.full(4 * len(found), -1, np.int64)
                hk.build_table(found, stats[0], table)
        if heartbeat is not None and time.perf_counter() - last_beat[0] > 1.0:
            last_beat[0] = time.perf_counter()
            heartbeat({"order": k, "solves": int(stats[2]), "found": int(stats[0])})

    stopped = run_resumable(advance, lambda: bool(ctl[hk.PHASE] >= 2), cancel=cancel)
    paper = int(ctl[hk.FOUND_PAPER]) if ctl[hk.PHASE] >= 1 else int(stats[0])
    return OrderSearch(found[: stats[0]].copy(), singular[: stats[1]].copy(), stats.copy(), paper, len(seeds),
                       stopped)
