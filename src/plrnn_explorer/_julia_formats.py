"""Julia checkpoints of the Durstewitz lab's models: BSON (BSON.jl) and JLD2 (HDF5, read with h5py).

Re-exported from :mod:`plrnn_explorer.io`. The lab's Julia codes save the
model struct itself (``@save path model``); a struct stores its fields in
declaration order, so each known type comes with its field names here:

============================  ===================================  ==========================
Julia type                    fields                               loaded as
============================  ===================================  ==========================
``PLRNN``                     ``A, W, h, C``                       PLRNN
``mcPLRNN``                   ``A, W, h, C`` (mean-centred ReLU)   ShallowPLRNN
``shallowPLRNN``              ``A, W₁, W₂, h₁, h₂, C``             ShallowPLRNN
``clippedShallowPLRNN``       ``A, W₁, W₂, h₁, h₂, C``             ClippedShallowPLRNN
``dendPLRNN``                 ``A, W, h, α, H, C``                 ShallowPLRNN (M B units)
``clippedDendPLRNN``          ``A, W, h, α, H, C``                 ClippedShallowPLRNN
``ALRNN``                     ``A, W, h, P``                       ALRNN (``n_relu = P``)
``DynaMix``                   ``A_MoE, W_MoE, h_MoE, gating, ...``  list of ALRNN experts
============================  ===================================  ==========================

``C`` multiplies external inputs; a model trained with inputs (``C`` not
``nothing``) is refused unless ``ignore=["C"]`` says to analyse the map
without input. The Julia dendritic PLRNN uses ``relu(z_i - H_ib)`` (the
PyTorch code uses ``+ thetas``), which the conversion takes into account.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ._bson import JuliaStruct, decode_julia, parse_bson
from ._layouts import build
from .models import ALRNN, Model

__all__ = ["read_bson", "load_julia_checkpoint"]

#: short Julia type name -> (layout, field names, settings)
_JULIA_TYPES: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "PLRNN": ("PLRNN", ("A", "W", "h", "C"), {}),
    "mcPLRNN": ("PLRNN", ("A", "W", "h", "C"), {"mean_centering": True}),
    "shallowPLRNN": ("ShallowPLRNN", ("A", "W₁", "W₂", "h₁", "h₂", "C"), {}),
    "clippedShallowPLRNN": ("ClippedShallowPLRNN", ("A", "W₁", "W₂", "h₁", "h₂", "C"), {}),
    "dendPLRNN": ("dendPLRNN", ("A", "W", "h", "α", "H", "C"), {"threshold_sign": -1}),
    "clippedDendPLRNN": ("ClippedDendPLRNN", ("A", "W", "h", "α", "H", "C"), {"threshold_sign": -1}),
    "ALRNN": ("ALRNN", ("A", "W", "h", "P"), {}),
}
_ROLE = {"W₁": "W1", "W₂": "W2", "h₁": "h1", "h₂": "h2", "α": "alphas", "H": "thetas"}
_DYNAMIX_FIELDS = ("A_MoE", "W_MoE", "h_MoE", "gating_network", "N", "Experts", "P")


def _check_path(path: Any, what: str) -> Path:
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} file {str(p)!r} does not exist")
    return p


def read_bson(path: str | PathLike) -> dict[str, Any]:
    """All entries of a BSON.jl file: arrays as NumPy arrays, structs as ``JuliaStruct``.

    Examples
    --------
    >>> import os, tempfile, plrnn_explorer as pe
    >>> from plrnn_explorer._bson import parse_bson
    >>> path = os.path.join(tempfile.mkdtemp(), "x.bson")
    >>> _ = open(path, "wb").write(bytes.fromhex("10000000106100010000000862000100"))
    >>> pe.io.read_bson(path)
    {'a': 1, 'b': True}
    """
    p = _check_path(path, "BSON")
    try:
        return decode_julia(parse_bson(p.read_bytes()))
    except (ValueError, KeyError, UnicodeDecodeError, TypeError) as exc:
        raise ValueError(f"{str(p)!r} is not a readable BSON.jl file: {exc}") from None


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _is_nothing(v: Any) -> bool:
    return v is None or (isinstance(v, JuliaStruct) and _short(v.type.name) == "Nothing")


def _as_float(name: str, v: Any) -> np.ndarray:
    arr = np.asarray(v)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"field {name!r} is not a numeric array (got {type(v).__name__})")
    return arr.astype(np.float64)


def _model_from_fields(type_name: str, fields: dict[str, Any], ignore: set[str],
                       ) -> tuple[Model | list[Model], dict[str, Any]]:
    short = _short(type_name)
    if short == "DynaMix":
        A, W, h, P = fields["A_MoE"], fields["W_MoE"], fields["h_MoE"], int(fields["P"])
        experts = [ALRNN(_as_float("A_MoE", a), _as_float("W_MoE", w), _as_float("h_MoE", b), n_relu=P)
                   for a, w, b in zip(A, W, h)]
        return experts, {"julia_type": type_name, "layout": "DynaMix experts",
                         "note": "the gating network mixes the experts state-dependently; the mixture is "
                                 "not piecewise-linear, so each expert is returned as its own ALRNN"}
    if short not in _JULIA_TYPES:
        raise ValueError(f"Julia type {type_name!r} is not a known model; known: "
                         f"{sorted(_JULIA_TYPES) + ['DynaMix']}")
    layout, names, settings = _JULIA_TYPES[short]
    c = fields.get("C")
    if "C" in names and not _is_nothing(c) and "C" not in ignore:
        raise ValueError(f"this {short} has an input matrix C {np.shape(c)}: it was trained with external "
                         "inputs. Pass ignore=['C'] to analyse the autonomous map (zero input)")
    arrays = {_ROLE.get(n, n): _as_float(n, fields[n]) for n in names if n not in ("C", "P")}
    n_relu = int(fields["P"]) if "P" in names else None
    model, info = build(layout, arrays, n_relu=n_relu, **settings)
    info["julia_type"] = type_name
    return model, info


def _pick(entries: dict[str, Any], key: str | None, path: Path) -> Any:
    if key is None:
        key = "model" if "model" in entries else (next(iter(entries)) if len(entries) == 1 else None)
        if key is None:
            raise ValueError(f"{str(path)!r} holds {sorted(entries)}; pass key=... to choose one")
    if key not in entries:
        raise ValueError(f"key {key!r} is not in {str(path)!r}: key must be one of {sorted(entries)}")
    return entries[key]


def _from_bson(p: Path, key: str | None, ignore: set[str]) -> tuple[Any, dict[str, Any]]:
    value = _pick(read_bson(p), key, p)
    skipped = []
    if isinstance(value, (list, tuple)):  # e.g. (model, observation_model) in DynaMix files
        models = [v for v in value if isinstance(v, JuliaStruct) and "ObservationModels" not in v.type.name]
        skipped = [v.type.name for v in value if isinstance(v, JuliaStruct) and v not in models]
        if len(models) != 1 or len(models) + len(skipped) != len(value):
            raise ValueError(f"{str(p)!r}: expected one model (and observation models) in the saved tuple, got "
                             f"{[v.type.name if isinstance(v, JuliaStruct) else type(v).__name__ for v in value]}")
        value = models[0]
    if not isinstance(value, JuliaStruct):
        raise ValueError(f"{str(p)!r}: the entry must be a saved model struct, got a {type(value).__name__}")
    short = _short(value.type.name)
    names = _DYNAMIX_FIELDS if short == "DynaMix" else _JULIA_TYPES.get(short, (None, ()))[1]
    if names and len(names) != len(value.fields):
        raise ValueError(f"{str(p)!r}: {value.type.name} has {len(value.fields)} fields, expected "
                         f"{len(names)} ({', '.join(names)}); a different version of the type?")
    model, info = _model_from_fields(value.type.name, dict(zip(names, value.fields)), ignore)
    info["skipped"] = skipped
    return model, info


def _from_jld2(p: Path, key: str | None, ignore: set[str], julia_type: str | None) -> tuple[Any, dict[str, Any]]:
    try:
        import h5py
    except ImportError:
        raise ImportError("reading JLD2 files needs h5py: pip install h5py") from None
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise ValueError(f"{str(p)!r} is not a readable JLD2/HDF5 file: {exc}") from None
    with f:
        entries = {k: f[k] for k in f if not k.startswith("_")}  # "_types" holds JLD2's type definitions
        ds = _pick(entries, key, p)
        if not isinstance(ds, h5py.Dataset) or ds.dtype.names is None:
            raise ValueError(f"{str(p)!r}: entry {ds.name!r} is not a saved struct (no compound datatype)")
        type_name = _jld2_type_name(f, ds.id.get_type()) or julia_type
        if type_name is None:
            raise ValueError(f"{str(p)!r}: the Julia type of entry {ds.name!r} could not be read; pass "
                             f"julia_type=... (one of {sorted(_JULIA_TYPES) + ['DynaMix']})")
        if julia_type is not None and _short(type_name) != _short(julia_type):
            raise ValueError(f"julia_type must match the file's {type_name!r} (or be None), got {julia_type!r}")
        record = ds[()]
        fields = {n: _jld2_value(f, record[n]) for n in ds.dtype.names}
    short = _short(type_name)
    expected = _DYNAMIX_FIELDS if short == "DynaMix" else _JULIA_TYPES.get(short, (None, ()))[1]
    if expected and set(fields) != set(expected):
        raise ValueError(f"{str(p)!r}: {type_name} has fields {sorted(fields)}, expected {list(expected)}")
    model, info = _model_from_fields(type_name, fields, ignore)
    info["skipped"] = []
    return model, info


def _jld2_type_name(f: Any, tid: Any) -> str | None:
    import h5py

    if not tid.committed():
        return None
    name = h5py.h5i.get_name(tid)
    try:
        jt = f[name].attrs.get("julia_type") if name else None
        value = jt["name"] if jt is not None and jt.dtype.names else jt
    except (TypeError, KeyError, ValueError, OSError):  # an attribute h5py cannot convert
        return None
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _jld2_value(f: Any, v: Any) -> Any:
    import h5py

    if isinstance(v, h5py.Reference):
        if not v:
            return None
        target = f[v]
        type_name = _jld2_type_name(f, target.id.get_type())
        if type_name is not None and _short(type_name) == "Nothing":
            return None
        if target.dtype == h5py.ref_dtype:  # a vector of arrays (e.g. DynaMix experts)
            return [_jld2_value(f, r) for r in target[()].ravel()]
        return np.asarray(target[()]).T  # HDF5 stores Julia's column-major arrays with reversed axes
    return v.item() if isinstance(v, np.generic) else v


def load_julia_checkpoint(path: str | PathLike, *, key: str | None = None, ignore: Iterable[str] = (),
                          julia_type: str | None = None, return_info: bool = False) -> Any:
    """Load a model saved by the lab's Julia code (``.bson`` via BSON.jl, or ``.jld2``).

    Parameters
    ----------
    path
        ``.bson`` (read by a small pure-Python reader) or ``.jld2`` (read with h5py).
    key
        Entry of the file; default ``"model"`` (as the lab's ``save_model`` writes) or the only entry.
    ignore
        Fields that are knowingly left out; only ``"C"`` (the input matrix) is meaningful.
    julia_type
        JLD2 only: the model's Julia type (e.g. ``"dendPLRNN"``) when the file's
        type record cannot be read; checked against it when it can.
    return_info
        Also return a dict with the Julia type, the layout and (dendritic PLRNNs) the bases.

    Returns
    -------
    Model, or list of ALRNN for a DynaMix checkpoint (its experts).

    Examples
    --------
    >>> import os, tempfile, numpy as np, plrnn_explorer as pe
    >>> from plrnn_explorer._bson import write_julia_struct
    >>> path = os.path.join(tempfile.mkdtemp(), "m.bson")
    >>> write_julia_struct(path, "DSR.PLRNN", [np.float32([0.5, 0.4]), np.float32([[0, 1], [-1, 0]]),
    ...                                        np.float32([0.1, 0.0]), None])
    >>> pe.io.load_julia_checkpoint(path)
    PLRNN(M=2, G=2; A=(2,), W=(2, 2), h=(2,))
    """
    p = _check_path(path, "checkpoint")
    if isinstance(ignore, str):
        ignore = [ignore]
    ignore_set = set(ignore)
    if not ignore_set <= {"C"}:
        raise ValueError(f"ignore may only contain 'C' (the input matrix), got {sorted(ignore_set)}")
    suffix = p.suffix.lower()
    if suffix == ".bson":
        if julia_type is not None:
            raise ValueError(f"julia_type must be None for a BSON file (BSON files always name the type; "
                             f"julia_type= is for JLD2 files), got {julia_type!r}")
        model, info = _from_bson(p, key, ignore_set)
    elif suffix in (".jld2", ".h5", ".hdf5"):
        model, info = _from_jld2(p, key, ignore_set, julia_type)
    else:
        raise ValueError(f"path must end in .bson or .jld2, got {str(p)!r}")
    return (model, info) if return_info else model
