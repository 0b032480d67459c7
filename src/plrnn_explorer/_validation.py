"""Input validation shared by the public API.

Every public function checks its arguments with these helpers before any
numba kernel sees them, so that a user gets a ``TypeError`` or ``ValueError``
naming the argument and the expected form instead of a typing error from
deep inside compiled code.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np


def as_real_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None,
                  finite: bool = True) -> np.ndarray:
    """Return ``value`` as a finite float64 array, or raise naming ``name``.

    Parameters
    ----------
    name
        Argument name used in error messages.
    value
        Anything convertible to a real numeric array.
    ndim
        Allowed number(s) of dimensions.
    finite
        If False, Inf and NaN entries are accepted (e.g. the loss of a diverged epoch).
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got a string {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and similar
        raise TypeError(f"{name} must be a real numeric array: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"{name} must be a real numeric array (ragged or non-numeric entries found)")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        if np.any(np.imag(arr) != 0):
            raise TypeError(f"{name} must be real, got complex entries")
        arr = np.real(arr)
    arr = np.array(arr, dtype=np.float64, copy=True)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (found NaN or Inf)")
    return arr


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...], meaning: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape == shape``; ``meaning`` spells the shape out."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {meaning} = {tuple(shape)}, got {arr.shape}")


def as_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Booleans and floats (even integral ones like ``2.0``) are rejected: an
    order or a budget given as a float is almost always a mistake.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_float(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
             strict_minimum: bool = False) -> float:
    """Return ``value`` as a finite Python float, or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_seed(value: Any) -> int | None:
    """Validate a random seed: ``None`` or a non-negative integer."""
    if value is None:
        return None
    return as_int("seed", value, minimum=0)


def as_orders(max_order: Any, orders: Any) -> list[int]:
    """Validate ``max_order`` / ``orders`` of a cycle search; return the sorted orders to search.

    Either ``orders`` (a non-empty sequence of positive ints, optionally capped by
    ``max_order``) or ``max_order`` alone (meaning 1..max_order) must be given.
    """
    if orders is None:
        if max_order is None:
            raise ValueError("give max_order (search orders 1..max_order) or orders=[...]")
        return list(range(1, as_int("max_order", max_order, minimum=1) + 1))
    if isinstance(orders, (str, bytes)) or not hasattr(orders, "__iter__"):
        raise TypeError("orders must be a sequence of positive integers, e.g. [1, 2, 16]")
    out = sorted({as_int("orders[i]", k, minimum=1) for k in orders})
    if not out:
        raise ValueError("orders must not be empty")
    if max_order is not None:
        mo = as_int("max_order", max_order, minimum=1)
        out = [k for k in out if k <= mo]
        if not out:
            raise ValueError(f"no order in orders is <= max_order = {mo}")
    return out
