"""State clipping in the loss (``state_clip``): kernels vs a plain-NumPy oracle, finite differences, bounds."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODEL_KINDS, random_model

import plrnn_explorer as pe
from plrnn_explorer.training.objective import Objective

FORCINGS = [("bptt", {}), ("stf", {"tau": 3}), ("gtf", {"alpha": 0.3})]


def naive_clipped_loss_grad(A, W_out, W_in, b_in, h, x, clip, *, alpha=0.0, tau=0):
    """MSE of one window with predictions clipped to [-clip, clip]; gradients by explicit BPTT.

    Written from the definition: u_t = F(z~_{t-1}), z_t = clip(u_t), loss on z_t[:N],
    z~_t = forcing(z_t); d clip(u)/du = 1 inside [-clip, clip], 0 outside.
    """
    L, N = x.shape
    M = A.shape[0]
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    forced = [np.concatenate([x[0], np.zeros(M - N)])]
    preds, inside, scales = [None], [None], [None]
    for t in range(1, L):
        u = A @ forced[-1] + W_out @ relu(W_in @ forced[-1] + b_in) + h
        z = np.clip(u, -clip, clip)
        preds.append(z)
        inside.append((np.abs(u) <= clip).astype(float))
        zf = z.copy()
        if tau > 0 and t % tau == 0:
            zf[:N], scale = x[t], 0.0
        else:
            zf[:N], scale = (1 - alpha) * z[:N] + alpha * x[t], 1 - alpha
        scales.append(scale)
        forced.append(zf)
    count = (L - 1) * N
    value = sum(np.sum((preds[t][:N] - x[t]) ** 2) for t in range(1, L)) / count
    grads = [np.zeros_like(a) for a in (A, W_out, W_in, b_in, h)]
    d_forced = np.zeros(M)
    for t in range(L - 1, 0, -1):
        through_forcing = np.ones(M)
        through_forcing[:N] = scales[t]
        d_z = through_forcing * d_forced
        d_z[:N] += 2 * (preds[t][:N] - x[t]) / count
        d_u = inside[t] * d_z
        zp = forced[t - 1]
        pre = W_in @ zp + b_in
        r = (pre > 0).astype(float)
        eg = (W_out.T @ d_u) * r
        grads[0] += np.outer(d_u, zp)
        grads[1] += np.outer(d_u, relu(pre))
        grads[2] += np.outer(eg, zp)
        grads[3] += eg
        grads[4] += d_u
        d_forced = (A + W_out @ np.diag(r) @ W_in).T @ d_u
    return value, grads


def _expanding(rng, kind, M):
    """A random model whose free run leaves any box quickly (A entries > 1), so the clip is active."""
    model = random_model(rng, kind, M, H=3, scale=0.5)
    return model.replace(A=rng.uniform(1.2, 1.6, M))


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method,kw", FORCINGS)
def test_clipped_kernel_matches_numpy_oracle(kind, method, kw):
    rng = np.random.default_rng(MODEL_KINDS.index(kind) * 10 + len(kw))
    n_active = 0
    for _ in range(4):
        M = int(rng.integers(1, 4))
        N = int(rng.integers(1, M + 1))
        model = _expanding(rng, kind, M)
        x = rng.normal(size=(15, N))
        clip = 2.5
        obj = Objective.create(model, x, method=method, state_clip=clip, **kw)
        value, g = obj.canonical(obj.layout.theta(model), np.array([0]))
        ref_value, ref_grads = naive_clipped_loss_grad(*model.canonical.arrays, x, clip, alpha=obj.alpha,
                                                       tau=obj.tau)
        np.testing.assert_allclose(value, ref_value, rtol=1e-12)
        np.testing.assert_allclose(g, np.concatenate([a.ravel() for a in ref_grads]), rtol=1e-9, atol=1e-12)
        unclipped, _ = Objective.create(model, x, method=method, **kw).canonical(obj.layout.theta(model),
                                                                                 np.array([0]))
        n_active += not np.isclose(unclipped, value)
    assert n_active >= 2, "the clip was never active: the test would not see a wrong clip"


def test_clipped_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    model = pe.PLRNN(rng.uniform(0.9, 1.3, 3), rng.normal(0, 0.4, (3, 3)), rng.normal(size=3))
    x = rng.normal(size=(40, 2))
    kw = {"state_clip": 3.0, "seq_len": 20}
    value, grads = pe.training.loss_and_gradient(model, x, **kw)
    g = np.concatenate([grads[k].ravel() for k in ("A", "W", "h")])
    names = [f"A[{i}]" for i in range(3)] + [f"W[{i},{j}]" for i in range(3) for j in range(3)] + \
            [f"h[{i}]" for i in range(3)]
    eps = 1e-7
    fd = [(pe.training.loss_and_gradient(model.set_param(n, model.get_param(n) + eps), x, **kw)[0]
           - pe.training.loss_and_gradient(model.set_param(n, model.get_param(n) - eps), x, **kw)[0]) / (2 * eps)
          for n in names]
    assert value < pe.training.loss_and_gradient(model, x, seq_len=20)[0]     # the clip is active
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-7)


def test_clipped_loss_is_bounded_and_equals_unclipped_inside_the_box(gt16):
    x = gt16.simulate([0.5, -1.0], 300)
    assert pe.training.loss_and_gradient(gt16, x, state_clip=10.0)[0] == 0.0
    inside = gt16.replace(A=gt16.A - 0.2)                # bounded trajectory, |z| < 10 throughout
    np.testing.assert_equal(pe.training.loss_and_gradient(inside, x, state_clip=10.0),
                            pe.training.loss_and_gradient(inside, x))
    far = gt16.replace(A=gt16.A + 0.5)                   # diverges: unclipped loss overflows
    assert pe.training.loss_and_gradient(far, x)[0] > 1e50
    value, grads = pe.training.loss_and_gradient(far, x, state_clip=10.0)
    assert 0 < value <= (10.0 + np.abs(x).max()) ** 2
    assert all(np.all(np.isfinite(v)) for v in grads.values())


def test_landscape_with_state_clip_is_finite_and_bounded(gt16):
    x = gt16.simulate([0.5, -1.0], 200)
    d = np.linspace(-1, 1, 9)
    ls = pe.loss_landscape(gt16, x, ("A[0,0]", d), ("A[1,1]", d), relative=True, state_clip=10.0)
    assert np.all(np.isfinite(ls.loss)) and np.all(np.isfinite(ls.grad_norm))
    assert ls.loss.max() <= (10.0 + np.abs(x).max()) ** 2 and ls.loss[4, 4] == 0.0
    assert ls.settings["state_clip"] == 10.0
    plain = pe.loss_landscape(gt16, x, ("A[0,0]", d), ("A[1,1]", d), relative=True)
    bounded = np.abs(plain.loss) < 1.0                   # where the free run stays small, nothing is clipped
    np.testing.assert_array_equal(ls.loss[bounded], plain.loss[bounded])


def test_training_with_state_clip_records_it_and_survives_divergence(gt16):
    x = gt16.simulate([0.5, -1.0], 100)
    start = gt16.replace(A=gt16.A + 0.3)
    run = pe.train(start, x, 5, lr=1e-3, state_clip=10.0, seed=0)
    assert run.status == "completed" and run.settings["state_clip"] == 10.0
    assert np.all(np.isfinite(run.losses))


@pytest.mark.parametrize("bad,exc", [(0.0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
                                     (np.nan, ValueError), ("10", TypeError), (True, TypeError)])
def test_bad_state_clip_is_rejected_with_its_name(gt16, bad, exc):
    x = gt16.simulate([0.5, -1.0], 20)
    with pytest.raises(exc, match="state_clip"):
        pe.training.loss_and_gradient(gt16, x, state_clip=bad)
    with pytest.raises(exc, match="state_clip"):
        pe.train(gt16, x, 1, state_clip=bad)
