"""Located and classified bifurcation events against analytic values (skew tent map, S7 system)."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.bifurcations import EVENT_KINDS


def tent(a_l: float, a_r: float, mu: float = 1.0) -> pe.PLRNN:
    """x' = a_l x + mu (x <= 0), a_r x + mu (x > 0) as a 1-D PLRNN."""
    return pe.PLRNN([a_l], [[a_r - a_l]], [mu])


def s7(a_l: float) -> pe.PLRNN:
    return pe.PLRNN(np.array([[a_l, 0.8], [-0.4, 0.2]]), np.array([[-1.5 - a_l, 0.0], [0.9, 0.0]]),
                    np.array([0.214, 0.0]))


def set_a_r(m: pe.PLRNN, a_r: float) -> pe.PLRNN:
    return tent(m.get_param("A[0,0]"), a_r)


def set_a_l(m: pe.PLRNN, a_l: float) -> pe.PLRNN:
    return s7(a_l)


def s7_den(a_l: float) -> float:
    """Closed-form 2-cycle denominator of paper.md §7.2 (zero at the DTB)."""
    a_r, b_l, b_r, c, d = -1.5, -0.4, 0.5, 0.8, 0.2
    return (a_r * d - b_r * c) * (a_l * d - b_l * c) - c * (b_l + b_r) - d**2 - a_l * a_r + 1


def s7_trace_plus_det(a_l: float) -> float:
    """det(I + P) of the 2-cycle monodromy J_L J_R (zero at the flip)."""
    a_r, b_l, b_r, c, d = -1.5, -0.4, 0.5, 0.8, 0.2
    P = np.array([[a_l * a_r + b_r * c, a_l * c + c * d], [a_r * b_l + b_r * d, d**2 + b_l * c]])
    return float(np.linalg.det(np.eye(2) + P))


def only(events, kinds, order):
    found = [e for e in events if e.kind in kinds and e.order == order]
    assert len(found) == 1, events
    return found[0]


def test_skew_tent_flip_and_dtb_on_a_coarse_grid():
    values = np.arange(-1.52, 1.2, 0.05)           # neither -1 nor +1 is a grid value
    sw = pe.sweep(tent(0.2, 0.0), set_a_r, values, max_order=4, seed=0)
    flip = only(sw.events, ("degenerate_flip", "flip"), 1)
    assert flip.kind == "degenerate_flip"           # PL map: a continuum of 2-cycles at the event
    assert abs(flip.value - (-1.0)) < 1e-8 and flip.refined
    assert not flip.cycle_before.stable and flip.cycle_after.stable
    dtb = only(sw.events, ("degenerate_transcritical",), 1)
    assert abs(dtb.value - 1.0) < 1e-8 and dtb.cycle_after is None and dtb.cycle_before.stable
    bcb = only(sw.events, ("border_collision",), 2)   # the 2-cycle is born on the border at the flip
    assert abs(bcb.value + 1.0) < 1e-8
    assert np.allclose(np.sort(bcb.points.ravel()), [0.0, 1.0], atol=1e-7)   # ends of the continuum [0, 1]
    assert all(e.kind in EVENT_KINDS for e in sw.events)
    # analytic cycle counts: FP for a_r < 1, 2-cycle for a_r < -1, nothing of order 3, 4
    assert np.array_equal(sw.counts[:, 0], (values < 1).astype(int))
    assert np.array_equal(sw.counts[:, 1], (values < -1).astype(int))
    assert not sw.counts[:, 2:].any()


def test_events_exactly_on_grid_values_are_reported_once():
    """Grid values on both events (the README's sweep): at a_r = 1 the fixed point's equation is singular; one DTB there."""
    sw = pe.sweep(pe.systems.skew_tent(0.2, 0.0, 1.0), "W[0,0]", np.linspace(-2.2, 1.3, 71), max_order=4, seed=0)
    assert sorted((e.kind, e.order) for e in sw.events) == [
        ("border_collision", 2), ("degenerate_flip", 1), ("degenerate_transcritical", 1)]
    dtb = only(sw.events, ("degenerate_transcritical",), 1)
    assert abs(dtb.value - 0.8) < 1e-8 and dtb.cycle_after is None


