"""pe.train, TrainingRun, loss_landscape, the DTB gradient demonstration and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_model

import plrnn_explorer as pe
from plrnn_explorer.training import trainer as trainer_module


@pytest.fixture
def gt_data(gt16):
    return gt16.simulate([0.5, -1.0], 200)


def test_training_recovers_bias_and_alignment():
    truth = pe.PLRNN([0.5, 0.3], [[0, -0.4], [0.6, 0]], [0.5, -0.2])
    gt_data = truth.simulate([1.0, 0.0], 100)
    start = truth.replace(h=[0.2, -0.6])
    run = pe.train(start, gt_data, 400, lr=0.01, params=["h"], checkpoint_every=100, seed=0)
    assert run.status == "completed"
    assert run.epochs.tolist() == [0, 100, 200, 300, 400]
    assert len(run.checkpoints) == len(run.losses) == len(run.grad_norms) == 5
    assert len(run.epoch_losses) == len(run.epoch_grad_norms) == 400
    assert run.checkpoints[0] == start
    np.testing.assert_array_equal(run.model.A, truth.A)  # untrained parameters stay fixed
    np.testing.assert_allclose(run.model.h, truth.h, atol=1e-3)
    # checkpoint losses are the full-data losses of the checkpoint models
    for m, loss, norm in zip(run.checkpoints, run.losses, run.grad_norms):
        value, g = pe.training.loss_and_gradient(m, gt_data, params=["h"])
        assert loss == pytest.approx(value, rel=1e-12)
        assert norm == pytest.approx(np.linalg.norm(g["h"]), rel=1e-9)
    # with one window per epoch, epoch e's loss is that of the model after e - 1 epochs
    assert run.epoch_losses[100] == pytest.approx(run.losses[1], rel=1e-12)


@pytest.mark.parametrize("kind", ["PLRNN", "ShallowPLRNN", "ClippedShallowPLRNN", "ALRNN"])
@pytest.mark.parametrize("method,kw", [("bptt", {}), ("stf", {"tau": 5}), ("gtf", {"alpha": 0.2})])
def test_training_decreases_loss_for_every_model(kind, method, kw):
    rng = np.random.default_rng(1)
    truth = random_model(rng, "PLRNN", 3, scale=0.3).replace(A=[0.5, 0.6, 0.4])
    data = truth.simulate([1.0, -0.5, 0.3], 300)[:, :2]
    model = random_model(rng, kind, 3, H=4, scale=0.2)
    model = model.replace(A=[0.5, 0.5, 0.5])
    run = pe.train(model, data, 150, method=method, seq_len=30, batch_size=4, lr=0.01,
                   clip_grad_norm=10.0, checkpoint_every=150, seed=2, **kw)
    assert run.status == "completed"
    assert run.losses[-1] < 0.5 * run.losses[0]


def test_seed_reproducible_and_matches_manual_adam(gt16, gt_data):
    start = gt16.replace(A=[0.6, 0.9])
    r1 = pe.train(start, gt_data, 20, seq_len=50, batch_size=2, lr=0.01, seed=4, checkpoint_every=20)
    r2 = pe.train(start, gt_data, 20, seq_len=50, batch_size=2, lr=0.01, seed=4, checkpoint_every=20)
    assert r1.checkpoints == r2.checkpoints
    # manual loop with the same window draws
    rng = np.random.default_rng(4)
    opt = pe.training.Adam(0.01)
    from plrnn_explorer.training._layout import ParamLayout

    lay = ParamLayout(start)
    p = lay.flat(start)
    steps = 200 // 50 // 2
    for _ in range(20 * steps):
        starts = rng.integers(0, 151, size=2)
        losses = []
        grads = []
        for s in starts:
            value, g = pe.training.loss_and_gradient(lay.model_from(p), gt_data[s:s + 50])
            losses.append(value)
            grads.append(np.concatenate([g[n].ravel() for n in lay.names]))
        p = opt.step(p, np.mean(grads, axis=0))
    np.testing.assert_allclose(lay.flat(r1.model), p, rtol=1e-10)


def test_gradient_clipping_bounds_the_first_step(gt16, gt_data):
    start = gt16.replace(h=[2.0, 2.0])
    run = pe.train(start, gt_data, 1, optimizer="sgd", lr=1.0, clip_grad_norm=0.1, params=["h"])
    assert np.linalg.norm(run.model.h - start.h) == pytest.approx(0.1, rel=1e-9)


def test_divergence_stops_with_message_and_keeps_checkpoints():
    truth = pe.PLRNN([0.5], [[0.0]], [1.0])
    data = truth.simulate([0.0], 400)
    with pytest.warns(RuntimeWarning, match="diverged"):
        run = pe.train(truth.replace(A=[0.9]), data, 200, optimizer="sgd", lr=0.5, seed=0)
    assert run.status == "diverged" and "epoch" in run.message
    assert len(run.checkpoints) >= 1 and run.epochs[0] == 0
    assert len(run.epoch_losses) < 200
    assert run.epochs[-1] == len(run.epoch_losses)


def test_keyboard_interrupt_keeps_what_was_done(gt16, gt_data, monkeypatch):
    calls = {"n": 0}
    real = trainer_module.make_optimizer

    class Interrupting:
        def __init__(self, opt):
            self.opt = opt

        def step(self, p, g):
            calls["n"] += 1
            if calls["n"] == 6:
                raise KeyboardInterrupt
            return self.opt.step(p, g)

    monkeypatch.setattr(trainer_module, "make_optimizer", lambda name, lr: Interrupting(real(name, lr)))
    run = pe.train(gt16.replace(h=[0.0, 0.0]), gt_data, 100, lr=0.01, checkpoint_every=2)
    assert run.status == "interrupted"
    assert len(run.epoch_losses) == 5
    assert run.epochs.tolist() == [0, 2, 4, 5]


def test_interrupt_while_evaluating_checkpoints_keeps_the_trained_checkpoints(gt16, gt_data, monkeypatch):
    def interrupted(self, models):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer_module.Objective, "checkpoint_stats", interrupted)
    run = pe.train(gt16.replace(h=[0.0, 0.0]), gt_data, 6, lr=0.01, checkpoint_every=2, seed=0)
    assert run.status == "interrupted" and "checkpoints' losses" in run.message
    assert run.epochs.tolist() == [0, 2, 4, 6] and len(run.checkpoints) == 4 and len(run.epoch_losses) == 6
    assert np.all(np.isnan(run.losses))


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_run_save_load_roundtrip(tmp_path, gt16, gt_data, suffix):
    run = pe.train(gt16.replace(A=[0.7, 0.9]), gt_data, 10, lr=0.01, checkpoint_every=3, seed=1)
    path = tmp_path / f"run{suffix}"
    run.save(path)
    back = pe.TrainingRun.load(path)
    assert back.checkpoints == run.checkpoints
    for k in ("epochs", "losses", "grad_norms", "epoch_losses", "epoch_grad_norms"):
        np.testing.assert_array_equal(getattr(back, k), getattr(run, k))
    assert back.settings == run.settings and back.status == run.status
    bad = tmp_path / f"bad{suffix}"
    bad.write_text("not a run")
    with pytest.raises(ValueError):
        pe.TrainingRun.load(bad)


def test_run_save_load_diagonal_and_full_A(tmp_path):
    rng = np.random.default_rng(0)
    m = random_model(rng, "ClippedShallowPLRNN", 2, H=3, scale=0.3).replace(A=np.eye(2) * 0.5)
    run = pe.train(m, m.simulate([0.1, 0.2], 40), 3, seed=0)
    run.save(tmp_path / "r.npz")
    assert pe.TrainingRun.load(tmp_path / "r.npz").checkpoints == run.checkpoints


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "adam"}, "method"),
    ({"method": "gtf"}, "alpha"),
    ({"method": "gtf", "alpha": 1.5}, "alpha"),
    ({"method": "gtf", "alpha": -0.1}, "alpha"),
    ({"method": "stf", "tau": 0}, "tau"),
    ({"method": "stf"}, "tau"),
    ({"method": "bptt", "alpha": 0.1}, "alpha"),
    ({"seq_len": 10_000}, "seq_len"),
    ({"seq_len": 1}, "seq_len"),
    ({"lr": 0.0}, "lr"),
    ({"lr": -1.0}, "lr"),
    ({"loss": "huber"}, "loss"),
    ({"optimizer": "rmsprop"}, "optimizer"),
    ({"params": ["Q"]}, "params"),
    ({"batch_size": 0}, "batch_size"),
    ({"checkpoint_every": 0}, "checkpoint_every"),
    ({"clip_grad_norm": 0.0}, "clip_grad_norm"),
])
def test_bad_training_arguments(gt16, gt_data, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        pe.train(gt16, gt_data, 2, **kwargs)


def test_bad_data(gt16):
    with pytest.raises(ValueError, match="data"):
        pe.train(gt16, np.full((10, 2), np.nan), 1)
    with pytest.raises(ValueError, match="N <= M|N = 3"):
        pe.train(gt16, np.zeros((10, 3)), 1)
    with pytest.raises(ValueError, match="data"):
        pe.train(gt16, np.zeros((10, 2, 2)), 1)
    with pytest.raises(ValueError, match="data"):
        pe.train(gt16, np.zeros((1, 2)), 1)
    with pytest.raises(TypeError, match="model"):
        pe.train("not a model", np.zeros((10, 2)), 1)
    with pytest.raises(TypeError, match="n_epochs"):
        pe.train(gt16, np.zeros((10, 2)), 1.5)


def test_landscape_matches_direct_evaluation(gt16, gt_data):
    xs, ys = np.linspace(-0.3, 0.2, 4), np.linspace(-0.2, 0.05, 3)
    ls = pe.loss_landscape(gt16, gt_data, ("A[0,0]", xs), ("W[0,1]", ys), relative=True,
                           method="gtf", alpha=0.1, seq_len=50)
    assert ls.loss.shape == ls.grad_norm.shape == (3, 4)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            m = gt16.set_param("A[0,0]", gt16.A[0] + x).set_param("W[0,1]", gt16.W[0, 1] + y)
            value, g = pe.training.loss_and_gradient(m, gt_data, method="gtf", alpha=0.1, seq_len=50)
            assert ls.loss[i, j] == pytest.approx(value, rel=1e-10)
            norm = np.sqrt(sum(np.sum(v ** 2) for v in g.values()))
            assert ls.grad_norm[i, j] == pytest.approx(norm, rel=1e-9)
            assert ls.grad_x[i, j] == pytest.approx(g["A"][0], rel=1e-9, abs=1e-12)
            assert ls.grad_y[i, j] == pytest.approx(g["W"][0, 1], rel=1e-9, abs=1e-12)
    ds = ls.to_xarray()
    assert ds["loss"].dims == ("W_0_1", "A_0_0")
    assert ds["A_0_0"].attrs["path"] == "A[0,0]" and np.array_equal(ds["loss"].values, ls.loss, equal_nan=True)


def test_landscape_absolute_axes_and_shallow_model():
    rng = np.random.default_rng(0)
    m = random_model(rng, "ShallowPLRNN", 2, H=3, scale=0.3).replace(A=[0.5, 0.5])
    data = m.simulate([0.3, -0.2], 60)
    ls = pe.loss_landscape(m, data, ("W1[0,1]", [m.W1[0, 1], 0.0]), ("h2[2]", [m.h2[2], 1.0]))
    assert ls.loss[0, 0] == pytest.approx(0.0, abs=1e-20)
    value, _ = pe.training.loss_and_gradient(m.set_param("W1[0,1]", 0.0).set_param("h2[2]", 1.0), data)
    assert ls.loss[1, 1] == pytest.approx(value, rel=1e-10)


def test_landscape_bad_axes(gt16, gt_data):
    with pytest.raises(TypeError, match="x_axis"):
        pe.loss_landscape(gt16, gt_data, "A[0,0]", ("A[1,1]", [0.0]))
    with pytest.raises(ValueError, match="different"):
        pe.loss_landscape(gt16, gt_data, ("A[0,0]", [0.0]), ("A[0,0]", [0.0]))
    with pytest.raises(ValueError, match="Q"):
        pe.loss_landscape(gt16, gt_data, ("Q[0]", [0.0]), ("A[0,0]", [0.0]))


def test_dtb_gradient_diverges_over_last_percent():
    gd = pe.training.gt16_dtb_demo(n_points=41, min_fraction=1e-4, n_steps=20000)
    assert np.all(np.diff(gd.distances) < 0)
    assert gd.growth(0.01) >= 10.0
    # the loss of the escaping fixed point grows like 1/d^2 and its gradient like 1/d^3
    tail = slice(-15, -5)
    slope = np.polyfit(np.log(gd.distances[tail]), np.log(gd.grad_norms[tail]), 1)[0]
    assert -3.5 < slope < -2.0
    # generalized teacher forcing damps the Jacobian: the gradient stays bounded
    gtf = pe.training.gt16_dtb_demo(n_points=41, min_fraction=1e-4, n_steps=20000, method="gtf", alpha=0.1)
    assert gtf.growth(0.01) < 2.0


def test_dtb_setup_fixed_point_is_stable_and_escapes():
    model, data, param, crit = pe.training.gt16_dtb_setup(n_steps=10)
    for a11 in (0.9, 0.99, 0.999):
        m = model.set_param(param, a11)
        fps = pe.find_cycles(m, 1, seed=0)[1]
        escaping = [c for c in fps if c.points[0, 0] > 0 and c.points[0, 1] <= 0]
        assert len(escaping) == 1 and escaping[0].stable
        assert escaping[0].points[0, 1] == pytest.approx((m.h[1] + m.W[1, 0] * escaping[0].points[0, 0])
                                                         / (1 - a11), rel=1e-9)
    with pytest.raises(ValueError, match="delta_a00"):
        pe.training.gt16_dtb_setup(delta_a00=0.1)


def test_plots_run(gt16, gt_data):
    import matplotlib

    matplotlib.use("Agg")
    run = pe.train(gt16.replace(h=[0.0, 0.0]), gt_data, 5)
    assert run.plot() is not None
    ls = pe.loss_landscape(gt16, gt_data, ("A[0,0]", [0.0, 0.5]), ("A[1,1]", [0.0, 0.2]), relative=True)
    ax = ls.plot(quantity="grad_norm")
    assert ax.get_xlabel() == "ΔA[0,0]"
    with pytest.raises(ValueError, match="quantity"):
        ls.plot(quantity="nope")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pe.plotting.plot_landscape(ls)


def test_cli_train(tmp_path, gt16, gt_data, capsys):
    from plrnn_explorer.cli import main

    pe.save_model(gt16.replace(h=[0.0, 0.0]), tmp_path / "m.json")
    np.save(tmp_path / "x.npy", gt_data)
    out = tmp_path / "run.npz"
    code = main(["train", str(tmp_path / "m.json"), str(tmp_path / "x.npy"), "--epochs", "4", "--method", "gtf",
                 "--alpha", "0.1", "--out", str(out), "--seed", "0"])
    assert code == 0
    run = pe.TrainingRun.load(out)
    assert run.epochs.tolist() == [0, 1, 2, 3, 4] and run.settings["alpha"] == 0.1
    code = main(["train", str(tmp_path / "m.json"), str(tmp_path / "x.npy"), "--epochs", "2", "--method", "gtf",
                 "--alpha", "2", "--out", str(out)])
    assert code == 2 and "alpha" in capsys.readouterr().err
