"""SCYFI and the exhaustive search against the plain-NumPy oracle and each other."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plrnn_explorer as pe
from conftest import MODEL_KINDS, random_model, small_models
from naive import naive_exhaustive, naive_gates, naive_map


def _max_order(model, budget_bits: int = 12) -> int:
    return max(1, min(5, budget_bits // max(model.n_gates, 1)))


def _same_cycle_sets(a: pe.CycleSet, b: pe.CycleSet) -> None:
    assert a.orders == b.orders
    for k in a.orders:
        ka = {c.key: c for c in a[k]}
        kb = {c.key: c for c in b[k]}
        assert ka.keys() == kb.keys(), f"order {k}: cycles differ"
        for key, ca in ka.items():
            cb = kb[key]
            assert ca.stable == cb.stable and ca.kind == cb.kind
            np.testing.assert_allclose(ca.points, cb.points, rtol=1e-8, atol=1e-8)
            np.testing.assert_allclose(np.sort_complex(ca.eigenvalues), np.sort_complex(cb.eigenvalues),
                                       rtol=1e-7, atol=1e-9)


@given(small_models(max_gates=3))
@settings(max_examples=60)
def test_exhaustive_matches_naive_numpy_oracle(model):
    K = _max_order(model, 9)
    fast = pe.exhaustive_cycles(model, K)
    slow = naive_exhaustive(model, K)
    for k in range(1, K + 1):
        assert len(fast[k]) == len(slow[k]), f"order {k}"
        for pts, lam in slow[k]:
            # locate the same cycle (any rotation) among the fast results
            matches = [c for c in fast[k]
                       if any(np.allclose(np.roll(pts, -r, axis=0), c.points, rtol=1e-7, atol=1e-7)
                              for r in range(k))]
            assert len(matches) == 1
            np.testing.assert_allclose(np.sort_complex(matches[0].eigenvalues), np.sort_complex(lam),
                                       rtol=1e-7, atol=1e-9)


@given(small_models(max_gates=4), st.integers(0, 2**31 - 1))
@settings(max_examples=200, derandomize=True)
def test_scyfi_heuristic_equals_exhaustive(model, seed):
    """The randomised heuristic alone (no exact enumeration) finds every cycle, with the same stability."""
    K = _max_order(model, 16)
    _same_cycle_sets(pe.find_cycles(model, K, seed=seed, strategy="scyfi"), pe.exhaustive_cycles(model, K))


@given(small_models(max_gates=4), st.integers(0, 2**31 - 1))
@settings(max_examples=100, derandomize=True)
def test_find_cycles_default_equals_exhaustive(model, seed):
    K = _max_order(model, 16)
    _same_cycle_sets(pe.find_cycles(model, K, seed=seed), pe.exhaustive_cycles(model, K))


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_heuristic_recall_on_random_systems(kind):
    """The randomised heuristic at the paper's budgets on 60 random systems per model type, M <= 3, k <= 5."""
    rng = np.random.default_rng(sum(map(ord, kind)))
    total = missed = 0
    for trial in range(60):
        model = random_model(rng, kind, int(rng.integers(1, 4)), int(rng.integers(1, 3)))
        K = _max_order(model, 15)
        exact = pe.exhaustive_cycles(model, K)
        found = pe.find_cycles(model, K, seed=trial, strategy="scyfi")
        assert found.keys() <= exact.keys(), "heuristic reported a cycle the oracle does not have"
        total += len(exact)
        missed += len(exact.keys() - found.keys())
    assert total > 50
    assert missed == 0, f"missed {missed} of {total} cycles"


def test_cycles_are_real_orbits_of_the_naive_map():
    rng = np.random.default_rng(7)
    for kind in MODEL_KINDS:
        for _ in range(10):
            model = random_model(rng, kind, 3, 2)
            F, gates = naive_map(model), naive_gates(model)
            for c in pe.find_cycles(model, 4, seed=1):
                k = c.order
                for j in range(k):
                    np.testing.assert_allclose(F(c.points[j]), c.points[(j + 1) % k], rtol=1e-8, atol=1e-8)
                    assert np.array_equal(gates(c.points[j]) > 0, c.itinerary[j])
                # minimal period: no earlier return
                assert all(not np.allclose(c.points[d], c.points[0]) for d in range(1, k))


def test_seed_makes_runs_reproducible(gt16):
    a = pe.find_cycles(gt16, 16, seed=3)
    b = pe.find_cycles(gt16, 16, seed=3)
    assert [c.key for c in a] == [c.key for c in b]
    assert a.stats["candidates_solved"] == b.stats["candidates_solved"]


def test_orders_argument_searches_only_those_orders(gt16):
    res = pe.find_cycles(gt16, orders=[1, 16], seed=0)
    assert res.orders == [1, 16]
    assert len(res[1]) == 1 and len(res[16]) == 2
    assert res[2] == []


def test_search_statistics_are_consistent(gt16):
    st = pe.find_cycles(gt16, orders=[16], seed=2, strategy="scyfi").stats["per_order"][16]
    assert st["found"] == 2 and st["strategy"] == "scyfi"
    assert 1 <= st["chain_length_at_last_find"] <= st["solves_until_last_find"] <= st["candidates_solved"]
    assert st["random_restarts"] >= st["outer_loop_iterations"]
    # a globally attracting 1-D map: the first chain converges to the fixed point in at most two solves
    st1 = pe.find_cycles(pe.PLRNN([0.5], [[0.2]], [1.0]), orders=[1], seed=0, strategy="scyfi").stats["per_order"][1]
    assert st1["chain_length_at_last_find"] <= 2
