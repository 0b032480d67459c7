"""PyTorch interop checked against real torch modules: every cycle found is a cycle of the module.

The reference modules below are written from the models' equations in the
naming of the Durstewitz lab's PyTorch code (``latent_step.AW``, ``h``,
``alphas``, ``thetas``; the AL-RNN's ``A, W, h, B``), plus ``torch.nn.RNN``.
Each is stepped in float64 from every point of every cycle ``find_cycles``
returns; the next point must come out.
"""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer import io
from plrnn_explorer.canonical_model import CanonicalPLRNN

torch = pytest.importorskip("torch")
nn = torch.nn


def _p(x):
    return nn.Parameter(torch.as_tensor(np.asarray(x, dtype=np.float64)))


class DendStep(nn.Module):
    """phi(z)_i = sum_b alpha_b relu(z_i + theta_ib) (clipped: minus relu(z_i)); z' = A z + W phi + h."""

    def __init__(self, AW, h, alphas, thetas, clipped=False, mean_centering=False):
        super().__init__()
        self.AW, self.h, self.alphas, self.thetas = _p(AW), _p(h), _p(alphas), _p(thetas)
        self.clipped, self.mean_centering = clipped, mean_centering

    def forward(self, z):
        A = torch.diagonal(self.AW)
        W = self.AW - torch.diag(A)
        zn = z - z.mean(-1, keepdim=True) if self.mean_centering else z
        basis = torch.relu(zn[..., None] + self.thetas)
        if self.clipped:
            basis = basis - torch.relu(zn[..., None])
        return A * z + (self.alphas * basis).sum(-1) @ W.T + self.h


class LabModel(nn.Module):
    """A latent step inside ``latent_model.latent_step`` and an observation layer, as in the lab's runs."""

    def __init__(self, step, dim_x=2):
        super().__init__()
        self.latent_model = nn.Module()
        self.latent_model.latent_step = step
        self.output_layer = nn.Linear(step.h.shape[0], dim_x, bias=False).double()

    def forward(self, z):
        return self.latent_model.latent_step(z)


class ShallowStep(nn.Module):
    def __init__(self, A, W1, W2, h1, h2, clipped=False):
        super().__init__()
        self.A, self.W1, self.W2, self.h1, self.h2 = _p(A), _p(W1), _p(W2), _p(h1), _p(h2)
        self.clipped = clipped

    def forward(self, z):
        pre = z @ self.W2.T
        act = torch.relu(pre + self.h2) - (torch.relu(pre) if self.clipped else 0.0)
        return self.A * z + act @ self.W1.T + self.h1


class ALRNNStep(nn.Module):
    """The AL-RNN: the last P units rectified, z' = A z + W phi(z) + h; B is the observation matrix."""

    def __init__(self, A, W, h, P, n_obs=3):
        super().__init__()
        self.A, self.W, self.h = _p(A), _p(W), _p(h)
        self.B = _p(np.ones((n_obs, len(h))))
        self.P = P

    def forward(self, z):
        M = z.shape[-1]
        phi = torch.cat([z[..., :M - self.P], torch.relu(z[..., M - self.P:])], dim=-1)
        return self.A * z + phi @ self.W.T + self.h


def torch_step(module):
    def step(z):
        with torch.no_grad():
            return module(torch.as_tensor(z, dtype=torch.float64)).numpy()
    return step


def assert_cycles_are_module_cycles(model, step, max_order=3, seed=0):
    """find_cycles on ``model``; each cycle point, stepped by the torch module, gives the next point."""
    res = pe.find_cycles(model, max_order, seed=seed)
    checked = 0
    for cyc in res:
        pts = cyc.points
        scale = 1.0 + np.abs(pts).max()
        for j in range(cyc.order):
            np.testing.assert_allclose(step(pts[j]), pts[(j + 1) % cyc.order], rtol=0, atol=1e-10 * scale)
            checked += 1
    assert checked > 0, "no cycle found: the check would be vacuous"
    return res


