"""SCYFI: find all fixed points and k-cycles of a piecewise-linear RNN.

The algorithm of Eisenmann et al. (NeurIPS 2023), run per order k = 1..K:

1. **Outer loop**: draw a random region word ``r_1..r_k``.
2. **Inner loop**: solve the k-cycle equation ``(I - P) z_1 = v`` for the word.
   A singular equation is recorded and a fresh word drawn.
3. **Self-consistency**: iterate the true map from ``z_1``; the regions it
   visits must equal the word.
4. A consistent *primitive* word is a cycle of minimal period k (a power of a
   shorter word would be a lower-order cycle). It is new iff its canonical
   (least-rotation) word is new: exact deduplication, no coordinate rounding.
   On a new cycle both loop counters reset to 0.
5. After a consistent word a fresh one is drawn; otherwise the word is
   **re-initialised with the candidate's own regions** (the core heuristic).

An order ends after ``N_out`` consecutive restarts (each of at most ``N_in``
solves) find nothing new.

Region draws: when every gate pattern is realisable (``W_in`` of full row
rank, e.g. every PLRNN and ALRNN) regions are uniform random bits as in the
paper. Otherwise (shallow models with more hidden units than latent ones, the
clipped model's paired gates) most of the 2^G patterns never occur, so words
are drawn from a *pool* of realisable patterns: those visited by trajectories
from random initial states plus those of random points in a box covering all
switching hyperplanes near the origin. The candidate iteration itself then
reaches regions outside the pool. This replaces the published code's 10^7
random samples at a fraction of the cost.
"""

from __future__ import annotations

import itertools
import time
from math import comb
from typing import Any, Iterable, Sequence

import numpy as np

from . import _kernels
from ._validation import (as_gate_patterns, as_int, as_itinerary_list, as_orders, as_region_pool_args, as_seed,
                          check_limit, search_work)
from .cycles import Cycle, CycleSet, DegenerateItinerary, cycle_sort_key
from .exhaustive import n_lyndon_words, search_order_exhaustively
from .itineraries import SINGULAR_RTOL, as_itinerary, build_cycle, build_degenerate, canonical_rotation
from .models import CanonicalForm, Model, check_model

__all__ = ["find_cycles", "default_budgets", "adapted_budgets", "region_pool", "AUTO_EXHAUSTIVE_WORDS"]

#: with strategy="auto", orders with at most this many candidate words are enumerated exactly
AUTO_EXHAUSTIVE_WORDS = 2**14


def default_budgets(order: int) -> tuple[int, int]:
    """The paper's loop budgets ``(N_out, N_in)`` for cycles of order k.

    N_out = 10 (k < 8), 40 (8 <= k < 30), 100 (k >= 30);
    N_in = 20 (k < 3), 60 (3 <= k < 6), 300 (6 <= k < 8), 1080 (8 <= k < 20), 1115 (k >= 20).

    Examples
    --------
    >>> default_budgets(1), default_budgets(16)
    ((10, 20), (40, 1080))
    """
    k = as_int("order", order, minimum=1)
    n_out = 10 if k < 8 else 40 if k < 30 else 100
    n_in = 20 if k < 3 else 60 if k < 6 else 300 if k < 8 else 1080 if k < 20 else 1115
    return n_out, n_in


#: upper bound of the outer-loop budget raised by :func:`adapted_budgets`
MAX_ADAPTED_OUTER = 100


def adapted_budgets(order: int, n_regions: int) -> tuple[int, int]:
    """Default loop budgets: the paper's, with N_out raised to twice the number of regions.

    The paper's budgets were tuned for 2-D models (4 regions). With more
    regions, 10 random restarts cannot reach the rarer words that lead to
    strongly unstable cycles (we measured 58 % recall on a shallow PLRNN with
    15 realisable regions at order 2); ``N_out = max(paper, min(2 n, 100))``
    restores full recall on our random test systems while leaving the 2-D
    case unchanged.

    Examples
    --------
    >>> adapted_budgets(2, 4), adapted_budgets(2, 15), adapted_budgets(16, 1024)
    ((10, 20), (30, 20), (100, 1080))
    """
    n_out, n_in = default_budgets(order)
    return max(n_out, min(2 * as_int("n_regions", n_regions, minimum=1), MAX_ADAPTED_OUTER)), n_in


