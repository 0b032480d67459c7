"""Bifurcation events of piecewise-linear maps: detection, classification, refinement.

Between two neighbouring parameter values ``a`` and ``b`` of a one-parameter
family, cycles are matched by exact identity (their canonical itinerary,
:attr:`~plrnn_explorer.Cycle.key`). A cycle present on one side only, or whose
number of stable directions changes, marks an event. The cycle equation of an
itinerary ``(I - P(v)) z = sum_j J_k..J_{j+1} c_j`` can be solved at *any*
value ``v``, self-consistent or not, and inside one itinerary the gate values
of its points, ``det(I - P)``, ``det(I + P)`` and the multipliers are smooth
functions of ``v``. Each event is therefore located by root finding
(:func:`scipy.optimize.brentq`, to about 1e-12 in the parameter) on one of
those functions.

Event kinds, and what they mean for continuous piecewise-linear maps
---------------------------------------------------------------------
``border_collision``
    A point of the cycle reaches a switching border (a gate value of the
    itinerary crosses 0), so the itinerary stops being self-consistent. When a
    cycle of the same order whose itinerary differs in the colliding letters
    continues on the other side from the same orbit (*persistence*),
    ``cycle_before``/``cycle_after`` are the two; otherwise the other is None
    (e.g. the 2k-cycle that is born at a degenerate flip of a k-cycle).
``fold``
    Non-smooth fold (border-collision pair creation/annihilation): two cycles
    of the same order meet on a border at the same orbit and value and exist
    on one side only. ``cycle_before`` (or ``cycle_after``) and ``partner`` are
    the pair. This replaces the smooth saddle-node, which a PL map cannot have
    (a multiplier +1 inside a region sends the cycle to infinity instead).
``degenerate_transcritical``
    A real multiplier reaches +1: ``det(I - P) -> 0`` and the cycle runs off to
    infinity while staying self-consistent (for a PL map the solution of the
    cycle equation has a pole there). Located as the root of ``det(I - P)``.
``degenerate_flip`` / ``flip``
    A real multiplier crosses -1 (root of ``det(I + P)``). Rule: if at the
    event value the cycle lies strictly inside its regions (no gate within
    rounding of 0), the map is linear around it, so the -1 eigen-direction is
    filled by a continuum of 2k-cycles at the event: ``degenerate_flip``.
    This is the generic case for PL maps (the isolated 2k-cycle, if any, is
    born from the end of that continuum by a border collision at the same
    value). ``flip`` is reported only when the cycle sits on a border at the
    event (a flip coinciding with a border collision).
``neimark_sacker``
    A complex pair of multipliers crosses the unit circle (root of
    ``Re prod_{i<j} (1 - lambda_i lambda_j)``). For a PL map this is the
    "center" bifurcation: at the event the linear rotation fills a
    neighbourhood of the cycle with invariant ellipses.
``appearance`` / ``disappearance``
    A cycle present on one side only for which no root was bracketed inside
    its own itinerary (e.g. two border crossings within one grid step, or an
    equation that is singular at the far end). ``value`` is then the midpoint
    and ``refined`` is False.

Events not seen at the grid values themselves (a cycle that exists only
strictly between two neighbouring values) cannot be detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import brentq

from .. import _kernels
from ..cycles import UNIT_CIRCLE_TOL, Cycle, CycleSet
from ..itineraries import SINGULAR_RTOL, build_cycle
from ..models import CanonicalForm
from .family import Family

__all__ = ["BifurcationEvent", "EVENT_KINDS"]

#: all event kinds, see the module docstring
EVENT_KINDS = ("border_collision", "degenerate_transcritical", "degenerate_flip", "flip", "neimark_sacker",
               "fold", "appearance", "disappearance")


@dataclass(frozen=True, eq=False)
class BifurcationEvent:
    """A located bifurcation of one cycle (or a pair) between two parameter values.

    Attributes
    ----------
    kind
        One of :data:`EVENT_KINDS`.
    value
        Parameter value of the event (for training analyses: the fractional
        epoch), located to ~1e-12 when ``refined``.
    order
        Minimal period of the cycle concerned.
    cycle_before, cycle_after
        The cycle at the earlier / later end of the interval along the path
        (``interval[0]`` / ``interval[1]``), or None where it does not exist.
    interval
        The two neighbouring parameter values the event lies between.
    refined
        True if ``value`` is a root found inside the itinerary.
    partner
        The second cycle of a ``fold``.
    points
        (k, M) orbit of the cycle at the event value (None for a
        degenerate transcritical event, where it is at infinity).
    epoch
        Fractional epoch (training analyses only).
    param
        Label of the parameter.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[-1.7]], [1.0])          # a_r = a_l + W = -1.5
    >>> sw = pe.sweep(tent, "W[0,0]", [-1.5, -1.0], max_order=2, seed=0)
    >>> [(e.kind, e.order, round(e.value, 8)) for e in sw.events]
    [('degenerate_flip', 1, -1.2), ('border_collision', 2, -1.2)]
    """

    kind: str
    value: float
    order: int
    cycle_before: Cycle | None
    cycle_after: Cycle | None
    interval: tuple[float, float]
    refined: bool = True
    partner: Cycle | None = None
    points: np.ndarray | None = field(default=None, repr=False)
    epoch: float | None = None
    param: str | None = None

    @property
    def cycle(self) -> Cycle:
        """The cycle concerned (``cycle_before`` if it exists, else ``cycle_after``)."""
        return self.cycle_before if self.cycle_before is not None else self.cycle_after

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (cycles as :meth:`Cycle.to_dict`)."""
        def cd(c: Cycle | None) -> dict | None:
            return None if c is None else c.to_dict()
        return {"kind": self.kind, "value": float(self.value), "order": int(self.order),
                "interval": [float(x) for x in self.interval], "refined": bool(self.refined),
                "cycle_before": cd(self.cycle_before), "cycle_after": cd(self.cycle_after),
                "partner": cd(self.partner), "epoch": self.epoch, "param": self.param,
                "points": None if self.points is None else self.points.tolist()}

    def __repr__(self) -> str:
        where = f"epoch={self.epoch:.6g}" if self.epoch is not None else f"value={self.value:.10g}"
        st = lambda c: "-" if c is None else ("stable" if c.stable else "unstable")  # noqa: E731
        return (f"BifurcationEvent({self.kind!r}, {where}, order={self.order}, "
                f"{st(self.cycle_before)} -> {st(self.cycle_after)}{'' if self.refined else ', not refined'})")


