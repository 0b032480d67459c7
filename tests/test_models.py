"""Model classes: canonical form, dynamics, parameters and serialization."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from conftest import MODEL_KINDS, random_model
from naive import naive_gates, naive_jacobian, naive_map


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_canonical_form_reproduces_the_model_equation(kind):
    rng = np.random.default_rng(0)
    for _ in range(20):
        model = random_model(rng, kind, int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        F, gates = naive_map(model), naive_gates(model)
        for z in rng.normal(scale=2, size=(10, model.dim)):
            np.testing.assert_allclose(model.step(z), F(z), rtol=1e-12, atol=1e-12)
            np.testing.assert_array_equal(model.region(z), gates(z) > 0)
            np.testing.assert_allclose(model.jacobian(z), naive_jacobian(model, gates(z) > 0), atol=1e-12)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_simulate_matches_repeated_steps(kind):
    rng = np.random.default_rng(1)
    model = random_model(rng, kind, 3, 4, scale=0.3)
    z0 = rng.normal(size=3)
    traj = model.simulate(z0, 20)
    assert traj.shape == (20, 3)
    z = z0
    for t in range(20):
        np.testing.assert_allclose(traj[t], z, rtol=1e-12, atol=1e-12)
        z = model.step(z)
    batch = model.simulate(np.stack([z0, z0 + 1]), 20)
    assert batch.shape == (2, 20, 3)
    np.testing.assert_allclose(batch[0], traj)


def test_jacobian_matches_finite_differences():
    rng = np.random.default_rng(2)
    model = random_model(rng, "ShallowPLRNN", 3, 5)
    z = rng.normal(size=3)
    eps = 1e-7
    fd = np.column_stack([(model.step(z + eps * e) - model.step(z - eps * e)) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(model.jacobian(z), fd, rtol=1e-5, atol=1e-6)


def test_gate_exactly_zero_counts_as_off():
    m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0])
    np.testing.assert_array_equal(m.region([0.0, 1e-300]), [False, True])


def test_alrnn_folds_linear_units_into_A():
    A = np.array([0.5, 0.6, 0.7])
    W = np.arange(9.0).reshape(3, 3) / 10
    m = pe.ALRNN(A, W, [0.1, 0.2, 0.3], n_relu=1)
    cf = m.canonical
    assert cf.n_gates == 1
    np.testing.assert_allclose(cf.A, np.diag(A) + W * [1, 1, 0])
    np.testing.assert_allclose(cf.W_out, W[:, 2:])


def test_get_and_set_param_paths():
    m = pe.PLRNN([0.5, 0.7], [[0, 1], [2, 0]], [0.1, 0.2])
    assert m.get_param("A[1]") == m.get_param("A[1,1]") == 0.7
    assert m.get_param("A[0,1]") == 0.0
    assert m.get_param("W[1,0]") == 2.0 and m.get_param("h[1]") == 0.2
    m2 = m.set_param("A[0,1]", 0.3)          # off-diagonal entry of a diagonal A: promoted to a full matrix
    assert m2.A.shape == (2, 2) and m2.get_param("A[0,1]") == 0.3 and m2.get_param("A[1,1]") == 0.7
    assert m.get_param("A[0,1]") == 0.0      # immutable: the original is unchanged
    s = pe.ShallowPLRNN([0.5], [[1.0, 2.0]], [[3.0], [4.0]], [0.0], [5.0, 6.0])
    assert s.set_param("W1[0,1]", -1.0).W1[0, 1] == -1.0
    assert s.get_param("h2[1]") == 6.0
    assert len(m.param_paths()) == 2 + 4 + 2


def test_models_are_immutable():
    m = pe.PLRNN([0.5], [[1.0]], [0.0])
    with pytest.raises(ValueError):
        m.A[0] = 2.0
    p = m.params
    p["A"][0] = 2.0
    assert m.A[0] == 0.5


def test_replace_and_equality():
    m = pe.PLRNN([0.5], [[1.0]], [0.0])
    assert m.replace(h=[0.0]) == m
    assert m.replace(h=[1.0]) != m
    assert hash(m) == hash(pe.PLRNN([0.5], [[1.0]], [0.0]))


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_round_trip(tmp_path, kind, suffix):
    model = random_model(np.random.default_rng(3), kind, 3, 4)
    path = tmp_path / f"model{suffix}"
    pe.save_model(model, path)
    back = pe.load_model(path)
    assert type(back) is type(model) and back == model
    if kind == "ALRNN":
        assert back.n_relu == model.n_relu


def test_cycleset_json_round_trip(tmp_path, gt16):
    res = pe.find_cycles(gt16, 16, seed=1)
    res.save(tmp_path / "cycles.json")
    back = pe.CycleSet.load(tmp_path / "cycles.json")
    assert back.orders == res.orders and back.keys() == res.keys()
    for a, b in zip(res, back):
        np.testing.assert_allclose(a.points, b.points)
        np.testing.assert_allclose(a.eigenvalues, b.eigenvalues)
        assert a.kind == b.kind and a.stable == b.stable
    d = res.to_dict()
    assert {"order", "points", "eigenvalues", "stable", "kind"} <= set(d["cycles"][0])


def test_cycleset_table_and_dataframe(gt16):
    res = pe.find_cycles(gt16, 16, seed=1)
    text = str(res)
    assert "stable spiral" in text and "16" in text
    df = res.to_dataframe()
    assert len(df) == 1 + 16 + 16 and set(df["order"]) == {1, 16}
    assert "<table>" in res._repr_html_()
