"""dendPLRNN -> ShallowPLRNN: an exact identity of maps, checked against the definition."""

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.dendritic import dend_plrnn, dend_plrnn_step


@pytest.mark.parametrize("M,B,shared", [(1, 1, False), (3, 2, True), (9, 2, False), (5, 4, False)])
def test_step_and_trajectory_match_the_definition(M, B, shared):
    rng = np.random.default_rng(M * 10 + B)
    A, W, h = rng.uniform(-0.9, 0.9, M), rng.normal(0, 1.5, (M, M)), rng.normal(size=M)
    alphas = rng.normal(size=B) if shared else rng.normal(size=(M, B))
    thetas = rng.normal(size=(M, B))
    s = dend_plrnn(A, W, h, alphas, thetas)
    assert isinstance(s, pe.ShallowPLRNN) and s.n_gates == M * B
    for z in rng.normal(0, 3, (50, M)):
        assert np.allclose(s.step(z), dend_plrnn_step(z, A, W, h, alphas, thetas), rtol=1e-12, atol=1e-12)
    z = rng.normal(size=M)
    ref = [z]
    for _ in range(30):
        ref.append(dend_plrnn_step(ref[-1], A, W, h, alphas, thetas))
    sim = s.simulate(z, 31)
    assert np.allclose(sim, np.array(ref), rtol=1e-9, atol=1e-9)


def test_jacobian_is_the_sum_of_active_bases():
    A, W, h = np.array([0.5, 0.2]), np.array([[0.0, 1.0], [2.0, 0.0]]), np.zeros(2)
    alphas, thetas = np.array([[1.0, 0.5], [2.0, -1.0]]), np.array([[0.0, 1.0], [0.0, 3.0]])
    s = dend_plrnn(A, W, h, alphas, thetas)
    z = np.array([2.0, 1.0])           # unit 0: both bases on (slope 1.5); unit 1: first base on (slope 2)
    expected = np.diag(A) + W @ np.diag([1.5, 2.0])
    assert np.allclose(s.jacobian(z), expected)


def test_bad_input():
    with pytest.raises(ValueError, match="A must be"):
        dend_plrnn(np.eye(2), np.eye(2), [0, 0], [1.0], [0.0])
    with pytest.raises(ValueError, match="W must"):
        dend_plrnn([0.5, 0.5], np.eye(3), [0, 0], [1.0], [0.0])
    with pytest.raises(ValueError, match="thetas"):
        dend_plrnn([0.5, 0.5], np.eye(2), [0, 0], [1.0], np.zeros((3, 1)))
    with pytest.raises(ValueError, match="same number of bases"):
        dend_plrnn([0.5, 0.5], np.eye(2), [0, 0], [1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="z must"):
        dend_plrnn_step([1.0], [0.5, 0.5], np.eye(2), [0, 0], [1.0], [0.0])