def assert_same_map(model, step, rng, scale=5.0):
    Z = scale * rng.normal(size=(50, model.dim))
    np.testing.assert_allclose(step(Z), np.array([model.step(z) for z in Z]), rtol=1e-12, atol=1e-12)


def random_dend(rng, M=2, B=3, w_scale=1.0):
    AW = w_scale * rng.normal(size=(M, M)) + np.diag(rng.uniform(-0.9, 0.9, M))
    return AW, rng.normal(size=M), rng.normal(size=B), rng.normal(size=(M, B))


@pytest.mark.parametrize("clipped", [False, True])
@pytest.mark.parametrize("mean_centering", [False, True])
@pytest.mark.parametrize("seed,w_scale", [(0, 1.0), (1, 3.0)])  # 3.0: strongly expanding
def test_dendplrnn_is_the_equivalent_shallow_model(clipped, mean_centering, seed, w_scale):
    rng = np.random.default_rng(seed)
    AW, h, alphas, thetas = random_dend(rng, w_scale=w_scale)
    net = LabModel(DendStep(AW, h, alphas, thetas, clipped=clipped, mean_centering=mean_centering))
    layout = "ClippedDendPLRNN" if clipped else "dendPLRNN"
    model, info = io.load_torch_state_dict(net.state_dict(), layout, ignore=["output_layer.*"],
                                           mean_centering=mean_centering, return_info=True)
    assert type(model) is (pe.ClippedShallowPLRNN if clipped else pe.ShallowPLRNN)
    assert model.hidden_dim == AW.shape[0] * len(alphas)
    np.testing.assert_array_equal(info["bases"]["alphas"], alphas)
    np.testing.assert_array_equal(info["bases"]["thetas"], thetas)
    assert info["keys"]["AW"] == "latent_model.latent_step.AW" and info["ignored"] == ["output_layer.weight"]
    assert_same_map(model, torch_step(net), rng)
    assert_cycles_are_module_cycles(model, torch_step(net), max_order=3, seed=seed)
    # back to the lab's naming: the module loads it and is the same map
    sd = io.to_state_dict(model, layout, info=info, as_tensors=True)
    net2 = DendStep(np.zeros_like(AW), np.zeros(2), np.zeros(3), np.zeros((2, 3)), clipped, mean_centering)
    net2.load_state_dict(sd)
    assert_same_map(model, torch_step(net2), rng)
    assert_same_map(model, torch_step(io.to_torch(model, layout, info=info)), rng)


def test_dendplrnn_state_dict_no_longer_loads_as_a_plain_plrnn():
    rng = np.random.default_rng(3)
    AW, h, alphas, thetas = random_dend(rng)
    sd = LabModel(DendStep(AW, h, alphas, thetas)).state_dict()
    with pytest.raises(ValueError, match="alphas.*thetas|thetas.*alphas"):
        io.load_torch_state_dict(sd, "PLRNN", ignore=["output_layer.weight"])


@pytest.mark.parametrize("clipped", [False, True])
def test_shallow_modules(clipped):
    rng = np.random.default_rng(4)
    M, H = 2, 5
    args = rng.uniform(-0.9, 0.9, M), 2 * rng.normal(size=(M, H)), rng.normal(size=(H, M)), \
        rng.normal(size=M), rng.normal(size=H)
    net = ShallowStep(*args, clipped=clipped)
    kind = "ClippedShallowPLRNN" if clipped else "ShallowPLRNN"
    model = io.load_torch_state_dict(net, kind)  # a module is read through its state_dict()
    assert_same_map(model, torch_step(net), rng)
    assert_cycles_are_module_cycles(model, torch_step(net), max_order=4)
    assert_same_map(model, torch_step(io.to_torch(model)), rng)
    assert io.load_torch_state_dict(io.to_torch(model).state_dict(), kind) == model


