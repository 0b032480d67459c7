"""Certified cycle search: enumerate only the region words the map realises.

A region word ``w_1..w_j`` is *realised* when some starting point ``z_1``
has an orbit that visits exactly these regions. Inside a region the map is
affine, so ``z_s = P_{s-1} z_1 + v_{s-1}`` along the word, and the set of such
``z_1`` is an intersection of closed half-spaces, one per gate and step::

    gate g on at step s:   W_in[g] (P_{s-1} z_1 + v_{s-1}) + b_in[g] >= 0
    gate g off at step s:  W_in[g] (P_{s-1} z_1 + v_{s-1}) + b_in[g] <= 0

(closed on both sides: a gate exactly 0 counts as off, and a cycle on a
border is never pruned). Every k-cycle's itinerary is realised (start at one
of its points), so growing words prefix by prefix and discarding a prefix as
soon as its polyhedron is empty (an LP feasibility test) loses no cycle.

The prefix tree holds only *prenecklaces* (prefixes of least rotations, grown
by Duval's rule) so each cycle is met once, in canonical rotation, at the
level of its order; one tree serves every order up to the largest.
Children of a prefix are found by splitting on one gate at a time, so the
cost follows the number of realised regions, not 2^G. Witness points (sampled
orbits and LP solutions) prove most feasible children without an LP; only
children that no witness reaches cost an LP.

LP machinery: SciPy's HiGHS (``linprog(method="highs")``; SciPy's bundled
HiGHS binding is called directly when available, which skips linprog's
per-call option checking, about 8x faster for these tiny LPs, with
``linprog`` as the fallback) with a zero
objective (a pure feasibility problem) and free variables: the polyhedron
may be unbounded, and a bounding box could cut off far-away cycles. Each
constraint row is normalised to unit length (rows grow like |lambda|^j on
expanding maps), and the right-hand side is relaxed by a small tolerance:
rounding can then only make a prefix look feasible (costing one more cycle
solve), never make a realised prefix look empty.

Limits of the guarantee (measured, not fixed here):

- "Complete" rests on the LP verdicts. On expanding maps the polyhedron of a
  long prefix gets exponentially thin; once its width is below HiGHS'
  feasibility tolerance (1e-7) the verdict depends on solver details. On the
  published 2-D "single FP" system, LPs of prefixes of length ~30 have a
  least violation of about 5e-8, and HiGHS with and without presolve
  disagree on a few of them (22 of 9,352). Cycles themselves are always
  verified exactly (cycle equation plus region check), so this can only cost
  a cycle that grazes a border at long orders, never add a false one.
- Nothing bounds where cycles lie, so the tree enumerates the words realised
  anywhere in R^M. For trained shallow models of moderate size (M = 8,
  H = 10) that is ~1.3e5 prenecklaces at length 2 and ~3.5e6 at length 3:
  the tree cannot reach orders 3-4 (notebook 09). The transition graph of
  :mod:`plrnn_explorer.transition_graph` (one LP per pair of realised
  regions, ~1e6 LPs in ~7 s there) certifies order 3 instead; order 4 has
  ~2.8e9 closed walks, of which the graph's realised 3-words (~2e7 LPs)
  leave ~6e6 to solve: about 2 min per snapshot. A proven bound on all periodic
  points (an absorbing set) would make it local; this model's homogeneous
  part at infinity stretches by up to ~2.4 in the max-norm per step, so no
  simple norm bound exists.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from scipy.optimize import linprog

from . import _kernels
from .cycles import Cycle, CycleSet, DegenerateItinerary, cycle_sort_key
from .exhaustive import n_lyndon_words
from .itineraries import SINGULAR_RTOL, build_cycle, build_degenerate

__all__ = ["PrefixTree", "SearchCosts", "search_costs", "lp_point"]

#: relative slack added to every normalised constraint: prefer a false "feasible" over a false "empty"
ROW_SLACK = 1e-9
#: a witness point satisfies a normalised row when its violation is below this (HiGHS' primal tolerance)
WITNESS_TOL = 1e-7
#: search_costs times LPs of at most this dimension and extrapolates above it
LP_TIMING_DIM = 64
#: witness points kept per prefix
MAX_WITNESSES = 12
#: root witnesses: random starting points (several scales) and points along trajectories
N_ROOT_SAMPLES = 256


def lp_point(rows: np.ndarray, rhs: np.ndarray) -> tuple[bool, np.ndarray | None]:
    """Is ``{z : rows z <= rhs}`` non-empty? Returns ``(feasible, a point or None)``.

    Rows are expected normalised to unit length; ``ROW_SLACK (1 + |rhs|)`` is
    added to each right-hand side. Any solver outcome other than a proof of
    infeasibility counts as feasible.

    Examples
    --------
    >>> import numpy as np
    >>> lp_point(np.array([[1.0], [-1.0]]), np.array([0.0, 0.0]))[0]      # z <= 0 and z >= 0: z = 0
    True
    >>> lp_point(np.array([[1.0], [-1.0]]), np.array([-1.0, 0.0]))[0]     # z <= -1 and z >= 0
    False
    """
    M = rows.shape[1]
    if rows.shape[0] == 0:
        return True, np.zeros(M)
    b = rhs + ROW_SLACK * (1.0 + np.abs(rhs))
    direct = _highs_direct(rows, b)
    if direct is not None:
        return direct
    res = linprog(np.zeros(M), A_ub=rows, b_ub=b, bounds=[(None, None)] * M, method="highs")
    if res.status == 2:
        return False, None
    if res.status == 0 and res.x is not None and np.all(np.isfinite(res.x)):
        return True, np.asarray(res.x, dtype=float)
    return True, None


class _ThreadSolvers(threading.local):
    """SciPy's HiGHS binding, and one solver object per thread.

    A solver object must never be shared between threads: one thread would
    clear or rebuild the model that another is solving (wrong verdicts, or a
    crash inside HiGHS while the binding has released the GIL). Panels,
    Dask workers and user threads search concurrently, so each thread gets
    its own.
    """

    solver: Any = None


_SOLVERS = _ThreadSolvers()
_HIGHS_MODULE: list = []   # [module] once imported; [None] when SciPy's HiGHS binding is unavailable


def _highs_direct(rows: np.ndarray, b: np.ndarray) -> tuple[bool, np.ndarray | None] | None:
    """The same HiGHS solver through SciPy's bundled binding, without linprog's per-call overhead.

    This thread's solver object is reused: its model is cleared and rebuilt
    with ``addVars``/``addRows`` (about 20 % faster than filling a
    ``HighsLp`` field by field, itself about 8x faster than ``linprog``),
    with HiGHS' default options. Presolve stays on: without it HiGHS is no
    faster on the tree's LPs, gives no answer on ~4 % of them, and judges
    some near-degenerate ones differently. Returns None when the binding is
    unavailable or gives no clear answer (the caller then uses the public
    ``linprog``).
    """
    if not _HIGHS_MODULE:
        try:
            from scipy.optimize._highspy import _core
            _HIGHS_MODULE.append(_core)
        except Exception:  # pragma: no cover - depends on the SciPy build
            _HIGHS_MODULE.append(None)
    hc = _HIGHS_MODULE[0]
    if hc is None:
        return None
    solver = _SOLVERS.solver
    if solver is None:
        try:
            solver = hc._Highs()
            solver.setOptionValue("output_flag", False)
        except Exception:  # pragma: no cover - a binding that changed its interface
            _HIGHS_MODULE[:] = [None]
            return None
        _SOLVERS.solver = solver
    try:
        n_rows, n_cols = rows.shape
        inf = hc.kHighsInf
        solver.clearModel()
        solver.addVars(n_cols, np.full(n_cols, -inf), np.full(n_cols, inf))
        solver.addRows(n_rows, np.full(n_rows, -inf), np.ascontiguousarray(b, dtype=float), n_rows * n_cols,
                       np.arange(0, n_rows * n_cols, n_cols, dtype=np.int32),
                       np.tile(np.arange(n_cols, dtype=np.int32), n_rows),
                       np.ascontiguousarray(rows, dtype=float).ravel())
        solver.run()
        status = solver.getModelStatus()
        if status == hc.HighsModelStatus.kInfeasible:
            return False, None
        if status == hc.HighsModelStatus.kOptimal:
            x = np.array(solver.getSolution().col_value, dtype=float)
            if x.shape == (n_cols,) and np.all(np.isfinite(x)):
                return True, x
    except Exception:  # pragma: no cover - a binding that changed its interface
        _HIGHS_MODULE[:] = [None]
    return None


# --------------------------------------------------------------------------
# cost model: seconds of one cycle solve and one LP at this model's size
# --------------------------------------------------------------------------

_SOLVE_COST: dict[tuple[int, int], tuple[float, float]] = {}
_LP_COST: dict[int, float] = {}


@dataclass(frozen=True)
class SearchCosts:
    """Measured cost of the elementary operations for one model size.

    ``solve(k)`` is the seconds of one cycle-equation solve and consistency
    check of a length-k word (linear in k); ``lp`` the seconds of one LP.
    """

    solve_base: float
    solve_per_step: float
    lp: float

    def solve(self, k: int) -> float:
        """Seconds of one solve + check of a word of length k."""
        return self.solve_base + self.solve_per_step * k


def random_words(n_gates: int, k: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` region words of length ``k`` with uniform, independent gate bits, shape (n, k, n_gates).

    Examples
    --------
    >>> random_words(3, 2, 5).shape
    (5, 2, 3)
    """
    return np.random.default_rng(seed).integers(0, 2, size=(n, k, n_gates), dtype=np.uint8)


