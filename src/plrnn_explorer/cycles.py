"""Results of a cycle search: :class:`Cycle`, :class:`DegenerateItinerary`, :class:`CycleSet`.

A cycle's exact identity is its *canonical itinerary*: the least rotation of
its region word. Two cycles with the same canonical itinerary are the same
cycle whenever ``I - P`` is non-singular, so comparisons never round
coordinates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from os import PathLike
from typing import Any, Iterator

import numpy as np

__all__ = ["Cycle", "DegenerateItinerary", "CycleSet", "classify_multipliers"]

#: |lambda| within this of 1 counts as non-hyperbolic in :func:`classify_multipliers`
UNIT_CIRCLE_TOL = 1e-9


def classify_multipliers(eigenvalues: np.ndarray, tol: float = UNIT_CIRCLE_TOL) -> str:
    """Name the type of a cycle from the eigenvalues of its monodromy matrix.

    Returns one of ``'stable node'``, ``'stable spiral'``, ``'unstable node'``,
    ``'unstable spiral'``, ``'saddle'``, ``'non-hyperbolic'``. "Spiral" means a
    complex pair of multipliers; "node" means all real (negative real multipliers
    make the orbit alternate sides, but keep the name node).

    Examples
    --------
    >>> import numpy as np
    >>> classify_multipliers(np.array([0.5, -0.2]))
    'stable node'
    >>> classify_multipliers(np.array([1.5, 0.2]))
    'saddle'
    >>> classify_multipliers(np.array([0.9 + 0.5j, 0.9 - 0.5j]))
    'unstable spiral'
    """
    lam = np.asarray(eigenvalues, dtype=complex)
    mod = np.abs(lam)
    if np.any(np.abs(mod - 1.0) <= tol):
        return "non-hyperbolic"
    spiral = bool(np.any(np.abs(lam.imag) > tol * np.maximum(1.0, mod)))
    inside = int(np.sum(mod < 1.0))
    if inside == lam.size:
        return "stable spiral" if spiral else "stable node"
    if inside == 0:
        return "unstable spiral" if spiral else "unstable node"
    return "saddle"


def cycle_sort_key(c: "Cycle") -> tuple:
    """Deterministic order of cycles within one order: stable first, then by first point."""
    return (not c.stable, tuple(np.round(c.points[0], 12)))


def itinerary_key(itinerary: np.ndarray) -> tuple[int, int, bytes]:
    """Hashable exact identity ``(k, G, packed bits)`` of a canonical itinerary."""
    it = np.asarray(itinerary, dtype=bool)
    return (it.shape[0], it.shape[1], np.packbits(it, axis=None).tobytes())


def _complex_pairs(z: np.ndarray) -> list[list[float]]:
    return [[float(v.real), float(v.imag)] for v in np.asarray(z, dtype=complex)]


@dataclass(frozen=True, eq=False)
class Cycle:
    """A fixed point (order 1) or a k-cycle of minimal period k.

    Attributes
    ----------
    order
        Minimal period k.
    points
        (k, M) cycle points; ``points[0]`` lies in the region ``itinerary[0]`` and
        ``F(points[j]) = points[j+1 mod k]``.
    eigenvalues
        Multipliers: eigenvalues of the monodromy ``J_k ... J_1`` (complex,
        sorted by decreasing modulus).
    itinerary
        (k, G) bool gate patterns visited, canonical (least) rotation.
    on_border
        True if a cycle point lies on a switching border (a gate within
        rounding of 0): a non-generic, border-collision configuration.
    border_margin
        Smallest |gate value| over the cycle's points.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> res = pe.find_cycles(pe.PLRNN([0.5], [[0.0]], [1.0]), 1, seed=0)
    >>> cyc = res[1][0]
    >>> cyc.points, cyc.stable, cyc.kind
    (array([[2.]]), True, 'stable node')
    """

    order: int
    points: np.ndarray
    eigenvalues: np.ndarray
    itinerary: np.ndarray
    on_border: bool = False
    border_margin: float = float("inf")

    @property
    def multipliers(self) -> np.ndarray:
        """Alias of :attr:`eigenvalues` (the Floquet multipliers of the cycle)."""
        return self.eigenvalues

    @property
    def spectral_radius(self) -> float:
        """Largest |multiplier|."""
        return float(np.max(np.abs(self.eigenvalues))) if self.eigenvalues.size else 0.0

    @property
    def stable(self) -> bool:
        """True iff every multiplier has modulus < 1 - UNIT_CIRCLE_TOL.

        A multiplier on the unit circle (within the tolerance) is neutral, not
        contracting: such a cycle (e.g. the end of a continuum) is not stable.
        """
        return bool(np.all(np.abs(self.eigenvalues) < 1.0 - UNIT_CIRCLE_TOL))

    @property
    def n_stable_directions(self) -> int:
        """Number of multipliers inside the unit circle (modulus < 1 - UNIT_CIRCLE_TOL)."""
        return int(np.sum(np.abs(self.eigenvalues) < 1.0 - UNIT_CIRCLE_TOL))

    @property
    def kind(self) -> str:
        """Type of the cycle, see :func:`classify_multipliers`."""
        return classify_multipliers(self.eigenvalues)

    @property
    def key(self) -> tuple[int, int, bytes]:
        """Exact identity: the packed canonical itinerary."""
        return itinerary_key(self.itinerary)

    @property
    def region_codes(self) -> list[int]:
        """Itinerary as integers (gate 0 is the most significant bit)."""
        G = self.itinerary.shape[1]
        weights = 1 << np.arange(G - 1, -1, -1, dtype=object)
        return [int(np.dot(row.astype(object), weights)) for row in self.itinerary]

    def same_as(self, other: "Cycle") -> bool:
        """True if both are the same cycle (same canonical itinerary)."""
        return self.key == other.key

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: order, points, eigenvalues as [re, im] pairs, stable, kind, ..."""
        return {
            "order": int(self.order),
            "points": self.points.tolist(),
            "eigenvalues": _complex_pairs(self.eigenvalues),
            "stable": self.stable,
            "kind": self.kind,
            "itinerary": self.itinerary.astype(int).tolist(),
            "on_border": bool(self.on_border),
            "border_margin": float(self.border_margin),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Cycle":
        """Inverse of :meth:`to_dict`."""
        ev = np.array([complex(re, im) for re, im in d["eigenvalues"]], dtype=complex)
        return cls(order=int(d["order"]), points=np.asarray(d["points"], dtype=float),
                   eigenvalues=ev, itinerary=np.asarray(d["itinerary"], dtype=bool),
                   on_border=bool(d.get("on_border", False)),
                   border_margin=float(d.get("border_margin", float("inf"))))

    def __repr__(self) -> str:
        lam = ", ".join(_fmt_complex(v) for v in self.eigenvalues[:3])
        more = ", ..." if self.eigenvalues.size > 3 else ""
        border = ", on border" if self.on_border else ""
        return (f"Cycle(order={self.order}, kind={self.kind!r}, point={np.array2string(self.points[0], precision=4)}, "
                f"multipliers=[{lam}{more}]{border})")


def _fmt_complex(v: complex) -> str:
    if abs(v.imag) < 1e-12:
        return f"{v.real:.4g}"
    return f"{v.real:.4g}{v.imag:+.4g}j"


@dataclass(frozen=True, eq=False)
class DegenerateItinerary:
    """A region word whose cycle equation ``(I - P) z = v`` is singular.

    A multiplier equals 1, so the word has either no cycle or a continuum of
    them (a line attractor, or the continuum of 2-cycles at a degenerate flip).
    Only words whose continuum of solutions meets the word's own regions are
    reported, each with a verified point inside.

    Attributes
    ----------
    order, itinerary, eigenvalues
        As for :class:`Cycle`.
    example_point
        A solution of the equation whose orbit visits exactly this itinerary
        (strictly inside its regions), or None for records made by older
        versions.

    Examples
    --------
    The identity map ``z' = z`` has a continuum of fixed points in both regions:

    >>> import plrnn_explorer as pe
    >>> res = pe.find_cycles(pe.PLRNN([1.0], [[0.0]], [0.0]), max_order=1, seed=0)
    >>> len(res), len(res.degenerate)
    (0, 2)
    >>> d = res.degenerate[0]
    >>> d.order, d.itinerary.tolist(), d.eigenvalues.real.tolist()
    (1, [[False]], [1.0])
    >>> d.verified, bool(d.example_point[0] <= 0)
    (True, True)
    >>> res.degenerate[1].verified, bool(res.degenerate[1].example_point[0] > 0)
    (True, True)
    """

    order: int
    itinerary: np.ndarray
    eigenvalues: np.ndarray
    example_point: np.ndarray | None

    @property
    def verified(self) -> bool:
        """True if :attr:`example_point` is a self-consistent cycle point."""
        return self.example_point is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": int(self.order),
            "itinerary": self.itinerary.astype(int).tolist(),
            "eigenvalues": _complex_pairs(self.eigenvalues),
            "example_point": None if self.example_point is None else self.example_point.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DegenerateItinerary":
        ev = np.array([complex(re, im) for re, im in d["eigenvalues"]], dtype=complex)
        ex = d.get("example_point")
        return cls(int(d["order"]), np.asarray(d["itinerary"], dtype=bool), ev,
                   None if ex is None else np.asarray(ex, dtype=float))


@dataclass(eq=False)
class CycleSet:
    """All cycles found for a model, grouped by minimal period.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])            # skew tent map a_l=0.2, a_r=-1.5
    >>> res = pe.find_cycles(m, max_order=2, seed=0)
    >>> res.orders, len(res[1]), len(res[2])
    ([1, 2], 1, 1)
    >>> res[2][0].stable
    True
    """

    orders: list[int]
    by_order: dict[int, list[Cycle]]
    stats: dict[str, Any] = field(default_factory=dict)
    degenerate: list[DegenerateItinerary] = field(default_factory=list)

    def __getitem__(self, order: int) -> list[Cycle]:
        return list(self.by_order.get(int(order), []))

    def __iter__(self) -> Iterator[Cycle]:
        for k in self.orders:
            yield from self.by_order.get(k, [])

    def __len__(self) -> int:
        return sum(len(self.by_order.get(k, [])) for k in self.orders)

    def __contains__(self, cycle: object) -> bool:
        return isinstance(cycle, Cycle) and any(cycle.same_as(c) for c in self.by_order.get(cycle.order, []))

    @property
    def complete(self) -> bool:
        """True when every searched order is proven complete.

        An order is complete when ``stats["per_order"][k]["complete"]`` is True:
        it was enumerated exactly (exhaustive or certified search, within its
        budget). Results of the randomised heuristic, of an interrupted or
        over-budget search, and results without per-order statistics are not
        complete: cycles may be missing.
        """
        return bool(self.orders) and all(self.order_complete(k) for k in self.orders)

    def order_complete(self, order: int) -> bool:
        """True when order ``order`` was searched and proven complete (see :attr:`complete`)."""
        per_order = self.stats.get("per_order") if isinstance(self.stats, dict) else None
        if not isinstance(per_order, dict):
            return False
        entry = per_order.get(int(order), per_order.get(str(int(order))))
        return isinstance(entry, dict) and entry.get("complete") is True

    def completeness(self) -> str:
        """``"complete"``, or ``"heuristic: may be incomplete"`` naming the orders not proven complete."""
        if self.complete:
            return "complete"
        missing = [k for k in self.orders if not self.order_complete(k)]
        return f"heuristic: may be incomplete (orders {_orders_str(missing)} not proven complete)"

    @property
    def stable(self) -> list[Cycle]:
        """The stable cycles (attractors), lowest order first."""
        return [c for c in self if c.stable]

    def counts(self) -> dict[int, int]:
        """Number of cycles per searched order."""
        return {k: len(self.by_order.get(k, [])) for k in self.orders}

    def stable_counts(self) -> dict[int, int]:
        """Number of stable cycles per searched order."""
        return {k: sum(c.stable for c in self.by_order.get(k, [])) for k in self.orders}

    def keys(self) -> set[tuple[int, int, bytes]]:
        """The exact identities of all cycles."""
        return {c.key for c in self}

    def find(self, cycle: Cycle) -> Cycle | None:
        """The cycle of this set with the same identity as ``cycle``, or None."""
        for c in self.by_order.get(cycle.order, []):
            if c.same_as(cycle):
                return c
        return None

    # -- serialization ----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with keys ``orders``, ``complete``, ``cycles`` (list), ``degenerate`` and ``stats``."""
        return {
            "orders": list(self.orders),
            "complete": self.complete,
            "cycles": [c.to_dict() for c in self],
            "degenerate": [d.to_dict() for d in self.degenerate],
            "stats": _jsonable(self.stats),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CycleSet":
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "cycles" not in d or "orders" not in d:
            raise ValueError(f"a CycleSet description must be a dict with keys 'orders' and 'cycles', "
                             f"got {type(d).__name__}{' with keys ' + str(sorted(d)) if isinstance(d, dict) else ''}")
        orders = [int(k) for k in d["orders"]]
        by_order: dict[int, list[Cycle]] = {k: [] for k in orders}
        for cd in d["cycles"]:
            c = Cycle.from_dict(cd)
            by_order.setdefault(c.order, []).append(c)
        stats = dict(d.get("stats", {}))
        if isinstance(stats.get("per_order"), dict):  # JSON turned the order keys into strings
            stats["per_order"] = {int(k) if str(k).isdigit() else k: v for k, v in stats["per_order"].items()}
        return cls(orders, by_order, stats,
                   [DegenerateItinerary.from_dict(x) for x in d.get("degenerate", [])])

    def save(self, path: str | PathLike) -> None:
        """Write the set as standard JSON, atomically (a failed save keeps the old file).

        Non-finite numbers are stored as the strings ``"Infinity"``,
        ``"-Infinity"`` and ``"NaN"`` (standard JSON has no such numbers).
        """
        from ._atomic import atomic_write_text, json_dumps_strict

        atomic_write_text(path, json_dumps_strict(self.to_dict()))

    @classmethod
    def load(cls, path: str | PathLike) -> "CycleSet":
        """Read a set written by :meth:`save`; ValueError naming the file if it is not one."""
        import os

        from ._atomic import json_restore

        if not isinstance(path, (str, PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"CycleSet file {str(path)!r} does not exist")
        try:
            with open(path, encoding="utf-8") as f:
                d = json_restore(json.load(f))
            return cls.from_dict(d)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, KeyError, TypeError, IndexError,
                ValueError, AttributeError) as exc:
            raise ValueError(f"path {str(path)!r} is not a valid CycleSet JSON file "
                             f"(as written by CycleSet.save): {type(exc).__name__}: {exc}") from None

    def to_dataframe(self):
        """One row per cycle point: order, cycle index, point index, coordinates, stability, kind.

        Requires pandas.
        """
        import pandas as pd

        rows = []
        for k in self.orders:
            for ci, c in enumerate(self.by_order.get(k, [])):
                for pi, p in enumerate(c.points):
                    row = {"order": k, "cycle": ci, "point": pi, "stable": c.stable, "kind": c.kind,
                           "spectral_radius": c.spectral_radius}
                    row.update({f"z{m}": float(x) for m, x in enumerate(p)})
                    rows.append(row)
        return pd.DataFrame(rows)

    # -- display --------------------------------------------------------------
    def table(self, max_points: int = 2) -> str:
        """A readable plain-text table of all cycles."""
        lines = [f"CycleSet: {len(self)} cycle(s), orders {_orders_str(self.orders)}"]
        header = f"{'order':>5}  {'#':>3}  {'kind':<16} {'stable':<6}  {'max|λ|':>9}  {'first point(s)':<40} multipliers"
        lines.append(header)
        lines.append("-" * len(header))
        for k in self.orders:
            for i, c in enumerate(self.by_order.get(k, [])):
                pts = "; ".join(np.array2string(p, precision=4, separator=", ", suppress_small=True)
                                for p in c.points[:max_points])
                if c.order > max_points:
                    pts += "; ..."
                lam = ", ".join(_fmt_complex(v) for v in c.eigenvalues[:4])
                if c.eigenvalues.size > 4:
                    lam += ", ..."
                flag = " (on border)" if c.on_border else ""
                lines.append(f"{k:>5}  {i:>3}  {c.kind:<16} {str(c.stable):<6}  {c.spectral_radius:>9.4g}  "
                             f"{pts:<40} {lam}{flag}")
        if self.degenerate:
            lines.append(f"{len(self.degenerate)} degenerate itinerary(ies) with a singular cycle equation "
                         "(multiplier 1: continuum of cycles or none); see .degenerate")
        lines.append(f"search: {self.completeness()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {n}" for k, n in self.counts().items() if n)
        done = "complete" if self.complete else "may be incomplete"
        return f"<CycleSet {len(self)} cycles ({counts or 'none'}) over orders {_orders_str(self.orders)}, {done}>"

    def _repr_html_(self) -> str:
        rows = []
        for k in self.orders:
            for c in self.by_order.get(k, []):
                lam = ", ".join(_fmt_complex(v) for v in c.eigenvalues[:4])
                rows.append(f"<tr><td>{k}</td><td>{c.kind}</td><td>{c.stable}</td><td>{c.spectral_radius:.4g}</td>"
                            f"<td>{np.array2string(c.points[0], precision=4)}</td><td>{lam}</td></tr>")
        return (f"<p>CycleSet: {len(self)} cycle(s), orders {_orders_str(self.orders)}; "
                f"search <b>{self.completeness()}</b></p>"
                "<table><tr><th>order</th><th>kind</th><th>stable</th><th>max|λ|</th>"
                "<th>first point</th><th>multipliers</th></tr>" + "".join(rows) + "</table>")


def _orders_str(orders: list[int]) -> str:
    if not orders:
        return "none"
    if orders == list(range(orders[0], orders[-1] + 1)) and len(orders) > 2:
        return f"{orders[0]}..{orders[-1]}"
    return ", ".join(map(str, orders))


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x
