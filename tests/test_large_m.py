"""Cycle solves at large M: the BLAS/LAPACK path against plain NumPy and against the scalar path.

Both paths are forced through the kernels' ``path`` argument, so each runs at
every dimension, around the crossover ``BLAS_MIN_DIM`` too. The reference
solves the cycle equation with ``np.linalg.solve`` on the affine pieces of the
canonical form and checks the regions with the model's own equations.
"""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from conftest import MODEL_KINDS, random_model
from naive import naive_gates, naive_map
from plrnn_explorer import _kernels
from plrnn_explorer.itineraries import SINGULAR_RTOL

PATHS = (None, True)     # the kernels' ``blas`` argument: scalar loops, BLAS/LAPACK
CROSS = _kernels.BLAS_MIN_DIM
#: a reference point this close (relative) to a gate border may fall on either side by rounding
AMBIGUOUS = 1e-7


def reference_check(model, word):
    """(status, z_1, P) of ``word`` by NumPy; status as the kernels' outcomes, None when too close to call."""
    cf = model.canonical
    M = cf.dim
    P, v = np.eye(M), np.zeros(M)
    for r in word.astype(bool):
        J, c = cf.piece(r)
        P, v = J @ P, J @ v + c
    system = np.eye(M) - P
    if np.linalg.cond(system) > 1e8:
        return None, None, P                                # near the singularity threshold: either answer
    z1 = np.linalg.solve(system, v)
    F, gates = naive_map(model), naive_gates(model)
    z = z1
    for s in range(len(word)):
        g = gates(z)
        if not np.all(np.isfinite(g)):
            return None, z1, P
        scale = np.abs(z).max() + 1.0
        if np.any(np.abs(g) <= AMBIGUOUS * scale):
            return None, z1, P
        if not np.array_equal(g > 0, word[s].astype(bool)):
            return _kernels.INCONSISTENT, z1, P
        z = F(z)
    return _kernels.CONSISTENT, z1, P


def random_words(rng, n, k, G):
    return rng.integers(0, 2, size=(n, k, G)).astype(np.uint8)


def statuses(model, words, path):
    status = np.zeros(len(words), np.int64)
    _kernels.check_words(*model.canonical.arrays, np.ascontiguousarray(words), SINGULAR_RTOL, status, path)
    return status


def paths_match_numpy(model, rng) -> int:
    """Both paths against :func:`reference_check` on 24 random words of each order 1..3: statuses, first cycle
    points and monodromies. Returns how many words were compared (the others are too close to a border to call)."""
    cf = model.canonical
    n_checked = 0
    for k in (1, 2, 3):
        words = random_words(rng, 24, k, cf.n_gates)
        got = {path: statuses(model, words, path) for path in PATHS}
        for i, w in enumerate(words):
            want, z1, P = reference_check(model, w)
            if want is None:
                continue
            n_checked += 1
            for path in PATHS:
                assert got[path][i] == want, (path, k, i)
                pts, mono, ok = _kernels.cycle_points(*cf.arrays, w, SINGULAR_RTOL, path)
                assert ok
                np.testing.assert_allclose(pts[0], z1, rtol=1e-7, atol=1e-9 * (1 + np.abs(z1).max()))
                np.testing.assert_allclose(mono, P, rtol=1e-9, atol=1e-12 * (1 + np.abs(P).max()))
    return n_checked


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("M", [3, CROSS - 1, CROSS + 1])
@pytest.mark.parametrize("scale", [0.3, 3.0])          # contracting, and strongly expanding (chaotic)
def test_both_paths_match_numpy(kind, M, scale):
    rng = np.random.default_rng(M * 100 + int(10 * scale) + MODEL_KINDS.index(kind))
    model = random_model(rng, kind, M, H=4, scale=scale / np.sqrt(M))
    assert paths_match_numpy(model, rng) >= 40          # the comparison is not vacuous


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_gates_reading_one_coordinate_with_biases_match_numpy(scale):
    """The BLAS path's structured products (diagonal A, each gate reads one coordinate) with what PLRNN and ALRNN
    never have: gate biases, scaled reads, and two gates reading the same coordinate."""
    rng = np.random.default_rng(int(10 * scale))
    M, G = CROSS + 2, CROSS + 8
    cols = np.concatenate([rng.permutation(M), rng.integers(0, M, G - M)])
    W_in = np.zeros((G, M))
    W_in[np.arange(G), cols] = rng.choice([-1.0, 1.0], G) * rng.uniform(0.5, 2.0, G)
    model = pe.CanonicalPLRNN(np.diag(rng.uniform(-0.9, 0.9, M)), rng.normal(size=(M, G)) * scale / np.sqrt(G),
                              W_in, rng.normal(size=G), rng.normal(size=M))
    assert paths_match_numpy(model, rng) >= 40


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_auto_path_is_the_scalar_path_below_the_crossover_and_blas_above(kind):
    rng = np.random.default_rng(7)
    for M, forced in ((CROSS - 1, None), (CROSS, True)):
        model = random_model(rng, kind, M, H=3, scale=1 / np.sqrt(M))
        word = random_words(rng, 1, 2, model.n_gates)[0]
        assert model.canonical.blas is forced
        auto = _kernels.cycle_points(*model.canonical.arrays, word, SINGULAR_RTOL, model.canonical.blas)
        same = _kernels.cycle_points(*model.canonical.arrays, word, SINGULAR_RTOL, forced)
        assert auto[2] and same[2]
        assert np.array_equal(auto[0], same[0]) and np.array_equal(auto[1], same[1])   # bit for bit


