"""Example systems and data generators against analytic values."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer import systems


def test_gt16_parameters_and_stable_16_cycle():
    m = systems.gt16()
    np.testing.assert_array_equal(m.A, [0.8377689, 0.96461297])
    np.testing.assert_array_equal(m.W, [[0, -0.64375], [0.52505308, 0]])
    np.testing.assert_array_equal(m.h, [0.37298253, -0.97931491])
    x = m.simulate([0.5, -1.0], 2000)
    np.testing.assert_allclose(x[-1], x[-17], atol=1e-8)  # period 16
    assert not np.allclose(x[-1], x[-9], atol=1e-3)


@pytest.mark.parametrize("a_l", [-0.3575, 0.0, 0.5])
def test_s7_fixed_point_and_two_cycle(a_l):
    m = systems.s7(a_l)
    fp = np.array([0.107, 0.066875])
    np.testing.assert_allclose(m.step(fp), fp, atol=1e-12)
    # closed-form R point of the 2-cycle (paper.md §7.2)
    ar, bl, br, c, d, h1, h2 = -1.5, -0.4, 0.5, 0.8, 0.2, 0.214, 0.0
    den = (ar * d - br * c) * (a_l * d - bl * c) - c * (bl + br) - d ** 2 - a_l * ar + 1
    x1 = ((1 - d) * h1 + c * h2) * (a_l + d + a_l * d - bl * c + 1) / den
    two = pe.find_cycles(m, 2, seed=0)[2]
    assert len(two) == 1
    assert max(two[0].points[:, 0]) == pytest.approx(x1, rel=1e-9)


def test_skew_tent_fixed_point_and_two_cycle():
    m = systems.skew_tent(0.2, 0.5, 1.0)
    np.testing.assert_allclose(m.step([2.0]), [2.0])
    m = systems.skew_tent(0.2, -1.5, 1.0)
    cyc = pe.find_cycles(m, 2, seed=0)[2][0]
    np.testing.assert_allclose(sorted(cyc.points[:, 0]), [-0.3846153846, 0.9230769231], rtol=1e-9)
    assert m.step(m.step([0.4]))[0] == pytest.approx(0.4)


@pytest.mark.parametrize("regime", list(systems.FIG2_REGIMES))
@pytest.mark.parametrize("M", [2, 10, 20])
def test_random_plrnn_hits_fig2_target(regime, M):
    target = systems.FIG2_REGIMES[regime]
    values = []
    for seed in range(3):
        m = systems.random_plrnn(M, regime, seed=seed)
        assert np.all(np.diag(m.W) == 0)
        # independent evaluation on a fresh random sample of regions
        values.append(systems.mean_max_eigenvalue(m, n_regions=1000, seed=100 + seed))
    assert np.mean(values) == pytest.approx(target, rel=0.08 if M > 8 else 1e-9)


def test_mean_max_eigenvalue_against_explicit_regions():
    rng = np.random.default_rng(0)
    m = pe.PLRNN(rng.uniform(0, 1, 3), rng.normal(size=(3, 3)), rng.normal(size=3))
    radii = []
    for code in range(8):
        r = np.array([(code >> i) & 1 for i in range(3)], bool)
        radii.append(max(abs(np.linalg.eigvals(m.A * np.eye(3) + m.W * r))))
    assert systems.mean_max_eigenvalue(m) == pytest.approx(np.mean(radii), rel=1e-12)


def test_random_plrnn_bad_input():
    with pytest.raises(ValueError, match="target"):
        systems.random_plrnn(3, "chaotic")
    with pytest.raises(ValueError, match="target"):
        systems.random_plrnn(3, 0.2)
    with pytest.raises(TypeError, match="M"):
        systems.random_plrnn(2.5)


def test_simulate_data_noise_and_shapes():
    m = systems.skew_tent(0.2, 0.5, 1.0)
    clean = systems.simulate_data(m, 50, z0=[0.0])
    np.testing.assert_allclose(clean[:, 0], m.simulate([0.0], 50)[:, 0])
    noisy = systems.simulate_data(m, 20000, z0=[2.0], observation_noise=0.5, seed=0)
    assert np.std(noisy - 2.0) == pytest.approx(0.5, rel=0.03)
    proc = systems.simulate_data(m, 20000, z0=[2.0], process_noise=0.1, seed=0)
    # AR(1) around the FP with slope 0.5: stationary std 0.1 / sqrt(1 - 0.25)
    assert np.std(proc[100:]) == pytest.approx(0.1 / np.sqrt(0.75), rel=0.05)
    part = systems.simulate_data(systems.gt16(), 30, n_observed=1, burn_in=5, seed=1)
    assert part.shape == (30, 1)
    with pytest.raises(ValueError, match="n_observed"):
        systems.simulate_data(m, 10, n_observed=2)
    with pytest.raises(ValueError, match="process_noise"):
        systems.simulate_data(m, 10, process_noise=-1.0)


def test_lorenz63_solves_the_ode():
    dt = 0.01
    x = systems.lorenz63(500, dt=dt, seed=0)
    deriv = (x[2:] - x[:-2]) / (2 * dt)
    mid = x[1:-1]
    rhs = np.column_stack([10 * (mid[:, 1] - mid[:, 0]), mid[:, 0] * (28 - mid[:, 2]) - mid[:, 1],
                           mid[:, 0] * mid[:, 1] - 8 / 3 * mid[:, 2]])
    assert np.max(np.abs(deriv - rhs)) < 0.02 * np.max(np.abs(rhs))
    with pytest.raises(ValueError, match="x0"):
        systems.lorenz63(10, x0=[1.0, 2.0])


def test_hodgkin_huxley_spikes_and_rest():
    v = systems.hodgkin_huxley(2000, current=10.0)[:, 0]   # 200 ms
    spikes = np.sum((v[1:] > 0) & (v[:-1] <= 0))
    assert 12 <= spikes <= 15 and v.max() > 20 and v.min() < -70
    rest = systems.hodgkin_huxley(500, current=0.0, variables=("V", "n"))
    assert rest.shape == (500, 2)
    assert rest[-1, 0] == pytest.approx(-65.0, abs=0.5)
    with pytest.raises(ValueError, match="variables"):
        systems.hodgkin_huxley(10, variables=("X",))


def test_uniform_plrnn_draws_in_range_with_zero_diagonal_of_W():
    for seed in range(5):
        m = systems.uniform_plrnn(7, 0.3, seed=seed)
        assert m.dim == 7 and np.all(np.diag(m.W) == 0)
        for arr in (m.A, m.W, m.h):
            assert np.all(np.abs(arr) <= 0.3)
        assert np.abs(m.W).max() > 0.15                  # really uses the range, not a fixed value
    a, b = systems.uniform_plrnn(5, seed=3), systems.uniform_plrnn(5, seed=3)
    assert a == b and a != systems.uniform_plrnn(5, seed=4)


def test_uniform_plrnn_spectral_radius_normalisation_and_fig2_attracting_regime():
    m = systems.uniform_plrnn(12, spectral_radius=0.9, seed=1)
    assert np.max(np.abs(np.linalg.eigvals(np.diag(m.A) + m.W))) == pytest.approx(0.9, rel=1e-12)
    # the "attracting" regime: mean max |eig| over regions close to the paper's 0.71 at every M
    for M in (10, 40):
        lam = np.mean([systems.mean_max_eigenvalue(systems.uniform_plrnn(M, **systems.FIG2_UNIFORM["attracting"],
                                                                          seed=s), n_regions=64) for s in range(4)])
        assert 0.6 < lam < 0.8


def test_uniform_plrnn_expanding_regime_averages_near_the_paper_value():
    lams = [np.mean([systems.mean_max_eigenvalue(systems.uniform_plrnn(M, **systems.FIG2_UNIFORM["expanding"],
                                                                        seed=s), n_regions=64) for s in range(3)])
            for M in (10, 20, 30, 40, 50)]
    assert lams[0] < lams[-1]                              # grows with M
    assert 2.0 < np.mean(lams) < 2.6                       # paper: 2.33 over M = 10..50


@pytest.mark.parametrize("kwargs,exc", [({"M": 0}, ValueError), ({"M": 3, "scale": 0.0}, ValueError),
                                        ({"M": 3, "scale": "1"}, TypeError),
                                        ({"M": 3, "spectral_radius": -1.0}, ValueError)])
def test_uniform_plrnn_bad_input(kwargs, exc):
    with pytest.raises(exc, match="M|scale|spectral_radius"):
        systems.uniform_plrnn(**kwargs)
