"""From a region word (itinerary) to the cycle it determines.

A k-cycle with region sequence ``r_1..r_k`` solves
``(I - J_k...J_1) z_1 = sum_j J_k...J_{j+1} c_j``; it is real iff iterating
the true map from ``z_1`` visits exactly ``r_1..r_k``. This module turns
words into :class:`~plrnn_explorer.cycles.Cycle` objects for both the
heuristic and the exhaustive search, and offers :func:`cycle_from_itinerary`
to users (e.g. to continue a known cycle along a parameter).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _kernels
from .cycles import Cycle, DegenerateItinerary
from .models import CanonicalForm, Model, check_model

__all__ = ["cycle_from_itinerary", "SINGULAR_RTOL", "BORDER_RTOL", "DEGENERATE_RTOL"]

#: pivot threshold (relative to the largest entry of I - P) below which the cycle equation is singular
SINGULAR_RTOL = 1e-12
#: a gate counts as on the border when |gate| <= BORDER_RTOL * (|W_in_g| |z| + |b_in_g|)
BORDER_RTOL = 1e-9


def _gate_values(cf: CanonicalForm, points: np.ndarray) -> np.ndarray:
    return points @ cf.W_in.T + cf.b_in


def _border_info(cf: CanonicalForm, points: np.ndarray, word: np.ndarray) -> tuple[bool, float]:
    gates = _gate_values(cf, points)
    scale = np.abs(points) @ np.abs(cf.W_in).T + np.abs(cf.b_in)
    near = np.abs(gates) <= BORDER_RTOL * np.maximum(scale, 1e-300)
    mismatch = (gates > 0) != word.astype(bool)
    margin = float(np.min(np.abs(gates))) if gates.size else float("inf")
    return bool(np.any(near) or np.any(mismatch)), margin


def build_cycle(cf: CanonicalForm, word: np.ndarray) -> Cycle | None:
    """Cycle of a self-consistent canonical word, with accurate points, or None if singular."""
    word = np.ascontiguousarray(word, dtype=np.uint8)
    pts, P, ok = _kernels.cycle_points(*cf.arrays, word, SINGULAR_RTOL, cf.blas)
    if not ok:
        return None
    lam = np.linalg.eigvals(P).astype(complex)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    on_border, margin = _border_info(cf, pts, word)
    return Cycle(order=word.shape[0], points=pts, eigenvalues=lam, itinerary=word.astype(bool),
                 on_border=on_border, border_margin=margin)


def _monodromy_and_offset(cf: CanonicalForm, word: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    M = cf.dim
    P = np.eye(M)
    v = np.zeros(M)
    for r in word.astype(bool):
        J, c = cf.piece(r)
        P = J @ P
        v = J @ v + c
    return P, v


def build_degenerate(cf: CanonicalForm, word: np.ndarray) -> DegenerateItinerary | None:
    """Describe a word with a singular cycle equation, or None when it has no continuum in its own regions.

    The solutions of ``(I - P) z = v`` form an affine subspace ``z0 + N y``
    (N spans the null space: singular values of ``I - P`` below
    ``DEGENERATE_RTOL * max(1, |P|)``, so ``P ~ I`` is detected too). The word
    is reported only when this subspace meets the word's own regions: a
    point strictly inside them is found by an LP (largest margin to every
    gate border along the word) and verified by iterating the true map. A
    power ``u^m`` of a shorter word is reported only when its continuum is
    larger than that of ``u`` (e.g. a flip: multiplier -1 of ``u``).
    """
    word = np.asarray(word, dtype=bool)
    k = word.shape[0]
    M = cf.dim
    P, v = _monodromy_and_offset(cf, word)
    null, z0 = _solution_space(P, v)
    if null is None or null.shape[1] == 0:
        return None
    p = _period(word)
    if p < k:
        P_u, v_u = _monodromy_and_offset(cf, word[:p])
        null_u, _ = _solution_space(P_u, v_u)
        if null_u is not None and null_u.shape[1] >= null.shape[1]:
            return None  # the same continuum as the shorter word's
    point = _point_inside(cf, word, z0, null)
    if point is None:
        return None
    lam = np.linalg.eigvals(P).astype(complex)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    return DegenerateItinerary(order=k, itinerary=word, eigenvalues=lam, example_point=point.reshape(M))


#: singular values of I - P below DEGENERATE_RTOL * max(1, |P|_2) span the continuum of a degenerate word
DEGENERATE_RTOL = 1e-9


def _solution_space(P: np.ndarray, v: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """Null-space basis N and a particular solution z0 of (I - P) z = v; N is None if inconsistent."""
    M = P.shape[0]
    lhs = np.eye(M) - P
    U, sv, Vt = np.linalg.svd(lhs)
    tol = DEGENERATE_RTOL * max(1.0, float(np.linalg.norm(P, 2)))
    small = sv <= tol
    inv = np.where(small, 0.0, 1.0 / np.where(small, 1.0, sv))
    z0 = Vt.T @ (inv * (U.T @ v))
    scale = max(1.0, float(np.linalg.norm(v)), float(np.linalg.norm(lhs)) * float(np.linalg.norm(z0)))
    if np.linalg.norm(lhs @ z0 - v) > 1e-8 * scale:
        return None, z0
    return Vt[small].T, z0


def _period(word: np.ndarray) -> int:
    k = word.shape[0]
    for d in range(1, k):
        if k % d == 0 and np.array_equal(word, np.roll(word, d, axis=0)):
            return d
    return k


def _point_inside(cf: CanonicalForm, word: np.ndarray, z0: np.ndarray, null: np.ndarray) -> np.ndarray | None:
    """A point z0 + N y whose orbit follows ``word`` strictly inside its regions (LP, largest margin), or None."""
    from scipy.optimize import linprog

    d = null.shape[1]
    rows, rhs = [], []
    Pz, Pn = z0.copy(), null.copy()        # z_s = Pz + Pn y along the word
    for r in word:
        gate_c = cf.W_in @ Pz + cf.b_in
        gate_a = cf.W_in @ Pn
        norms = np.linalg.norm(gate_a, axis=1)
        for g in range(cf.n_gates):
            sign = 1.0 if r[g] else -1.0   # want sign * (a y + c) > 0
            if norms[g] <= 1e-12 * (1.0 + np.linalg.norm(cf.W_in[g]) * np.linalg.norm(Pn)):
                # the gate is constant on the continuum: on needs it > 0; off holds for <= 0, and a
                # continuum lying on an off-border (gate 0 up to rounding) is in the off region
                tol = BORDER_RTOL * (np.abs(cf.W_in[g]) @ np.abs(Pz) + abs(cf.b_in[g]))
                if (r[g] and gate_c[g] <= tol) or (not r[g] and gate_c[g] > tol):
                    return None
                continue
            # -sign (a y + c) / |a| + t <= 0
            rows.append(np.append(-sign * gate_a[g] / norms[g], 1.0))
            rhs.append(sign * gate_c[g] / norms[g])
        J, c = cf.piece(r)
        Pz, Pn = J @ Pz + c, J @ Pn
    y = np.zeros(d)
    if rows:
        cost = np.zeros(d + 1)
        cost[-1] = -1.0
        A_ub, b_ub = np.array(rows), np.array(rhs)
        res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(None, None)] * d + [(None, 1.0)], method="highs")
        if res.status != 0 or res.x is None or res.x[-1] <= 0.0:
            return None
        y = res.x[:d]
        # the largest-margin point can be special (e.g. the fixed point inside a continuum of 2-cycles):
        # move to a vertex of the half-margin region in a fixed generic direction, when that is bounded
        direction = np.cos(np.arange(1, d + 1) * 1.234567)
        again = linprog(np.append(-direction, 0.0), A_ub=A_ub, b_ub=b_ub,
                        bounds=[(None, None)] * d + [(0.5 * res.x[-1], 1.0)], method="highs")
        if again.status == 0 and again.x is not None:
            y = again.x[:d]
    z = z0 + null @ y
    pts = _kernels.simulate(*cf.arrays, np.asarray(z, dtype=float), word.shape[0])
    gates = _gate_values(cf, pts)
    scale = np.abs(pts) @ np.abs(cf.W_in).T + np.abs(cf.b_in)
    # the orbit must follow the word; a gate within rounding of 0 may only stand for "off"
    ok = ((gates > 0) == word) | (~word & (np.abs(gates) <= BORDER_RTOL * np.maximum(scale, 1e-300)))
    return z if bool(np.all(ok)) else None


def _itinerary_from(cf: CanonicalForm, z1: np.ndarray, k: int) -> np.ndarray:
    pts = _kernels.simulate(*cf.arrays, np.asarray(z1, dtype=float), k)
    return _gate_values(cf, pts) > 0


def canonical_rotation(word: np.ndarray) -> np.ndarray:
    """The lexicographically least rotation of a (k, G) word (rows compared as bit strings)."""
    word = np.ascontiguousarray(word, dtype=np.uint8)
    k, G = word.shape
    out = np.empty_like(word)
    _kernels._rotate_into(out, word, k, G, _kernels._least_rotation(word, k, G))
    return out


def as_itinerary(itinerary: Any, n_gates: int) -> np.ndarray:
    """Validate a (k, G) 0/1 array (or a list of G-length rows)."""
    try:
        arr = np.asarray(itinerary)
    except Exception:
        raise TypeError(f"itinerary must be a (k, G) array of 0/1 gate patterns (rows of equal length), "
                        f"got {type(itinerary).__name__}") from None
    if arr.ndim == 1 and arr.size == n_gates:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_gates or arr.shape[0] < 1:
        raise ValueError(f"itinerary must have shape (k, G) with G = {n_gates} and k >= 1, got {arr.shape}")
    if not (arr.dtype == bool or (np.issubdtype(arr.dtype, np.number) and np.all((arr == 0) | (arr == 1)))):
        raise ValueError(f"itinerary must contain only 0/1 (or False/True) entries, got dtype {arr.dtype} "
                         f"{arr.ravel()[:6].tolist()}")
    return arr.astype(bool)


def cycle_from_itinerary(model: Model, itinerary: Any) -> Cycle:
    """Solve the cycle equation of a region word and check that the cycle is real.

    Parameters
    ----------
    model
        Any plrnn_explorer model.
    itinerary
        (k, G) array of 0/1 gate patterns ``r_1..r_k`` (``model.region(z)`` gives
        the pattern of a state).

    Returns
    -------
    Cycle
        The cycle of minimal period k that visits exactly these regions
        (returned in canonical rotation).

    Raises
    ------
    ValueError
        If the word is a power of a shorter word (its cycle would have a
        smaller period), if the cycle equation is singular (a multiplier equals
        1), or if the solution visits other regions (no such cycle exists).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])          # skew tent map, a_r = -1.5
    >>> c = pe.cycle_from_itinerary(m, [[1], [0]])
    >>> c.points.round(4).ravel().tolist(), round(float(c.eigenvalues[0].real), 4)
    ([-0.3846, 0.9231], -0.3)
    """
    check_model(model)
    cf = model.canonical
    word = as_itinerary(itinerary, cf.n_gates).astype(np.uint8)
    k, G = word.shape
    if not _kernels._is_primitive(word, k, G):
        raise ValueError(f"itinerary must be primitive, not a power of a shorter word (its cycle has a smaller "
                         f"period); got {k} rows: pass the shortest repeating block instead")
    word = canonical_rotation(word)
    cyc = build_cycle(cf, word)
    if cyc is None:
        raise ValueError("the cycle equation (I - P) z = v of this itinerary is singular "
                         "(a multiplier equals 1): there is no isolated cycle")
    if _itinerary_from(cf, cyc.points[0], k).tolist() != word.astype(bool).tolist():
        raise ValueError("no cycle has this itinerary: the solution of its cycle equation visits other regions")
    return cyc
