"""PyTorch state_dict and MATLAB .mat loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io as sio

import plrnn_explorer as pe
from plrnn_explorer import io

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # ../shared beside the clone
BUNDLED = io.example_data_path("shplrnn_150_snapshots_M3_H8.mat")


def _file_step(d, i, z):
    """The files' own equation z' = A z + W2[i] relu(W1[i] z + h1) + h2."""
    return d["A"] @ z + d["W2"][i] @ np.maximum(d["W1"][i] @ z + d["h1"].ravel(), 0) + d["h2"].ravel()


@pytest.mark.parametrize("path", [BUNDLED] + sorted(SHARED.glob("*.mat")))
def test_mat_snapshots_follow_the_files_equation(path):
    d = sio.loadmat(path)
    models = io.load_mat_snapshots(path, mapping=io.SCYFI_SPEEDUP_MAPPING)
    assert len(models) == 150
    rng = np.random.default_rng(0)
    for i in (0, 77, 149):
        z = rng.normal(size=models[i].dim)
        np.testing.assert_allclose(models[i].step(z), _file_step(d, i, z), rtol=1e-6, atol=1e-6)
        assert models[i] == io.load_mat(path, mapping=io.SCYFI_SPEEDUP_MAPPING, snapshot=i)
    assert models[-1] == io.load_mat(path, mapping=io.SCYFI_SPEEDUP_MAPPING, snapshot=-1)
    assert models[0].A.ndim == 1  # exactly diagonal A stored as its diagonal


def test_mat_errors(tmp_path):
    with pytest.raises(TypeError, match="mapping"):
        io.load_mat(BUNDLED, mapping=None, snapshot=0)
    with pytest.raises(ValueError, match="mapping"):
        io.load_mat(BUNDLED, mapping={"A": "A", "W1": "W1"}, snapshot=0)
    with pytest.raises(ValueError, match="Q"):
        io.load_mat(BUNDLED, mapping={**io.SCYFI_SPEEDUP_MAPPING, "A": "Q"}, snapshot=0)
    with pytest.raises(ValueError, match="snapshot"):
        io.load_mat(BUNDLED, mapping=io.SCYFI_SPEEDUP_MAPPING)
    with pytest.raises(ValueError, match="snapshot"):
        io.load_mat(BUNDLED, mapping=io.SCYFI_SPEEDUP_MAPPING, snapshot=150)
    with pytest.raises(FileNotFoundError):
        io.load_mat(tmp_path / "missing.mat", mapping=io.SCYFI_SPEEDUP_MAPPING)
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"garbage" * 20)
    with pytest.raises(ValueError, match="mat"):
        io.load_mat(bad, mapping=io.SCYFI_SPEEDUP_MAPPING)
    with pytest.raises(ValueError, match="model_type"):
        io.load_mat(BUNDLED, mapping=io.SCYFI_SPEEDUP_MAPPING, model_type="LSTM", snapshot=0)


def test_mat_single_plrnn(tmp_path):
    path = tmp_path / "plrnn.mat"
    A, W, h = np.array([[0.5, 0.1], [0.0, 0.4]]), np.array([[0, 1.0], [-1.0, 0]]), np.array([[0.2, 0.3]])
    sio.savemat(path, {"a_mat": A, "w_mat": W, "bias": h})
    m = io.load_mat(path, mapping={"A": "a_mat", "W": "w_mat", "h": "bias"}, model_type=pe.PLRNN)
    assert m == pe.PLRNN(A, W, h.ravel())
    with pytest.raises(ValueError, match="single model"):
        io.load_mat(path, mapping={"A": "a_mat", "W": "w_mat", "h": "bias"}, model_type="PLRNN", snapshot=0)
    assert io.load_mat_snapshots(path, mapping={"A": "a_mat", "W": "w_mat", "h": "bias"},
                                 model_type="PLRNN") == [m]


def test_state_dict_layouts():
    rng = np.random.default_rng(0)
    A, W1, W2, h1, h2 = rng.normal(size=3), rng.normal(size=(3, 5)), rng.normal(size=(5, 3)), \
        rng.normal(size=3), rng.normal(size=5)
    sd = {"model.latent.A": A, "model.latent.W1": W1, "model.latent.W2": W2, "model.latent.h1": h1,
          "model.latent.h2": h2, "model.obs.B": np.zeros((2, 3))}
    with pytest.raises(ValueError, match=r"'model\.obs\.B' \(2, 3\) are not used"):
        io.load_torch_state_dict(sd, "ShallowPLRNN")
    assert io.load_torch_state_dict(sd, "ShallowPLRNN", ignore=["model.obs.*"]) == pe.ShallowPLRNN(A, W1, W2, h1, h2)
    assert io.load_torch_state_dict(sd, pe.ClippedShallowPLRNN, ignore=["model.obs.B"]) == \
        pe.ClippedShallowPLRNN(A, W1, W2, h1, h2)
    W = rng.normal(size=(3, 3))
    assert io.load_torch_state_dict({"A": np.diag(A), "W": W, "h": h1}, "PLRNN") == pe.PLRNN(A, W, h1)
    aw = W + np.diag(A)
    m = io.load_torch_state_dict({"AW": aw, "h": h1}, "PLRNN")
    np.testing.assert_allclose(m.A, np.diag(aw))
    np.testing.assert_allclose(m.W + np.diag(m.A), aw)
    assert np.all(np.diag(m.W) == 0)
    m = io.load_torch_state_dict({"rec": aw, "bias": h1}, "ALRNN", names={"AW": "rec", "h": "bias"}, n_relu=2)
    assert m.n_relu == 2
    # swapped conventions through an explicit mapping
    swapped = {"W1": W2, "W2": W1, "h1": h2, "h2": h1, "A": A}
    m = io.load_torch_state_dict(swapped, "ShallowPLRNN", names=io.SCYFI_SPEEDUP_MAPPING)
    assert m == pe.ShallowPLRNN(A, W1, W2, h1, h2)


def test_state_dict_errors():
    with pytest.raises(ValueError, match="unknown state_dict layout"):
        io.load_torch_state_dict({"weight": np.eye(2), "bias": np.zeros(2)}, "PLRNN")
    with pytest.raises(ValueError, match="not in the state_dict"):
        io.load_torch_state_dict({"A": np.eye(2)}, "PLRNN", names={"A": "missing"})
    with pytest.raises(TypeError, match="state_dict"):
        io.load_torch_state_dict(42, "PLRNN")
    with pytest.raises(ValueError, match="model_type"):
        io.load_torch_state_dict({}, "GRU")
    with pytest.raises(ValueError, match="W1"):  # shapes are validated by the model
        io.load_torch_state_dict({"A": np.ones(2), "W1": np.ones((3, 4)), "W2": np.ones((4, 2)),
                                  "h1": np.ones(2), "h2": np.ones(4)}, "ShallowPLRNN")


def test_torch_tensors_and_pt_files(tmp_path):
    torch = pytest.importorskip("torch")
    W = torch.tensor([[0.0, 0.5], [-0.5, 0.0]], dtype=torch.float32)
    sd = {"A": torch.tensor([0.3, 0.4]), "W": W, "h": torch.tensor([0.1, 0.2])}
    m = io.load_torch_state_dict(sd, "PLRNN")
    np.testing.assert_allclose(m.W, W.numpy())
    path = tmp_path / "model.pt"
    torch.save(sd, path)
    assert io.load_torch_state_dict(path, "PLRNN") == m
    with pytest.raises(FileNotFoundError):
        io.load_torch_state_dict(tmp_path / "nope.pt", "PLRNN")


def test_mat_and_npz_canonical_model(tmp_path):
    from plrnn_explorer.canonical_model import CanonicalPLRNN

    rng = np.random.default_rng(2)
    arrays = {"A": 0.5 * np.ones(2), "Wo": rng.normal(size=(2, 3)), "Wi": rng.normal(size=(3, 2)),
              "b": rng.normal(size=(1, 3)), "h": rng.normal(size=(1, 2))}
    path = tmp_path / "c.mat"
    sio.savemat(path, arrays)
    m = io.load_mat(path, mapping={"A": "A", "W_out": "Wo", "W_in": "Wi", "b_in": "b", "h": "h"},
                    model_type="CanonicalPLRNN")
    assert m == CanonicalPLRNN(arrays["A"], arrays["Wo"], arrays["Wi"], arrays["b"].ravel(), arrays["h"].ravel())
    pe.save_model(m, tmp_path / "c.npz")
    assert pe.load_model(tmp_path / "c.npz") == m
