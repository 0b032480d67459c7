"""Exact BPTT gradients: numba kernels vs a plain-NumPy oracle, finite differences and torch autograd."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODEL_KINDS, random_model
from naive_bptt import naive_loss_grad

import plrnn_explorer as pe
from plrnn_explorer.training import _bptt
from plrnn_explorer.training._layout import ParamLayout
from plrnn_explorer.training.objective import Objective

FORCINGS = [("bptt", {}), ("stf", {"tau": 3}), ("stf", {"tau": 1}), ("gtf", {"alpha": 0.0}),
            ("gtf", {"alpha": 0.3}), ("gtf", {"alpha": 1.0})]


def _data(rng, M, N, T):
    truth = random_model(rng, "PLRNN", M, scale=0.3)
    return truth.replace(A=rng.uniform(0.2, 0.7, M)).simulate(rng.normal(size=M), T)[:, :N]


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method,kw", FORCINGS)
@pytest.mark.parametrize("loss", ["mse", "mae"])
def test_kernel_matches_numpy_oracle(kind, method, kw, loss):
    rng = np.random.default_rng(abs(hash((kind, method, loss, str(kw)))) % 2**32)
    for _ in range(3):
        M = int(rng.integers(1, 4))
        N = int(rng.integers(1, M + 1))
        model = random_model(rng, kind, M, H=3, scale=0.5)
        x = _data(rng, M, N, 12)
        obj = Objective.create(model, x, method=method, loss=loss, **kw)
        theta = obj.layout.theta(model)
        value, g = obj.canonical(theta, np.array([0]))
        ref_value, ref_grads = naive_loss_grad(*model.canonical.arrays, x, alpha=obj.alpha, tau=obj.tau,
                                               loss=loss)
        if not np.isfinite(ref_value):
            continue
        np.testing.assert_allclose(value, ref_value, rtol=1e-10)
        np.testing.assert_allclose(g, np.concatenate([a.ravel() for a in ref_grads]), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("method,kw", FORCINGS[:2] + FORCINGS[4:5])
@pytest.mark.parametrize("diagonal_A", [True, False])
def test_model_gradient_matches_finite_differences(kind, method, kw, diagonal_A):
    rng = np.random.default_rng(7 + MODEL_KINDS.index(kind))
    M = 3
    model = random_model(rng, kind, M, H=3, scale=0.4)
    model = model.replace(A=rng.uniform(0.2, 0.8, M) if diagonal_A else rng.normal(0, 0.3, (M, M)))
    x = _data(rng, M, 2, 25)
    value, grads = pe.training.loss_and_gradient(model, x, method=method, seq_len=12, **kw)
    layout = ParamLayout(model)
    p0 = layout.flat(model)
    g = np.concatenate([grads[n].ravel() for n in layout.names])
    fd = np.empty_like(p0)
    eps = 1e-6
    for i in range(p0.size):
        hi, lo = p0.copy(), p0.copy()
        hi[i] += eps
        lo[i] -= eps
        f_hi, _ = pe.training.loss_and_gradient(layout.model_from(hi), x, method=method, seq_len=12, **kw)
        f_lo, _ = pe.training.loss_and_gradient(layout.model_from(lo), x, method=method, seq_len=12, **kw)
        fd[i] = (f_hi - f_lo) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(fd).max()))


def test_batch_is_mean_of_windows():
    rng = np.random.default_rng(3)
    model = random_model(rng, "ShallowPLRNN", 3, H=4, scale=0.5)
    x = _data(rng, 3, 3, 60)
    obj = Objective.create(model, x, method="gtf", alpha=0.2, seq_len=10)
    theta = obj.layout.theta(model)
    starts = np.array([0, 13, 40, 50])
    value, g = obj.canonical(theta, starts)
    parts = [obj.canonical(theta, np.array([s])) for s in starts]
    np.testing.assert_allclose(value, np.mean([p[0] for p in parts]), rtol=1e-12)
    np.testing.assert_allclose(g, np.mean([p[1] for p in parts], axis=0), rtol=1e-10, atol=1e-14)


def test_perfect_model_has_zero_loss_and_gradient(gt16):
    x = gt16.simulate([0.5, -1.0], 200)
    for method, kw in FORCINGS:
        value, grads = pe.training.loss_and_gradient(gt16, x, method=method, **kw)
        assert value == pytest.approx(0.0, abs=1e-20)
        assert all(np.all(np.abs(v) < 1e-12) for v in grads.values())


def test_forward_diverges_to_non_finite_loss_without_error():
    m = pe.PLRNN([3.0], [[0.0]], [1.0])
    value, grads = pe.training.loss_and_gradient(m, np.zeros((1000, 1)))
    assert not np.isfinite(value)
    assert np.all(grads["h"] == 0)


def test_gtf_alpha_one_full_forcing_is_one_step_ahead():
    """alpha = 1 with N = M: every prediction starts from the data point (teacher forcing)."""
    rng = np.random.default_rng(5)
    model = random_model(rng, "PLRNN", 2, scale=0.5)
    x = rng.normal(size=(30, 2))
    value, _ = pe.training.loss_and_gradient(model, x, method="gtf", alpha=1.0)
    one_step = np.array([model.step(x[t]) for t in range(29)])
    assert value == pytest.approx(np.mean((one_step - x[1:]) ** 2), rel=1e-12)
    value_stf, _ = pe.training.loss_and_gradient(model, x, method="stf", tau=1)
    assert value_stf == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("kind", ["PLRNN", "ShallowPLRNN", "ClippedShallowPLRNN"])
@pytest.mark.parametrize("method,kw", [("bptt", {}), ("stf", {"tau": 4}), ("gtf", {"alpha": 0.25})])
def test_gradient_matches_torch_autograd(kind, method, kw):
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(11)
    M, N, H = 3, 2, 4
    model = random_model(rng, kind, M, H=H, scale=0.4)
    x = _data(rng, M, N, 20)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    xt = torch.tensor(x)

    def step(z):
        P = params
        A = torch.diag(P["A"]) if P["A"].dim() == 1 else P["A"]
        if kind == "PLRNN":
            return A @ z + P["W"] @ torch.relu(z) + P["h"]
        hidden = torch.relu(P["W2"] @ z + P["h2"])
        if kind == "ClippedShallowPLRNN":
            hidden = hidden - torch.relu(P["W2"] @ z)
        return A @ z + P["W1"] @ hidden + P["h1"]

    z = torch.cat([xt[0], torch.zeros(M - N)])
    total = 0.0
    for t in range(1, len(x)):
        pred = step(z)
        total = total + torch.sum((pred[:N] - xt[t]) ** 2)
        if method == "stf" and t % kw["tau"] == 0:
            z = torch.cat([xt[t], pred[N:]])
        elif method == "gtf":
            z = torch.cat([(1 - kw["alpha"]) * pred[:N] + kw["alpha"] * xt[t], pred[N:]])
        else:
            z = pred
    total = total / ((len(x) - 1) * N)
    total.backward()
    value, grads = pe.training.loss_and_gradient(model, x, method=method, **kw)
    assert value == pytest.approx(total.item(), rel=1e-10)
    for k, v in grads.items():
        np.testing.assert_allclose(v, params[k].grad.numpy(), rtol=1e-8, atol=1e-12)


def test_layout_chain_rule_is_transpose_of_canonical_map():
    """theta(p) is linear in p; param_grad must be its transpose (checked on random directions)."""
    rng = np.random.default_rng(2)
    for kind in MODEL_KINDS:
        model = random_model(rng, kind, 3, H=2)
        lay = ParamLayout(model)
        p = lay.flat(model)
        dp = rng.normal(size=p.size)
        dtheta = lay.theta(lay.model_from(p + dp)) - lay.theta(model)
        g = rng.normal(size=lay.canonical_size)
        assert np.dot(g, dtheta) == pytest.approx(np.dot(lay.param_grad(g), dp), rel=1e-9)
        np.testing.assert_allclose(lay.theta_of(p + dp), lay.theta(lay.model_from(p + dp)), atol=1e-12)


def test_kernel_unpack_layout():
    theta = np.arange(2 * 2 + 2 * 3 + 3 * 2 + 3 + 2, dtype=float)
    A, Wo, Wi, bi, h = _bptt.unpack(theta, 2, 3)
    assert A.shape == (2, 2) and Wo.shape == (2, 3) and Wi.shape == (3, 2)
    assert bi.tolist() == [16.0, 17.0, 18.0] and h.tolist() == [19.0, 20.0]


class _SummingPLRNN(pe.PLRNN):
    """A conversion that adds two entries of one array (h' = h + reversed h), which the probes cannot decode."""

    def _build_canonical(self):
        cf = super()._build_canonical()
        return type(cf)(cf.A, cf.W_out, cf.W_in, cf.b_in, cf.h + cf.h[::-1])


@pytest.mark.parametrize("kind", MODEL_KINDS + ("summing",))
def test_layout_probes_match_one_probe_per_entry(kind):
    """The three-probe decoding gives exactly the triplets of probing every entry on its own."""
    from plrnn_explorer.training import _layout

    rng = np.random.default_rng(5)
    if kind == "summing":
        model = _SummingPLRNN(rng.normal(size=3), rng.normal(size=(3, 3)), rng.normal(size=3))
    else:
        model = random_model(rng, kind, 3, H=4)
    zero = {n: np.zeros_like(a) for n, a in model._params.items()}
    base = _layout._canonical_vector(model, zero)
    for name in model.param_names:
        probed = _layout._probed_entries(model, zero, base, name)
        assert (probed is None) == (kind == "summing" and name == "h")
        exact = _layout._unit_entries(model, zero, base, name)
        if probed is not None:
            assert sorted(zip(*map(np.ndarray.tolist, probed))) == sorted(zip(*map(np.ndarray.tolist, exact)))
    lay = ParamLayout(model)  # with the fallback the chain rule stays exact
    p = lay.flat(model)
    dp = rng.normal(size=p.size)
    np.testing.assert_allclose(lay.theta_of(p + dp), lay.theta(lay.model_from(p + dp)), atol=1e-12)
