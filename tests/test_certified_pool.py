"""The region pool: cached once per model, de-duplicated exactly, and bounded in memory for large M."""

from __future__ import annotations

import time

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.scyfi import unique_patterns


def _shallow(M, H, seed=0):
    rng = np.random.default_rng(seed)
    return pe.ShallowPLRNN(rng.uniform(0.2, 0.9, M), rng.normal(size=(M, H)) / np.sqrt(H),
                           rng.normal(size=(H, M)) / np.sqrt(M), rng.normal(size=M) * 0.1,
                           rng.normal(size=H) * 0.5)


def test_unique_patterns_equals_numpy_unique():
    rng = np.random.default_rng(0)
    for G in (1, 3, 8, 9, 17):
        pats = (rng.random((500, G)) < 0.3).astype(np.uint8)
        np.testing.assert_array_equal(unique_patterns(pats), np.unique(pats, axis=0))


def test_pool_is_cached_per_model_and_not_shared_mutably():
    m = _shallow(3, 12)
    a = pe.region_pool(m)
    t0 = time.perf_counter()
    b = pe.region_pool(m)
    assert time.perf_counter() - t0 < 0.05
    np.testing.assert_array_equal(a, b)
    a[:] = 0                                        # the caller's copy, not the cache
    np.testing.assert_array_equal(pe.region_pool(m), b)
    np.testing.assert_array_equal(pe.region_pool(_shallow(3, 12)), b)   # an equal model gives the same pool


def test_shallow_model_of_real_size_is_fast_and_says_it_is_incomplete():
    m = _shallow(16, 40)
    t0 = time.perf_counter()
    res = pe.find_cycles(m, max_order=1, seed=0)
    assert time.perf_counter() - t0 < 10.0          # was a MemoryError (2^16 corners per vertex)
    assert res.complete is False and res.stats["per_order"][1]["complete"] is False
