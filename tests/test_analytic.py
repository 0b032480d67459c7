"""Analytic reference cases from paper.md §7."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe


def skew_tent(a_l, a_r, mu=1.0):
    """x' = a_l x + mu (x <= 0), a_r x + mu (x > 0) as a 1-D PLRNN."""
    return pe.PLRNN([a_l], [[a_r - a_l]], [mu])


@pytest.mark.parametrize("a_r", [-0.9, -0.5, 0.0, 0.5, 0.9])
def test_skew_tent_fixed_point(a_r):
    res = pe.find_cycles(skew_tent(0.2, a_r), 4, seed=0)
    assert len(res[1]) == 1
    fp = res[1][0]
    np.testing.assert_allclose(fp.points[0, 0], 1 / (1 - a_r), rtol=1e-12)
    np.testing.assert_allclose(fp.eigenvalues, [a_r], atol=1e-12)
    assert fp.stable


@pytest.mark.parametrize("a_r", [-2.0, -1.5, -1.2])
def test_skew_tent_two_cycle_closed_form(a_r):
    a_l = 0.2
    res = pe.find_cycles(skew_tent(a_l, a_r), 4, seed=0)
    (cyc,) = res[2]
    x_R = (1 + a_l) / (1 - a_l * a_r)
    x_L = (1 + a_r) / (1 - a_l * a_r)
    np.testing.assert_allclose(sorted(cyc.points[:, 0]), sorted([x_L, x_R]), rtol=1e-12)
    np.testing.assert_allclose(cyc.eigenvalues, [a_l * a_r], rtol=1e-12)
    assert cyc.stable
    # the fixed point 1/(1 - a_r) is unstable (|a_r| > 1)
    assert len(res[1]) == 1 and not res[1][0].stable
    assert res[3] == [] and res[4] == []


def test_skew_tent_reference_values():
    res = pe.find_cycles(skew_tent(0.2, -1.5), 4, seed=0)
    np.testing.assert_allclose(res[1][0].points[0, 0], 0.4)
    np.testing.assert_allclose(res[1][0].eigenvalues, [-1.5])
    np.testing.assert_allclose(sorted(res[2][0].points[:, 0]), [-0.3846153846, 0.9230769231], rtol=1e-9)
    assert pe.find_cycles(skew_tent(0.2, 0.5), 4, seed=0)[1][0].points[0, 0] == pytest.approx(2.0)
    assert pe.find_cycles(skew_tent(0.2, 0.9), 4, seed=0)[1][0].points[0, 0] == pytest.approx(10.0)


def s7(a_l):
    return pe.PLRNN([[a_l, 0.8], [-0.4, 0.2]], [[-1.5 - a_l, 0], [0.9, 0]], [0.214, 0])


S7_TABLE = [  # a_l, R point, L point, multipliers (paper.md §7.2)
    (-0.48, (50.504, 27.5525), (-53.5, 30.7625), (0.99723, -0.15723)),
    (-0.3575, (1.1000, 0.5347), (-1.0082, 0.6569), (0.8588, -0.2026)),
    (0.0, (0.39668, 0.15006), (-0.26098, 0.22835), (0.53707, -0.41707)),
    (0.5, (0.27166, 0.08169), (-0.12814, 0.15217), (0.31208, -0.94208)),
]


@pytest.mark.parametrize("a_l,R,L,lam", S7_TABLE)
def test_s7_two_cycle(a_l, R, L, lam):
    res = pe.find_cycles(s7(a_l), 2, seed=0)
    (fp,) = res[1]
    np.testing.assert_allclose(fp.points[0], [0.107, 0.066875], rtol=1e-9)
    np.testing.assert_allclose(np.sort(fp.eigenvalues.real), [-1.70948, 0.40948], atol=1e-5)
    (cyc,) = res[2]
    R_pt = cyc.points[cyc.points[:, 0] > 0][0]
    L_pt = cyc.points[cyc.points[:, 0] <= 0][0]
    np.testing.assert_allclose(R_pt, R, rtol=2e-4, atol=1e-4)
    np.testing.assert_allclose(L_pt, L, rtol=2e-4, atol=1e-4)
    np.testing.assert_allclose(np.sort(cyc.eigenvalues.real)[::-1], lam, atol=1e-4)


