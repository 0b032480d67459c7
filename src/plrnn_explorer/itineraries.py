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

__all__ = ["cycle_from_itinerary", "SINGULAR_RTOL", "BORDER_RTOL"]

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
    pts, P, ok = _kernels.cycle_points(*cf.arrays, word, SINGULAR_RTOL)
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
    """Describe a word with a singular cycle equation; None if the equation has no solution."""
    word = np.asarray(word, dtype=bool)
    P, v = _monodromy_and_offset(cf, word)
    lhs = np.eye(cf.dim) - P
    z, *_ = np.linalg.lstsq(lhs, v, rcond=None)
    scale = max(1.0, float(np.linalg.norm(v)), float(np.linalg.norm(lhs)) * float(np.linalg.norm(z)))
    if np.linalg.norm(lhs @ z - v) > 1e-8 * scale:
        return None  # inconsistent: no point satisfies the cycle equation
    lam = np.linalg.eigvals(P).astype(complex)
    lam = lam[np.argsort(-np.abs(lam), kind="stable")]
    example = None
    if _itinerary_from(cf, z, word.shape[0]).tolist() == word.tolist():
        example = z
    return DegenerateItinerary(order=word.shape[0], itinerary=word, eigenvalues=lam, example_point=example)


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
        raise TypeError("itinerary must be a (k, G) array of 0/1 gate patterns") from None
    if arr.ndim == 1 and arr.size == n_gates:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n_gates or arr.shape[0] < 1:
        raise ValueError(f"itinerary must have shape (k, G) with G = {n_gates} and k >= 1, got {arr.shape}")
    if not (arr.dtype == bool or (np.issubdtype(arr.dtype, np.number) and np.all((arr == 0) | (arr == 1)))):
        raise ValueError("itinerary must contain only 0/1 (or False/True) entries")
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
        raise ValueError("itinerary is a power of a shorter word; its cycle has a smaller period")
    word = canonical_rotation(word)
    cyc = build_cycle(cf, word)
    if cyc is None:
        raise ValueError("the cycle equation (I - P) z = v of this itinerary is singular "
                         "(a multiplier equals 1): there is no isolated cycle")
    if _itinerary_from(cf, cyc.points[0], k).tolist() != word.astype(bool).tolist():
        raise ValueError("no cycle has this itinerary: the solution of its cycle equation visits other regions")
    return cyc
