"""The models of a grid's points, built on demand.

A bifurcation map of a large model over a fine grid has many points whose
models differ in one or two entries. Holding every point's model (or its
canonical arrays) at once costs N times the model's size; a Dask client
shipping them costs that again on the wire. A point set instead keeps what
the points are made of -- a base model and the axis values, or a list of
distinct models (training checkpoints) -- and builds the canonical arrays of
any subset of points when they are needed: in a slice of the local search,
in a Dask task on a worker, or for the continuation phase.

A :class:`ParamGrid` is small whatever the grid, so a Dask client sends it
once to every worker and only point ranges per task; a :class:`ModelList` is
as large as its models, so each task gets only the models of its own points
(:meth:`PointSet.part`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..models import Model

__all__ = ["PointSet", "ParamGrid", "ModelList"]


class PointSet:
    """Models of points ``0..n-1`` of a grid; subclasses define :meth:`model`."""

    n: int
    base: Model
    #: True if the whole set is small enough to send once to every worker (else tasks get their :meth:`part`)
    send_whole: bool = True

    def model(self, p: int) -> Model:
        raise NotImplementedError

    def part(self, start: int, stop: int) -> "PointSet":
        """A point set that can build (at least) the points ``start..stop-1``, with their global indices."""
        return self

    def canonical_arrays(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """Stacked contiguous canonical arrays ``(A, W_out, W_in, b_in, h)`` of the points ``idx``.

        Filled point by point, so no list of models or canonical forms is held.
        """
        idx = np.asarray(idx, np.int64)
        shapes = [a.shape for a in self.base.canonical.arrays]
        out = tuple(np.empty((idx.shape[0],) + s) for s in shapes)
        for j, p in enumerate(idx):
            for dst, src in zip(out, self.model(int(p)).canonical.arrays):
                dst[j] = src
        return out


class ParamGrid(PointSet):
    """A 1-D or 2-D grid over entries of one base model: point ``p = iy * len(xs) + ix``.

    Parameters
    ----------
    base
        The model all points start from.
    x
        ``(canonical path, values)`` of the fastest axis.
    y
        ``(canonical path, values)`` of the second axis, or None for a 1-D grid.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2, 0.5], [[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])
    >>> g = ParamGrid(m, ("A[0,0]", [0.1, 0.2, 0.3]), ("W[0,1]", [-1.0, 1.0]))
    >>> g.n, g.model(4).get_param("A[0,0]"), g.model(4).get_param("W[0,1]")
    (6, 0.2, 1.0)
    >>> g.canonical_arrays([0, 4])[0].shape
    (2, 2, 2)
    """

    def __init__(self, base: Model, x: tuple[str, Sequence[float]],
                 y: tuple[str, Sequence[float]] | None = None) -> None:
        self.base = base
        self._x = (x[0], np.asarray(x[1], float))
        self._y = None if y is None else (y[0], np.asarray(y[1], float))
        self.n = len(self._x[1]) * (1 if y is None else len(self._y[1]))

    def model(self, p: int) -> Model:
        """The model of point ``p`` (x set first, then y, as :meth:`BifurcationMap.model_at` does)."""
        (px, xs), nx = self._x, len(self._x[1])
        iy, ix = divmod(int(p), nx)
        m = self.base.set_param(px, float(xs[ix]))
        if self._y is not None:
            m = m.set_param(self._y[0], float(self._y[1][iy]))
        return m


class ModelList(PointSet):
    """Points given as a list of models of the same class and shapes (sweeps along families, checkpoints).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pts = ModelList([pe.PLRNN([a], [[0.0]], [1.0]) for a in (0.1, 0.2, 0.3)])
    >>> pts.n, pts.canonical_arrays([1])[0].tolist()
    (3, [[[0.2]]])
    >>> pts.part(1, 3).model(2).get_param("A[0,0]")     # points keep their global index
    0.3
    """

    send_whole = False

    def __init__(self, models: Sequence[Model], offset: int = 0) -> None:
        self._models = list(models)
        self._offset = offset
        self.base = self._models[0]
        self.n = offset + len(self._models)

    def model(self, p: int) -> Model:
        return self._models[int(p) - self._offset]

    def part(self, start: int, stop: int) -> "ModelList":
        return ModelList(self._models[start - self._offset:stop - self._offset], offset=start)
