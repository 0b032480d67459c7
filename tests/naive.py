"""Slow, obviously-correct references (the oracle pattern).

Plain NumPy and itertools; no numba and nothing shared with the package's
kernels except the model's parameters, which are read from the public model
classes' own definitions (not from the canonical form).
"""

from __future__ import annotations

import itertools

import numpy as np


def naive_map(model):
    """Return F(z) written straight from each model's defining equation."""
    name = type(model).__name__
    p = model.params
    relu = lambda x: np.maximum(x, 0.0)  # noqa: E731

    def full(a):
        return np.diag(a) if a.ndim == 1 else a

    if name == "PLRNN":
        A, W, h = full(p["A"]), full(p["W"]), p["h"]
        return lambda z: A @ z + W @ relu(z) + h
    if name == "ShallowPLRNN":
        A, W1, W2, h1, h2 = full(p["A"]), p["W1"], p["W2"], p["h1"], p["h2"]
        return lambda z: A @ z + W1 @ relu(W2 @ z + h2) + h1
    if name == "ClippedShallowPLRNN":
        A, W1, W2, h1, h2 = full(p["A"]), p["W1"], p["W2"], p["h1"], p["h2"]
        return lambda z: A @ z + W1 @ (relu(W2 @ z + h2) - relu(W2 @ z)) + h1
    if name == "ALRNN":
        A, W, h, P = full(p["A"]), full(p["W"]), p["h"], model.n_relu
        M = h.size

        def F(z):
            phi = z.copy()
            phi[M - P:] = relu(z[M - P:])
            return A @ z + W @ phi + h
        return F
    if name == "CanonicalPLRNN":
        return lambda z: p["A"] @ z + p["W_out"] @ relu(p["W_in"] @ z + p["b_in"]) + p["h"]
    raise TypeError(name)


def naive_gates(model):
    """Gate values whose signs define the linear regions, from each model's equation."""
    name = type(model).__name__
    p = model.params
    if name == "PLRNN":
        return lambda z: z.copy()
    if name == "ShallowPLRNN":
        return lambda z: p["W2"] @ z + p["h2"]
    if name == "ClippedShallowPLRNN":
        return lambda z: np.concatenate([p["W2"] @ z + p["h2"], p["W2"] @ z])
    if name == "ALRNN":
        M, P = p["h"].size, model.n_relu
        return lambda z: z[M - P:].copy()
    if name == "CanonicalPLRNN":
        return lambda z: p["W_in"] @ z + p["b_in"]
    raise TypeError(name)


def naive_jacobian(model, region):
    """Jacobian of the affine piece of ``region``, differentiated by hand from each model's equation."""
    name = type(model).__name__
    p = model.params

    def full(a):
        return np.diag(a) if a.ndim == 1 else a

    r = np.asarray(region, dtype=float)
    if name == "PLRNN":
        return full(p["A"]) + full(p["W"]) * r
    if name == "ShallowPLRNN":
        return full(p["A"]) + (p["W1"] * r) @ p["W2"]
    if name == "ClippedShallowPLRNN":
        H = p["W1"].shape[1]
        return full(p["A"]) + (p["W1"] * (r[:H] - r[H:])) @ p["W2"]
    if name == "ALRNN":
        M, P = p["h"].size, model.n_relu
        phi = np.ones(M)
        phi[M - P:] = r
        return full(p["A"]) + full(p["W"]) * phi
    raise TypeError(name)


def naive_exhaustive(model, max_order):
    """All cycles up to ``max_order`` by brute force over every region word.

    Returns ``{order: [(points (k, M), eigenvalues), ...]}``, with points in the
    order the orbit visits them, starting anywhere.
    """
    F, gates = naive_map(model), naive_gates(model)
    M = model.params["h"].size if "h" in model.params else model.params["h1"].size
    G = gates(np.zeros(M)).size
    letters = list(itertools.product([0, 1], repeat=G))
    out = {}
    for k in range(1, max_order + 1):
        found = []
        seen = set()
        for word in itertools.product(letters, repeat=k):
            P = np.eye(M)
            v = np.zeros(M)
            for r in word:
                J = naive_jacobian(model, r)
                c = _offset(model, r)
                P = J @ P
                v = J @ v + c
            try:
                z = np.linalg.solve(np.eye(M) - P, v)
            except np.linalg.LinAlgError:
                continue
            orbit = [z]
            ok = tuple(gates(z) > 0) == tuple(bool(b) for b in word[0])
            for s in range(1, k):
                orbit.append(F(orbit[-1]))
                ok = ok and tuple(gates(orbit[-1]) > 0) == tuple(bool(b) for b in word[s])
            if not ok or not np.allclose(F(orbit[-1]), z, rtol=1e-7, atol=1e-7):
                continue
            # minimal period k: no shorter period
            if any(np.allclose(orbit[d], orbit[0], rtol=1e-9, atol=1e-9) for d in range(1, k)):
                continue
            rots = {tuple(word[i:] + word[:i]) for i in range(k)}
            key = min(rots)
            if key in seen:
                continue
            seen.add(key)
            found.append((np.array(orbit), np.linalg.eigvals(P)))
        out[k] = found
    return out


def _offset(model, region):
    """Offset c_r of the affine piece of ``region``: F(z) = J_r z + c_r there."""
    name = type(model).__name__
    p = model.params
    r = np.asarray(region, dtype=float)
    if name == "PLRNN" or name == "ALRNN":
        return p["h"].copy()
    if name == "ShallowPLRNN":
        return p["h1"] + p["W1"] @ (r * p["h2"])
    if name == "ClippedShallowPLRNN":
        H = p["W1"].shape[1]
        return p["h1"] + p["W1"] @ (r[:H] * p["h2"])
    raise TypeError(name)
