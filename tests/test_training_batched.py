"""The BLAS batch path of BPTT and the deferred checkpoint evaluation of ``pe.train``.

The BLAS path (:func:`_bptt.batch_loss_grad_blas`, all windows of a batch in one pass)
is checked against the scalar numba kernel and against the plain-NumPy oracles
(``naive_bptt`` and the clipped oracle of ``test_training_state_clip``), for every
model kind, forcing method, loss and with state clipping, on random systems that
include strongly expanding ones.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODEL_KINDS, random_model
from naive_bptt import naive_loss_grad
from test_training_state_clip import naive_clipped_loss_grad

import plrnn_explorer as pe
from plrnn_explorer.training import _bptt, objective
from plrnn_explorer.training.objective import Objective

FORCINGS = [("bptt", {}), ("stf", {"tau": 3}), ("stf", {"tau": 1}), ("gtf", {"alpha": 0.3}),
            ("gtf", {"alpha": 1.0})]


def _data(rng, M, N, T):
    truth = random_model(rng, "PLRNN", M, scale=0.3)
    return truth.replace(A=rng.uniform(0.2, 0.7, M)).simulate(rng.normal(size=M), T)[:, :N]


def _both(obj, theta, starts):
    """(loss, gradient) of the scalar kernel and of the BLAS path for the same windows."""
    out = []
    for kernel in (_bptt.batch_loss_grad, _bptt.batch_loss_grad_blas):
        g = np.zeros_like(theta)
        value = kernel(theta, obj.layout.M, obj.layout.G, obj.data, starts, obj.seq_len, obj.alpha, obj.tau,
                       obj.clip, obj.loss_kind, True, g)
        out.append((value, g))
    return out


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method,kw", FORCINGS)
@pytest.mark.parametrize("loss", ["mse", "mae"])
@pytest.mark.parametrize("state_clip", [None, 3.0])
def test_blas_batch_matches_scalar_kernel(kind, method, kw, loss, state_clip):
    rng = np.random.default_rng(abs(hash((kind, method, loss, str(kw), state_clip))) % 2**32)
    checked = 0
    for trial in range(6):
        M = int(rng.integers(1, 5))
        N = int(rng.integers(1, M + 1))
        model = random_model(rng, kind, M, H=4, scale=0.5)
        if trial % 2:  # strongly expanding: the clip is active or the free run grows fast
            model = model.replace(A=rng.uniform(1.1, 1.5, M))
        x = _data(rng, M, N, 60)
        obj = Objective.create(model, x, method=method, loss=loss, seq_len=15, state_clip=state_clip, **kw)
        theta = obj.layout.theta(model)
        starts = rng.integers(0, 60 - 15 + 1, 5)
        (v1, g1), (v2, g2) = _both(obj, theta, starts)
        if not np.isfinite(v1):
            continue
        scale = max(1.0, np.max(np.abs(g1)))
        np.testing.assert_allclose(v2, v1, rtol=1e-11)
        np.testing.assert_allclose(g2, g1, rtol=1e-9, atol=1e-11 * scale)
        checked += bool(np.any(g1 != 0))  # an all-clipped run has a zero gradient: it checks little
    assert checked >= 2


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method,kw", FORCINGS)
@pytest.mark.parametrize("state_clip", [None, 2.0])
def test_blas_batch_matches_numpy_oracle(kind, method, kw, state_clip):
    rng = np.random.default_rng(abs(hash(("oracle", kind, method, str(kw), state_clip))) % 2**32)
    M, N, L = 4, 2, 20
    model = random_model(rng, kind, M, H=5, scale=0.5)
    if state_clip is not None:
        model = model.replace(A=rng.uniform(1.2, 1.6, M))
    x = _data(rng, M, N, 80)
    obj = Objective.create(model, x, method=method, seq_len=L, state_clip=state_clip, **kw)
    starts = np.array([0, 7, 33, 60])
    g = np.zeros(obj.layout.canonical_size)
    value = _bptt.batch_loss_grad_blas(obj.layout.theta(model), M, obj.layout.G, obj.data, starts, L, obj.alpha,
                                       obj.tau, obj.clip, obj.loss_kind, True, g)
    arrays = model.canonical.arrays
    refs = [naive_loss_grad(*arrays, x[s:s + L], alpha=obj.alpha, tau=obj.tau) if state_clip is None else
            naive_clipped_loss_grad(*arrays, x[s:s + L], state_clip, alpha=obj.alpha, tau=obj.tau)
            for s in starts]
    ref_value = np.mean([r[0] for r in refs])
    ref_grad = np.mean([np.concatenate([a.ravel() for a in r[1]]) for r in refs], axis=0)
    np.testing.assert_allclose(value, ref_value, rtol=1e-10)
    np.testing.assert_allclose(g, ref_grad, rtol=1e-8, atol=1e-10 * max(1.0, np.max(np.abs(ref_grad))))


def test_blas_batch_in_chunks_equals_one_pass(monkeypatch):
    """Windows split into chunks (bounded memory) give the same mean loss and gradient."""
    rng = np.random.default_rng(5)
    model = random_model(rng, "ShallowPLRNN", 3, H=5, scale=0.5)
    x = _data(rng, 3, 2, 100)
    obj = Objective.create(model, x, method="gtf", alpha=0.2, seq_len=10)
    theta, starts = obj.layout.theta(model), rng.integers(0, 91, 7)
    (_, g_scalar), (v_one, g_one) = _both(obj, theta, starts)
    monkeypatch.setattr(_bptt, "BLAS_CHUNK_BYTES", 24 * 10 * (3 + 5 + 2) * 3)  # chunks of 3 windows
    (_, _), (v_chunked, g_chunked) = _both(obj, theta, starts)
    np.testing.assert_allclose(v_chunked, v_one, rtol=1e-13)
    np.testing.assert_allclose(g_chunked, g_one, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(g_chunked, g_scalar, rtol=1e-11, atol=1e-14)


def test_blas_batch_diverging_loss_leaves_zero_gradient():
    model = pe.PLRNN([3.0, 2.5], [[0.0, 0.1], [0.2, 0.0]], [1.0, 1.0])
    x = np.ones((400, 1))
    obj = Objective.create(model, x)
    g = np.full(obj.layout.canonical_size, 7.0)
    value = _bptt.batch_loss_grad_blas(obj.layout.theta(model), 2, 2, obj.data, np.array([0]), 400, 0.0, 0,
                                       np.inf, _bptt.MSE, True, g)
    assert not np.isfinite(value) and np.all(g == 0)


def test_dispatch_keeps_small_models_on_the_scalar_kernel():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1))
    small = random_model(rng, "ShallowPLRNN", 6, H=20)
    large = random_model(rng, "ShallowPLRNN", 20, H=1000)
    medium = random_model(rng, "ShallowPLRNN", 20, H=500)
    assert not Objective.create(small, x).batched(10_000)
    assert Objective.create(large, x).batched(1)
    assert not Objective.create(medium, x).batched(4) and Objective.create(medium, x).batched(16)


def test_training_through_the_blas_path_matches_the_scalar_path(monkeypatch):
    """The same short pe.train run with the dispatch forced each way agrees to rounding."""
    rng = np.random.default_rng(3)
    model = random_model(rng, "ShallowPLRNN", 3, H=6, scale=0.3).replace(A=rng.uniform(0.3, 0.8, 3))
    x = _data(rng, 3, 2, 200)
    kw = {"method": "gtf", "alpha": 0.2, "seq_len": 20, "batch_size": 4, "lr": 1e-3, "seed": 0,
          "checkpoint_every": 2}
    scalar = pe.train(model, x, 6, **kw)
    monkeypatch.setattr(objective, "BLAS_MIN_MG", 0)
    assert Objective.create(model, x).batched(1)
    blas = pe.train(model, x, 6, **kw)
    np.testing.assert_allclose(blas.losses, scalar.losses, rtol=1e-10)
    np.testing.assert_allclose(blas.grad_norms, scalar.grad_norms, rtol=1e-8)
    np.testing.assert_allclose(blas.epoch_losses, scalar.epoch_losses, rtol=1e-10)
    for a, b in zip(blas.checkpoints, scalar.checkpoints):
        for n in a.param_names:
            np.testing.assert_allclose(a._params[n], b._params[n], rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("batched", [False, True])
def test_checkpoint_stats_equal_evaluate_bit_for_bit(kind, batched, monkeypatch):
    if batched:
        monkeypatch.setattr(objective, "BLAS_MIN_MG", 0)
    rng = np.random.default_rng(11)
    x = _data(rng, 3, 2, 90)
    base = random_model(rng, kind, 3, H=4, scale=0.5)
    obj = Objective.create(base, x, method="stf", tau=4, seq_len=20)
    models = [base.replace(A=rng.uniform(-1, 1, 3)) for _ in range(5)]
    models.append(base.replace(A=np.full(3, 40.0)))  # diverges: NaN norm
    losses, norms = obj.checkpoint_stats(models)
    for m, value, norm in zip(models, losses, norms):
        ref, g = obj.evaluate(m)
        assert value == ref or not np.isfinite(ref)
        if np.isfinite(ref):
            assert norm == float(np.linalg.norm(g))
        else:
            assert np.isnan(norm)


def test_train_checkpoints_are_models_evaluated_like_evaluate(gt16):
    x = gt16.simulate([0.5, -1.0], 120)
    run = pe.train(gt16.replace(A=[0.6, 0.9]), x, 7, lr=0.01, seed=2, seq_len=30, checkpoint_every=3)
    assert run.epochs.tolist() == [0, 3, 6, 7]
    obj = Objective.create(gt16, x, seq_len=30)
    for m, value, norm in zip(run.checkpoints, run.losses, run.grad_norms):
        assert isinstance(m, pe.PLRNN)
        ref, g = obj.evaluate(m)
        assert value == ref and norm == float(np.linalg.norm(g))
