"""Saving and loading models without pickle (JSON, NPZ), and loaders for PyTorch and MATLAB files.

JSON files hold ``{"format": "plrnn_explorer.model", "version": 1, "type": ..., "params": {...}}``;
NPZ files hold one array per parameter plus ``__type__`` (and integer
settings such as ``n_relu``) and are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import zipfile
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ._atomic import atomic_path, atomic_write_text, json_dumps_strict
from ._julia_formats import load_julia_checkpoint, read_bson
from ._torch_formats import from_torch_rnn, load_torch_state_dict, to_state_dict, to_torch
from ._validation import as_int
from .models import MODEL_TYPES, Model, check_model

__all__ = ["save_model", "load_model", "load_torch_state_dict", "from_torch_rnn", "to_state_dict", "to_torch",
           "load_julia_checkpoint", "read_bson", "load_mat", "load_mat_snapshots", "example_data_path",
           "SCYFI_SPEEDUP_MAPPING"]

_FORMAT = "plrnn_explorer.model"
_SUFFIXES = (".json", ".npz")


def _path(path: Any) -> Path:
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if p.suffix.lower() not in _SUFFIXES:
        raise ValueError(f"path must end in .json or .npz, got {str(p)!r}")
    return p


def save_model(model: Model, path: str | PathLike) -> None:
    """Save a model as ``.json`` or ``.npz`` (chosen by the file name).

    Examples
    --------
    >>> import tempfile, os, plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.json")
    >>> pe.save_model(m, path)
    >>> pe.load_model(path) == m
    True
    """
    check_model(model)
    p = _path(path)
    d = model.to_dict()
    if p.suffix.lower() == ".json":
        atomic_write_text(p, json_dumps_strict({"format": _FORMAT, "version": 1, **d}, indent=1))
    else:
        arrays = {k: np.asarray(v) for k, v in d["params"].items()}
        with atomic_path(p) as tmp:
            np.savez(tmp, __type__=np.array(d["type"]), __format__=np.array(_FORMAT), **arrays)


def load_model(path: str | PathLike) -> Model:
    """Load a model written by :func:`save_model`.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is corrupt or not a plrnn_explorer model.

    Examples
    --------
    >>> import tempfile, os, plrnn_explorer as pe
    >>> m = pe.ShallowPLRNN([0.5], [[1.0, -1.0]], [[1.0], [2.0]], [0.0], [0.5, -0.5])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> pe.save_model(m, path)
    >>> pe.load_model(path) == m
    True
    """
    p = _path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    if p.suffix.lower() == ".json":
        try:
            with open(p, encoding="utf-8") as f:
                d = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ValueError(f"model file {str(p)!r} is not valid JSON: {exc}") from None
        if not isinstance(d, dict) or d.get("format", _FORMAT) != _FORMAT:
            raise ValueError(f"model file {str(p)!r} is not a plrnn_explorer model (format {_FORMAT!r})")
        return _from_description(p, d)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, OSError, EOFError, TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ValueError(f"model file {str(p)!r} is not a valid NPZ archive of a model "
                         f"(as written by save_model): {type(exc).__name__}: {exc}") from None
    if not isinstance(arrays, dict) or "__type__" not in arrays:
        raise ValueError(f"model file {str(p)!r} has no '__type__' entry: not a plrnn_explorer model "
                         "(expected an .npz written by save_model)")
    params: dict[str, Any] = {}
    for k, a in arrays.items():
        if not k.startswith("__"):
            params[k] = int(a) if a.ndim == 0 and np.issubdtype(a.dtype, np.integer) else a
    return _from_description(p, {"type": str(arrays["__type__"]), "params": params})


def _from_description(p: Path, d: dict[str, Any]) -> Model:
    if d.get("type") not in MODEL_TYPES:
        raise ValueError(f"model file {str(p)!r}: unknown model type {d.get('type')!r}; "
                         f"'type' must be one of {sorted(MODEL_TYPES)}")
    try:
        return Model.from_dict(d)
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"model file {str(p)!r}: parameters do not fit {d['type']}; 'params' must hold "
                         f"{list(MODEL_TYPES[d['type']].param_names)} as written by save_model: {exc}") from None


# ---------------------------------------------------------------------------
# foreign formats: PyTorch state_dicts and MATLAB .mat files
# ---------------------------------------------------------------------------

#: file key of each ShallowPLRNN parameter in the SCYFI-speedup snapshot files
#: (``z' = A z + W2 relu(W1 z + h1) + h2`` there: W1/W2 and h1/h2 are swapped)
SCYFI_SPEEDUP_MAPPING = {"A": "A", "W1": "W2", "W2": "W1", "h1": "h2", "h2": "h1"}

#: parameter ndim (without a snapshot axis) of every model parameter
_PARAM_NDIM = {"A": (1, 2), "W": (1, 2), "h": (1,), "W1": (2,), "W2": (2,), "h1": (1,), "h2": (1,),
               "W_out": (2,), "W_in": (2,), "b_in": (1,)}


def _model_type(model_type: Any) -> type[Model]:
    if isinstance(model_type, type) and issubclass(model_type, Model) and model_type in MODEL_TYPES.values():
        return model_type
    if isinstance(model_type, str) and model_type in MODEL_TYPES:
        return MODEL_TYPES[model_type]
    raise ValueError(f"model_type must be one of {sorted(MODEL_TYPES)} (name or class), got {model_type!r}")


def _diag_if_diagonal(a: np.ndarray) -> np.ndarray:
    """A square matrix that is exactly diagonal becomes its diagonal vector."""
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.array_equal(a, np.diag(np.diag(a))):
        return np.diag(a).copy()
    return a


def _read_mat(path: Any) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not Path(path).is_file():
        raise FileNotFoundError(f".mat file {str(path)!r} does not exist")
    from scipy.io.matlab import MatReadError

    try:
        return {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
    except (ValueError, OSError, NotImplementedError, MatReadError, TypeError, KeyError, EOFError, IndexError,
            AttributeError, AssertionError, OverflowError, MemoryError) as exc:  # scipy's parser on garbage bytes
        raise ValueError(f"{str(path)!r} is not a readable MATLAB .mat file: {exc}") from None


def _mat_arrays(path: Any, mapping: Any, cls: type[Model]) -> tuple[dict[str, np.ndarray], int | None]:
    """Parameter arrays (snapshot axis first where present) and the number of snapshots."""
    if not isinstance(mapping, dict):
        raise TypeError("mapping must be a dict {parameter: file key}, e.g. "
                        "plrnn_explorer.io.SCYFI_SPEEDUP_MAPPING for the SCYFI-speedup files")
    content = _read_mat(path)
    wanted = list(cls.param_names)
    if sorted(mapping) != sorted(wanted):
        raise ValueError(f"mapping must name a file key for each of {wanted} ({cls.__name__}), "
                         f"got keys {sorted(mapping)}")
    missing = [k for k in mapping.values() if k not in content]
    if missing:
        raise ValueError(f"mapping values must be keys of {str(path)!r}, got {missing}, which it does not "
                         f"hold; the file holds {sorted(content)}")
    arrays: dict[str, np.ndarray] = {}
    n_snap: int | None = None
    for name in wanted:
        raw = np.asarray(content[mapping[name]])
        if np.iscomplexobj(raw) or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
            raise ValueError(f"{mapping[name]!r} (for {name}) in {str(path)!r} must hold real numbers, "
                             f"got dtype {raw.dtype}")
        a = raw.astype(np.float64)
        ndims = _PARAM_NDIM[name]
        if a.ndim == 2 and 1 in a.shape and 1 in ndims:
            a = a.ravel()  # MATLAB row/column vectors
        if a.ndim == max(ndims) + 1:
            if n_snap is not None and a.shape[0] != n_snap:
                raise ValueError(f"{str(path)!r}: {mapping[name]!r} (for {name}) has {a.shape[0]} snapshots, the "
                                 f"other parameters {n_snap}; every snapshot array must have the same length")
            n_snap = a.shape[0]
        elif a.ndim not in ndims:
            raise ValueError(f"{mapping[name]!r} (for {name}) has shape {a.shape}; expected {max(ndims)}-D "
                             f"or {max(ndims) + 1}-D with snapshots first")
        arrays[name] = a
    return arrays, n_snap


def _mat_model(cls: type[Model], arrays: dict[str, np.ndarray], i: int | None, settings: dict[str, int]) -> Model:
    params = {}
    for name, a in arrays.items():
        if i is not None and a.ndim == max(_PARAM_NDIM[name]) + 1:
            a = a[i]
        params[name] = _diag_if_diagonal(a) if name == "A" else a
    return cls(**params, **settings)


def load_mat(path: str | PathLike, *, mapping: dict[str, str], model_type: Any = "ShallowPLRNN",
             snapshot: int | None = None, **settings: int) -> Model:
    """Load one model from a MATLAB ``.mat`` file with an explicit key mapping.

    Conventions differ between codes (the SCYFI-speedup files swap W1/W2 and
    h1/h2), so ``mapping`` must say which file key plays which role:
    ``{parameter name: file key}``. :data:`SCYFI_SPEEDUP_MAPPING` is the preset
    for those files. Arrays with one more dimension than the parameter hold
    snapshots along their first axis; pick one with ``snapshot``. ``1 x n``
    MATLAB vectors are flattened; an exactly diagonal square ``A`` is stored as
    its diagonal.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> path = pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat")
    >>> m = pe.io.load_mat(path, mapping=pe.io.SCYFI_SPEEDUP_MAPPING, snapshot=-1)
    >>> m.dim, m.hidden_dim
    (3, 8)
    """
    cls = _model_type(model_type)
    arrays, n_snap = _mat_arrays(path, mapping, cls)
    if n_snap is None:
        if snapshot is not None:
            raise ValueError(f"snapshot must be None for {str(path)!r}, which holds a single model; got {snapshot!r}")
        return _mat_model(cls, arrays, None, settings)
    if snapshot is None:
        raise ValueError(f"{str(path)!r} holds {n_snap} snapshots: pass snapshot=i (0 <= i < {n_snap}) "
                         "or use load_mat_snapshots")
    i = as_int("snapshot", snapshot, minimum=-n_snap, maximum=n_snap - 1)
    return _mat_model(cls, arrays, i, settings)


def load_mat_snapshots(path: str | PathLike, *, mapping: dict[str, str], model_type: Any = "ShallowPLRNN",
                       **settings: int) -> list[Model]:
    """All snapshots of a ``.mat`` file as a list of models (see :func:`load_mat`).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> path = pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat")
    >>> len(pe.io.load_mat_snapshots(path, mapping=pe.io.SCYFI_SPEEDUP_MAPPING))
    150
    """
    cls = _model_type(model_type)
    arrays, n_snap = _mat_arrays(path, mapping, cls)
    if n_snap is None:
        return [_mat_model(cls, arrays, None, settings)]
    return [_mat_model(cls, arrays, i, settings) for i in range(n_snap)]


def example_data_path(name: str) -> Path:
    """Path of a data file shipped with the package (see ``plrnn_explorer/data/README.md``).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat").name
    'shplrnn_150_snapshots_M3_H8.mat'
    """
    from importlib.resources import files

    root = Path(str(files("plrnn_explorer") / "data"))
    available = sorted(p.name for p in root.glob("*.mat"))
    if name not in available:
        raise ValueError(f"name must be one of the shipped data files {available}, got {name!r}")
    return root / name
