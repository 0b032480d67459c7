"""Julia checkpoints (BSON.jl and JLD2) of the lab's model types, checked against the Julia equations.

Fixture files are written in tmp_path in the layouts BSON.jl and JLD2 use
(tagged BSON documents with back-references and column-major array bytes; HDF5
with a 512-byte JLD2 header, committed struct types carrying ``julia_type``,
arrays behind object references with reversed axes). Each loaded model is
compared with a plain-NumPy step written from the Julia code's equations,
including at every point of every cycle ``find_cycles`` returns.
"""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer import _bson, io

relu = lambda x: np.maximum(x, 0.0)  # noqa: E731


def julia_step(kind, f, z):
    """One step of the Julia model ``kind`` with fields ``f`` (written from the lab's equations)."""
    A = f["A"]
    if kind == "PLRNN":
        return A * z + f["W"] @ relu(z) + f["h"]
    if kind == "mcPLRNN":
        return A * z + f["W"] @ relu(z - z.mean()) + f["h"]
    if kind in ("shallowPLRNN", "clippedShallowPLRNN"):
        pre = f["W₂"] @ z
        act = relu(pre + f["h₂"]) - (relu(pre) if kind.startswith("clipped") else 0.0)
        return A * z + f["W₁"] @ act + f["h₁"]
    if kind in ("dendPLRNN", "clippedDendPLRNN"):
        basis = relu(z[:, None] - f["H"]) - (relu(z)[:, None] if kind.startswith("clipped") else 0.0)
        return A * z + f["W"] @ (basis @ f["α"]) + f["h"]
    if kind == "ALRNN":
        P = f["P"]
        return A * z + f["W"] @ np.concatenate([z[:-P], relu(z[-P:])]) + f["h"]
    raise AssertionError(kind)


FIELDS = {
    "PLRNN": ("A", "W", "h", "C"), "mcPLRNN": ("A", "W", "h", "C"),
    "shallowPLRNN": ("A", "W₁", "W₂", "h₁", "h₂", "C"), "clippedShallowPLRNN": ("A", "W₁", "W₂", "h₁", "h₂", "C"),
    "dendPLRNN": ("A", "W", "h", "α", "H", "C"), "clippedDendPLRNN": ("A", "W", "h", "α", "H", "C"),
    "ALRNN": ("A", "W", "h", "P"),
}


def random_fields(kind, rng, M=3, hidden=4, B=2):
    f32 = lambda *s: np.float32(rng.normal(size=s))  # noqa: E731  (the lab trains in Float32)
    out = {"A": np.float32(rng.uniform(0, 0.9, M)), "C": None}
    if kind in ("shallowPLRNN", "clippedShallowPLRNN"):
        out.update({"W₁": 2 * f32(M, hidden), "W₂": f32(hidden, M), "h₁": f32(M), "h₂": f32(hidden)})
    else:
        out.update({"W": 2 * f32(M, M), "h": f32(M)})
    if kind in ("dendPLRNN", "clippedDendPLRNN"):
        out.update({"α": f32(B), "H": f32(M, B)})
    if kind == "ALRNN":
        out["P"] = 2
    return {k: out[k] for k in FIELDS[kind]}


def write_jld2(path, type_name, fields):
    """A JLD2-style HDF5 file holding ``model`` = a struct of ``type_name`` with ``fields``."""
    h5py = pytest.importorskip("h5py")
    meta = np.dtype([("name", h5py.string_dtype()), ("parameters", h5py.vlen_dtype(np.uint64))])
    with h5py.File(path, "w", userblock_size=512) as f:
        types = f.create_group("_types")
        types["00000001"] = meta
        types["00000001"].attrs.create("julia_type", np.array(("Core.DataType", np.array([], np.uint64)),
                                                               dtype=meta), dtype=types["00000001"])
        refs = f.create_group("_refs")  # h5py drops unlinked objects on close; JLD2 leaves them unnamed
        members, values = [], []
        for i, (name, v) in enumerate(fields.items()):
            if isinstance(v, np.ndarray):
                members.append((name, h5py.ref_dtype))
                values.append(refs.create_dataset(str(i), data=v.T).ref)  # Julia column-major: axes reversed
            elif v is None:
                members.append((name, h5py.ref_dtype))
                values.append(h5py.Reference())
            else:
                members.append((name, "<i8"))
                values.append(v)
        struct = np.dtype(members)
        types["00000002"] = struct
        types["00000002"].attrs.create("julia_type", np.array((type_name, np.array([], np.uint64)), dtype=meta),
                                       dtype=types["00000001"])
        ds = f.create_dataset("model", shape=(), dtype=types["00000002"])
        ds[()] = np.array(tuple(values), dtype=struct)
    with open(path, "r+b") as fh:
        fh.write(b"HDF5-based Julia Data Format, version 0.1.5\x00")