def _seed_state(seed: int | None, order: int) -> np.ndarray:
    """A splitmix64 state for one order, derived from the user's seed."""
    ss = np.random.SeedSequence(None if seed is None else [seed, order])
    return ss.generate_state(1, dtype=np.uint64)


def region_pool(model: Model, *, n_trajectories: int = 64, n_steps: int = 200, n_box: int = 20000,
                max_vertices: int = 4096, seed: int | None = 0) -> np.ndarray:
    """Realisable gate patterns to draw SCYFI's random words from.

    Returns an empty (0, G) array when every one of the 2^G patterns is
    realisable (then SCYFI draws uniform random bits). Otherwise the gate
    hyperplanes ``W_in[g] z + b_in[g] = 0`` cut state space into cells, and the
    pool holds the patterns of

    - every cell around each vertex of the arrangement (each intersection of M
      hyperplanes, probed at its 2^M neighbouring corners; at most
      ``max_vertices`` vertices, chosen at random beyond that), which covers
      every cell that has a vertex, however small or far out;
    - random points in a box containing all those vertices;
    - trajectories from random initial states (the regions the dynamics visit).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> region_pool(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0])).shape
    (0, 2)
    >>> rng = np.random.default_rng(1)
    >>> m = pe.ShallowPLRNN([0.5, 0.5], rng.normal(size=(2, 6)), rng.normal(size=(6, 2)), [0, 0], rng.normal(size=6))
    >>> len(region_pool(m))        # the 6 lines cut the plane into 1 + 6 + 15 = 22 cells
    22
    """
    check_model(model)
    n_trajectories, n_steps, n_box, max_vertices = as_region_pool_args(n_trajectories, n_steps, n_box, max_vertices)
    cf = model.canonical
    G = cf.n_gates
    if cf.gates_full_rank():
        return np.zeros((0, G), dtype=np.uint8)
    rng = np.random.default_rng(seed)
    vertex_patterns, vertices = _vertex_cells(cf, max_vertices, rng)
    norms = np.linalg.norm(cf.W_in, axis=1)
    dist = np.abs(cf.b_in) / np.where(norms > 0, norms, np.inf)
    far = max([1.0, *dist[np.isfinite(dist)]] + ([float(np.abs(vertices).max())] if vertices.size else []))
    seed_state = np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)
    pats = _kernels.sample_regions(*cf.arrays, n_trajectories, n_steps, n_box, 2.0 * far, seed_state)
    allp = np.vstack([pats, vertex_patterns]) if len(vertex_patterns) else pats
    return np.ascontiguousarray(np.unique(allp, axis=0), dtype=np.uint8)