# ---------------------------------------------------------------------------
# smooth functions of the parameter inside one itinerary
# ---------------------------------------------------------------------------


class _Itinerary:
    """Evaluate the cycle equation of a fixed canonical word along a family."""

    def __init__(self, family: Family, word: np.ndarray) -> None:
        self.family = family
        self.word = np.ascontiguousarray(word, dtype=np.uint8)
        self.bits = self.word.astype(bool)
        self._cache: dict[float, CanonicalForm] = {}

    def cf(self, v: float) -> CanonicalForm:
        v = float(v)
        if v not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[v] = self.family.canonical(v)
        return self._cache[v]

    def monodromy(self, v: float) -> np.ndarray:
        cf = self.cf(v)
        k, M = self.word.shape[0], cf.dim
        P, vec, J, c = np.empty((M, M)), np.empty(M), np.empty((M, M)), np.empty(M)
        tmp = np.empty((M, max(M, 1)))
        _kernels._cycle_system(*cf.arrays, self.word, k, P, vec, J, c, tmp, cf.blas)
        return P

    def det_minus(self, v: float) -> float:
        """det(I - P) = prod (1 - lambda): zero when a multiplier is +1."""
        P = self.monodromy(v)
        return float(np.linalg.det(np.eye(P.shape[0]) - P))

    def det_plus(self, v: float) -> float:
        """det(I + P) = prod (1 + lambda): zero when a multiplier is -1."""
        P = self.monodromy(v)
        return float(np.linalg.det(np.eye(P.shape[0]) + P))

    def pair_product(self, v: float) -> float:
        """Re prod_{i<j} (1 - lambda_i lambda_j): zero when a complex pair has modulus 1."""
        lam = np.linalg.eigvals(self.monodromy(v))
        i, j = np.triu_indices(lam.size, 1)
        return float(np.real(np.prod(1.0 - lam[i] * lam[j])))

    def points(self, v: float) -> np.ndarray | None:
        cf = self.cf(v)
        pts, _, ok = _kernels.cycle_points(*cf.arrays, self.word, SINGULAR_RTOL, cf.blas)
        return pts if ok else None

    def gates(self, v: float) -> np.ndarray | None:
        pts = self.points(v)
        if pts is None:
            return None
        cf = self.cf(v)
        return pts @ cf.W_in.T + cf.b_in

    def cycle(self, v: float) -> Cycle | None:
        return build_cycle(self.cf(v), self.word)