@pytest.mark.parametrize("a_l", np.linspace(-0.45, 0.5, 7))
def test_s7_two_cycle_closed_form(a_l):
    a_r, b_l, b_r, c, d, h1, h2 = -1.5, -0.4, 0.5, 0.8, 0.2, 0.214, 0.0
    den = (a_r * d - b_r * c) * (a_l * d - b_l * c) - c * (b_l + b_r) - d**2 - a_l * a_r + 1
    xR = ((1 - d) * h1 + c * h2) * (a_l + d + a_l * d - b_l * c + 1) / den
    xL = ((1 - d) * h1 + c * h2) * (a_r + d + a_r * d - b_r * c + 1) / den
    mono = np.array([[a_l * a_r + b_r * c, a_l * c + c * d], [a_r * b_l + b_r * d, d**2 + b_l * c]])
    (cyc,) = pe.find_cycles(s7(a_l), 2, seed=0)[2]
    np.testing.assert_allclose(sorted(cyc.points[:, 0]), sorted([xL, xR]), rtol=1e-10)
    np.testing.assert_allclose(np.sort_complex(cyc.eigenvalues), np.sort_complex(np.linalg.eigvals(mono)),
                               rtol=1e-10, atol=1e-12)


def test_single_fixed_point_system():
    m = pe.PLRNN([-0.0222311, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
    res = pe.find_cycles(m, 1, seed=0)
    (fp,) = res[1]
    np.testing.assert_allclose(fp.points[0].round(2), [0.36, -22.26])
    np.testing.assert_allclose(np.sort(fp.eigenvalues.real), [-0.0222311, 0.96461297], atol=1e-6)


def test_holes_system_has_exactly_one_fixed_point():
    m = pe.PLRNN([0.7, -0.7], [[0, -0.14375], [0.52505308, 0]], [0.37298253, -0.97931491])
    assert len(pe.find_cycles(m, 1, seed=0)[1]) == 1
    assert len(pe.exhaustive_cycles(m, 1)[1]) == 1


def test_gt16_has_a_stable_16_cycle(gt16):
    res = pe.find_cycles(gt16, 16, seed=1)
    assert [(c.order, c.kind) for c in res.stable] == [(16, "stable spiral")]
    (fp,) = res[1]
    assert fp.kind == "unstable spiral"


def test_line_attractor_is_reported_as_degenerate():
    # z' = z + relu(z) * (-1) + 0  -> for z <= 0: z' = z (a half-line of fixed points)
    m = pe.PLRNN([1.0], [[-1.5]], [0.0])
    res = pe.find_cycles(m, 1, seed=0)
    assert res[1] == []
    assert len(res.degenerate) == 1
    d = res.degenerate[0]
    assert d.order == 1 and not d.itinerary[0, 0]
    np.testing.assert_allclose(d.eigenvalues, [1.0])


def test_degenerate_flip_continuum_of_two_cycles():
    # skew tent at a_r = -1, a_l = 0.2: the right branch x' = -x + 1 has a continuum of 2-cycles
    # only if both points stay right; with a_l = -1 too the whole line is a continuum
    m = skew_tent(-1.0, -1.0, 1.0)
    res = pe.exhaustive_cycles(m, 2)
    assert res[2] == []
    assert any(d.order == 2 for d in res.degenerate)


def test_border_cycle_is_flagged():
    # fixed point exactly on the border z = 0: z' = 0.5 z + relu(z) + 0  -> z* = 0
    m = pe.PLRNN([0.5], [[1.0]], [0.0])
    (fp,) = pe.exhaustive_cycles(m, 1)[1]
    assert fp.on_border and fp.border_margin == 0.0


def test_cycle_from_itinerary_round_trip(gt16):
    res = pe.find_cycles(gt16, 16, seed=1)
    for c in res:
        again = pe.cycle_from_itinerary(gt16, np.roll(c.itinerary, 3, axis=0))
        assert again.same_as(c)
        np.testing.assert_allclose(again.points, c.points, rtol=1e-9, atol=1e-12)