def check_against_julia(kind, model, fields, rng):
    f = {k: (np.float64(v) if isinstance(v, np.ndarray) else v) for k, v in fields.items()}
    for z in 3 * rng.normal(size=(20, len(f["A"]))):
        np.testing.assert_allclose(model.step(z), julia_step(kind, f, z), rtol=1e-12, atol=1e-12)
    res = pe.find_cycles(model, 3, seed=0)
    assert len(res) > 0
    for cyc in res:
        for j in range(cyc.order):
            np.testing.assert_allclose(julia_step(kind, f, cyc.points[j]), cyc.points[(j + 1) % cyc.order],
                                       rtol=0, atol=1e-10 * (1 + np.abs(cyc.points).max()))


@pytest.mark.parametrize("kind", sorted(FIELDS))
@pytest.mark.parametrize("fmt", ["bson", "jld2"])
def test_lab_julia_types(kind, fmt, tmp_path):
    rng = np.random.default_rng(10 + sorted(FIELDS).index(kind))
    path = tmp_path / f"model.{fmt}"
    for _ in range(20):  # a random model with at least one cycle of order <= 3, so the check bites
        fields = random_fields(kind, rng)
        if fmt == "bson":
            _bson.write_julia_struct(path, f"GTF.{kind}", list(fields.values()))
        else:
            write_jld2(path, f"GTF.{kind}", fields)
        model, info = io.load_julia_checkpoint(path, return_info=True)
        if len(pe.find_cycles(model, 3, seed=0)):
            break
    assert info["julia_type"] == f"GTF.{kind}"
    check_against_julia(kind, model, fields, rng)
    if "dend" in kind:
        assert info["bases"]["threshold_sign"] == -1
        np.testing.assert_array_equal(info["bases"]["thetas"], fields["H"])


def test_dynamix_experts_and_observation_model(tmp_path):
    rng = np.random.default_rng(9)
    M, P, E = 4, 2, 3
    A = [np.float32(rng.uniform(0, 0.9, M)) for _ in range(E)]
    W = [np.float32(rng.normal(size=(M, M))) for _ in range(E)]
    h = [np.float32(rng.normal(size=M)) for _ in range(E)]
    dt = _bson._julia_datatype
    gating = {"tag": "struct", "type": dt("DSR.Model.GatingNetwork", []),
              "data": [_bson._julia_value(np.float32([0.1]))]}
    dynamix = {"tag": "struct", "type": {"tag": "backref", "ref": 1},
               "data": [_bson._julia_value(A), _bson._julia_value(W), _bson._julia_value(h), gating, 3, E, P]}
    obs = {"tag": "struct", "type": dt("DSR.ObservationModels.Identity", []),
           "data": [_bson._julia_value(np.float32(np.eye(3, M)))]}
    path = tmp_path / "dynamix.bson"
    path.write_bytes(_bson._bson_doc({"model": [dynamix, obs], "_backrefs": [dt("DSR.Model.DynaMix", [])]}))
    experts, info = io.load_julia_checkpoint(path, return_info=True)
    assert info["skipped"] == ["DSR.ObservationModels.Identity"] and len(experts) == E
    for e in range(E):
        fields = {"A": A[e], "W": W[e], "h": h[e], "P": P}
        check_against_julia("ALRNN", experts[e], fields, rng)


def test_input_matrix_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    fields = random_fields("PLRNN", rng)
    fields["C"] = np.float32(rng.normal(size=(3, 2)))
    path = tmp_path / "m.bson"
    _bson.write_julia_struct(path, "GTF.PLRNN", list(fields.values()))
    with pytest.raises(ValueError, match=r"input matrix C \(3, 2\).*ignore=\['C'\]"):
        io.load_julia_checkpoint(path)
    check_against_julia("PLRNN", io.load_julia_checkpoint(path, ignore=["C"]), fields, rng)
    with pytest.raises(ValueError, match="ignore may only contain 'C'"):
        io.load_julia_checkpoint(path, ignore=["W"])
    with pytest.raises(ValueError, match="key 'other' is not in"):
        io.load_julia_checkpoint(path, key="other")
    _bson.write_julia_struct(path, "GTF.PLRNN", list(fields.values())[:3])
    with pytest.raises(ValueError, match="has 3 fields, expected 4"):
        io.load_julia_checkpoint(path)
    _bson.write_julia_struct(path, "GTF.LSTM", [np.float32([1.0])])
    with pytest.raises(ValueError, match="'GTF.LSTM' is not a known model"):
        io.load_julia_checkpoint(path)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(ValueError, match="not a readable BSON.jl file"):
        io.load_julia_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        io.load_julia_checkpoint(tmp_path / "missing.bson")
    other = tmp_path / "m.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match=r"\.bson or \.jld2"):
        io.load_julia_checkpoint(other)
    junk = tmp_path / "junk.jld2"
    junk.write_bytes(b"\x00" * 100)
    pytest.importorskip("h5py")
    with pytest.raises(ValueError, match="not a readable JLD2"):
        io.load_julia_checkpoint(junk)