def _xtol(a: float, b: float) -> float:
    return 1e-13 * max(1.0, abs(a), abs(b))


def _finite(f):
    """``f`` returning NaN wherever it fails numerically (overflow near the float limit, a singular
    system, no cycle: LinAlgError, None) instead of raising."""
    def g(v: float) -> float:
        try:
            with np.errstate(all="ignore"):
                y = f(v)
        except (np.linalg.LinAlgError, TypeError, ValueError, FloatingPointError, ZeroDivisionError):
            return np.nan
        return np.nan if y is None else float(y)
    return g


def _root(f, a: float, b: float) -> float | None:
    """A root of ``f`` in [a, b] (brentq), or None if ``f`` is not finite there or has no sign change.

    None means "not refined": the caller reports the event between ``a`` and
    ``b`` instead. This is the one place where numerical trouble (entries
    near the float limit, singular systems) is caught, so it never escapes
    as SciPy's "f(a) and f(b) must have different signs".
    """
    g = _finite(f)
    if not _sign_change(g(a), g(b)):
        return None
    try:
        r = float(brentq(g, a, b, xtol=_xtol(a, b), rtol=4 * np.finfo(float).eps, maxiter=200))
    except (ValueError, RuntimeError):
        return None
    return r if np.isfinite(r) and min(a, b) <= r <= max(a, b) else None


def _sign_change(fa: float, fb: float) -> bool:
    """A root in the closed interval (a zero at one end counts; the root is then that end)."""
    return bool(np.isfinite(fa) and np.isfinite(fb) and fa * fb <= 0 and (fa != 0 or fb != 0))


@dataclass
class _Raw:
    """A single-cycle event before pairing: the cycle exists at ``side`` (0 = a, 1 = b, 2 = both)."""

    kind: str
    value: float
    refined: bool
    side: int
    key: tuple
    order: int
    points: np.ndarray | None
    word: np.ndarray


def _locate_loss(it: _Itinerary, a: float, b: float, refine: bool) -> tuple[str, float, bool, np.ndarray | None]:
    """The cycle of ``it`` is self-consistent at ``a`` and not at ``b``: what happens in between?"""
    det = _finite(it.det_minus)
    da, db = det(a), det(b)
    pole = _sign_change(da, db)
    if not pole and it.points(b) is None and np.isfinite(db) and abs(db) <= 1e-8 * max(1.0, abs(da)):
        # the cycle equation is singular at b itself (a multiplier is +1 there, to the search's tolerance):
        # the cycle runs off to infinity exactly at this grid value
        return "degenerate_transcritical", b, True, None
    if not refine:
        if pole:
            return "degenerate_transcritical", 0.5 * (a + b), False, None
        g = it.gates(b)
        bad = g is not None and bool(np.any((g > 0) != it.bits))
        return ("border_collision" if bad else "disappearance"), 0.5 * (a + b), False, None
    end = _root(it.det_minus, a, b) if pole else b
    if end is None:
        return "degenerate_transcritical", 0.5 * (a + b), False, None
    probe = a + (end - a) * (1.0 - 1e-7) if pole else end
    g = it.gates(probe)
    if g is None:
        return "disappearance", 0.5 * (a + b), False, None
    bad = np.argwhere((g > 0) != it.bits)
    if bad.size == 0:
        if pole:
            return "degenerate_transcritical", end, True, None
        return "disappearance", 0.5 * (a + b), False, None
    best = None
    for j, gi in bad:
        r = _root(lambda v, j=j, gi=gi: it.gates(v)[j, gi], a, probe)
        if r is not None and (best is None or abs(r - a) < abs(best - a)):
            best = r
    if best is None:
        return "border_collision", 0.5 * (a + b), False, None
    return "border_collision", best, True, it.points(best)


def _neutral(c: Cycle) -> bool:
    """A multiplier on the unit circle (within the stability tolerance): the cycle is non-hyperbolic here."""
    return bool(np.any(np.abs(np.abs(c.eigenvalues) - 1.0) <= UNIT_CIRCLE_TOL))


