"""Bad input raises ValueError/TypeError/FileNotFoundError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe

GOOD = dict(A=[0.5, 0.5], W=[[0, 1], [1, 0]], h=[0.1, 0.2])


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(GOOD, A=[[0.5, 0.1, 0.0], [0.0, 0.5, 0.0]]), ValueError, "A must be a square"),
    (dict(GOOD, W=[[0, 1, 2], [1, 0, 2]]), ValueError, "W must be a square"),
    (dict(GOOD, W=np.zeros((3, 3))), ValueError, "W must have shape"),
    (dict(GOOD, h=[0.1, 0.2, 0.3]), ValueError, r"h must have shape \(M,\)"),
    (dict(GOOD, h=[0.1, np.nan]), ValueError, "h must contain only finite"),
    (dict(GOOD, A=[np.inf, 0.5]), ValueError, "A must contain only finite"),
    (dict(GOOD, W="abc"), TypeError, "W must be a real numeric array"),
    (dict(GOOD, h=[[0.1, 0.2]]), ValueError, "h must be 1-D"),
    (dict(GOOD, h=["a", "b"]), TypeError, "h must be a real numeric array"),
    (dict(GOOD, A=[[1, 2], [3]]), TypeError, "A must be a real numeric array"),
    (dict(GOOD, h=[1 + 2j, 0]), TypeError, "h must be real"),
])
def test_plrnn_rejects_bad_parameters(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        pe.PLRNN(**kwargs)


def test_shallow_rejects_mismatched_shapes():
    ok = dict(A=[0.5, 0.5], W1=np.ones((2, 3)), W2=np.ones((3, 2)), h1=[0, 0], h2=[0, 0, 0])
    pe.ShallowPLRNN(**ok)
    with pytest.raises(ValueError, match=r"W2 must have shape \(H, M\)"):
        pe.ShallowPLRNN(**dict(ok, W2=np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"W1 must have shape \(M, H\)"):
        pe.ClippedShallowPLRNN(**dict(ok, W1=np.ones((3, 3))))
    with pytest.raises(ValueError, match=r"h2 must have shape \(H,\)"):
        pe.ShallowPLRNN(**dict(ok, h2=[0, 0]))


def test_alrnn_rejects_bad_n_relu():
    with pytest.raises(ValueError, match="n_relu must be <= 2"):
        pe.ALRNN(**GOOD, n_relu=3)
    with pytest.raises(TypeError, match="n_relu must be an integer"):
        pe.ALRNN(**GOOD, n_relu=1.5)


@pytest.fixture
def m():
    return pe.PLRNN(**GOOD)


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: pe.find_cycles(m, 0), ValueError, "max_order must be >= 1"),
    (lambda m: pe.find_cycles(m, -3), ValueError, "max_order must be >= 1"),
    (lambda m: pe.find_cycles(m, 2.0), TypeError, "max_order must be an integer"),
    (lambda m: pe.find_cycles(m, "3"), TypeError, "max_order must be an integer"),
    (lambda m: pe.find_cycles(m, True), TypeError, "max_order must be an integer"),
    (lambda m: pe.find_cycles(m), ValueError, "give max_order"),
    (lambda m: pe.find_cycles(m, 3, orders=[]), ValueError, "orders must not be empty"),
    (lambda m: pe.find_cycles(m, 3, orders=[0, 1]), ValueError, r"orders\[i\] must be >= 1"),
    (lambda m: pe.find_cycles(m, 3, orders="12"), TypeError, "orders must be a sequence"),
    (lambda m: pe.find_cycles(m, 3, outer_loop_iterations=-1), ValueError, "outer_loop_iterations must be >= 0"),
    (lambda m: pe.find_cycles(m, 3, inner_loop_iterations=-5), ValueError, "inner_loop_iterations must be >= 0"),
    (lambda m: pe.find_cycles(m, 3, inner_loop_iterations=2.5), TypeError, "inner_loop_iterations must be an integer"),
    (lambda m: pe.find_cycles(m, 3, seed=-1), ValueError, "seed must be >= 0"),
    (lambda m: pe.find_cycles(m, 3, strategy="fast"), ValueError, "strategy must be"),
    (lambda m: pe.find_cycles("model", 3), TypeError, "model must be a plrnn_explorer model"),
    (lambda m: pe.find_cycles(np.eye(2), 3), TypeError, "model must be a plrnn_explorer model"),
    (lambda m: pe.exhaustive_cycles(m, 40), ValueError, "exhaustive search needs"),
    (lambda m: pe.exhaustive_cycles(m, 0), ValueError, "max_order must be >= 1"),
    (lambda m: m.simulate([0.0, 0.0, 0.0], 5), ValueError, "z0 must have shape"),
    (lambda m: m.simulate([0.0, np.nan], 5), ValueError, "z0 must contain only finite"),
    (lambda m: m.simulate([0.0, 0.0], 0), ValueError, "n_steps must be >= 1"),
    (lambda m: m.step([1.0]), ValueError, r"z must have shape \(M,\)"),
    (lambda m: m.jacobian("ab"), TypeError, "z must be a real numeric array"),
    (lambda m: m.get_param("Q[0]"), ValueError, "has no parameter 'Q'"),
    (lambda m: m.get_param("W[5,0]"), ValueError, r"index does not fit W of shape \(2, 2\); expected .W\[i,j\]. with 0 <= i < 2"),
    (lambda m: m.get_param("W"), ValueError, "must index one entry"),
    (lambda m: m.get_param("W[0,"), ValueError, "is not a parameter path"),
    (lambda m: m.get_param(3), TypeError, "param must be a string path"),
    (lambda m: m.replace(B=[1, 2]), ValueError, "unknown parameter"),
    (lambda m: m.set_param("h[0]", np.nan), ValueError, "h must contain only finite"),
    (lambda m: m.set_param("h[0]", "1"), TypeError, r"value \(for 'h\[0\]'\) must be a real number"),
    (lambda m: pe.cycle_from_itinerary(m, [[1, 1], [1, 1]]), ValueError, "power of a shorter word"),
    (lambda m: pe.cycle_from_itinerary(m, [[1, 1, 0]]), ValueError, "itinerary must have shape"),
    (lambda m: pe.cycle_from_itinerary(m, [[2, 0]]), ValueError, "only 0/1"),
])
def test_bad_arguments(m, call, exc, match):
    with pytest.raises(exc, match=match):
        call(m)


def test_singular_cycle_equation_is_a_clear_error():
    # z' = z + h for z <= 0 has I - P = 0: no isolated fixed point in the "off" region
    m = pe.PLRNN([1.0], [[0.5]], [0.0])
    with pytest.raises(ValueError, match="singular"):
        pe.cycle_from_itinerary(m, [[0]])


def test_inconsistent_itinerary_is_a_clear_error():
    m = pe.PLRNN([0.5], [[0.0]], [1.0])         # only fixed point z = 2 (gate on)
    with pytest.raises(ValueError, match="visits other regions"):
        pe.cycle_from_itinerary(m, [[0]])


def test_load_model_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        pe.load_model(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        pe.load_model(bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"type": "LSTM", "params": {}}')
    with pytest.raises(ValueError, match="unknown model type"):
        pe.load_model(wrong)
    shapes = tmp_path / "shapes.json"
    shapes.write_text('{"type": "PLRNN", "params": {"A": [0.5], "W": [[1, 2]], "h": [0]}}')
    with pytest.raises(ValueError, match="W must be a square"):
        pe.load_model(shapes)
    missing = tmp_path / "missing_param.json"
    missing.write_text('{"type": "PLRNN", "params": {"A": [0.5]}}')
    with pytest.raises(ValueError, match="parameters do not fit"):
        pe.load_model(missing)
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="not a valid NPZ"):
        pe.load_model(corrupt)
    with pytest.raises(ValueError, match="must end in .json or .npz"):
        pe.load_model(tmp_path / "model.txt")
    with pytest.raises(TypeError, match="path must be a str"):
        pe.load_model(123)


@pytest.mark.parametrize("kwargs,exc,match", [
    (dict(pool=[[1, 0, 1]]), ValueError, r"pool must be an \(n, G\) array of 0/1 gate patterns with G = 2"),
    (dict(pool=5), ValueError, r"pool must be an \(n, G\) array"),
    (dict(pool=[[2, 0]]), ValueError, "pool must contain only 0/1"),
    (dict(initial_itineraries=np.array([[1, 0], [0, 1]])), ValueError, r"wrap it in a list, \[itinerary\]"),
    (dict(initial_itineraries=3), TypeError, "initial_itineraries must be a list"),
    (dict(initial_itineraries=[[[1, 0, 0]]]), ValueError, r"initial_itineraries\[0\] must be an \(n, G\) array"),
])
def test_find_cycles_word_arguments_name_themselves(m, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        pe.find_cycles(m, 2, seed=0, strategy="scyfi", **kwargs)
