"""find_cycles: all fixed points and k-cycles of a piecewise-linear RNN.

Three strategies (see :func:`find_cycles`): ``"certified"`` is provably
complete (plain enumeration, the LP-pruned tree of
:mod:`plrnn_explorer.certified` or the closed walks of the region transition
graph of :mod:`plrnn_explorer.transition_graph`, whichever is cheapest per order);
``"scyfi"`` is the paper's randomised heuristic below; ``"auto"`` takes the
cheapest complete method that fits a budget and otherwise the heuristic.
Every result says per order whether it is complete.

SCYFI, the algorithm of Eisenmann et al. (NeurIPS 2023), run per order k = 1..K:

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
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from . import _kernels
from ._heuristic import search_order as _heuristic_search
from ._progress import Progress, ProgressArg
from ._slices import check_cancel, is_interrupt
from ._validation import (as_float, as_gate_patterns, as_int, as_itinerary_list, as_orders, as_region_pool_args,
                          as_seed, check_limit, search_work)
from .certified import (BudgetExhausted, PrefixTree, consistent_words, plain_seconds, random_words, search_costs,
                        solve_candidates)
from .cycles import Cycle, CycleSet, DegenerateItinerary, cycle_sort_key
from .exhaustive import n_lyndon_words, search_order_exhaustively
from .itineraries import SINGULAR_RTOL, as_itinerary, build_cycle, build_degenerate, canonical_rotation
from .models import CanonicalForm, Model, check_model
from .transition_graph import (TRIPLES_MIN_SECONDS, TransitionGraph, filtered_walks, graph_build_seconds,
                               graph_regions_ok)

__all__ = ["find_cycles", "default_budgets", "adapted_budgets", "region_pool", "AUTO_MIN_SECONDS"]


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


#: at most this many probe points (vertices x 2^M corners) when probing the cells around vertices
MAX_VERTEX_PROBES = 2**16


def region_pool(model: Model, *, n_trajectories: int = 64, n_steps: int = 200, n_box: int = 20000,
                max_vertices: int = 4096, seed: int | None = 0) -> np.ndarray:
    """Realisable gate patterns to draw SCYFI's random words from.

    Returns an empty (0, G) array when every one of the 2^G patterns is
    realisable (then SCYFI draws uniform random bits). Otherwise the gate
    hyperplanes ``W_in[g] z + b_in[g] = 0`` cut state space into cells, and the
    pool holds the patterns of

    - every cell around each vertex of the arrangement (each intersection of M
      hyperplanes, probed at its 2^M neighbouring corners; at most
      ``max_vertices`` vertices, chosen at random beyond that, and at most
      ``MAX_VERTEX_PROBES`` probe points, so memory does not grow like 2^M),
      which covers every cell that has a vertex, however small or far out;
    - random points in a box containing all those vertices;
    - trajectories from random initial states (the regions the dynamics visit).

    The pool is a sample, not a proof: it may miss cells (the certified search
    does not rely on it). It is computed once per model and argument set and
    cached on the model's (immutable) canonical form; patterns are
    de-duplicated as packed integers.

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
    key = (n_trajectories, n_steps, n_box, max_vertices, as_seed(seed))
    cache = cf.__dict__.get("_region_pools")
    if cache is None:
        cache = {}
        object.__setattr__(cf, "_region_pools", cache)   # the canonical form is immutable: cache lives with it
    if key not in cache:
        cache[key] = _compute_pool(cf, *key)
    return cache[key].copy()


def _compute_pool(cf: CanonicalForm, n_trajectories: int, n_steps: int, n_box: int, max_vertices: int,
                  seed: int | None) -> np.ndarray:
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
    return unique_patterns(allp)


def unique_patterns(patterns: np.ndarray) -> np.ndarray:
    """Distinct rows of a (n, G) 0/1 array, sorted, de-duplicated as packed integers (bytes).

    Examples
    --------
    >>> unique_patterns(np.array([[1, 0], [0, 1], [1, 0]], np.uint8)).tolist()
    [[0, 1], [1, 0]]
    """
    patterns = np.ascontiguousarray(patterns, dtype=np.uint8)
    n, G = patterns.shape
    if n == 0 or G == 0:
        return patterns[: min(n, 1)].copy()
    packed = np.ascontiguousarray(np.packbits(patterns, axis=1))       # gate 0 = most significant bit
    view = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first = np.unique(view, return_index=True)                      # sorted like the integer codes
    return np.ascontiguousarray(patterns[first])


