"""Plain-NumPy SCYFI: the same algorithm as ``plrnn_explorer.find_cycles(strategy="scyfi")``.

The benchmarks run it side by side with the numba engine on the same systems.
Same loop structure, budgets, exact deduplication by canonical itinerary and
word-loop detection; NumPy linear algebra and Python loops instead of numba.
"""

from __future__ import annotations

import numpy as np

from plrnn_explorer.scyfi import adapted_budgets


def _piece(cf, r):
    J = cf.A + (cf.W_out * r) @ cf.W_in
    c = cf.h + (cf.W_out * r) @ cf.b_in
    return J, c


def _solve(cf, word):
    M = cf.dim
    P, v = np.eye(M), np.zeros(M)
    for r in word:
        J, c = _piece(cf, r)
        P = J @ P
        v = J @ v + c
    try:
        return np.linalg.solve(np.eye(M) - P, v)
    except np.linalg.LinAlgError:
        return None


def _trace(cf, z, k):
    out = np.empty((k, cf.n_gates), dtype=np.uint8)
    for s in range(k):
        g = cf.W_in @ z + cf.b_in
        out[s] = g > 0
        z = cf.A @ z + cf.W_out @ np.maximum(g, 0) + cf.h
    return out


def _canonical(word):
    k = len(word)
    rows = [tuple(r) for r in word]
    return min(tuple(rows[i:] + rows[:i]) for i in range(k))


def _primitive(word):
    k = len(word)
    return not any(k % d == 0 and all(np.array_equal(word[s], word[s - d]) for s in range(d, k)) for d in range(1, k))


def numpy_scyfi_order(cf, k, n_out, n_in, rng):
    """Cycles (canonical words) of minimal period k and the number of candidate solves."""
    G = cf.n_gates
    found: set = set()
    solves = 0

    def draw():
        return rng.integers(0, 2, size=(k, G), dtype=np.uint8)

    outer = 0
    while outer < n_out:
        word = draw()
        history: list[bytes] = []
        inner = 0
        while inner < n_in:
            inner += 1
            solves += 1
            z = _solve(cf, word)
            if z is None:
                word, history = draw(), []
                continue
            actual = _trace(cf, z, k)
            if np.array_equal(actual, word):
                if _primitive(word):
                    key = _canonical(word)
                    if key not in found:
                        found.add(key)
                        outer = inner = 0
                word, history = draw(), []
            elif actual.tobytes() not in history:
                history = (history + [word.tobytes()])[-16:]
                word = actual
            else:
                word, history = draw(), []
        outer += 1
    return found, solves


def numpy_find_cycles(model, orders, n_out=None, n_in=None, seed=0):
    """All orders; returns ``{k: set of canonical words}`` and the total number of solves."""
    cf = model.canonical
    rng = np.random.default_rng(seed)
    out, total = {}, 0
    for k in orders:
        d_out, d_in = adapted_budgets(k, 2 ** cf.n_gates)
        out[k], solves = numpy_scyfi_order(cf, k, n_out or d_out, n_in or d_in, rng)
        total += solves
    return out, total