def consistent_words(cf, words: np.ndarray) -> int:
    """How many of ``words`` (n, k, G) have a self-consistent cycle: one solve and check each.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> cf = pe.systems.gt16().canonical
    >>> random_words(cf.n_gates, 1, 4)[:, 0].tolist()     # twice region (1, 1), where GT16's one fixed point lies
    [[0, 1], [1, 1], [1, 1], [0, 1]]
    >>> consistent_words(cf, random_words(cf.n_gates, 1, 4))
    2
    """
    status = np.zeros(len(words), np.int64)
    _kernels.check_words(*cf.arrays, np.ascontiguousarray(words), 1e-12, status, cf.blas)
    return int(np.count_nonzero(status == _kernels.CONSISTENT))


def search_costs(cf) -> SearchCosts:
    """Time a few solves (numba) and LPs (HiGHS) at this model's M and G; cached per (M, G).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> c = search_costs(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]).canonical)
    >>> 0 < c.solve(1) < c.solve(10) and c.lp > 0
    True
    """
    M, G = cf.dim, cf.n_gates
    if (M, G) not in _SOLVE_COST:
        consistent_words(cf, random_words(G, 1, 1))              # compile / load from cache
        times = []
        for k in (1, 4):
            n = 1
            while True:
                words = random_words(G, k, n)
                status = np.zeros(n, np.int64)
                t0 = time.perf_counter()
                _kernels.check_words(*cf.arrays, words, 1e-12, status, cf.blas)
                dt = time.perf_counter() - t0
                if dt > 2e-3 or n >= 1 << 16:
                    break
                n *= 4
            times.append(dt / n)
        per_step = max((times[1] - times[0]) / 3.0, times[0] / 4.0)
        _SOLVE_COST[(M, G)] = (max(times[0] - per_step, 0.0), per_step)
    if M not in _LP_COST:
        # timed at M <= LP_TIMING_DIM and scaled by (M / LP_TIMING_DIM)^2 above it (measured: x4 per doubling of M
        # from 16 to 256); timing 11 LPs of the full size took 14 s at M = 1000
        m = min(M, LP_TIMING_DIM)
        rng = np.random.default_rng(0)
        rows = rng.normal(size=(4 * m + 4, m))
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        rhs = rng.uniform(0.0, 1.0, len(rows))
        lp_point(rows, rhs)                                     # set-up of the solver outside the timing
        t0 = time.perf_counter()
        for _ in range(10):
            lp_point(rows, rhs)
        _LP_COST[M] = (time.perf_counter() - t0) / 10 * (M / m) ** 2
    base, step = _SOLVE_COST[(M, G)]
    return SearchCosts(base, step, _LP_COST[M])


