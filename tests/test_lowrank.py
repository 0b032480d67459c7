"""Order-1 candidates by the low-rank update (``_lowrank``) against the full LU and plain NumPy.

The update must give every candidate the outcome of the full LU: the same
status and the same visited region (the next word of a chain). Each test also
checks that the update was actually used (most candidates accepted): its
acceptance tests would otherwise hide a wrong formula behind the full LU.
"""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import plrnn_explorer as pe
from conftest import MODEL_KINDS, random_model
from plrnn_explorer import _heuristic, _kernels, _lowrank
from plrnn_explorer.itineraries import SINGULAR_RTOL
from test_large_m import reference_check

LOW = _lowrank.LOWRANK_MIN_DIM


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The NumPy references solve many 100-200-dimensional systems: multi-threaded BLAS only waits on a busy machine."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def lowrank_statuses(model, words):
    """(statuses by the low-rank path with full-LU fall-back, number solved by the update)."""
    cf = model.canonical
    lr = _lowrank.precompute_bases(*cf.arrays, SINGULAR_RTOL)
    status = np.zeros(len(words), np.int64)
    n = _lowrank.check_words(*cf.arrays, np.ascontiguousarray(words), lr, SINGULAR_RTOL, status, True)
    return status, n


def full_statuses(model, words):
    status = np.zeros(len(words), np.int64)
    _kernels.check_words(*model.canonical.arrays, np.ascontiguousarray(words), SINGULAR_RTOL, status, True)
    return status


def chain_words(model, rng, n_chains, length):
    """Region words of SCYFI-like chains (random start, then the regions of each candidate), by NumPy."""
    cf = model.canonical
    M, G = cf.dim, cf.n_gates
    words = []
    for _ in range(n_chains):
        d = rng.integers(0, 2, G).astype(np.uint8)
        for _ in range(length):
            words.append(d.copy())
            J, c = cf.piece(d.astype(bool))
            z = np.linalg.solve(np.eye(M) - J, c)
            d = (cf.W_in @ z + cf.b_in > 0).astype(np.uint8)
    return np.array(words, np.uint8)[:, None, :]


def bistable_plrnn(M, n_bistable, rng):
    """A PLRNN whose first n_bistable units are (nearly) independent switches: 2^n_bistable stable fixed points."""
    A = rng.uniform(0.2, 0.6, M)
    W = rng.normal(size=(M, M)) * 0.02 / np.sqrt(M)
    W[np.arange(n_bistable), np.arange(n_bistable)] = 1.0      # a + w > 1 with h < 0: off and on are both stable
    h = rng.normal(size=M)
    h[:n_bistable] = -rng.uniform(0.5, 1.0, n_bistable)
    return pe.PLRNN(A, W, h)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("M, scale, a_max", [(LOW, 3.0, 1.0), (128, 0.5, 0.8), (128, 3.0, 1.0), (200, 3.0, 0.8)])