def _vertex_cells(cf: CanonicalForm, max_vertices: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gate patterns of the cells around vertices of the hyperplane arrangement."""
    M, G = cf.dim, cf.n_gates
    max_vertices = min(max_vertices, MAX_VERTEX_PROBES >> min(M, 62))
    if G < M or max_vertices < 1:
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
    """The paper's SCYFI alone for one order (one uninterrupted kernel call), growing the buffers as needed.

    The behaviour of ``strategy="scyfi"`` before the enrichment phase was
    added; kept for :func:`_paper_scyfi` (benchmarks and tests compare
    against it) and as the reference the sliced kernel's first phase must
    reproduce word for word.
    """
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
                             words, singular, SINGULAR_RTOL, stats, cf.blas)
        if stats[7] == 0:
            return words[: stats[0]], singular[: stats[1]], stats
        cap *= 4


def find_cycles(model: Model, max_order: int | None = None, *, orders: Sequence[int] | None = None,
                outer_loop_iterations: int | None = None, inner_loop_iterations: int | None = None,
                seed: int | None = None, initial_itineraries: Iterable[Any] | None = None,
                pool: np.ndarray | None = None, strategy: str = "auto", budget_seconds: float | None = None,
                max_nodes: int | None = None, progress: ProgressArg = None,
                cancel: Callable[[], bool] | None = None) -> CycleSet:
    """Find fixed points and k-cycles of ``model``: exactly when affordable, else with SCYFI.

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
        Budgets N_out and N_in of the heuristic for every order; default: the
        paper's order-dependent budgets (:func:`default_budgets`), with N_out
        raised for models with many regions (:func:`adapted_budgets`).
    seed
        Makes the heuristic reproducible.
    initial_itineraries
        (k, G) region words the heuristic tries first (e.g. itineraries of
        cycles found at a nearby parameter value); each costs one solve.
    pool
        (n, G) 0/1 gate patterns the heuristic draws random words from;
        default :func:`region_pool` (empty = uniform bits when all patterns
        are realisable).
    strategy
        ``"certified"``: a provably complete search of every order (see
        :mod:`plrnn_explorer.certified`). Per order it takes the cheapest, by
        estimated seconds, of plain enumeration of all Lyndon words over the
        2^G patterns, the LP-pruned tree of realised words (one tree serves
        all orders), and the closed walks of the region transition graph
        (:mod:`plrnn_explorer.transition_graph`: one LP per pair of realised
        regions, then one solve per closed walk; built once per call when
        its estimated cost, which always counts the kernels' one-time
        compile so that the choice depends on the model and budget only,
        fits a quarter of plain enumeration's, and only for
        ``GRAPH_MIN_REGIONS`` = 32 to ``GRAPH_MAX_REGIONS`` = 4096 realised
        regions). From order 3 on, when all closed walks would take
        ``TRIPLES_MIN_SECONDS`` = 5 s or more, the graph can also filter
        them by realised 3-words (:meth:`TransitionGraph.build_triples
        <plrnn_explorer.transition_graph.TransitionGraph.build_triples>`:
        about 70 LPs per edge, after which only walks whose cyclic 3-words
        are all realised are solved; its cost is estimated from a sample of
        256 edges), and takes that when its estimate is lower.
        ``stats["per_order"][k]["method"]`` says which ran. ``budget_seconds`` / ``max_nodes`` bound
        it: when they run out it stops with what it found and the unfinished
        orders are flagged incomplete. An interrupt (Ctrl-C) does the same.

        ``"scyfi"``: always the randomised heuristic (never flagged
        complete). Per order it runs the paper's SCYFI loop, then an
        enrichment phase that raises recall on chaotic systems: chains
        started from the region words of sampled orbits, from words built of
        the lower-order cycles found in the same call (concatenations, and
        powers with one gate flipped), from the one-gate neighbours of every
        cycle found, and further random restarts while new cycles keep
        appearing: it stops once no new cycle appeared for
        ``max(N_out * N_in, solves until the last find)`` solves, or after
        ``20 N_out N_in`` solves plus 4 per seed word (at most
        ``max(64, N_out N_in / 4)`` seed words) and ``4 k G`` per cycle
        found. The paper's loop comes first and is unchanged, so the
        result contains what the paper's SCYFI finds with the same seed
        (``stats["per_order"][k]["found_by_paper_loop"]`` counts those). The
        search runs in slices of about 0.3 s (see ``cancel``); the result
        depends only on the seed, never on timing or the thread count.

        ``"auto"`` (default): per order, the cheapest complete method whose
        estimated cost fits the order's budget, else the heuristic. The cost
        of a method is its number of solves (words for plain enumeration; LPs
        and solves for the tree; closed walks for the graph, plus its pair LPs
        until it is built) times the measured seconds of one solve (one
        LP) at this model's M and G. The graph is built only when that fits a
        quarter of the order's budget (and at most ``PROBE_SECONDS`` without
        ``budget_seconds``). The order's budget is ``budget_seconds``
        (what is left of it) when given, otherwise
        ``max(AUTO_MIN_SECONDS, 2 * heuristic seconds)``, so auto never picks
        a complete method much slower than the heuristic. The heuristic's
        cost is its minimum work ``N_out * N_in`` solves plus the work of
        collecting its cycles: a probe of ``AUTO_PROBE_WORDS`` random words
        gives the fraction p of words that are cycles, hence about
        ``F = p L`` cycles among the L Lyndon words, and collecting F
        coupons by random draws costs about ``L (1 + ln F)`` solves. A tree
        search that overruns four times its estimate stops and the order
        falls back to the heuristic (flagged incomplete).
    budget_seconds
        Time budget of the complete searches (None: unlimited for
        ``"certified"``, per-order rule above for ``"auto"``).
    max_nodes
        Cap on the prefixes of the certified tree (None: unlimited).
    progress
        True for a tqdm progress bar, False or None for none, or a callable
        ``progress(done, total)`` called as work completes (e.g. a widget's
        progress bar): here the orders finished out of those asked for, and
        about once a second while the certified tree or the heuristic runs.
    cancel
        None or a callable ``cancel() -> bool``, checked about every 0.3 s:
        True stops the search like Ctrl-C does. Either way the cycles found
        so far are returned, the order that was running and those after it
        are flagged incomplete, and ``stats["interrupted"]`` is True
        (``stats["stopped"]`` says ``"interrupted"`` or ``"cancelled"``).

    Returns
    -------
    CycleSet
        ``res[k]`` lists the cycles of minimal period k; ``res.degenerate`` the
        words with singular cycle equations whose continuum of solutions meets
        their own regions; ``res.complete`` says whether every order is proven
        complete. ``res.stats["per_order"][k]`` holds ``strategy``
        (``"exhaustive"``, ``"certified"`` or ``"scyfi"``), ``complete``,
        ``found``, ``candidates_solved``, for certified orders ``method``
        (``"prefix tree"``, ``"transition graph"`` or ``"transition graph, 3-words"``) and, for SCYFI orders,
        ``random_restarts``, ``singular_equations``, ``solves_until_last_find``
        (all solves, over all restarts, until the last new cycle was found),
        ``chain_length_at_last_find`` (solves of the one chain, from its random
        draw, that found it), ``found_by_paper_loop``, ``seed_words`` and
        ``lowrank_solves`` (order 1 at large M: candidates solved by a low-rank
        update of a precomputed factorisation instead of a full LU, with the
        same outcome; ``lowrank_rejected`` of them failed its accuracy checks and
        were re-solved by the full LU); for prefix-tree orders ``tree_nodes``,
        ``lps``; for transition-graph orders ``graph_regions``, ``graph_edges``,
        ``lps`` (the graph's pair LPs and 3-word LPs, each counted at the order
        that built them) and, with the 3-word filter, ``graph_3_words`` (kept).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN(np.array([0.8377689, 0.96461297]),
    ...              np.array([[0, -0.64375], [0.52505308, 0]]),
    ...              np.array([0.37298253, -0.97931491]))
    >>> res = pe.find_cycles(m, max_order=16, seed=1)
    >>> [(c.order, c.stable) for c in res.stable]
    [(16, True)]
    >>> res = pe.find_cycles(m, max_order=16, strategy="certified")
    >>> res.complete, res.counts()[16]
    (True, 2)
    """
    check_model(model)
    order_list = as_orders(max_order, orders)
    seed = as_seed(seed)
    if strategy not in ("auto", "scyfi", "certified"):
        raise ValueError(f"strategy must be 'auto', 'scyfi' or 'certified', got {strategy!r}")
    if budget_seconds is not None:
        budget_seconds = as_float("budget_seconds", budget_seconds, minimum=0.0, strict_minimum=True)
    if max_nodes is not None:
        max_nodes = as_int("max_nodes", max_nodes, minimum=1)
    cancel = check_cancel(cancel)
    report = Progress(progress, len(order_list), "cycle search", "order")
    cf = model.canonical
    G = cf.n_gates
    pool_arr = None if pool is None else as_gate_patterns("pool", pool, G)
    itineraries = as_itinerary_list("initial_itineraries", initial_itineraries, G)

    t0 = time.perf_counter()
    search = _Search(model, cf, order_list, seed, pool_arr, itineraries, outer_loop_iterations,
                     inner_loop_iterations, budget_seconds, max_nodes, report, t0, cancel)
    try:
        for i, k in enumerate(order_list):
            if search.interrupted is None and cancel is not None and cancel():
                search.interrupted = "cancelled"
            if search.interrupted is not None:
                break
            search.run_order(k, strategy)
            report(i + 1, len(order_list))
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        search.interrupted = "interrupted"
    finally:
        report.close()
    interrupted = search.interrupted is not None
    per_order = search.per_order
    for k in order_list:
        if k not in per_order:
            per_order[k] = {"strategy": strategy, "complete": False, "found": 0, "candidates_solved": 0,
                            "random_restarts": 0, "singular_equations": 0,
                            "stopped": search.interrupted or search.stop_reason or "not searched"}
        search.by_order.setdefault(k, [])
    seconds = time.perf_counter() - t0
    stats: dict[str, Any] = {
        "candidates_solved": sum(s["candidates_solved"] for s in per_order.values()),
        "random_restarts": sum(s.get("random_restarts", 0) for s in per_order.values()),
        "singular_equations": sum(s.get("singular_equations", 0) for s in per_order.values()),
        "seconds": seconds,
        "region_pool_size": search.pool_size,
        "seed": seed,
        "strategy": strategy,
        "complete": all(per_order[k]["complete"] for k in order_list),
        "interrupted": interrupted,
        "per_order": {k: per_order[k] for k in order_list},
    }
    if search.tree is not None:
        stats["certified_tree"] = search.tree.status()
    if search.interrupted is not None:
        stats["stopped"] = search.interrupted
    elif search.stop_reason:
        stats["stopped"] = search.stop_reason
    return CycleSet(order_list, search.by_order, stats, search.degenerate)


#: with strategy="auto" and no budget_seconds, an order may always spend this long on a complete method
AUTO_MIN_SECONDS = 0.05
#: with strategy="certified", shallow trees are grown level by level while a level costs at most this
PROBE_SECONDS = 0.5
#: a tree search chosen by "auto" stops when it takes this many times its estimate
AUTO_OVERRUN = 4.0
#: ... but never before this many seconds: a one-off pause of the process (garbage collection, a first use) must
#: not switch the method, or the same call would give a complete result once and a heuristic one the next time
AUTO_TREE_GRACE_SECONDS = 0.5
#: random words checked to estimate how many cycles the heuristic would have to collect (strategy="auto")
AUTO_PROBE_WORDS = 512


class _Search:
    """State of one find_cycles call: results so far, the pool, the certified tree and the costs."""

    def __init__(self, model, cf, order_list, seed, pool, initial_itineraries, n_out, n_in, budget_seconds,
                 max_nodes, report, t0, cancel=None):
        self.model, self.cf, self.seed = model, cf, seed
        self.G = cf.n_gates
        self.n_out_arg, self.n_in_arg = n_out, n_in
        self.budget_seconds, self.max_nodes, self.report, self.t0 = budget_seconds, max_nodes, report, t0
        self.by_order: dict[int, list[Cycle]] = {}
        self.degenerate: list[DegenerateItinerary] = []
        self.per_order: dict[int, dict[str, Any]] = {}
        self.tree: PrefixTree | None = None
        self.tree_failed = False
        self.graph: TransitionGraph | None = None
        self.graph_failed = False
        self.triple_sample: tuple[float, float] | None = None     # (seconds per edge, fraction kept)
        self.graph_new = False      # the graph was built for the order being searched (its LPs count there)
        self.triples_new = False    # ... and the same for its 3-word flags
        self.stop_reason: str | None = None
        self.cancel = cancel
        self.interrupted: str | None = None     # "interrupted" (Ctrl-C) or "cancelled" once the search was stopped
        self._pool_arg = pool
        self._pool: np.ndarray | None = None
        self._costs = None
        self.preload = self._preload(initial_itineraries, order_list)
        self.n_orders = len(order_list)

    # -- lazily computed pieces ------------------------------------------------
    @property
    def pool(self) -> np.ndarray:
        if self._pool is None:
            if self._pool_arg is None:
                self._pool = region_pool(self.model, seed=0 if self.seed is None else self.seed)
            else:
                self._pool = self._pool_arg
        return self._pool

    @property
    def pool_size(self) -> int | None:
        return int(len(self._pool)) if self._pool is not None and len(self._pool) else None

    @property
    def costs(self):
        if self._costs is None:
            self._costs = search_costs(self.cf)
        return self._costs

    def n_letters(self) -> float:
        if self.G <= 20 or self.cf.gates_full_rank():
            return float(2 ** min(self.G, 60))
        return float(max(len(self.pool), 1))

    def _preload(self, initial_itineraries, order_list) -> dict[int, list[np.ndarray]]:
        cf, G = self.cf, self.G
        preload: dict[int, list[np.ndarray]] = {}
        for it in initial_itineraries:
            w = as_itinerary(it, G).astype(np.uint8)
            k = w.shape[0]
            if k in order_list and _kernels._is_primitive(w, k, G):
                cw = canonical_rotation(w)
                cyc = build_cycle(cf, cw)
                if cyc is not None and not cyc.on_border and _consistent(cf, cyc, cw):
                    if not any(np.array_equal(cw, p) for p in preload.get(k, [])):
                        preload.setdefault(k, []).append(cw)
        return preload

    def _tree_progress(self, info: dict) -> None:
        """Heartbeat of the growing tree: orders finished so far, with the tree's depth and LPs beside a bar."""
        self.report(len(self.per_order), self.n_orders, depth=info["depth"], LPs=info["lps"])
        if self.cancel is not None and self.cancel():
            self.interrupted = "cancelled"
            raise BudgetExhausted

    def _heuristic_progress(self, info: dict) -> None:
        """Heartbeat of the heuristic: orders finished so far, with solves and cycles found beside a bar."""
        self.report(len(self.per_order), self.n_orders, order=info["order"], solves=info["solves"],
                    found=info["found"])

    def remaining(self) -> float | None:
        if self.budget_seconds is None:
            return None
        return self.budget_seconds - (time.perf_counter() - self.t0)

    # -- one order ------------------------------------------------------------
    def run_order(self, k: int, strategy: str) -> None:
        if strategy == "scyfi":
            self._heuristic(k)
            return
        if self.stop_reason is not None and strategy == "certified":
            return  # budget gone: the order stays unsearched and incomplete
        t_k = time.perf_counter()
        if strategy == "certified":
            plain = plain_seconds(self.cf, k, self.costs)
            # learning the tree's growth (or building the transition graph) is worth a quarter of what
            # plain enumeration would cost, and at most a quarter of what is left of the budget
            left = self.remaining()

            def allowance(cost: float) -> float:
                a = max(PROBE_SECONDS, 0.25 * min(cost, 1e9))
                return a if left is None else min(a, max(left, 0.0) / 4)

            self._build_graph(k, allowance(plain))
            if self.interrupted is not None:
                return
            graph = self._graph_estimate(k)
            self._probe(k, allowance(min(plain, graph)))
            if self.interrupted is not None:
                return
            pruned = self._tree_estimate(k)
            left = self.remaining()
            if plain <= min(pruned, graph) and (left is None or plain <= left):
                self._exhaustive(k, t_k, plain)
                return
            limit = None if left is None else max(left, 0.0)
            done = (self._graph_order(k, limit, t_k, graph) if graph < pruned
                    else self._tree_order(k, limit, t_k, pruned))
            if not done and self.interrupted is None:
                self.stop_reason = (self.tree.stop_reason if graph >= pruned and self.tree is not None
                                    and self.tree.stop_reason else "time budget exhausted")
            return
        # auto
        plain = plain_seconds(self.cf, k, self.costs)
        if self.budget_seconds is None:
            allowance = max(AUTO_MIN_SECONDS, 2.0 * self._heuristic_seconds(k, plain))
        else:
            allowance = max(self.remaining(), 0.0)
        if not self.tree_failed:
            self._probe(k, min(PROBE_SECONDS, allowance / 4))
            if self.interrupted is not None:
                return
        self._build_graph(k, min(PROBE_SECONDS, allowance / 4) if self.budget_seconds is None else allowance / 4)
        if self.interrupted is not None:
            return
        graph = self._graph_estimate(k)
        pruned = float("inf") if self.tree_failed else self._tree_estimate(k)
        if min(plain, pruned, graph) <= allowance:
            if plain <= min(pruned, graph):
                self._exhaustive(k, t_k, plain)
                return
            if graph < pruned:
                if self._graph_order(k, self._auto_limit(graph), t_k, graph) or self.interrupted is not None:
                    return
                self.graph_failed = True
            else:
                if self._tree_order(k, self._auto_limit(pruned), t_k, pruned) or self.interrupted is not None:
                    return
                self.tree_failed = True
        self._heuristic(k)

    def _auto_limit(self, estimate: float) -> float:
        """Seconds a complete method chosen by "auto" may run before the order falls back to the heuristic."""
        limit = max(AUTO_OVERRUN * estimate, AUTO_TREE_GRACE_SECONDS)
        if self.budget_seconds is not None:
            limit = min(limit, max(self.remaining(), 0.0))
        return limit

    # -- the transition graph ----------------------------------------------------
    def _graph_estimate(self, k: int) -> float:
        """Estimated seconds of order k by the graph's closed walks (inf when the graph is not available)."""
        if self.graph is None or self.graph_failed or k < 2:
            return float("inf")
        return min(self._walks_estimate(k), self._triples_estimate(k))

    def _walks_estimate(self, k: int) -> float:
        """Estimated seconds of order k by all closed walks of the graph."""
        return self.graph.closed_walks(k) / k * self.costs.solve(k) / k

    def _triples_estimate(self, k: int) -> float:
        """Estimated seconds of order k by the closed walks whose 3-words are realised, building the flags first.

        Only considered from order 3 on and when all closed walks would take
        ``TRIPLES_MIN_SECONDS`` or more; the building cost comes from settling
        the 3-words of a sample of edges (kept for the call), the walks from
        :func:`.transition_graph.filtered_walks`.
        """
        graph = self.graph
        walks = self._walks_estimate(k)
        if k < 3 or walks < TRIPLES_MIN_SECONDS:
            return float("inf")
        if graph.triples is not None:
            kept, build = graph.n_triples / max(graph.n_candidate_triples(), 1), 0.0
        else:
            if self.triple_sample is None:
                self.triple_sample = graph.sample_triples()
            per_edge, kept = self.triple_sample
            build = per_edge * graph.n_edges + TRIPLES_MIN_SECONDS
        return build + filtered_walks(graph.closed_walks(k), kept, k) / k * self.costs.solve(k) / k

    def _build_graph(self, k: int, seconds: float) -> None:
        """Build the transition graph when its estimated cost fits ``seconds`` (once per call; see find_cycles)."""
        if k < 2 or self.graph is not None or self.graph_failed:
            return
        tree = self._ensure_tree()
        if tree.depth < 1:
            if tree.estimated_seconds(1, self.costs, self.n_letters()) > seconds:
                return
            tree.deadline = time.perf_counter() + 4 * seconds
            ok = tree.grow_to(1)
            tree.deadline = None
            if not ok:
                tree.stop_reason = None
                return
        n_regions = len(tree.levels[1])
        if not graph_regions_ok(n_regions) or graph_build_seconds(n_regions, self.cf.dim, self.G) > seconds:
            return
        regions = np.array([node.word[0] for node in tree.levels[1]], np.uint8).reshape(n_regions, self.G)
        deadline = time.perf_counter() + 4 * max(seconds, PROBE_SECONDS)
        left = self.remaining()
        if left is not None:
            deadline = min(deadline, time.perf_counter() + max(left, 0.0))
        graph = TransitionGraph.build(self.cf, regions=regions, deadline=deadline, cancel=self.cancel)
        if graph.complete:
            self.graph = graph
            self.graph_new = True
        else:
            self.graph_failed = True
            if graph.stop_reason in ("cancelled", "KeyboardInterrupt"):
                self.interrupted = "cancelled" if graph.stop_reason == "cancelled" else "interrupted"

    def _graph_order(self, k: int, limit: float | None, t_k: float, estimate: float) -> bool:
        graph = self.graph
        assert graph is not None
        deadline = None if limit is None else time.perf_counter() + limit
        flag = {"late": False}

        def stop() -> bool:
            if self.cancel is not None and self.cancel():
                return True
            if deadline is not None and time.perf_counter() > deadline:
                flag["late"] = True
                return True
            return False

        use_triples = graph.triples is not None or self._triples_estimate(k) < self._walks_estimate(k)
        if use_triples and graph.triples is None:
            if not graph.build_triples(cancel=stop):
                if not flag["late"]:
                    self.interrupted = "interrupted" if graph.triples_stopped == "KeyboardInterrupt" else "cancelled"
                return False
            self.triples_new = True
        found = graph.cycles(k, cancel=stop)
        if found.stopped:
            if not flag["late"]:
                self.interrupted = "interrupted" if found.stopped == "KeyboardInterrupt" else "cancelled"
            return False
        self.by_order[k] = found.cycles
        self.degenerate += found.degenerate
        lps = (graph.lps if self.graph_new else 0) + (graph.triple_lps if self.triples_new else 0)
        self.per_order[k] = {"strategy": "certified",
                             "method": "transition graph, 3-words" if use_triples else "transition graph",
                             "complete": True, "found": len(found.cycles), "candidates_solved": found.solved,
                             "random_restarts": 0, "singular_equations": found.singular,
                             "graph_regions": graph.n_regions, "graph_edges": graph.n_edges, "lps": lps,
                             "estimated_seconds": estimate, "seconds": time.perf_counter() - t_k}
        if use_triples:
            self.per_order[k]["graph_3_words"] = graph.n_triples
        self.graph_new = self.triples_new = False
        return True

    def _heuristic_seconds(self, k: int, plain: float) -> float:
        """Estimated seconds of the heuristic at order k (see find_cycles, strategy "auto").

        Its minimum work ``N_out * N_in`` solves, plus, when a probe of random
        words hits cycles, the coupon collector's cost of finding the F cycles
        it implies: about ``L (1 + ln F)`` solves for L Lyndon words. The
        probe is only run when plain enumeration would not fit the minimum.
        """
        n_out, n_in = self._budgets(k)
        t_solve = self.costs.solve(k)
        base = n_out * n_in * t_solve
        if not np.isfinite(plain) or plain <= max(AUTO_MIN_SECONDS, 2.0 * base):
            return base
        hits = consistent_words(self.cf, random_words(self.G, k, AUTO_PROBE_WORDS, seed=k))
        if hits == 0:
            return base
        n_lyndon = float(n_lyndon_words(2 ** self.G, k))
        n_cycles = max(1.0, hits / AUTO_PROBE_WORDS * n_lyndon)
        return base + n_lyndon * (1.0 + np.log(n_cycles)) * t_solve

    def _budgets(self, k: int) -> tuple[int, int]:
        n_regions = len(self.pool) if len(self.pool) else 2 ** min(self.G, 30)
        n_out_d, n_in_d = adapted_budgets(k, n_regions)
        return (_budget("outer_loop_iterations", self.n_out_arg, n_out_d),
                _budget("inner_loop_iterations", self.n_in_arg, n_in_d))

    def _ensure_tree(self) -> PrefixTree:
        if self.tree is None:
            self.tree = PrefixTree(self.cf, max_nodes=self.max_nodes, progress=self._tree_progress)
        return self.tree

    def _tree_estimate(self, k: int) -> float:
        return self._ensure_tree().estimated_seconds(k, self.costs, self.n_letters())

    def _probe(self, k: int, seconds: float) -> None:
        """Grow a shallow tree while its next level is cheap, so that its growth rate is known."""
        tree = self._ensure_tree()
        while tree.depth < min(k - 1, 3) and tree.estimated_seconds(tree.depth + 1, self.costs,
                                                                     self.n_letters()) <= seconds:
            tree.deadline = time.perf_counter() + 4 * seconds
            left = self.remaining()
            if left is not None:  # a probe never outlives the caller's budget
                tree.deadline = min(tree.deadline, time.perf_counter() + max(left, 0.0))
            if not tree.grow_to(tree.depth + 1):
                tree.stop_reason = None
                tree.deadline = None
                return
        tree.deadline = None

    def _exhaustive(self, k: int, t_k: float, estimate: float) -> None:
        cycles, degen, n_tried, stopped = search_order_exhaustively(self.cf, k, self.cancel)
        self.by_order[k] = cycles
        self.degenerate += degen
        self.per_order[k] = {"strategy": "exhaustive", "complete": not stopped, "found": len(cycles),
                             "candidates_solved": n_tried, "random_restarts": 0, "singular_equations": len(degen),
                             "estimated_seconds": estimate, "seconds": time.perf_counter() - t_k}
        if stopped:
            self.per_order[k]["stopped"] = stopped
            self.interrupted = stopped

    def _tree_order(self, k: int, limit: float | None, t_k: float, estimate: float) -> bool:
        tree = self._ensure_tree()
        tree.deadline = None if limit is None else time.perf_counter() + limit
        lps0, nodes0 = tree.n_lps, tree.n_nodes
        ok = tree.grow_to(k)
        tree.deadline = None
        if not ok:
            return False
        lyndon, powers = tree.candidates(k)
        cycles, degen, n_solved, n_singular = solve_candidates(self.cf, lyndon, powers)
        self.by_order[k] = cycles
        self.degenerate += degen
        self.per_order[k] = {"strategy": "certified", "method": "prefix tree", "complete": True, "found": len(cycles),
                             "candidates_solved": n_solved, "random_restarts": 0, "singular_equations": n_singular,
                             "tree_nodes": tree.n_nodes - nodes0, "lps": tree.n_lps - lps0,
                             "estimated_seconds": estimate, "seconds": time.perf_counter() - t_k}
        return True

    def _heuristic(self, k: int) -> None:
        cf = self.cf
        t_k = time.perf_counter()
        n_out, n_in = self._budgets(k)
        check_limit(f"estimated work of order {k} (flops)", search_work(cf.dim, [k], n_out, n_in), "max_work")
        preloaded = self.preload.get(k, [])
        lower = {a: np.array([canonical_rotation(c.itinerary.astype(np.uint8)) for c in cycles], np.uint8)
                 .reshape(len(cycles), a, self.G) for a, cycles in self.by_order.items() if a < k}
        run = _heuristic_search(cf, k, n_out, n_in, self.pool, self.seed, preloaded, lower,
                                cancel=self.cancel, heartbeat=self._heuristic_progress)
        st = run.stats
        cycles: list[Cycle] = []
        try:       # a Ctrl-C while the cycles are built keeps those built so far
            for w in run.words:
                c = build_cycle(cf, w)
                if c is not None:
                    cycles.append(c)
            self.degenerate += [d for d in (build_degenerate(cf, w) for w in run.singular) if d is not None]
        except (KeyboardInterrupt, SystemError) as exc:
            if not is_interrupt(exc):
                raise
            run.stopped = "interrupted"
        self.by_order[k] = sorted(cycles, key=cycle_sort_key)
        self.per_order[k] = {"strategy": "scyfi", "complete": False, "found": len(cycles),
                             "candidates_solved": int(st[2]),
                             "random_restarts": int(st[3]), "singular_equations": int(st[4]),
                             "consistent_candidates": int(st[5]), "solves_until_last_find": int(st[6]),
                             "chain_length_at_last_find": int(st[8]),
                             "lowrank_solves": int(st[11]), "lowrank_rejected": int(st[12]),
                             "outer_loop_iterations": n_out, "inner_loop_iterations": n_in,
                             "preloaded": len(preloaded), "found_by_paper_loop": run.found_by_paper_loop,
                             "seed_words": run.n_seeds, "seconds": time.perf_counter() - t_k}
        if run.stopped:
            self.per_order[k]["stopped"] = run.stopped
            self.interrupted = run.stopped


def _paper_scyfi(model: Model, max_order: int, seed: int | None = None) -> dict[int, set]:
    """Cycle keys per order found by the paper's SCYFI alone (the heuristic before the enrichment phase).

    Private: for benchmarks and tests that compare the heuristic with its
    predecessor side by side. Same budgets and region pool as
    ``find_cycles(strategy="scyfi")``.
    """
    cf = model.canonical
    pool = region_pool(model, seed=0 if seed is None else seed)
    n_regions = len(pool) if len(pool) else 2 ** min(cf.n_gates, 30)
    out = {}
    for k in range(1, max_order + 1):
        n_out, n_in = adapted_budgets(k, n_regions)
        words, _, _ = _search_order(cf, k, n_out, n_in, pool, seed, [])
        out[k] = {c.key for c in (build_cycle(cf, w) for w in words) if c is not None}
    return out


def _consistent(cf: CanonicalForm, cyc: Cycle, word: np.ndarray) -> bool:
    gates = cyc.points @ cf.W_in.T + cf.b_in
    return bool(np.array_equal(gates > 0, word.astype(bool)))