# --------------------------------------------------------------------------
# the prefix tree
# --------------------------------------------------------------------------


@dataclass
class _Prefix:
    """A realised prenecklace: its word, Duval period, affine state map and polyhedron."""

    word: list[np.ndarray]      # letters (G,) uint8
    codes: list[bytes]          # letters packed (gate 0 most significant): compare as bytes
    period: int
    P: np.ndarray               # z_{j+1} = P z_1 + v
    v: np.ndarray
    rows: np.ndarray            # polyhedron rows z_1 <= rhs, normalised
    rhs: np.ndarray
    witnesses: np.ndarray       # points z_1 inside (within tolerance), (n, M)


class BudgetExhausted(Exception):
    """Raised inside the tree when its node or time budget runs out."""


@dataclass
class PrefixTree:
    """Realised prenecklaces of a model, grown level by level (one level = one more letter).

    Parameters
    ----------
    cf
        The model's canonical form.
    deadline
        ``time.perf_counter()`` value after which growth stops (None: no limit).
    max_nodes
        Cap on the number of prefixes (None: no limit).
    progress
        Called with a dict after each level and about every second.

    Examples
    --------
    For ``z' = 0.5 z + 1`` an orbit never leaves the region z > 0 once in it,
    so of the prenecklaces 0, 1; 00, 01, 11; 000, 001, 010, 011, 111 only 010
    is not realised:

    >>> import plrnn_explorer as pe
    >>> t = PrefixTree(pe.PLRNN([0.5], [[0.0]], [1.0]).canonical)
    >>> t.grow_to(3)
    True
    >>> [len(level) for level in t.levels]
    [1, 2, 3, 4]
    """

    cf: Any
    deadline: float | None = None
    max_nodes: int | None = None
    progress: Callable[[dict], None] | None = None
    levels: list[list[_Prefix]] = field(default_factory=list)
    n_lps: int = 0
    lp_seconds: float = 0.0
    n_nodes: int = 0
    seconds: float = 0.0
    stop_reason: str | None = None

    def __post_init__(self) -> None:
        cf = self.cf
        M = cf.dim
        self._Win = np.asarray(cf.W_in)
        root = _Prefix([], [], 0, np.eye(M), np.zeros(M), np.zeros((0, M)), np.zeros(0), self._root_witnesses())
        self.levels = [[root]]
        self._last_report = time.perf_counter()

    @property
    def depth(self) -> int:
        """Number of complete levels (prefix length reached)."""
        return len(self.levels) - 1

    def _root_witnesses(self) -> np.ndarray:
        cf = self.cf
        M = cf.dim
        rng = np.random.default_rng(0)
        norms = np.linalg.norm(cf.W_in, axis=1)
        dist = np.abs(cf.b_in) / np.where(norms > 0, norms, np.inf)
        scale = max(1.0, float(np.max(dist[np.isfinite(dist)], initial=0.0)))
        n = N_ROOT_SAMPLES // 2
        pts = rng.normal(size=(n, M)) * np.repeat([0.1, 1.0, 10.0, 100.0], n // 4 + 1)[:n, None] * scale
        # a few short orbits, one serial call each (the parallel batch kernel is not worth its compile time here)
        traj = np.vstack([_kernels.simulate(*cf.arrays, np.ascontiguousarray(z0), 32) for z0 in pts[: max(1, n // 8)]])
        traj = traj[np.all(np.isfinite(traj), axis=1) & (np.abs(traj).max(axis=1) < 1e12)]
        if len(traj) > n:
            traj = traj[rng.choice(len(traj), n, replace=False)]
        return np.vstack([pts, traj])

    # -- growth -------------------------------------------------------------
    def grow_to(self, depth: int) -> bool:
        """Grow complete levels up to ``depth``; False if the budget ran out first."""
        try:
            while self.depth < depth:
                self._grow_level()
        except BudgetExhausted:
            return False
        return True

    def _check_budget(self) -> None:
        now = time.perf_counter()
        if self.deadline is not None and now > self.deadline:
            self.stop_reason = "time budget exhausted"
            raise BudgetExhausted
        if self.max_nodes is not None and self.n_nodes >= self.max_nodes:
            self.stop_reason = "node budget exhausted"
            raise BudgetExhausted
        if self.progress is not None and now - self._last_report > 1.0:
            self._last_report = now
            self.progress(self.status())

    def status(self) -> dict:
        """Progress information: depth, prefixes per level, LPs solved, seconds."""
        return {"depth": self.depth, "prefixes": [len(lv) for lv in self.levels], "lps": self.n_lps,
                "nodes": self.n_nodes, "seconds": self.seconds}

    def _grow_level(self) -> None:
        t0 = time.perf_counter()
        new: list[_Prefix] = []
        try:
            for node in self.levels[-1]:
                self._children(node, new)
        finally:
            self.seconds += time.perf_counter() - t0
        self.levels.append(new)
        if self.progress is not None:
            self.progress(self.status())

    def _children(self, node: _Prefix, out: list[_Prefix]) -> None:
        cf = self.cf
        Win = self._Win
        G = cf.n_gates
        j = len(node.word)
        # gate values at step j+1 as affine functions of z_1
        Wg = Win @ node.P
        bg = Win @ node.v + cf.b_in
        norms = np.linalg.norm(Wg, axis=1)
        scale = np.linalg.norm(Win, axis=1) * max(np.linalg.norm(node.P), 1e-300)
        constant = norms <= 1e-13 * scale
        safe = np.where(constant, 1.0, norms)
        a_on, r_on = -Wg / safe[:, None], bg / safe             # gate on:  -(Wg z + bg) <= 0
        a_off, r_off = Wg / safe[:, None], -bg / safe          # gate off:   Wg z + bg  <= 0
        wit = node.witnesses
        gw = (wit @ Wg.T + bg) / safe if len(wit) else np.zeros((0, G))
        tol_w = WITNESS_TOL + ROW_SLACK * (1.0 + np.abs(bg / safe))
        bound = node.word[j - node.period] if j > 0 else None
        bits = np.zeros(G, np.uint8)
        extra_rows: list[np.ndarray] = []
        extra_rhs: list[float] = []

        def split(g: int, greater: bool, wmask: np.ndarray, lp_pts: list[np.ndarray]) -> None:
            if g == G:
                letter = bits.copy()
                self._add_child(node, letter, greater, extra_rows, extra_rhs, wit[wmask], lp_pts, out)
                return
            for bit in (0, 1):
                if not greater and bound is not None and bit < bound[g]:
                    continue
                now_greater = greater or (bound is not None and bit > bound[g])
                if constant[g]:
                    slack = 1e-12 * (1.0 + abs(bg[g]))
                    if (bit and bg[g] < -slack) or (not bit and bg[g] > slack):
                        continue
                    bits[g] = bit
                    split(g + 1, now_greater, wmask, lp_pts)
                    continue
                row, rhs = (a_on[g], r_on[g]) if bit else (a_off[g], r_off[g])
                m = wmask & ((gw[:, g] >= -tol_w[g]) if bit else (gw[:, g] <= tol_w[g])) if len(wit) else wmask
                pts = [p for p in lp_pts if row @ p - rhs <= tol_w[g]]
                if not m.any() and not pts:
                    self._check_budget()
                    self.n_lps += 1
                    t_lp = time.perf_counter()
                    ok, x = lp_point(np.vstack([node.rows, *extra_rows, row[None]]),
                                     np.concatenate([node.rhs, extra_rhs, [rhs]]))
                    self.lp_seconds += time.perf_counter() - t_lp
                    if not ok:
                        continue
                    pts = [x] if x is not None else []
                bits[g] = bit
                extra_rows.append(row[None])
                extra_rhs.append(rhs)
                split(g + 1, now_greater, m, pts)
                extra_rows.pop()
                extra_rhs.pop()

        split(0, bound is None, np.ones(len(wit), bool), [])

    def _add_child(self, node: _Prefix, letter: np.ndarray, greater: bool, extra_rows: list, extra_rhs: list,
                   wit: np.ndarray, lp_pts: list, out: list[_Prefix]) -> None:
        self._check_budget()
        self.n_nodes += 1
        j = len(node.word)
        J, c = self.cf.piece(letter.astype(bool))
        pts = np.vstack([wit, *lp_pts]) if lp_pts else wit
        if len(pts) > MAX_WITNESSES:
            pts = pts[np.linspace(0, len(pts) - 1, MAX_WITNESSES).astype(int)]
        rows = np.vstack([node.rows, *extra_rows]) if extra_rows else node.rows
        rhs = np.concatenate([node.rhs, extra_rhs]) if extra_rhs else node.rhs
        out.append(_Prefix(node.word + [letter], node.codes + [np.packbits(letter).tobytes()],
                           j + 1 if greater else node.period, J @ node.P, J @ node.v + c, rows, rhs, pts))

    # -- cost estimate --------------------------------------------------------
    def growth(self, n_letters: float) -> float:
        """Estimated ratio of prefixes per level from the last two complete levels (n_letters if unknown)."""
        sizes = [len(lv) for lv in self.levels]
        if len(sizes) >= 3 and sizes[-2] > 0:
            return max(1.0, sizes[-1] / sizes[-2])
        if len(sizes) == 2:
            return max(1.0, float(sizes[1]))      # the realised letters bound the branching
        return max(1.0, float(n_letters))

    def estimated_seconds(self, k: int, costs: SearchCosts, n_letters: float) -> float:
        """Estimated seconds to grow the tree to level k and solve its candidate words there."""
        d = self.depth
        n_d = len(self.levels[-1])
        lp_per_node = self.n_lps / self.n_nodes if self.n_nodes >= 8 else max(1.0, float(self.cf.n_gates))
        lp = self.lp_seconds / self.n_lps if self.n_lps >= 50 else costs.lp   # this tree's own LP rate
        rho = self.growth(n_letters)
        # exponential extrapolation n_l = n_d rho^(l-d); once three levels are known, the geometric mean of
        # it and the polynomial one n_l = n_d (l/d)^a (low-entropy maps grow polynomially)
        a = np.log(rho) / np.log(d / (d - 1)) if d >= 3 else None
        nodes, leaves = 0.0, float(n_d)
        for l in range(d + 1, k + 1):
            n_exp = n_d * rho ** (l - d)
            leaves = n_exp if a is None else float(np.sqrt(n_exp * n_d * (l / d) ** a))
            nodes += leaves
        return nodes * lp_per_node * lp + leaves * costs.solve(k)

    def sample_next_level(self, n_parents: int, seed: int = 0) -> dict:
        """Estimate the next level from the children of a random sample of the deepest prefixes.

        The sampled children are discarded (the tree and its counters are
        left as they were). Use it to judge whether one more level is
        affordable before growing it.

        Returns
        -------
        dict
            ``parents_sampled``, ``children``, and the extrapolations to the
            whole level: ``estimated_prefixes``, ``estimated_lps``,
            ``estimated_seconds``.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> t = PrefixTree(pe.PLRNN([0.5], [[0.0]], [1.0]).canonical)
        >>> t.grow_to(2)
        True
        >>> t.sample_next_level(10)["estimated_prefixes"]     # all 3 parents sampled: exact
        4.0
        """
        parents = self.levels[-1]
        chosen = np.random.default_rng(seed).permutation(len(parents))[:max(1, n_parents)]
        saved = (self.n_nodes, self.n_lps, self.lp_seconds)
        out: list[_Prefix] = []
        t0 = time.perf_counter()
        for i in chosen:
            self._children(parents[i], out)
        seconds = time.perf_counter() - t0
        scale = len(parents) / len(chosen)
        lps = self.n_lps - saved[1]
        self.n_nodes, self.n_lps, self.lp_seconds = saved
        return {"parents_sampled": int(len(chosen)), "children": len(out),
                "estimated_prefixes": len(out) * scale, "estimated_lps": lps * scale,
                "estimated_seconds": seconds * scale}

    # -- candidate words --------------------------------------------------------
    def candidates(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Lyndon words (cycle candidates) and powers of shorter Lyndon words at level k, as (n, k, G) uint8."""
        G = self.cf.n_gates
        lyndon, powers = [], []
        for node in self.levels[k]:
            if node.period == k:
                lyndon.append(np.array(node.word))
            elif k % node.period == 0:
                powers.append(np.array(node.word))
        return (np.array(lyndon, np.uint8).reshape(len(lyndon), k, G),
                np.array(powers, np.uint8).reshape(len(powers), k, G))


def solve_candidates(cf, lyndon: np.ndarray, powers: np.ndarray
                     ) -> tuple[list[Cycle], list[DegenerateItinerary], int, int]:
    """Cycles and degenerate words among a level's candidate words; also (#solved, #singular)."""
    cycles: list[Cycle] = []
    degenerate: list[DegenerateItinerary] = []
    n_singular = 0
    for words, primitive in ((lyndon, True), (powers, False)):
        if not len(words):
            continue
        status = np.zeros(len(words), np.int64)
        _kernels.check_words(*cf.arrays, np.ascontiguousarray(words), SINGULAR_RTOL, status, cf.blas)
        for w, s in zip(words, status):
            if s == _kernels.CONSISTENT and primitive:
                c = build_cycle(cf, w)
                if c is not None:
                    cycles.append(c)
            elif s == _kernels.SINGULAR:
                n_singular += 1
                d = build_degenerate(cf, w)
                if d is not None:
                    degenerate.append(d)
    return sorted(cycles, key=cycle_sort_key), degenerate, len(lyndon) + len(powers), n_singular


def plain_seconds(cf, k: int, costs: SearchCosts) -> float:
    """Estimated seconds of plain enumeration of order k (inf when 2^(G k) does not fit 62 bits)."""
    G = cf.n_gates
    if G * k > 62:
        return float("inf")
    return n_lyndon_words(2 ** G, k) * costs.solve(k)


def pruned_cycles(model, max_order: int, *, budget_seconds: float | None = None) -> CycleSet:
    """All cycles of orders 1..max_order from the LP-pruned tree alone (no plain enumeration).

    :func:`~plrnn_explorer.find_cycles` with ``strategy="certified"`` picks,
    per order, the cheaper of this and plain enumeration; this function always
    uses the tree, e.g. to test or time the pruning.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> res = pruned_cycles(pe.PLRNN([0.2], [[-1.7]], [1.0]), 4)     # skew tent map
    >>> res.counts(), res.complete
    ({1: 1, 2: 1, 3: 0, 4: 0}, True)
    """
    from ._validation import as_int
    from .cycles import CycleSet
    from .models import check_model

    check_model(model)
    K = as_int("max_order", max_order, minimum=1)
    cf = model.canonical
    t0 = time.perf_counter()
    tree = PrefixTree(cf, deadline=None if budget_seconds is None else t0 + budget_seconds)
    by_order: dict[int, list[Cycle]] = {}
    degenerate: list[DegenerateItinerary] = []
    per_order: dict[int, dict] = {}
    for k in range(1, K + 1):
        complete = tree.grow_to(k)
        if complete:
            lyndon, powers = tree.candidates(k)
            by_order[k], degen, n_solved, _ = solve_candidates(cf, lyndon, powers)
            degenerate += degen
        else:
            by_order[k], n_solved = [], 0
        per_order[k] = {"strategy": "certified", "complete": complete, "found": len(by_order[k]),
                        "candidates_solved": n_solved}
    stats = {"seconds": time.perf_counter() - t0, "per_order": per_order, "certified_tree": tree.status()}
    return CycleSet(list(range(1, K + 1)), by_order, stats, degenerate)
