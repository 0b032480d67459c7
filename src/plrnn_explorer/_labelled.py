"""Shared pieces of the labelled (xarray) results: dimension names, provenance attributes, missing data.

Every ``to_xarray()`` of the package names its dimensions after the
parameters they vary (:func:`dim_name`), gives every variable ``long_name``
and ``description`` attributes, marks "not computed" entries as missing
(NaN in memory; integer counts are written to netCDF as int32 with
``_FillValue = -1``, which ``xarray.open_dataset`` decodes back to NaN) and
carries the provenance of the result in its attributes
(:func:`provenance_attrs`).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

import numpy as np

from ._atomic import json_dumps_strict, json_restore

#: netCDF encoding of a count variable whose missing entries are NaN in memory
MISSING_COUNT_ENCODING = {"dtype": "int32", "_FillValue": -1}


def dim_name(label: str, taken: Iterable[str] = ()) -> str:
    """A valid identifier for a dimension named after ``label`` (e.g. a parameter path), not in ``taken``.

    Examples
    --------
    >>> dim_name("A[0,0]"), dim_name("W1[2,10]"), dim_name("<lambda>"), dim_name("0x")
    ('A_0_0', 'W1_2_10', 'lambda', 'p_0x')
    >>> dim_name("order", taken={"order"})
    'order_1'
    """
    name = re.sub(r"\W+", "_", str(label)).strip("_") or "parameter"
    if name[0].isdigit():
        name = "p_" + name
    taken = set(taken)
    out, i = name, 0
    while out in taken:
        i += 1
        out = f"{name}_{i}"
    return out


def parameter_coord_attrs(path: str, relative: bool = False) -> dict[str, str]:
    """Attributes of a coordinate that holds values of the parameter ``path`` (``path``, ``long_name``).

    Examples
    --------
    >>> parameter_coord_attrs("A[0,0]")
    {'path': 'A[0,0]', 'long_name': 'A[0,0]', 'description': 'value of the model parameter A[0,0]'}
    """
    if relative:
        return {"path": path, "long_name": f"Δ{path}",
                "description": f"offset added to the model's value of the parameter {path}"}
    return {"path": path, "long_name": path, "description": f"value of the model parameter {path}"}


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (e.g. ``2026-12-01T03:05:00+00:00``)."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def provenance_attrs(kind: str, model: Any = None, seed: int | None = None, created: str | None = None,
                     **extra: Any) -> dict[str, Any]:
    """Dataset attributes saying what a result is and how to reproduce it.

    ``model`` (a :class:`~plrnn_explorer.Model`) is stored as the JSON of its
    ``to_dict()``; ``seed`` is left out when unknown; ``extra`` entries that
    are None are left out (netCDF attributes cannot be None), dicts and lists
    are stored as JSON and booleans as 0/1.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> a = provenance_attrs("demo", pe.PLRNN([0.5], [[0.0]], [1.0]), seed=3, max_order=2, note=None)
    >>> a["format"], a["seed"], a["max_order"], a["model_type"], "note" in a
    ('plrnn_explorer.demo', 3, 2, 'PLRNN', False)
    >>> model_from_attrs(a) == pe.PLRNN([0.5], [[0.0]], [1.0])
    True
    """
    from . import __version__

    attrs: dict[str, Any] = {"format": f"plrnn_explorer.{kind}", "plrnn_explorer_version": __version__,
                             "created": created or utc_now()}
    if seed is not None:
        attrs["seed"] = int(seed)
    if model is not None:
        attrs["model_type"] = type(model).__name__
        attrs["model"] = json_dumps_strict(model.to_dict())
    for key, value in extra.items():
        if value is None:
            continue
        if isinstance(value, (bool, np.bool_)):
            value = int(value)
        elif isinstance(value, (dict, list, tuple)):
            value = json_dumps_strict(value)
        attrs[key] = value
    return attrs


def model_from_attrs(attrs: Mapping[str, Any]) -> Any:
    """The model stored by :func:`provenance_attrs` (None if there is none)."""
    text = attrs.get("model")
    if text is None or str(text) == "":
        return None
    from .models import Model

    return Model.from_dict(json_restore(json.loads(str(text))))


def nan_where_missing(counts: np.ndarray) -> np.ndarray:
    """Float copy of an int count array with NaN where it holds the "not computed" marker -1.

    Examples
    --------
    >>> nan_where_missing(np.array([2, -1, 0])).tolist()
    [2.0, nan, 0.0]
    """
    out = np.asarray(counts, dtype=float).copy()
    out[np.asarray(counts) < 0] = np.nan
    return out


def int_with_missing(values: np.ndarray) -> np.ndarray:
    """Inverse of :func:`nan_where_missing`: int64 with -1 where NaN (or already -1).

    Examples
    --------
    >>> int_with_missing(np.array([2.0, np.nan, 0.0])).tolist()
    [2, -1, 0]
    """
    arr = np.asarray(values, dtype=float)
    return np.where(np.isnan(arr), -1, arr).astype(np.int64)
