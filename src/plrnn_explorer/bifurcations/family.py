"""One-parameter families of models: ``value -> model``.

A family is given either by a parameter path (``"W[0,1]"``: the base model
with that one entry set to the value), by a callable ``(model, value) ->
model``, or — for training runs — by the straight line between two models'
parameter sets. Every model of a family must have the same class and the same
canonical shapes (M, G), so that an itinerary means the same thing at every
value and its cycle equation can be solved anywhere along the family.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .._validation import as_real_array
from ..models import CanonicalForm, Model, check_model

__all__ = ["Family", "param_family", "line_family"]


class Family:
    """A validated one-parameter family ``value -> model``.

    Parameters
    ----------
    base
        The model the family starts from (used for shapes and error messages).
    fn
        ``fn(value) -> Model``.
    label
        Name of the parameter (axis label), e.g. ``"A[0,0]"``.

    Examples
    --------
    Families come from :func:`param_family` (or :func:`line_family`):

    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])
    >>> fam = param_family(m, "W[0,0]")
    >>> fam.label, fam.base is m
    ('W[0,0]', True)
    >>> fam.model(-1.0).get_param("W[0,0]"), fam.canonical(-1.0).dim
    (-1.0, 1)
    >>> def shift_h(model, v):
    ...     return model.replace(h=[v])
    >>> fam = param_family(m, shift_h)
    >>> fam.label, fam.model(2.0).h.tolist()
    ('shift_h', [2.0])
    """

    def __init__(self, base: Model, fn: Callable[[float], Model], label: str) -> None:
        self.base = base
        self._fn = fn
        self.label = label

    def model(self, value: float) -> Model:
        """The model at ``value``; raises TypeError/ValueError if the family misbehaves."""
        m = self._fn(float(value))
        if not isinstance(m, Model):
            raise TypeError(f"the family {self.label!r} must return a plrnn_explorer model, got {type(m).__name__}")
        cf, cb = m.canonical, self.base.canonical
        if type(m) is not type(self.base) or (cf.dim, cf.n_gates) != (cb.dim, cb.n_gates):
            raise ValueError(f"the family {self.label!r} changed the model's class or size at value {value}: "
                             f"expected {type(self.base).__name__} with M={cb.dim}, G={cb.n_gates}")
        return m

    def canonical(self, value: float) -> CanonicalForm:
        """Canonical form of :meth:`model` at ``value``."""
        return self.model(value).canonical


def param_family(model: Model, param: str | Callable[[Model, float], Model]) -> Family:
    """Family of ``model`` along a parameter path or a callable ``(model, value) -> model``.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> fam = param_family(pe.PLRNN([0.2], [[-1.7]], [1.0]), "W[0,0]")
    >>> fam.model(0.5).get_param("W[0,0]")
    0.5
    """
    check_model(model)
    if isinstance(param, str):
        path = model.canonical_path(param)  # raises ValueError naming the path if it does not exist
        return Family(model, lambda v: model.set_param(path, v), path)
    if callable(param):
        return Family(model, lambda v: param(model, v), getattr(param, "__name__", "parameter"))
    raise TypeError(f"param must be a parameter path such as 'W[0,1]' or a callable (model, value) -> model, "
                    f"got {type(param).__name__}")


def line_family(m0: Model, m1: Model, t0: float, t1: float) -> Family:
    """Straight line between the parameters of ``m0`` (at ``t0``) and ``m1`` (at ``t1``).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> a, b = pe.PLRNN([0.0], [[0.0]], [1.0]), pe.PLRNN([1.0], [[0.0]], [3.0])
    >>> line_family(a, b, 10, 20).model(15).h
    array([2.])
    """
    if type(m0) is not type(m1) or m0._settings != m1._settings or any(
            m0._params[k].shape != m1._params[k].shape for k in m0.param_names):
        raise ValueError(f"consecutive checkpoints must be models of the same class and shapes, got {m0!r} and {m1!r}")
    p0, p1 = m0._params, m1._params

    def at(t: float) -> Model:
        s = (t - t0) / (t1 - t0)
        return m0.replace(**{k: (1 - s) * p0[k] + s * p1[k] for k in m0.param_names})

    return Family(m0, at, "epoch")


def check_values(name: str, values: Any) -> np.ndarray:
    """A non-empty, finite, strictly monotonic 1-D array of parameter values."""
    arr = as_real_array(name, values, ndim=1)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty: give a 1-D array of parameter values, got shape {arr.shape}")
    d = np.diff(arr)
    if arr.size > 1 and not (np.all(d > 0) or np.all(d < 0)):
        i = int(np.flatnonzero(np.sign(d) != np.sign(d[0]))[0]) if d[0] != 0 else 0
        raise ValueError(f"{name} must be strictly increasing or strictly decreasing (no repeats), got "
                         f"{arr[i]:.6g} then {arr[i + 1]:.6g} at positions {i}, {i + 1}")
    return arr