def test_alrnn_module_needs_n_relu_and_accounts_for_B():
    rng = np.random.default_rng(5)
    M, P = 4, 2
    net = ALRNNStep(rng.uniform(0, 0.9, M), 1.5 * rng.normal(size=(M, M)), rng.normal(size=M), P)
    sd = net.state_dict()
    with pytest.raises(ValueError, match="n_relu"):
        io.load_torch_state_dict(sd, "ALRNN", ignore=["B"])
    with pytest.raises(ValueError, match=r"'B' \(3, 4\)"):
        io.load_torch_state_dict(sd, "ALRNN", n_relu=P)
    model = io.load_torch_state_dict(sd, "ALRNN", n_relu=P, ignore=["B"])
    assert_same_map(model, torch_step(net), rng)
    assert_cycles_are_module_cycles(model, torch_step(net), max_order=3)
    back = io.to_torch(model)  # stores n_relu as a buffer, so no keyword is needed to reload
    assert_same_map(model, torch_step(back), rng)
    assert io.load_torch_state_dict(back.state_dict(), "ALRNN") == model
    with pytest.raises(ValueError, match="disagrees"):
        io.load_torch_state_dict(back.state_dict(), "ALRNN", n_relu=1)


def test_plrnn_aw_layout_round_trip():
    rng = np.random.default_rng(6)
    M = 3
    m = pe.PLRNN(rng.uniform(-0.9, 0.9, M), rng.normal(size=(M, M)) * (1 - np.eye(M)), rng.normal(size=M))
    net = io.to_torch(m, "AW")
    assert sorted(net.state_dict()) == ["AW", "h"]
    assert io.load_torch_state_dict(net.state_dict(), "PLRNN") == m
    assert_cycles_are_module_cycles(m, torch_step(net), max_order=3)
    with pytest.raises(ValueError, match="zero diagonal"):
        io.to_state_dict(m.replace(W=np.ones((M, M))), "AW")


def test_canonical_model_round_trip(tmp_path):
    rng = np.random.default_rng(7)
    s = pe.ClippedShallowPLRNN(rng.uniform(0, 0.9, 2), rng.normal(size=(2, 3)), rng.normal(size=(3, 2)),
                               rng.normal(size=2), rng.normal(size=3))
    _, W_out, W_in, b_in, h = s.canonical.arrays
    c = CanonicalPLRNN(s.A, W_out, W_in, b_in, h)
    assert_same_map(c, lambda Z: np.array([s.step(z) for z in Z]), rng)
    net = io.to_torch(c)
    assert_cycles_are_module_cycles(c, torch_step(net), max_order=3)
    assert io.load_torch_state_dict(net.state_dict(), "CanonicalPLRNN") == c
    path = tmp_path / "c.json"
    pe.save_model(c, path)
    assert pe.load_model(path) == c


# -- torch.nn.RNN ------------------------------------------------------------------------------------

def rnn_step(rnn, x):
    def step(z):
        Z = np.atleast_2d(z)
        inp = np.broadcast_to(np.zeros(rnn.input_size) if x is None else x, (1, len(Z), rnn.input_size))
        with torch.no_grad():
            _, hn = rnn(torch.as_tensor(inp.copy()), torch.as_tensor(Z[None]))
        return hn[0].numpy().reshape(np.shape(z))
    return step