def test_s7_two_cycle_dtb_and_flip_to_1e5():
    a_dtb = float(__import__("scipy.optimize", fromlist=["brentq"]).brentq(s7_den, -0.6, -0.4))
    a_flip = float(__import__("scipy.optimize", fromlist=["brentq"]).brentq(s7_trace_plus_det, 0.4, 0.7))
    assert abs(a_dtb - (-0.482353)) < 1e-6 and abs(a_flip - 0.546341) < 1e-6
    values = np.arange(-0.61, 0.7, 0.05)
    sw = pe.sweep(s7(0.0), set_a_l, values, max_order=4, seed=1)
    dtb = only(sw.events, ("degenerate_transcritical",), 2)
    assert abs(dtb.value - a_dtb) < 1e-8
    assert dtb.cycle_before is None and dtb.cycle_after is not None
    flip = only(sw.events, ("degenerate_flip", "flip"), 2)
    assert abs(flip.value - a_flip) < 1e-8
    assert flip.cycle_before.stable and not flip.cycle_after.stable
    assert -1.2 < np.min(flip.cycle_after.eigenvalues.real) < -1.0 < np.min(flip.cycle_before.eigenvalues.real)


def test_event_points_are_on_the_border():
    sw = pe.sweep(s7(0.0), set_a_l, np.arange(0.4, 0.7, 0.05), max_order=4, seed=0)
    bcb = only(sw.events, ("border_collision",), 4)
    m = s7(bcb.value)
    gates = bcb.points @ m.canonical.W_in.T + m.canonical.b_in
    assert np.min(np.abs(gates)) < 1e-8 * (1 + np.abs(bcb.points).max())
    # it is a 4-cycle of the map at the event value
    z = bcb.points[0]
    assert np.allclose(m.simulate(z, 5)[4], z, atol=1e-8)


def test_persistence_border_collision_and_fold():
    # skew tent with a_l = 0.5: the FP x* = mu/(1 - a) crosses the border as mu changes sign and
    # continues in the other region (persistence) for |a_l|, |a_r| < 1
    m = tent(0.5, -0.5, 1.0)
    sw = pe.sweep(m, "h[0]", np.linspace(-1.03, 1.0, 9), max_order=1, seed=0)
    bcb = only(sw.events, ("border_collision",), 1)
    assert abs(bcb.value) < 1e-10
    assert bcb.cycle_before is not None and bcb.cycle_after is not None
    assert not np.array_equal(bcb.cycle_before.itinerary, bcb.cycle_after.itinerary)
    # a_l = 0.5, a_r = 1.5: for mu < 0 two FPs (x = 2 mu in L, x = -2 mu in R) collide at mu = 0: a fold
    m = tent(0.5, 1.5, -1.0)
    sw = pe.sweep(m, "h[0]", np.linspace(-1.03, 1.0, 9), max_order=1, seed=0)
    fold = only(sw.events, ("fold",), 1)
    assert abs(fold.value) < 1e-10 and fold.cycle_after is None
    assert {fold.cycle_before.stable, fold.partner.stable} == {True, False}


def test_neimark_sacker_of_a_spiral():
    # z' = r R(theta) z + h inside the all-on region, h placing the FP at (10, 10):
    # its complex pair r exp(+-i theta) crosses the unit circle at r = 1
    th = 0.7

    def family(m, r):
        J = r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        return pe.PLRNN(np.zeros((2, 2)), J, (np.eye(2) - J) @ [10.0, 10.0])

    sw = pe.sweep(pe.PLRNN([0.0, 0.0], np.eye(2), [5.0, 5.0]), family, np.arange(0.83, 1.1, 0.05), 1, seed=0)
    ns = only(sw.events, ("neimark_sacker",), 1)
    assert abs(ns.value - 1.0) < 1e-8