def _vertex_cells(cf: CanonicalForm, max_vertices: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gate patterns of the cells around vertices of the hyperplane arrangement."""
    M, G = cf.dim, cf.n_gates
    if G < M:
        return np.zeros((0, G), np.uint8), np.zeros((0, M))
    n_combos = comb(G, M)
    if n_combos <= max_vertices:
        combos = np.array(list(itertools.combinations(range(G), M)), dtype=np.int64)
    else:
        combos = np.array([np.sort(rng.choice(G, M, replace=False)) for _ in range(max_vertices)])
    Ws = cf.W_in[combos]                                   # (V, M, M)
    bs = cf.b_in[combos]                                   # (V, M)
    cond = np.linalg.cond(Ws)
    ok = np.isfinite(cond) & (cond < 1e10)
    Ws, bs, combos = Ws[ok], bs[ok], combos[ok]
    if not len(Ws):
        return np.zeros((0, G), np.uint8), np.zeros((0, M))
    vertices = np.linalg.solve(Ws, -bs[..., None])[..., 0]  # (V, M)
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=M)))  # (2^M, M)
    # v + eps * Ws^{-1} s puts the M defining gates at eps * s and barely moves the others
    eps = 1e-7 * (1.0 + np.abs(vertices).max(axis=1))
    offsets = np.linalg.solve(Ws[:, None], signs[None, :, :, None].repeat(len(Ws), 0))[..., 0]
    points = vertices[:, None, :] + eps[:, None, None] * offsets  # (V, 2^M, M)
    gates = points @ cf.W_in.T + cf.b_in
    return (gates.reshape(-1, G) > 0).astype(np.uint8), vertices


def _budget(name: str, value: Any, default: int) -> int:
    if value is None:
        return default
    return as_int(name, value, minimum=0)


def _search_order(cf: CanonicalForm, k: int, n_out: int, n_in: int, pool: np.ndarray, seed: int | None,
                  preloaded: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the kernel for one order, growing the result buffers until they suffice."""
    G = cf.n_gates
    cap = 16 + len(preloaded)
    while True:
        words = np.zeros((cap, k, G), np.uint8)
        for i, w in enumerate(preloaded):
            words[i] = w
        singular = np.zeros((8, k, G), np.uint8)
        stats = np.zeros(9, np.int64)
        stats[0] = len(preloaded)
        _kernels.scyfi_order(*cf.arrays, k, n_out, n_in, pool, _seed_state(seed, k),
                             words, singular, SINGULAR_RTOL, stats)
        if stats[7] == 0:
            return words[: stats[0]], singular[: stats[1]], stats
        cap *= 4


def find_cycles(model: Model, max_order: int | None = None, *, orders: Sequence[int] | None = None,
                outer_loop_iterations: int | None = None, inner_loop_iterations: int | None = None,
                seed: int | None = None, initial_itineraries: Iterable[Any] | None = None,
                pool: np.ndarray | None = None, strategy: str = "auto") -> CycleSet:
    """Find fixed points and k-cycles of ``model`` with SCYFI.

    Parameters
    ----------
    model
        A :class:`~plrnn_explorer.PLRNN`, :class:`~plrnn_explorer.ShallowPLRNN`,
        :class:`~plrnn_explorer.ClippedShallowPLRNN` or :class:`~plrnn_explorer.ALRNN`.
    max_order
        Search orders 1..max_order (or, with ``orders``, an upper bound on them).
    orders
        Explicit orders to search instead of 1..max_order.
    outer_loop_iterations, inner_loop_iterations
        Budgets N_out and N_in for every order; default: the paper's
        order-dependent budgets (:func:`default_budgets`), with N_out raised
        for models with many regions (:func:`adapted_budgets`).
    seed
        Makes the search reproducible.
    initial_itineraries
        (k, G) region words to try first (e.g. itineraries of cycles found at a
        nearby parameter value); each costs one solve.
    pool
        (n, G) 0/1 gate patterns to draw random words from; default
        :func:`region_pool` (empty = uniform bits when all patterns are realisable).
    strategy
        ``"auto"`` (default): for each order, enumerate all region words exactly
        when there are at most ``max(N_out * N_in, AUTO_EXHAUSTIVE_WORDS)`` of
        them (Lyndon words over the 2^G patterns; N_out * N_in is the
        heuristic's minimum work, and 2^14 words take milliseconds), and run
        SCYFI otherwise. Small search spaces are thus covered exactly (recall
        100 %) at little cost. ``"scyfi"``: always the randomised heuristic
        (e.g. to study its scaling, as in the paper's Fig. 2).

    Returns
    -------
    CycleSet
        ``res[k]`` lists the cycles of minimal period k; ``res.degenerate`` the
        words with singular cycle equations; ``res.stats`` the work done, with
        ``res.stats["per_order"][k]`` holding, for SCYFI orders,
        ``candidates_solved``, ``random_restarts``, ``singular_equations``,
        ``solves_until_last_find`` (all solves, over all restarts, until the
        last new cycle was found) and ``chain_length_at_last_find`` (solves of
        the one chain, from its random draw, that found it).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN(np.array([0.8377689, 0.96461297]),
    ...              np.array([[0, -0.64375], [0.52505308, 0]]),
    ...              np.array([0.37298253, -0.97931491]))
    >>> res = pe.find_cycles(m, max_order=16, seed=1)
    >>> [(c.order, c.stable) for c in res.stable]
    [(16, True)]
    """
    check_model(model)
    order_list = as_orders(max_order, orders)
    seed = as_seed(seed)
    if strategy not in ("auto", "scyfi"):
        raise ValueError(f"strategy must be 'auto' or 'scyfi', got {strategy!r}")
    cf = model.canonical
    G = cf.n_gates
    if pool is None:
        pool_arr = region_pool(model, seed=0 if seed is None else seed)
    else:
        pool_arr = as_gate_patterns("pool", pool, G)
    preload: dict[int, list[np.ndarray]] = {}
    for it in as_itinerary_list("initial_itineraries", initial_itineraries, G):
        w = as_itinerary(it, G).astype(np.uint8)
        k = w.shape[0]
        if k in order_list and _kernels._is_primitive(w, k, G):
            cw = canonical_rotation(w)
            cyc = build_cycle(cf, cw)
            if cyc is not None and not cyc.on_border and _consistent(cf, cyc, cw):
                if not any(np.array_equal(cw, p) for p in preload.get(k, [])):
                    preload.setdefault(k, []).append(cw)

    t0 = time.perf_counter()
    by_order: dict[int, list[Cycle]] = {}
    degenerate: list[DegenerateItinerary] = []
    per_order: dict[int, dict[str, int]] = {}
    n_regions = len(pool_arr) if len(pool_arr) else 2 ** min(G, 30)
    for k in order_list:
        n_out_d, n_in_d = adapted_budgets(k, n_regions)
        n_out = _budget("outer_loop_iterations", outer_loop_iterations, n_out_d)
        n_in = _budget("inner_loop_iterations", inner_loop_iterations, n_in_d)
        check_limit(f"estimated work of order {k} (flops)", search_work(cf.dim, [k], n_out, n_in), "max_work")
        if strategy == "auto" and G * k <= 62 and n_lyndon_words(2 ** G, k) <= max(n_out * n_in, AUTO_EXHAUSTIVE_WORDS):
            cycles, degen, n_tried = search_order_exhaustively(cf, k)
            by_order[k] = cycles
            degenerate += degen
            per_order[k] = {"strategy": "exhaustive", "found": len(cycles), "candidates_solved": n_tried,
                            "random_restarts": 0, "singular_equations": len(degen)}
            continue
        words, singular, st = _search_order(cf, k, n_out, n_in, pool_arr, seed, preload.get(k, []))
        cycles = [c for c in (build_cycle(cf, w) for w in words) if c is not None]
        by_order[k] = sorted(cycles, key=cycle_sort_key)
        degenerate += [d for d in (build_degenerate(cf, w) for w in singular) if d is not None]
        per_order[k] = {"strategy": "scyfi", "found": len(cycles), "candidates_solved": int(st[2]),
                        "random_restarts": int(st[3]), "singular_equations": int(st[4]),
                        "consistent_candidates": int(st[5]), "solves_until_last_find": int(st[6]),
                        "chain_length_at_last_find": int(st[8]),
                        "outer_loop_iterations": n_out, "inner_loop_iterations": n_in,
                        "preloaded": len(preload.get(k, []))}
    seconds = time.perf_counter() - t0
    stats: dict[str, Any] = {
        "candidates_solved": sum(s["candidates_solved"] for s in per_order.values()),
        "random_restarts": sum(s["random_restarts"] for s in per_order.values()),
        "singular_equations": sum(s["singular_equations"] for s in per_order.values()),
        "seconds": seconds,
        "region_pool_size": int(len(pool_arr)) if len(pool_arr) else None,
        "seed": seed,
        "per_order": per_order,
    }
    return CycleSet(order_list, by_order, stats, degenerate)


def _consistent(cf: CanonicalForm, cyc: Cycle, word: np.ndarray) -> bool:
    gates = cyc.points @ cf.W_in.T + cf.b_in
    return bool(np.array_equal(gates > 0, word.astype(bool)))
