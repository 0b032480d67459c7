"""Saving and loading models without pickle: JSON and NPZ.

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

from .models import MODEL_TYPES, Model, check_model

__all__ = ["save_model", "load_model"]

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
        with open(p, "w", encoding="utf-8") as f:
            json.dump({"format": _FORMAT, "version": 1, **d}, f, indent=1)
    else:
        arrays = {k: np.asarray(v) for k, v in d["params"].items()}
        np.savez(p, __type__=np.array(d["type"]), __format__=np.array(_FORMAT), **arrays)


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
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"model file {str(p)!r} is not valid JSON: {exc}") from None
        if not isinstance(d, dict) or d.get("format", _FORMAT) != _FORMAT:
            raise ValueError(f"model file {str(p)!r} is not a plrnn_explorer model (format {_FORMAT!r})")
        return _from_description(p, d)
    try:
        with np.load(p, allow_pickle=False) as z:
            if "__type__" not in z.files:
                raise ValueError(f"model file {str(p)!r} has no '__type__' entry: not a plrnn_explorer model")
            params: dict[str, Any] = {}
            for k in z.files:
                if not k.startswith("__"):
                    a = z[k]
                    params[k] = int(a) if a.ndim == 0 and np.issubdtype(a.dtype, np.integer) else a
            d = {"type": str(z["__type__"]), "params": params}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"model file {str(p)!r} is not a valid NPZ archive: {exc}") from None
    return _from_description(p, d)


def _from_description(p: Path, d: dict[str, Any]) -> Model:
    if d.get("type") not in MODEL_TYPES:
        raise ValueError(f"model file {str(p)!r}: unknown model type {d.get('type')!r}; "
                         f"known types: {sorted(MODEL_TYPES)}")
    try:
        return Model.from_dict(d)
    except TypeError as exc:
        raise ValueError(f"model file {str(p)!r}: parameters do not fit {d['type']}: {exc}") from None
