"""Phase-portrait layer under the widgets: Projection, basins (numba vs a NumPy oracle), plotting.phase."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.plotting import phase

GT16 = {"A": [0.8377689, 0.96461297], "W": [[0, -0.64375], [0.52505308, 0]], "h": [0.37298253, -0.97931491]}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def naive_basins(model, cycles, xs, ys, projection, max_steps, tol, escape):
    """Plain-NumPy oracle: iterate each start until it is within tol of a stable cycle point."""
    stable = cycles.stable
    out = np.full((len(ys), len(xs)), -1)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            z = projection.lift([x, y])
            for _ in range(max_steps + 1):
                hit = [ci for ci, c in enumerate(stable) if np.min(np.sum((c.points - z) ** 2, axis=1)) <= tol ** 2]
                if hit:
                    out[i, j] = hit[0]
                    break
                cf = model.canonical
                z = cf.A @ z + cf.W_out @ np.maximum(cf.W_in @ z + cf.b_in, 0) + cf.h
                if not np.all(np.abs(z) <= escape):
                    break
    return out


def random_multistable(rng, M):
    """Random PLRNNs until one has at least one stable cycle up to order 4."""
    while True:
        m = pe.PLRNN(rng.uniform(0.2, 0.9, M), rng.normal(0, 0.9, (M, M)), rng.normal(0, 1, M))
        cyc = pe.exhaustive_cycles(m, 4 if M == 2 else 2)
        if cyc.stable:
            return m, cyc


@pytest.mark.parametrize("M", [2, 3])
def test_basins_match_numpy_oracle(M):
    rng = np.random.default_rng(M)
    for _ in range(4):
        m, cyc = random_multistable(rng, M)
        proj = pe.Projection.coordinates(M, 0, 1) if M == 2 else pe.Projection.pca(np.concatenate(
            [c.points for c in cyc] + [rng.normal(size=(3, M))]))
        xs, ys = np.linspace(-4, 4, 9), np.linspace(-3, 5, 7)
        got = pe.basins(m, cyc, (-4, 4), (-3, 5), (9, 7), projection=proj, max_steps=300, tol=1e-3)
        scale = 1 + np.max(np.abs(np.concatenate([c.points for c in cyc.stable])))
        want = naive_basins(m, cyc, xs, ys, proj, 300, 1e-3, 1e8 * scale)
        np.testing.assert_array_equal(got, want)


def test_basins_analytic_cases():
    contracting = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])   # one global attractor (2, -2)
    lab = pe.basins(contracting, pe.find_cycles(contracting, 2, seed=0), (-5, 5), (-5, 5), 6)
    assert lab.shape == (6, 6) and np.all(lab == 0)
    expanding = pe.PLRNN([1.5, 1.5], [[0, 0], [0, 0]], [1.0, -1.0])    # unstable fixed point only
    lab = pe.basins(expanding, pe.find_cycles(expanding, 2, seed=0), (-5, 5), (-5, 5), 4)
    assert np.all(lab == -1)
    # z0' = 0.5 z0 + relu(z0) - 0.25: stable fixed point -0.5, unstable 0.5; starts beyond 0.5 run off
    m = pe.PLRNN([0.5, 0.5], [[1.0, 0], [0, 0]], [-0.25, 0.0])
    cyc = pe.find_cycles(m, 1, seed=0)
    assert np.allclose([c.points[0, 0] for c in cyc.stable], [-0.5])
    lab = pe.basins(m, cyc, (-2, 2), (-1, 1), (9, 3))
    xs = np.linspace(-2, 2, 9)
    assert np.all(lab[:, xs < 0.5] == 0) and np.all(lab[:, xs > 0.5] == -1)


def test_basins_validates_input():
    m = pe.PLRNN(**GT16)
    cyc = pe.find_cycles(m, 2, seed=0)
    with pytest.raises(TypeError, match="cycles must be a CycleSet"):
        pe.basins(m, [1, 2], (0, 1), (0, 1), 4)
    with pytest.raises(ValueError, match="xlim must satisfy"):
        pe.basins(m, cyc, (1, 0), (0, 1), 4)
    with pytest.raises(TypeError, match="ylim must be a pair"):
        pe.basins(m, cyc, (0, 1), 3, 4)
    with pytest.raises(ValueError, match="n must be >= 2"):
        pe.basins(m, cyc, (0, 1), (0, 1), 1)
    with pytest.raises(ValueError, match="M >= 2"):
        one_d = pe.PLRNN([0.5], [[0.0]], [1.0])
        pe.basins(one_d, pe.find_cycles(one_d, 1, seed=0), (0, 1), (0, 1), 4)
    with pytest.raises(ValueError, match="projection must be a Projection of dimension"):
        pe.basins(m, cyc, (0, 1), (0, 1), 4, projection=pe.Projection.coordinates(3, 0, 1))


def test_projection_roundtrip_and_pca():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 4)) * [5, 3, 0.01, 0.01] + [1, 2, 3, 4]
    p = pe.Projection.pca(pts)
    assert np.allclose(p.basis.T @ p.basis, np.eye(2))
    assert np.allclose(np.abs(p.basis[:2]), np.eye(2), atol=0.05)     # the two wide directions
    xy = rng.normal(size=(5, 2))
    assert np.allclose(p.to_plane(p.lift(xy)), xy)
    c = pe.Projection.coordinates(4, 3, 1, origin=[9, 9, 9, 9])
    assert np.allclose(c.lift([1, 2]), [9, 2, 9, 1])
    with pytest.raises(ValueError, match="different coordinates"):
        pe.Projection.coordinates(3, 1, 1)
    with pytest.raises(ValueError, match="orthonormal"):
        pe.Projection(np.zeros(2), np.ones((2, 2)))
    with pytest.raises(ValueError, match="last dimension M = 4"):
        p.to_plane([1, 2])


@pytest.mark.parametrize("M", [2, 3])
def test_borders_lie_on_gate_hyperplanes(M):
    rng = np.random.default_rng(10 + M)
    m = pe.ShallowPLRNN(rng.uniform(0.3, 0.8, M), rng.normal(size=(M, 4)), rng.normal(size=(4, M)),
                        rng.normal(size=M), rng.normal(size=4))
    proj = pe.Projection.pca(rng.normal(size=(6, M))) if M == 3 else None
    ax = phase.plot_borders(m, projection=proj, xlim=(-3, 3), ylim=(-3, 3))
    (coll,) = [c for c in ax.collections if c.get_gid() == "borders"]
    segs = coll.get_segments()
    assert len(segs) >= 1
    proj = proj or pe.Projection.coordinates(2, 0, 1)
    cf = m.canonical
    for seg in segs:
        z = proj.lift(seg)
        gates = z @ cf.W_in.T + cf.b_in
        assert np.any(np.all(np.abs(gates) < 1e-9, axis=0))       # both ends on one gate's hyperplane
        assert np.all(np.abs(seg) <= 3 + 1e-12)


def test_plot_cycles_styles_stable_and_unstable():
    m = pe.PLRNN(**GT16)
    cyc = pe.find_cycles(m, 16, seed=1)
    ax = phase.plot_cycles(cyc)
    lines = [ln for ln in ax.lines if ln.get_gid() == "cycle"]
    assert len(lines) == len(cyc)
    for ln, c in zip(lines, cyc):
        assert np.allclose(ln.get_xydata()[:-1] if c.order > 1 else ln.get_xydata(), c.points)
        if c.stable:
            assert ln.get_linestyle() == "-" and ln.get_markerfacecolor() != "none"
        else:
            assert ln.get_linestyle() == ":" and ln.get_markerfacecolor() == "none"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("stable 16-cycle") for t in labels)
    assert "unstable fixed points" in labels


def test_plot_trajectory_matches_simulation_and_stops_at_overflow():
    m = pe.PLRNN(**GT16)
    ax = phase.plot_trajectory(m, [0.3, -0.2], 50)
    assert np.allclose(ax.lines[0].get_xydata(), m.simulate([0.3, -0.2], 50))
    blowup = pe.PLRNN([1e200, 1e200], [[0, 0], [0, 0]], [0, 0])
    ax = phase.plot_trajectory(blowup, [1.0, 1.0], 10)
    data = ax.lines[0].get_xydata()
    assert 1 <= len(data) < 10 and np.all(np.isfinite(data))


def test_phase_portrait_with_basins_m3_projection():
    rng = np.random.default_rng(3)
    m, cyc = random_multistable(rng, 3)
    ax = phase.phase_portrait(m, cyc, basins=True, projection=phase.default_projection(m, cyc, pca=True),
                              trajectories=[np.zeros(3)])
    gids = {a.get_gid() for a in ax.lines + ax.collections + ax.images}
    assert {"cycle", "trajectory", "borders", "basins"} <= gids
    assert ax.get_xlabel() == "PC1"
    with pytest.raises(ValueError, match="M >= 2"):
        phase.phase_portrait(pe.PLRNN([0.5], [[0.0]], [1.0]), max_order=1)
