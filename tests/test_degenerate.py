"""Continua of cycles (singular cycle equations) are reported exactly when they exist in their regions."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from naive import naive_gates, naive_map

SEARCHES = {
    "exhaustive": lambda m, K: pe.exhaustive_cycles(m, K),
    "certified": lambda m, K: pe.find_cycles(m, K, strategy="certified"),
    "pruned": lambda m, K: pe.certified.pruned_cycles(m, K),
}


def _check_verified(model, degenerate):
    """Every reported degenerate word has a point whose orbit (naive map) returns after k steps inside it."""
    F, gates = naive_map(model), naive_gates(model)
    for d in degenerate:
        assert d.verified
        z = d.example_point
        for s in range(d.order):
            assert np.array_equal(gates(z) > 0, d.itinerary[s])
            z = F(z)
        np.testing.assert_allclose(z, d.example_point, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("search", SEARCHES)
def test_skew_tent_degenerate_flip(search):
    # a_r = -1: x' = -x + 1 on x > 0, so every x in (0, 1) lies on a 2-cycle inside the right region
    # (pairs {x, 1 - x} around the fixed point 1/2 of the right branch):
    # the word RR is a power of R (multiplier -1, non-singular), and its continuum is new at order 2
    m = pe.systems.skew_tent(0.5, -1.0, 1.0)
    res = SEARCHES[search](m, 3)
    words = {(d.order, tuple(d.itinerary.ravel())) for d in res.degenerate}
    assert words == {(2, (True, True))}
    _check_verified(m, res.degenerate)
    (d,) = res.degenerate
    assert abs(d.example_point[0] - 0.5) > 1e-3       # a genuine 2-cycle point, not the fixed point 1/2


@pytest.mark.parametrize("search", SEARCHES)
def test_rotation_by_two_pi_over_five(search):
    th = 2 * np.pi / 5
    m = pe.PLRNN([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]], np.zeros((2, 2)), [0.0, 0.0])
    res = SEARCHES[search](m, 5)
    orders = {d.order for d in res.degenerate}
    assert orders == {5}, orders                     # every orbit but the origin's is a 5-cycle
    _check_verified(m, res.degenerate)
    assert len(res.degenerate) >= 4                  # rotating cones through the quadrants
    assert [c.order for c in res] == [1]             # only the fixed point at the origin (on the borders)
    assert not res[1][0].stable                      # multipliers on the unit circle: neutral, not stable


@pytest.mark.parametrize("search", SEARCHES)
def test_line_attractor_half_line(search):
    # z1' = z1 on z1 <= 0 (z1' = -0.5 z1 beyond), z2' = 0.5 z2 + relu(z1): a half-line of fixed points
    m = pe.PLRNN([1.0, 0.5], [[-1.5, 0.0], [1.0, 0.0]], [0.0, 1.0])
    res = SEARCHES[search](m, 3)
    # exactly the half-line {(z1, 2): z1 <= 0}; its powers at orders 2, 3 are the same line, not new words
    assert [(d.order, d.itinerary.tolist()) for d in res.degenerate] == [(1, [[False, True]])]
    _check_verified(m, res.degenerate)


def test_identity_map_reports_both_half_lines():
    res = pe.exhaustive_cycles(pe.PLRNN([1.0], [[0.0]], [0.0]), 2)
    assert sorted((d.order, bool(d.itinerary[0, 0])) for d in res.degenerate) == [(1, False), (1, True)]
    assert all(d.verified for d in res.degenerate)


def test_singular_word_without_continuum_in_its_region_is_not_reported():
    # z' = z + 1: every word is singular (multiplier 1) and none has a solution
    m = pe.PLRNN([1.0], [[0.0]], [1.0])
    for search in SEARCHES.values():
        assert search(m, 2).degenerate == []


def test_continuum_on_an_off_border_is_reported():
    # z1' = z1, z2' = 0.5 z2: the line of fixed points z2 = 0 lies on gate 2's border, which counts as off
    res = pe.exhaustive_cycles(pe.PLRNN([1.0, 0.5], [[0, 0], [0, 0]], [0.0, 0.0]), 2)
    assert sorted(d.itinerary.tolist() for d in res.degenerate) == [[[False, False]], [[True, False]]]
    assert all(d.verified and abs(d.example_point[1]) < 1e-12 for d in res.degenerate)