def _neutral_direction_plrnn(M, rng):
    """A PLRNN whose first coordinate has multiplier exactly 1 in every region: every cycle equation is singular."""
    A = rng.uniform(-0.5, 0.5, M)
    A[0] = 1.0
    W = rng.normal(size=(M, M)) / np.sqrt(M)
    W[0, :] = 0.0
    W[:, 0] = 0.0
    return pe.PLRNN(A, W, rng.normal(size=M))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("M", [3, CROSS + 6])
def test_singular_equations_are_reported_not_raised(path, M):
    rng = np.random.default_rng(M)
    model = _neutral_direction_plrnn(M, rng)
    cf = model.canonical
    words = random_words(rng, 20, 2, cf.n_gates)
    assert np.all(statuses(model, words, path) == _kernels.SINGULAR)
    assert not _kernels.cycle_points(*cf.arrays, words[0], SINGULAR_RTOL, path)[2]
    # a multiplier 1 + 1e-14 is singular to the pivot test, 1 + 1e-6 is not: on both paths
    for eps, singular in ((1e-14, True), (1e-6, False)):
        p = dict(model.params)
        A = p["A"].copy()
        A[0] = 1.0 + eps
        near = pe.PLRNN(A, p["W"], p["h"])
        assert np.all((statuses(near, words, path) == _kernels.SINGULAR) == singular)


def test_singular_words_become_degenerate_itineraries_at_large_m():
    # the public searches take the BLAS path at this size; a singular equation is a result, not an error
    M = CROSS + 2
    A = np.full(M, 0.5)
    A[0] = 1.0
    h = np.zeros(M)
    h[-2:] = [0.3, -0.2]                 # fixed line: z_0 free, ReLU units at 0.6 (on) and -0.4 (off)
    model = pe.ALRNN(A, np.zeros((M, M)), h, n_relu=2)
    res = pe.exhaustive_cycles(model, 2)
    assert res.counts() == {1: 0, 2: 0}
    (line,) = res.degenerate
    assert line.order == 1 and line.itinerary.tolist() == [[True, False]]


@pytest.mark.parametrize("kind", ["ALRNN", "ShallowPLRNN", "ClippedShallowPLRNN"])
def test_exhaustive_search_is_the_same_on_both_paths_and_matches_numpy(kind):
    # few gates, large M: complete enumeration is affordable above the crossover
    rng = np.random.default_rng(3)
    M = CROSS + 4
    model = random_model(rng, kind, M, H=2, scale=2.0 / np.sqrt(M))
    if kind == "ALRNN":
        model = pe.ALRNN(model.params["A"], model.params["W"], model.params["h"], n_relu=4)
    cf = model.canonical
    G = cf.n_gates
    for k in (1, 2, 3):
        found = {}
        for path in PATHS:
            words = np.zeros((4096, k, G), np.uint8)
            singular = np.zeros((4096, k, G), np.uint8)
            counts = np.zeros(4, np.int64)
            letters, pos = np.full(k, -1, np.int64), np.ones(1, np.int64)
            _kernels.exhaustive_order(*cf.arrays, k, SINGULAR_RTOL, letters, pos, words, singular, counts, 2**62,
                                      path)
            assert pos[0] == 0
            assert counts[3] == 0
            found[path] = {w.tobytes() for w in words[: counts[0]]}
        assert found[PATHS[0]] == found[PATHS[1]]
        # NumPy: every Lyndon word of length k, checked independently
        want, ambiguous = set(), set()
        for code in range(2 ** (G * k)):
            w = np.array([(code >> (G * k - 1 - b)) & 1 for b in range(G * k)], np.uint8).reshape(k, G)
            rows = [tuple(r) for r in w]
            if any(tuple(rows[i:] + rows[:i]) <= tuple(rows) for i in range(1, k)):
                continue                                      # not a Lyndon word
            status, _, _ = reference_check(model, w)
            if status is None:
                ambiguous.add(w.tobytes())
            elif status == _kernels.CONSISTENT:
                want.add(w.tobytes())
        assert found[PATHS[1]] - ambiguous == want - ambiguous


def test_find_cycles_above_the_crossover_returns_true_cycles():
    rng = np.random.default_rng(11)
    M = 2 * CROSS
    model = pe.PLRNN(rng.uniform(0.2, 0.9, M), rng.normal(size=(M, M)) * 0.5 / np.sqrt(M), rng.normal(size=M))
    res = pe.find_cycles(model, 2, strategy="scyfi", seed=0, outer_loop_iterations=5, inner_loop_iterations=10)
    F, gates = naive_map(model), naive_gates(model)
    z = np.zeros(M)
    for _ in range(3000):                                   # the attracting fixed point, by iterating the map
        z = F(z)
    assert any(np.allclose(c.points[0], z, rtol=1e-9, atol=1e-9) for c in res[1])
    for k in (1, 2):
        for cyc in res[k]:
            for s in range(k):
                np.testing.assert_allclose(F(cyc.points[s]), cyc.points[(s + 1) % k], rtol=1e-8, atol=1e-8)
                assert np.array_equal(gates(cyc.points[s]) > 0, cyc.itinerary[s])
