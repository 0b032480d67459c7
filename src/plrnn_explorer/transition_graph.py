"""The region transition graph, and a complete cycle search over its closed walks.

Edge ``a -> b`` when some point of region ``a`` is mapped into region ``b``
(both closed: a gate exactly 0 belongs to both sides). The itinerary of every
k-cycle is a closed walk of length k in this graph (each cycle point lies in
its region and its image in the next one), so solving the cycle equation of
every closed walk, and tracing each solution through the true map, finds
every k-cycle: a third provably complete method beside plain enumeration of
all region words and the LP-pruned prefix tree of :mod:`.certified`.

Why: the prefix tree needs one LP per realised prefix, and a trained shallow
model with ~1,000 realised regions realises ~3.5e6 prefixes of length 3
(about an hour of LPs). The graph needs one LP per *pair* of regions, done
by a small simplex compiled with numba (~7 us per LP at M = 8, against
~0.5-1 ms for a HiGHS call from Python), after which the cost of an order
is the number of its closed walks (one cycle solve each, with the products
shared along common prefixes): ``trace(adj^k) / k`` necklaces, against
``(2^G)^k / k`` words for plain enumeration.

For long orders the graph has a second layer: :meth:`TransitionGraph.build_triples`
settles which 2-step paths ``a -> b -> c`` are realised 3-words (one LP each,
a certificate of emptiness dropping every ``c`` that agrees on the gates it
uses), and the closed walks are then walked only along realised 3-words:
every cycle's k cyclic 3-words are realised. At the trained M = 8, H = 10
model this leaves 6e6 of the 2.8e9 order-4 necklaces.

Soundness: an edge is dropped only when the simplex returns a Farkas
certificate that passes an independent check (see
:func:`._graph_kernels.farkas_empty`): it proves that no point ``z`` with
``|z|_inf <= R`` (``R = EDGE_BOX`` times the model's scale) lies in the
pair's polyhedron, relaxed by ``ROW_SLACK`` as in :mod:`.certified` (and a
3-word likewise). Any other outcome keeps the edge; a kept edge that is not realised costs solves,
never a cycle. The guarantee therefore covers every cycle inside that box
(``1e8`` times the model's scale: far beyond any trajectory of a trained
model); the regions themselves are those of the certified tree's first
level (LP-checked by HiGHS).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numba
import numpy as np

from . import _graph_kernels
from ._slices import check_cancel, is_interrupt, run_in_slices
from ._validation import as_float, as_gate_patterns, as_int, check_limit
from .certified import ROW_SLACK, PrefixTree
from .cycles import Cycle, DegenerateItinerary, cycle_sort_key
from .itineraries import SINGULAR_RTOL, build_cycle, build_degenerate
from .models import CanonicalForm, check_model

__all__ = ["TransitionGraph", "WalkSearch", "EDGE_BOX", "FIRST_USE_SECONDS", "GRAPH_MIN_REGIONS", "GRAPH_MAX_REGIONS",
           "TRIPLES_MIN_SECONDS", "filtered_walks", "graph_build_seconds", "graph_regions_ok"]

#: an edge is dropped only when its polyhedron is proven empty in the box |z|_inf <= EDGE_BOX * scale
EDGE_BOX = 1e8
#: find_cycles considers the graph from this many realised regions on: below it the prefix tree and plain
#: enumeration are cheap, and the graph's kernels are not worth their compile time (~7 s on first use)
GRAPH_MIN_REGIONS = 32
#: ... and up to this many (the adjacency matrix takes R^2 bytes, building it R^2 LPs, and the walk counts
#: of the cost estimate one R x R product per order)
GRAPH_MAX_REGIONS = 4096
#: one-time cost of the graph's kernels, always counted in its estimate (compiling them took ~7 s)
FIRST_USE_SECONDS = 8.0
#: measured seconds of one pair LP at M = 8, G = 10 (6.2-6.5 us on the 2-core reference machine)
_PAIR_LP_SECONDS = 6.5e-6


#: find_cycles considers the 3-word flags only for orders whose closed walks would take this long (seconds); the
#: flags' one-time compile cost (about 3 s) is counted in their estimate, as FIRST_USE_SECONDS is for the graph
TRIPLES_MIN_SECONDS = 5.0


def filtered_walks(closed_walks: float, kept: float, k: int) -> float:
    """Estimated closed walks of length k left by the 3-word flags: ``closed_walks * kept ** (k - 1)``.

    ``kept`` is the fraction of 2-step paths kept. An empirical rule: at the
    trained M = 8, H = 10 model (kept = 0.124) it predicts 5.5e5 and 2.1e7
    of the measured 5.0e5 and 2.4e7 walks of orders 3 and 4.

    Examples
    --------
    >>> f"{filtered_walks(1.11e10, 0.124, 4):.2g}"
    '2.1e+07'
    """
    k = as_int("k", k, minimum=1)
    # trace(adj^k) overflows to inf for long orders of large graphs: inf walks stay inf unless none is kept
    closed_walks = as_float("closed_walks", closed_walks, minimum=0.0, allow_inf=True)
    kept = as_float("kept", kept, minimum=0.0, maximum=1.0)
    return closed_walks * kept ** (k - 1) if kept > 0.0 or k == 1 else 0.0


def graph_regions_ok(n_regions: int) -> bool:
    """Is a graph on ``n_regions`` realised regions within the sizes find_cycles considers?

    Examples
    --------
    >>> graph_regions_ok(4), graph_regions_ok(1013)
    (False, True)
    """
    return GRAPH_MIN_REGIONS <= n_regions <= GRAPH_MAX_REGIONS


def graph_build_seconds(n_regions: int, dim: int, n_gates: int) -> float:
    """Estimated seconds to build the graph: one LP per pair of regions, scaled by the simplex's tableau work.

    ``FIRST_USE_SECONDS`` is always added: the kernels may have to be compiled (about 7 s; later
    processes load them from numba's cache). Counting it whether or not they have run makes
    find_cycles' choice of method a function of the model and the budget only, never of what ran
    earlier in the process.

    Examples
    --------
    >>> round(graph_build_seconds(1013, 8, 10) - FIRST_USE_SECONDS, 1)   # trained M = 8, H = 10: measured 6.2 s
    6.7
    """
    work = (dim + 2) * (2 * n_gates + dim + 2) * (dim + 1) / 2700.0
    return float(n_regions) ** 2 * _PAIR_LP_SECONDS * work + FIRST_USE_SECONDS


class WalkSearch(NamedTuple):
    """What :meth:`TransitionGraph.cycles` found (see there)."""

    cycles: list[Cycle]
    degenerate: list[DegenerateItinerary]
    solved: int
    singular: int
    stopped: str


@dataclass
class TransitionGraph:
    """Realised regions of a model and which of them map into which.

    Build it with :meth:`build`; :meth:`cycles` then gives every cycle of an
    order, proven complete (see the module docstring for what the proof
    rests on).

    Attributes
    ----------
    regions
        (R, G) uint8 gate patterns of the realised regions, in increasing
        order of their codes.
    adj
        (R, R) uint8, ``adj[a, b] = 1`` when region ``a`` maps into region
        ``b`` (or emptiness could not be proven).
    complete
        False when building stopped early (Cancel, Ctrl-C, a budget): then
        ``adj`` is only partly known and :meth:`cycles` refuses to run.
    seconds, lps
        Time and pair LPs spent building it.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> g = TransitionGraph.build(pe.systems.gt16())
    >>> g.n_regions, g.n_edges
    (4, 11)
    >>> found = g.cycles(16)
    >>> [c.order for c in found.cycles], found.stopped
    ([16, 16], '')
    """

    cf: Any
    regions: np.ndarray
    adj: np.ndarray
    complete: bool = True
    seconds: float = 0.0
    lps: int = 0
    stop_reason: str = ""
    triples: np.ndarray | None = field(default=None, repr=False)
    triple_lps: int = 0
    triple_seconds: float = 0.0
    triples_stopped: str = ""
    _tri_ptr: np.ndarray | None = field(default=None, repr=False)
    _kept_ptr: np.ndarray | None = field(default=None, repr=False)
    _kept_pos: np.ndarray | None = field(default=None, repr=False)
    _Jr: np.ndarray = field(default=None, repr=False)
    _cr: np.ndarray = field(default=None, repr=False)
    _powers: list | None = field(default=None, repr=False)

    # -- construction ------------------------------------------------------------
    @classmethod
    def build(cls, model: Any, *, regions: np.ndarray | None = None, deadline: float | None = None,
              cancel: Callable[[], bool] | None = None,
              progress: Callable[[int, int], Any] | None = None) -> TransitionGraph:
        """Find the realised regions (unless given) and every edge between them.

        Parameters
        ----------
        model
            A plrnn_explorer model, or its canonical form.
        regions
            (R, G) gate patterns of the realised regions (e.g. from a
            :class:`~plrnn_explorer.certified.PrefixTree`'s first level);
            None finds them with one.
        deadline
            ``time.perf_counter()`` value after which building stops
            (``complete`` is then False).
        cancel, progress
            ``cancel() -> bool`` is checked, and ``progress(done, total)``
            called with the regions done, about every 0.3 s.
        """
        if isinstance(model, CanonicalForm):
            cf = model
        else:
            check_model(model)
            cf = model.canonical
        cancel = check_cancel(cancel)
        t0 = time.perf_counter()
        if regions is None:
            tree = PrefixTree(cf)
            tree.grow_to(1)
            regions = np.array([node.word[0] for node in tree.levels[1]], np.uint8).reshape(len(tree.levels[1]),
                                                                                             cf.n_gates)
        regions = _sorted_unique(as_gate_patterns("regions", regions, cf.n_gates))
        if cf.n_gates == 0:             # no gates: one region, the whole space
            regions = np.zeros((1, 0), np.uint8)
        n = len(regions)
        if n == 0:
            raise ValueError("regions must hold at least one gate pattern (an (R, G) array of 0/1 rows), got none")
        check_limit("memory of the transition graph's adjacency matrix (GiB)", n * n / 2**30, "max_memory_gib")
        check_limit("transition graph pair LPs (flops)", n * n * 50.0 * (cf.dim + 2) * (2 * cf.n_gates + cf.dim + 2)
                    * (cf.dim + 1), "max_work")
        Jr, cr = _pieces(cf, regions)
        adj = np.ones((n, n), np.uint8)
        scale = _box_scale(cf)
        W_in, b_in = np.ascontiguousarray(cf.W_in), np.ascontiguousarray(cf.b_in)

        def rows(part: np.ndarray) -> None:
            _graph_kernels.pair_edges(W_in, b_in, Jr, cr, regions, int(part[0]), int(part[-1]) + 1, ROW_SLACK,
                                      EDGE_BOX * scale, adj)

        def work(idx: np.ndarray) -> None:
            _on_threads(rows, idx, pool)

        late = [False]

        def stop() -> bool:
            if cancel is not None and cancel():
                return True
            late[0] = deadline is not None and time.perf_counter() > deadline
            return late[0]

        with _thread_pool() as pool:
            outcome = run_in_slices(n, work, cancel=stop, progress=progress)
        reason = "time budget exhausted" if late[0] else outcome.reason
        graph = cls(cf, regions, adj, complete=outcome.complete, seconds=time.perf_counter() - t0,
                    lps=int(outcome.done.sum()) * n, stop_reason=reason)
        graph._Jr, graph._cr = Jr, cr
        return graph

    # -- sizes ---------------------------------------------------------------------
    @property
    def n_regions(self) -> int:
        """Number of realised regions (graph nodes)."""
        return int(len(self.regions))

    @property
    def n_edges(self) -> int:
        """Number of edges (self-loops included)."""
        return int(self.adj.sum())

    def closed_walks(self, k: int) -> float:
        """Number of closed walks of length k, ``trace(adj^k)`` (about k times the candidates of order k).

        The powers of ``adj`` are kept, so asking for k = 1, 2, 3, ... costs
        one R x R product per new order.
        """
        k = as_int("k", k, minimum=1)
        check_limit("order", k, "max_order")
        if self._powers is None:
            self._powers = [self.adj.astype(float)]
        while len(self._powers) < k:
            self._powers.append(self._powers[-1] @ self._powers[0])
        return float(np.trace(self._powers[k - 1]))

    # -- realised 3-words ------------------------------------------------------------
    def _out_lists(self) -> tuple[np.ndarray, np.ndarray]:
        """CSR out-lists: the successors of region a are ``out_idx[out_ptr[a]:out_ptr[a + 1]]``, increasing."""
        out_ptr = np.zeros(self.n_regions + 1, np.int64)
        out_ptr[1:] = np.cumsum(self.adj.sum(axis=1))
        return out_ptr, np.nonzero(self.adj)[1].astype(np.int64)

    def n_candidate_triples(self) -> int:
        """Number of 2-step paths ``a -> b -> c`` (what :meth:`build_triples` settles), ``sum_b in(b) out(b)``."""
        deg = self.adj.sum(axis=1, dtype=np.int64)
        return int(self.adj.sum(axis=0, dtype=np.int64) @ deg)

    @property
    def n_triples(self) -> int | None:
        """Number of kept 3-words (None before :meth:`build_triples` finished)."""
        return None if self.triples is None else int(np.count_nonzero(self.triples == _graph_kernels.KEPT))

    def build_triples(self, *, hint: TransitionGraph | None = None, deadline: float | None = None,
                      cancel: Callable[[], bool] | None = None,
                      progress: Callable[[int, int], Any] | None = None) -> bool:
        """Find which 2-step paths ``a -> b -> c`` of the graph are realised 3-words.

        A 3-word is dropped only when a checked Farkas certificate proves its
        polyhedron (points of region a mapped into b and then into c) empty
        in the graph's box, as for the edges; one certificate drops every
        ``c`` that agrees on the gates it uses. Afterwards :meth:`cycles`
        walks only closed walks whose k cyclic 3-words are all kept: at a
        trained M = 8, H = 10 model this keeps 13 % of the 2-step paths and
        0.6 % of the closed 4-walks, which makes order 4 affordable (see
        notebook 09). Costs about 70 LPs per edge.

        ``hint``: the built graph of a nearby model (the previous training
        snapshot, a neighbouring parameter value), with its 3-words built.
        The 3-words it kept (same gate patterns) are kept here without an
        LP, and only the others are settled. Keeping is always safe (a kept
        3-word that is not realised costs walks, never a cycle), so the
        result stays complete for any hint; a hint from a close model
        saves most of the LPs (at consecutive snapshots of the trained
        M = 8, H = 10 model, whose parameters change by about 0.2 %, the
        LPs drop from about 2.1e7 to about 1e7) and may keep a few 3-words
        more than a build without it.

        Returns True when every edge was settled; False when building was
        stopped (``deadline``, ``cancel``, Ctrl-C; ``triples_stopped`` says
        which), and then nothing is kept.
        ``cancel`` and ``progress(done, total)`` (edges) work as in
        :meth:`build`.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> g = TransitionGraph.build(pe.systems.gt16())
        >>> g.build_triples(), g.n_triples, g.n_candidate_triples()   # GT16 realises 22 words of length 3
        (True, 22, 28)
        >>> [c.order for c in g.cycles(16).cycles]
        [16, 16]
        >>> nearby = TransitionGraph.build(pe.systems.gt16())
        >>> nearby.build_triples(hint=g), nearby.n_triples
        (True, 22)
        """
        if not self.complete:
            raise ValueError("this transition graph is incomplete (building it was stopped); build it again")
        cancel = check_cancel(cancel)
        n_paths = self.n_candidate_triples()
        check_limit("memory of the transition graph's 3-word flags (GiB)", n_paths / 2**30, "max_memory_gib")
        t0 = time.perf_counter()
        out_ptr, out_idx = self._out_lists()
        tri_ptr = np.zeros(len(out_idx) + 1, np.int64)
        tri_ptr[1:] = np.cumsum(np.diff(out_ptr)[out_idx])
        tri = np.empty(n_paths, np.uint8)
        edges = np.arange(len(out_idx), dtype=np.int64)
        carried = self._carried_triples(hint, out_ptr, out_idx, tri_ptr, n_paths)

        def stop() -> bool:
            return (cancel is not None and cancel()) or (deadline is not None and time.perf_counter() > deadline)

        outcome, lps = self._settle_triples(out_ptr, out_idx, edges, tri_ptr, tri, stop, progress, carried)
        self.triple_lps += lps
        self.triple_seconds += time.perf_counter() - t0
        self.triples_stopped = "" if outcome.complete else outcome.reason
        if outcome.complete:
            self.triples, self._tri_ptr = tri, tri_ptr
            # the walks step along lists of the kept successors' out-list positions, edge by edge
            flat = np.flatnonzero(tri == _graph_kernels.KEPT)
            owner = np.searchsorted(tri_ptr, flat, side="right") - 1
            self._kept_pos = out_ptr[out_idx[owner]] + (flat - tri_ptr[owner])
            self._kept_ptr = np.zeros(len(out_idx) + 1, np.int64)
            self._kept_ptr[1:] = np.cumsum(np.bincount(owner, minlength=len(out_idx)))
        return outcome.complete

    def _carried_triples(self, hint: TransitionGraph | None, out_ptr: np.ndarray, out_idx: np.ndarray,
                         tri_ptr: np.ndarray, n_paths: int) -> np.ndarray:
        """The ``hint`` array of :func:`._graph_kernels.edge_triples`: the 3-words the graph ``hint`` kept."""
        if hint is None:
            return np.zeros(0, np.uint8)
        if not isinstance(hint, TransitionGraph) or hint.triples is None:
            raise TypeError("hint must be a TransitionGraph whose 3-words are built (build_triples() returned True), "
                            f"got {type(hint).__name__}")
        if hint.regions.shape[1] != self.regions.shape[1]:
            raise ValueError(f"hint must be a graph of a model with the same {self.regions.shape[1]} gates, "
                             f"got one with {hint.regions.shape[1]}")
        index = {r.tobytes(): i for i, r in enumerate(hint.regions)}
        old_of = np.array([index.get(r.tobytes(), -1) for r in self.regions], np.int64)
        old_ptr, old_idx = hint._out_lists()
        edge_src = np.repeat(np.arange(self.n_regions, dtype=np.int64), np.diff(out_ptr))
        carried = np.empty(n_paths, np.uint8)
        _graph_kernels.carry_triples(old_of, old_ptr, old_idx, hint._tri_ptr, hint.triples, out_ptr, out_idx,
                                     edge_src, tri_ptr, carried)
        return carried

    def sample_triples(self, n_edges: int = 256, seed: int = 0) -> tuple[float, float]:
        """Settle the 3-words of ``n_edges`` random edges: (seconds per edge, fraction of 2-step paths kept).

        What :meth:`build_triples` would cost (edges times the first) and
        how much it would prune, for the choice of method in find_cycles.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> seconds, kept = TransitionGraph.build(pe.systems.gt16()).sample_triples(8)
        >>> round(kept, 2)
        0.89
        """
        n_edges = as_int("n_edges", n_edges, minimum=1)
        out_ptr, out_idx = self._out_lists()
        if len(out_idx) == 0:
            return 0.0, 0.0
        edges = np.sort(np.random.default_rng(seed).choice(len(out_idx), min(n_edges, len(out_idx)), replace=False))
        sizes = np.diff(out_ptr)[out_idx[edges]]
        tri_ptr = np.zeros(len(out_idx) + 1, np.int64)
        tri_ptr[edges] = np.cumsum(sizes) - sizes
        tri = np.empty(int(sizes.sum()), np.uint8)
        t0 = time.perf_counter()
        self._settle_triples(out_ptr, out_idx, edges, tri_ptr, tri, None, None, np.zeros(0, np.uint8))
        kept = float(np.count_nonzero(tri == _graph_kernels.KEPT)) / max(len(tri), 1)
        return (time.perf_counter() - t0) / len(edges), kept

    def _settle_triples(self, out_ptr, out_idx, edges, tri_ptr, tri, stop, progress, hint):
        """Run :func:`._graph_kernels.edge_triples` over ``edges`` on the threads, in slices; (outcome, LPs)."""
        cf = self.cf
        R = EDGE_BOX * _box_scale(cf)
        W_in, b_in = np.ascontiguousarray(cf.W_in), np.ascontiguousarray(cf.b_in)
        edge_src = np.repeat(np.arange(self.n_regions, dtype=np.int64), np.diff(out_ptr))
        lps = [0]

        def part_lps(part: np.ndarray) -> int:
            counts = np.zeros(1, np.int64)
            _graph_kernels.edge_triples(W_in, b_in, self._Jr, self._cr, self.regions, out_ptr, out_idx, edge_src,
                                        edges, int(part[0]), int(part[-1]) + 1, tri_ptr, ROW_SLACK, R, hint, tri,
                                        counts)
            return int(counts[0])

        def work(idx: np.ndarray) -> None:
            lps[0] += sum(_on_threads(part_lps, idx, pool))

        with _thread_pool() as pool:
            outcome = run_in_slices(len(edges), work, cancel=stop, progress=progress)
        return outcome, lps[0]

    # -- cycles ----------------------------------------------------------------------
    def cycles(self, k: int, *, cancel: Callable[[], bool] | None = None,
               progress: Callable[[int, int], Any] | None = None
               ) -> WalkSearch:
        """Every k-cycle, from the closed walks of length k.

        After :meth:`build_triples`, only the closed walks whose k cyclic
        3-words are all kept are solved (k >= 2).

        Parameters
        ----------
        k
            The order (length of the closed walks).
        cancel, progress
            ``cancel() -> bool`` is checked, and ``progress(done, total)``
            called, about every 0.3 s; the work is counted in first edges
            (the walks that start along one edge out of their least letter).

        Returns
        -------
        WalkSearch
            ``cycles`` (sorted), ``degenerate`` (words of length k with a
            singular cycle equation and a verified point in their regions),
            ``solved`` (closed walks solved), ``singular`` (of them with a
            singular equation) and ``stopped``: ``""`` or why the search
            stopped early (``"cancelled"``, ``"KeyboardInterrupt"``). A
            search stopped while walking returns no cycles (building
            thousands of them would delay the stop); one stopped while
            building them returns those built so far.
        """
        k = as_int("k", k, minimum=1)
        check_limit("order", k, "max_order")
        cancel = check_cancel(cancel)
        if not self.complete:
            raise ValueError("this transition graph is incomplete (building it was stopped); build it again")
        cf = self.cf
        n = self.n_regions
        out_ptr, out_idx = self._out_lists()
        if self.triples is None:
            tri_ptr, tri = np.zeros(0, np.int64), np.zeros(0, np.uint8)
            kept_ptr = kept_pos = np.zeros(0, np.int64)
        else:
            tri_ptr, tri, kept_ptr, kept_pos = self._tri_ptr, self.triples, self._kept_ptr, self._kept_pos
        words: list[np.ndarray] = []
        status: list[np.ndarray] = []
        solved = [0]

        # units of work: a first letter and, for k > 1, one first edge out of it (to a letter >= it)
        if k == 1:
            unit_a, unit_q = np.arange(n, dtype=np.int64), np.zeros(n, np.int64)
        else:
            owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(out_ptr))
            keep = out_idx >= owner
            unit_a, unit_q = owner[keep], np.nonzero(keep)[0].astype(np.int64)

        def units(part: np.ndarray) -> tuple[list, list, int]:
            got_w, got_s, got_n = [], [], 0
            u, stop, size = int(part[0]), int(part[-1]) + 1, 256
            while u < stop:
                found = np.empty((size, k), np.int64)
                st = np.empty(size, np.int64)
                counts = np.zeros(2, np.int64)
                u = _graph_kernels.closed_walk_words(*cf.arrays, self._Jr, self._cr, self.regions, out_ptr, out_idx,
                                                     self.adj, tri_ptr, tri, kept_ptr, kept_pos, k, unit_a,
                                                     unit_q, u, stop, SINGULAR_RTOL, found, st, counts)
                got_w.append(found[:counts[0]])
                got_s.append(st[:counts[0]])
                got_n += int(counts[1])
                size *= 4          # only grows when the buffer ran full
            return got_w, got_s, got_n

        def work(idx: np.ndarray) -> None:
            parts = _on_threads(units, idx, pool)
            for got_w, got_s, got_n in parts:     # in unit order; only a finished slice counts
                words.extend(got_w)
                status.extend(got_s)
                solved[0] += got_n

        with _thread_pool() as pool:
            outcome = run_in_slices(len(unit_a), work, cancel=cancel, progress=progress)
        cycles: list[Cycle] = []
        degenerate: list[DegenerateItinerary] = []
        stopped = outcome.reason
        try:       # building the cycles (eigenvalues, border checks) can take longer than finding them
            flat_words = np.concatenate(words) if words else np.zeros((0, k), np.int64)
            flat_status = np.concatenate(status) if status else np.zeros(0, np.int64)
            for i, (letters, code) in enumerate(zip(flat_words, flat_status)):
                if stopped or (i % 1024 == 1023 and cancel is not None and cancel()):
                    stopped = stopped or "cancelled"
                    break
                word = self.regions[letters]
                if code == _graph_kernels.CONSISTENT_WORD:
                    c = build_cycle(cf, word)
                    if c is not None:
                        cycles.append(c)
                else:
                    d = build_degenerate(cf, word)
                    if d is not None:
                        degenerate.append(d)
        except (KeyboardInterrupt, SystemError) as exc:
            if not is_interrupt(exc):
                raise
            stopped = "KeyboardInterrupt"
        n_singular = int(np.count_nonzero(flat_status == _graph_kernels.SINGULAR_WORD))
        return WalkSearch(sorted(cycles, key=cycle_sort_key), degenerate, solved[0], n_singular, stopped)


def _thread_pool() -> ThreadPoolExecutor:
    """Threads for the (GIL-free) kernels: numba's thread count (``NUMBA_NUM_THREADS``)."""
    return ThreadPoolExecutor(max_workers=numba.get_num_threads())


def _on_threads(fn: Callable[[np.ndarray], Any], idx: np.ndarray, pool: ThreadPoolExecutor) -> list:
    """``fn`` on contiguous parts of ``idx``, one per numba thread, results in order."""
    return list(pool.map(fn, np.array_split(idx, min(len(idx), numba.get_num_threads()))))


def _box_scale(cf: Any) -> float:
    """The model's scale: the box of the emptiness proofs is ``|z|_inf <= EDGE_BOX * scale``."""
    return 1.0 + max(float(np.max(np.abs(cf.b_in), initial=0.0)), float(np.max(np.abs(cf.h), initial=0.0)))


def _sorted_unique(regions: np.ndarray) -> np.ndarray:
    """Distinct rows, in lexicographic order (the order of the package's canonical rotations)."""
    if regions.shape[1] == 0:
        return regions[:1]
    _, first = np.unique(np.packbits(regions, axis=1), axis=0, return_index=True)
    return regions[first]


def _pieces(cf: Any, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Affine piece (J, c) of every region, from the canonical form's own ``piece``."""
    pieces = [cf.piece(r.astype(bool)) for r in regions]
    return (np.ascontiguousarray([J for J, _ in pieces], dtype=float).reshape(len(regions), cf.dim, cf.dim),
            np.ascontiguousarray([c for _, c in pieces], dtype=float).reshape(len(regions), cf.dim))
