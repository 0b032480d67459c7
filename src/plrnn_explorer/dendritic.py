"""The dendritic PLRNN (dendPLRNN) as an exactly equivalent ShallowPLRNN.

The dendPLRNN (Brenner et al., ICML 2022) replaces the ReLU of the PLRNN by a
sum of B shifted, weighted ReLUs ("dendritic bases"):

    z' = A z + W phi(z) + h,    phi_m(z) = sum_b alpha_{m,b} relu(z_m - theta_{m,b}).

Writing each basis as its own hidden unit g = (m, b) gives a ShallowPLRNN
``z' = A z + W1 relu(W2 z + h2) + h1`` with H = M B gates:

    W2[g] = e_m (row selects unit m),  h2[g] = -theta_{m,b},
    W1[:, g] = alpha_{m,b} W[:, m],    h1 = h.

This is an identity of maps, not an approximation, so everything in the
package (cycles, bifurcations, training) applies to dendPLRNNs through it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import as_real_array
from .models import ShallowPLRNN

__all__ = ["dend_plrnn", "dend_plrnn_step"]


def _bases(name: str, value: Any, M: int) -> np.ndarray:
    """(M, B) array from an (M, B) or a shared (B,) argument."""
    arr = as_real_array(name, value)
    if arr.ndim == 1:
        arr = np.tile(arr, (M, 1))
    if arr.ndim != 2 or arr.shape[0] != M or arr.shape[1] < 1:
        raise ValueError(f"{name} must have shape (B,) or (M, B) with M = {M} and B >= 1, got {np.shape(value)}")
    return arr


def _parts(A: Any, W: Any, h: Any, alphas: Any, thetas: Any):
    A = as_real_array("A", A)
    if A.ndim != 1:
        raise ValueError(f"A must be the (M,) diagonal of the dendPLRNN, got shape {A.shape}")
    M = A.shape[0]
    W = as_real_array("W", W, ndim=2)
    if W.shape != (M, M):
        raise ValueError(f"W must have shape (M, M) with M = {M}, got {W.shape}")
    h = as_real_array("h", h, ndim=1)
    if h.shape != (M,):
        raise ValueError(f"h must have shape (M,) with M = {M}, got {h.shape}")
    al = _bases("alphas", alphas, M)
    th = _bases("thetas", thetas, M)
    if al.shape != th.shape:
        raise ValueError(f"alphas and thetas must have the same number of bases, got {al.shape} and {th.shape}")
    return A, W, h, al, th


def dend_plrnn(A: Any, W: Any, h: Any, alphas: Any, thetas: Any) -> ShallowPLRNN:
    """The ShallowPLRNN (H = M B) that is exactly the dendPLRNN with these parameters.

    Parameters
    ----------
    A
        (M,) diagonal of A.
    W
        (M, M) weights acting on the dendritic nonlinearity phi(z).
    h
        (M,) bias.
    alphas, thetas
        Basis weights and thresholds, (B,) shared by all units or (M, B).

    Returns
    -------
    ShallowPLRNN
        Gates ordered unit-major: gate ``m * B + b`` is basis b of unit m.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> from plrnn_explorer.dendritic import dend_plrnn, dend_plrnn_step
    >>> rng = np.random.default_rng(0)
    >>> A, W, h = rng.uniform(0, 0.9, 3), rng.normal(size=(3, 3)), rng.normal(size=3)
    >>> alphas, thetas = [1.0, -0.5], rng.normal(size=(3, 2))
    >>> s = dend_plrnn(A, W, h, alphas, thetas)
    >>> s.dim, s.n_gates
    (3, 6)
    >>> z = rng.normal(size=3)
    >>> bool(np.allclose(s.step(z), dend_plrnn_step(z, A, W, h, alphas, thetas)))
    True
    """
    A, W, h, al, th = _parts(A, W, h, alphas, thetas)
    M, B = al.shape
    W2 = np.repeat(np.eye(M), B, axis=0)                  # row m * B + b = e_m
    W1 = np.repeat(W, B, axis=1) * al.reshape(1, M * B)  # column m * B + b = alpha_{m,b} W[:, m]
    return ShallowPLRNN(A, W1, W2, h, -th.reshape(M * B))


def dend_plrnn_step(z: Any, A: Any, W: Any, h: Any, alphas: Any, thetas: Any) -> np.ndarray:
    """One step of the dendPLRNN written directly from its definition (plain NumPy reference).

    Examples
    --------
    >>> from plrnn_explorer.dendritic import dend_plrnn_step
    >>> dend_plrnn_step([1.0], [0.5], [[2.0]], [0.1], [1.0, 1.0], [0.0, 0.5]).tolist()   # 0.5 + 2 (1 + 0.5) + 0.1
    [3.6]
    """
    A, W, h, al, th = _parts(A, W, h, alphas, thetas)
    z = as_real_array("z", z, ndim=1)
    if z.shape != A.shape:
        raise ValueError(f"z must have shape {A.shape}, got {z.shape}")
    phi = np.sum(al * np.maximum(z[:, None] - th, 0.0), axis=1)
    return A * z + W @ phi + h