@pytest.mark.parametrize("x", [None, [0.7, -1.2]])
@pytest.mark.parametrize("seed", [0, 1])
def test_relu_rnn_cycles_are_cycles_of_the_module(x, seed):
    torch.manual_seed(seed)
    rnn = nn.RNN(2, 3, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_hh_l0.mul_(4.0)  # strongly expanding, so that there is more than a fixed point at 0
    model = io.from_torch_rnn(rnn, x=x)
    step = rnn_step(rnn, None if x is None else np.array(x))
    assert_same_map(model, step, np.random.default_rng(seed))
    assert_cycles_are_module_cycles(model, step, max_order=4)
    assert io.from_torch_rnn(rnn.state_dict(), x=x) == model


def test_rnn_without_bias():
    rnn = nn.RNN(1, 2, nonlinearity="relu", bias=False).double()
    m = io.from_torch_rnn(rnn)
    assert np.all(m.h2 == 0)
    assert_same_map(m, rnn_step(rnn, None), np.random.default_rng(0))


def test_rnn_refusals(tmp_path):
    with pytest.raises(ValueError, match="relu"):
        io.from_torch_rnn(nn.RNN(2, 3))  # tanh
    with pytest.raises(ValueError, match="one-layer"):
        io.from_torch_rnn(nn.RNN(2, 3, num_layers=2, nonlinearity="relu"))
    with pytest.raises(ValueError, match="bidirectional"):
        io.from_torch_rnn(nn.RNN(2, 3, bidirectional=True, nonlinearity="relu"))
    with pytest.raises(ValueError, match="bidirectional"):
        io.from_torch_rnn(nn.RNN(2, 3, bidirectional=True, nonlinearity="relu").state_dict(), nonlinearity="relu")
    with pytest.raises(ValueError, match="further layers"):
        io.from_torch_rnn(nn.RNN(2, 3, num_layers=2, nonlinearity="relu").state_dict(), nonlinearity="relu")
    with pytest.raises(ValueError, match="only nonlinearity='relu'"):
        io.from_torch_rnn(nn.RNN(2, 3).state_dict(), nonlinearity="tanh")
    with pytest.raises(ValueError, match="disagrees"):
        io.from_torch_rnn(nn.RNN(2, 3), nonlinearity="relu")
    with pytest.raises(TypeError, match="torch.nn.RNN"):
        io.from_torch_rnn(nn.GRU(2, 3))
    with pytest.raises(ValueError, match=r"x must have shape"):
        io.from_torch_rnn(nn.RNN(2, 3, nonlinearity="relu"), x=[1.0, 2.0, 3.0])


# -- errors a researcher meets ---------------------------------------------------------------------------

def test_whole_saved_module_and_checkpoint_dicts(tmp_path):
    net = ShallowStep(np.ones(2), np.ones((2, 3)), np.ones((3, 2)), np.zeros(2), np.zeros(3))
    whole = tmp_path / "whole.pt"
    torch.save(net, whole)
    with pytest.raises(ValueError, match="whole pickled object"):
        io.load_torch_state_dict(whole, "ShallowPLRNN")
    ckpt = tmp_path / "ckpt.pt"
    torch.save({"model_state_dict": net.state_dict(), "epoch": 3}, ckpt)
    with pytest.raises(ValueError, match="checkpoint"):
        io.load_torch_state_dict(ckpt, "ShallowPLRNN")
    sd_path = tmp_path / "sd.pt"
    torch.save(net.state_dict(), sd_path)
    assert io.load_torch_state_dict(sd_path, "ShallowPLRNN") == io.load_torch_state_dict(net, "ShallowPLRNN")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="junk.pt"):
        io.load_torch_state_dict(junk, "ShallowPLRNN")


def test_two_keys_ending_in_A_and_bad_ignore():
    sd = {"enc.A": np.ones(2), "dec.A": np.ones(2), "W": np.eye(2), "h": np.zeros(2)}
    with pytest.raises(ValueError, match=r"\['enc.A', 'dec.A'\] all end in 'A'"):
        io.load_torch_state_dict(sd, "PLRNN")
    m = io.load_torch_state_dict(sd, "PLRNN", ignore=["enc.*"])
    assert m == pe.PLRNN(np.ones(2), np.eye(2), np.zeros(2))
    with pytest.raises(ValueError, match="matches no key"):
        io.load_torch_state_dict(sd, "PLRNN", ignore=["enc.*", "nothing*"])
    with pytest.raises(ValueError, match="'AW'.*also A or W"):
        io.load_torch_state_dict({"AW": np.eye(2), "A": np.ones(2), "h": np.zeros(2)}, "PLRNN",
                                 names={"AW": "AW", "A": "A", "h": "h"})
    with pytest.raises(TypeError, match="unexpected keyword"):
        io.load_torch_state_dict(sd, "PLRNN", n_bases=3)
    with pytest.raises(ValueError, match="n_relu applies to ALRNN only"):
        io.load_torch_state_dict(sd, "PLRNN", ignore=["enc.*"], n_relu=1)
    with pytest.raises(ValueError, match="needs info"):
        io.to_state_dict(m, "dendPLRNN")