def _locate_multiplier(it: _Itinerary, a: float, b: float, refine: bool, ca: Cycle, cb: Cycle
                       ) -> tuple[str, float, bool, np.ndarray | None] | None:
    """The cycle exists at both ends but its number of stable directions changes.

    None when no multiplier crosses strictly inside the interval and one end is
    non-hyperbolic: the multiplier reaches the unit circle exactly at that grid
    value, and the neighbouring interval, where it leaves the circle or the
    cycle is lost, reports the event.
    """
    for fn, kind in ((it.det_plus, "flip"), (it.det_minus, "degenerate_transcritical"),
                     (it.pair_product, "neimark_sacker")):
        if _sign_change(_finite(fn)(a), _finite(fn)(b)):
            r = _root(fn, a, b) if refine else None
            if r is None:
                return kind, 0.5 * (a + b), False, None
            if kind == "flip":
                try:
                    with np.errstate(all="ignore"):
                        cyc = it.cycle(r)
                except np.linalg.LinAlgError:  # a monodromy that overflowed: classify without it
                    cyc = None
                kind = "flip" if cyc is None or cyc.on_border else "degenerate_flip"
            return kind, r, True, (None if kind == "degenerate_transcritical" else it.points(r))
    if _neutral(ca) or _neutral(cb):
        return None
    return "appearance", 0.5 * (a + b), False, None


def _same_orbit(p: np.ndarray | None, q: np.ndarray | None) -> bool:
    if p is None or q is None or p.shape != q.shape:
        return False
    tol = 1e-6 * (1.0 + float(np.max(np.abs(p))))
    return any(float(np.max(np.abs(p - np.roll(q, r, axis=0)))) <= tol for r in range(q.shape[0]))


def detect_events(family: Family, a: float, b: float, set_a: CycleSet, set_b: CycleSet, *,
                  refine: bool = True) -> list[BifurcationEvent]:
    """Events between neighbouring values ``a`` and ``b`` with cycle sets ``set_a`` and ``set_b``.

    Returns the events sorted along the path from ``a`` to ``b``.
    """
    at_a = {c.key: c for c in set_a}
    at_b = {c.key: c for c in set_b}
    raws: list[_Raw] = []
    for key in sorted(set(at_a) | set(at_b)):
        ca, cb = at_a.get(key), at_b.get(key)
        word = (ca or cb).itinerary
        it = _Itinerary(family, word)
        if ca is not None and cb is not None:
            if ca.n_stable_directions == cb.n_stable_directions:
                continue
            located = _locate_multiplier(it, a, b, refine, ca, cb)
            if located is None:
                continue
            kind, v, ok, pts = located
            side = 2
        elif ca is not None:
            kind, v, ok, pts = _locate_loss(it, a, b, refine)
            side = 0
        else:
            kind, v, ok, pts = _locate_loss(it, b, a, refine)
            kind = "appearance" if kind == "disappearance" else kind
            side = 1
        raws.append(_Raw(kind, v, ok, side, key, len(word), pts, word))
    events = _pair(raws, a, b, at_a, at_b, family.label)
    return sorted(events, key=lambda e: (round((e.value - a) / (b - a), 9), e.order, e.kind))


def _pair(raws: list[_Raw], a: float, b: float, at_a: dict, at_b: dict, label: str) -> list[BifurcationEvent]:
    """Combine border collisions at the same value and orbit into persistence or fold events."""
    tol = 1e-7 * abs(b - a) + 1e-11
    used: set[int] = set()
    events = []
    border = [i for i, r in enumerate(raws) if r.kind == "border_collision" and r.refined]
    for i in border:
        if i in used:
            continue
        r = raws[i]
        match = next((j for j in border if j != i and j not in used and raws[j].order == r.order
                      and abs(raws[j].value - r.value) <= tol and _same_orbit(r.points, raws[j].points)), None)
        if match is None:
            continue
        s = raws[match]
        used |= {i, match}
        if r.side != s.side:  # one cycle continues the other through the border
            first, second = (r, s) if r.side == 0 else (s, r)
            events.append(BifurcationEvent("border_collision", r.value, r.order, at_a[first.key],
                                           at_b[second.key], (a, b), True, None, r.points, param=label))
        else:
            side_map = at_a if r.side == 0 else at_b
            c1, c2 = side_map[r.key], side_map[s.key]
            if c2.stable and not c1.stable:
                c1, c2 = c2, c1
            before, after = (c1, None) if r.side == 0 else (None, c1)
            events.append(BifurcationEvent("fold", r.value, r.order, before, after, (a, b), True, c2, r.points,
                                           param=label))
    for i, r in enumerate(raws):
        if i in used:
            continue
        before = at_a.get(r.key) if r.side in (0, 2) else None
        after = at_b.get(r.key) if r.side in (1, 2) else None
        events.append(BifurcationEvent(r.kind, r.value, r.order, before, after, (a, b), r.refined, None, r.points,
                                       param=label))
    return events