def test_lowrank_outcomes_equal_the_full_lu_and_numpy(kind, M, scale, a_max):
    rng = np.random.default_rng(M + int(10 * scale) + 1000 * MODEL_KINDS.index(kind) + int(10 * a_max))
    model = random_model(rng, kind, M, H=max(8, M // 4), scale=scale / np.sqrt(M))
    params = dict(model.params)
    params["A"] = np.clip(params["A"], -a_max, a_max)
    if kind == "ALRNN":
        params["n_relu"] = M // 2
    model = type(model)(**params)
    G = model.n_gates
    words = np.concatenate([rng.integers(0, 2, size=(30, 1, G)).astype(np.uint8),
                            (rng.random((10, 1, G)) < 0.8).astype(np.uint8),     # near the all-on base
                            chain_words(model, rng, 4, 5)])
    got, n_lowrank = lowrank_statuses(model, words)
    assert np.array_equal(got, full_statuses(model, words))
    if a_max < 1.0:
        # the update did the work (with a multiplier of A near 1, 1 / (1 - a) inflates the bound of test 1 and
        # more candidates may fall back to the full LU)
        assert n_lowrank >= 0.8 * len(words), n_lowrank
    n_checked = 0
    for i, w in enumerate(words):
        want, _, _ = reference_check(model, w)
        if want is not None:
            n_checked += 1
            assert got[i] == want, i
    assert n_checked >= 0.8 * len(words)


def test_lowrank_finds_every_fixed_point_of_a_multistable_system():
    rng = np.random.default_rng(5)
    M = 128
    model = bistable_plrnn(M, 8, rng)
    cf = model.canonical
    words = rng.integers(0, 2, size=(120, 1, M)).astype(np.uint8)                 # the other units are contracting and off at the fixed points (h there: any)
    # fixed points: random switch patterns, completed by iterating the regions of their solutions
    for w in words:
        for _ in range(3):
            J, c = cf.piece(w[0].astype(bool))
            z = np.linalg.solve(np.eye(M) - J, c)
            w[0] = cf.W_in @ z + cf.b_in > 0
    got, n_lowrank = lowrank_statuses(model, words)
    assert np.array_equal(got, full_statuses(model, words))
    assert n_lowrank == len(words)
    consistent = {w.tobytes() for w, s in zip(words, got) if s == _kernels.CONSISTENT}
    want = {w.tobytes() for w in words if reference_check(model, w)[0] == _kernels.CONSISTENT}
    assert consistent == want and len(want) > 60


def _search(model, monkeypatch, lowrank):
    with monkeypatch.context() as mp:
        if not lowrank:
            mp.setattr(_heuristic, "precompute_bases", lambda *args: _lowrank.disabled_bases())
        res = pe.find_cycles(model, 1, strategy="scyfi", seed=3, outer_loop_iterations=10,
                             inner_loop_iterations=10)
    return {c.itinerary.tobytes() for c in res[1]}, res.stats["per_order"][1]


@pytest.mark.parametrize("kind", ["PLRNN", "ShallowPLRNN"])
def test_heuristic_search_finds_the_same_fixed_points_with_and_without_the_update(kind, monkeypatch):
    rng = np.random.default_rng(8)
    M = LOW + 16
    if kind == "PLRNN":
        model = bistable_plrnn(M, 5, rng)
    else:
        model = pe.ShallowPLRNN(rng.uniform(0.2, 0.8, M), rng.normal(size=(M, 24)) * 1.5 / np.sqrt(M),
                                rng.normal(size=(24, M)), rng.normal(size=M), rng.normal(size=24))
    with_update, st = _search(model, monkeypatch, True)
    without, st_full = _search(model, monkeypatch, False)
    assert with_update == without
    assert st["candidates_solved"] == st_full["candidates_solved"]        # the same chains, step for step
    assert st["lowrank_solves"] >= 0.8 * st["candidates_solved"] and st_full["lowrank_solves"] == 0
    if kind == "PLRNN":
        assert len(with_update) == 32                                      # every switch pattern
    for key in with_update:                                                # and each is a true fixed point
        w = np.frombuffer(key, dtype=bool).astype(np.uint8).reshape(1, -1)
        assert reference_check(model, w)[0] == _kernels.CONSISTENT


def _singular_unit_plrnn(M, eps, rng):
    """Unit 0 has multiplier 1 + eps exactly when its own gate is on: those patterns are (near-)singular."""
    A = rng.uniform(0.2, 0.6, M)
    A[0] = 0.5
    W = rng.normal(size=(M, M)) / np.sqrt(M)
    W[0, :] = 0.0
    W[:, 0] = 0.0
    W[0, 0] = 0.5 + eps
    return pe.PLRNN(A, W, rng.normal(size=M))


@pytest.mark.parametrize("eps, singular", [(0.0, True), (1e-14, True), (1e-6, False)])
def test_near_singular_patterns_are_flagged_as_by_the_full_lu(eps, singular):
    rng = np.random.default_rng(2)
    M = 128
    model = _singular_unit_plrnn(M, eps, rng)
    words = rng.integers(0, 2, size=(60, 1, M)).astype(np.uint8)
    got, n_lowrank = lowrank_statuses(model, words)
    assert np.array_equal(got, full_statuses(model, words))
    unit_on = words[:, 0, 0] == 1
    assert np.all((got[unit_on] == _kernels.SINGULAR) == singular)
    assert not np.any(got[~unit_on] == _kernels.SINGULAR)
    assert n_lowrank >= 0.8 * (~unit_on).sum()     # the (near-)singular ones fall back to the full LU


def test_disabled_below_the_crossover_and_for_higher_orders(monkeypatch):
    rng = np.random.default_rng(4)
    small = random_model(rng, "PLRNN", LOW - 1, scale=0.5 / np.sqrt(LOW))
    assert len(_lowrank.precompute_bases(*small.canonical.arrays, SINGULAR_RTOL)[0]) == 0
    res = pe.find_cycles(small, 1, strategy="scyfi", seed=0, outer_loop_iterations=3, inner_loop_iterations=5)
    assert res.stats["per_order"][1]["lowrank_solves"] == 0
    large = random_model(rng, "PLRNN", LOW, scale=0.5 / np.sqrt(LOW))
    res = pe.find_cycles(large, 2, strategy="scyfi", seed=0, outer_loop_iterations=3, inner_loop_iterations=5)
    assert res.stats["per_order"][1]["lowrank_solves"] > 0
    assert res.stats["per_order"][2]["lowrank_solves"] == 0
