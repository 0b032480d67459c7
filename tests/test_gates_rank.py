"""``CanonicalForm.gates_full_rank``: structural short-cut against an SVD rank test."""

from __future__ import annotations

import time

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.models import CanonicalForm


def _form(W_in: np.ndarray) -> CanonicalForm:
    G, M = W_in.shape
    return CanonicalForm(np.zeros((M, M)), np.zeros((M, G)), np.ascontiguousarray(W_in, dtype=float),
                         np.zeros(G), np.zeros(M))


@pytest.mark.parametrize("seed", range(40))
def test_matches_svd_rank(seed):
    rng = np.random.default_rng(seed)
    G, M = rng.integers(1, 7, size=2)
    kind = seed % 4
    if kind == 0:  # scaled rows of the identity, possibly repeated columns
        W = np.zeros((G, M))
        W[np.arange(G), rng.integers(0, M, size=G)] = rng.choice([-2.0, 0.5, 3.0], size=G)
    elif kind == 1:  # random dense
        W = rng.normal(size=(G, M))
    elif kind == 2:  # rank deficient: low-rank product
        W = rng.normal(size=(G, 1)) @ rng.normal(size=(1, M))
    else:  # sparse with a zero row possible
        W = rng.normal(size=(G, M)) * (rng.random((G, M)) < 0.3)
    expected = G <= M and np.linalg.matrix_rank(W) == G
    assert _form(W).gates_full_rank() == expected


def test_plrnn_identity_is_instant_and_cached():
    M = 3000
    model = pe.PLRNN(np.full(M, 0.5), np.zeros((M, M)), np.zeros(M))
    t0 = time.perf_counter()
    assert model.canonical.gates_full_rank()
    assert time.perf_counter() - t0 < 1.0  # an SVD of a 3000 x 3000 matrix takes many seconds
    assert model.canonical.__dict__["_gates_full_rank"] is True
