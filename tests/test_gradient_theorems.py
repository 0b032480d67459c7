"""Flip and border-collision cases of the gradient theorems (training/theorem.py)."""

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.training.theorem import GradientDivergence, gt16_bcb_demo, gt16_dtb_setup, gt16_flip_demo


def test_flip_fixed_point_stays_finite_and_reaches_minus_one():
    model, _, param, _ = gt16_dtb_setup(n_steps=10)
    for a11 in (-0.9, -0.99, -0.999):
        m = model.set_param(param, a11)
        fps = [c for c in pe.exhaustive_cycles(m, 1)[1] if c.points[0, 0] > 0 and c.points[0, 1] <= 0]
        assert len(fps) == 1 and fps[0].stable
        assert np.min(np.abs(fps[0].eigenvalues - a11)) < 1e-12
        assert np.all(np.abs(fps[0].points) < 2.0)     # finite, unlike the DTB's escaping point


def test_flip_gradient_grows_with_the_approach_and_with_the_sequence():
    short = gt16_flip_demo(n_points=31, min_fraction=1e-6, n_steps=20000)
    long_ = gt16_flip_demo(n_points=31, min_fraction=1e-6, n_steps=200000)
    assert short.grad_norms[-1] > 100 * short.grad_norms[10]
    assert long_.grad_norms[-1] > 5 * short.grad_norms[-1]
    assert short.losses.max() < 2.0                    # the loss stays bounded: the fixed point is finite
    gtf = gt16_flip_demo(n_points=31, min_fraction=1e-6, n_steps=20000, method="gtf", alpha=0.1)
    assert gtf.growth(1e-4) < 1.01


def test_bcb_gradient_wrt_w_vanishes_linearly():
    gd = gt16_bcb_demo(n_points=21, min_fraction=1e-4, n_steps=20000)
    assert 0.95 < gd.slope(1e-4, 1e-2) < 1.05
    assert gd.grad_norms[-1] < 1e-3 * gd.grad_norms[0]
    # d z* / d W[1,0] = (I - J)^{-1} e_1 z1* is linear in z1* = h1 / (1 - a00): |grad_W| / z1* is constant
    # (up to the initial transient, which bends it by a few per cent at the closest points)
    model, data, _, _ = gt16_dtb_setup(n_steps=20000)
    z1 = gd.values / (1 - model.A[0])
    ratio = gd.grad_norms / z1
    assert np.ptp(ratio[-12:]) < 0.05 * ratio[-1]
    all_params = gt16_bcb_demo(n_points=21, min_fraction=1e-4, n_steps=20000, params=None)
    assert np.all(all_params.grad_norms > 1.0)       # the total gradient does not vanish
    # beyond the border both units are off at the fixed point: only the transient is left
    _, g_past = pe.training.loss_and_gradient(model.set_param("h[0]", -0.1), data, params=["W"])
    assert np.linalg.norm(np.concatenate([np.ravel(v) for v in g_past.values()])) < 1e-3 * gd.grad_norms[0]


def test_slope_validates_its_range():
    f = np.logspace(0, -2, 3)
    gd = GradientDivergence("h[0]", 0.0, f, f, f, np.ones(3), f)
    with pytest.raises(ValueError, match="fewer than 2"):
        gd.slope(0.5, 0.9)
    with pytest.raises(ValueError, match="largest"):
        gd.slope(0.5, 0.1)