def test_training_analysis_finds_planted_event():
    # checkpoints move a_r of the skew tent across the flip at a_r = -1 between epochs 20 and 30;
    # along the straight line a_r = -0.95 - 0.1 (t - 20) / 10 it happens at t = 25
    ckpts = [tent(0.2, a) for a in (-0.5, -0.8, -0.95, -1.05, -1.3)]
    ta = pe.analyze_training(ckpts, 2, losses=[5, 4, 3, 1, 0.5], epochs=[0, 10, 20, 30, 40], seed=0)
    flip = only(ta.events, ("degenerate_flip",), 1)
    assert abs(flip.epoch - 25.0) < 1e-7 and flip.epoch == flip.value
    assert len(ta.cycles) == 5 and ta.cycles[-1].counts() == {1: 1, 2: 1}
    df = ta.to_dataframe()
    assert list(df["kind"]) == [e.kind for e in ta.events]


def test_sweep_counts_match_exhaustive_search():
    values = np.linspace(-0.61, 0.69, 14)
    sw = pe.sweep(s7(0.0), set_a_l, values, max_order=6, seed=3)
    for i in (0, 5, 13):
        ex = pe.exhaustive_cycles(s7(values[i]), 6)
        assert sw.cycles[i].keys() == ex.keys()


def test_same_seed_same_sweep():
    a = pe.sweep(s7(0.0), set_a_l, np.linspace(-0.6, 0.6, 7), max_order=8, seed=5)
    b = pe.sweep(s7(0.0), set_a_l, np.linspace(-0.6, 0.6, 7), max_order=8, seed=5)
    assert np.array_equal(a.counts, b.counts)
    assert [(e.kind, e.value) for e in a.events] == [(e.kind, e.value) for e in b.events]


@pytest.mark.parametrize("values, match", [([], "must not be empty"), ([0.1, 0.3, 0.2], "strictly increasing"),
                                           ([0.1, 0.1], "strictly"), ([0.0, np.nan], "finite")])
def test_bad_values(values, match):
    with pytest.raises(ValueError, match=match):
        pe.sweep(tent(0.2, 0.5), "W[0,0]", values, 2)


def test_bad_param_and_order():
    with pytest.raises(ValueError, match="has no parameter 'B'"):
        pe.sweep(tent(0.2, 0.5), "B[0,0]", [0, 1], 2)
    with pytest.raises(ValueError, match="index"):
        pe.sweep(tent(0.2, 0.5), "W[3,0]", [0, 1], 2)
    with pytest.raises(TypeError, match="parameter path"):
        pe.sweep(tent(0.2, 0.5), 3, [0, 1], 2)
    with pytest.raises(ValueError, match="max_order must be >= 1"):
        pe.sweep(tent(0.2, 0.5), "W[0,0]", [0, 1], 0)
    with pytest.raises(TypeError, match="max_order must be an integer"):
        pe.sweep(tent(0.2, 0.5), "W[0,0]", [0, 1], 2.0)
    with pytest.raises(TypeError, match="must return a plrnn_explorer model"):
        pe.sweep(tent(0.2, 0.5), lambda m, v: None, [0, 1], 2)
    with pytest.raises(ValueError, match="changed the model's class or size"):
        pe.sweep(tent(0.2, 0.5), lambda m, v: s7(v), [0, 1], 2)
    with pytest.raises(ValueError, match="same class and shapes"):
        pe.analyze_training([tent(0.2, 0.5), s7(0.1)], 2)
    with pytest.raises(ValueError, match="strictly increasing"):
        pe.analyze_training([tent(0.2, 0.5), tent(0.2, 0.6)], 2, epochs=[3, 1])
    with pytest.raises(ValueError, match="one entry per checkpoint"):
        pe.analyze_training([tent(0.2, 0.5), tent(0.2, 0.6)], 2, losses=[1.0])
