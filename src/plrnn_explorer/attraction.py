"""Basins of attraction of the stable cycles on a 2-D grid of initial states."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _basins
from ._validation import as_float, as_int
from .cycles import CycleSet
from .models import Model, check_model
from .projection import Projection

__all__ = ["basins", "basins_coarse_to_fine", "grid_axes"]


def _limits(name: str, value: Any) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}")
    lo, hi = as_float(f"{name}[0]", value[0]), as_float(f"{name}[1]", value[1])
    if not lo < hi:
        raise ValueError(f"{name} must satisfy low < high, got {value!r}")
    return lo, hi


def _grid_shape(n: Any) -> tuple[int, int]:
    if isinstance(n, (tuple, list)):
        if len(n) != 2:
            raise ValueError(f"n must be an int or a pair (nx, ny), got {n!r}")
        return as_int("n[0]", n[0], minimum=2), as_int("n[1]", n[1], minimum=2)
    k = as_int("n", n, minimum=2)
    return k, k


def grid_axes(xlim: Any, ylim: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    """The grid coordinates ``xs`` (nx,) and ``ys`` (ny,) that :func:`basins` uses.

    Examples
    --------
    >>> xs, ys = grid_axes((0, 1), (0, 2), (3, 2))
    >>> xs, ys
    (array([0. , 0.5, 1. ]), array([0., 2.]))
    """
    (x0, x1), (y0, y1) = _limits("xlim", xlim), _limits("ylim", ylim)
    nx, ny = _grid_shape(n)
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def basins(model: Model, cycles: CycleSet, xlim: Any, ylim: Any, n: Any = 200, *,
           projection: Projection | None = None, max_steps: int = 5000, tol: float | None = None) -> np.ndarray:
    """Which stable cycle each initial state of a grid converges to.

    Parameters
    ----------
    model
        Any model of the package.
    cycles
        Cycles of ``model`` (e.g. from :func:`~plrnn_explorer.find_cycles`);
        only ``cycles.stable`` are used as attractors.
    xlim, ylim
        (low, high) of the grid in plane coordinates.
    n
        Grid size: an int for n x n, or (nx, ny).
    projection
        Plane of initial states for M > 2 (a 2-D slice of state space);
        default the plane of the first two coordinates through 0.
    max_steps
        Iterations before a start counts as not converged.
    tol
        Distance to a cycle point that counts as arrived; default
        ``1e-4 * (1 + max |cycle point|)``.

    Returns
    -------
    ndarray
        (ny, nx) int: ``labels[i, j]`` is the index into ``cycles.stable`` of
        the attractor reached from the plane point ``(xs[j], ys[i])``
        (:func:`grid_axes`), or -1 if the orbit diverges or does not converge.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m1 = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])      # one stable fixed point
    >>> cyc = pe.find_cycles(m1, 1, seed=0)
    >>> lab = pe.basins(m1, cyc, (-3, 3), (-3, 3), 5)
    >>> lab.shape, set(lab.ravel().tolist())
    ((5, 5), {0})
    """
    kernel_args, starts, shape = _prepare(model, cycles, xlim, ylim, n, projection, max_steps, tol)
    if kernel_args is None:
        return np.full(shape, -1, dtype=np.int64)
    return _label(kernel_args, starts).reshape(shape)


def basins_coarse_to_fine(model: Model, cycles: CycleSet, xlim: Any, ylim: Any,
                          sizes: Sequence[int] = (25, 50, 100, 200), *, projection: Projection | None = None,
                          budget: float | None = 2.0, cancelled: Callable[[], bool] | None = None,
                          max_steps: int = 5000, tol: float | None = None, rows_per_call: int = 10,
                          ) -> Iterator[np.ndarray]:
    """:func:`basins` on finer and finer grids: yields the (n, n) labels for each size in ``sizes``.

    Interactive views draw each level as it arrives. A level is computed in
    bands of ``rows_per_call`` rows, so ``cancelled()`` (checked between bands)
    stops it quickly. A finer level is not started when its estimated time
    (4x the last level's) would take the total beyond ``budget`` seconds.
    Every level equals :func:`basins` on that grid.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m1 = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])
    >>> cyc = pe.find_cycles(m1, 1, seed=0)
    >>> [lab.shape for lab in pe.attraction.basins_coarse_to_fine(m1, cyc, (-3, 3), (-3, 3), (4, 8))]
    [(4, 4), (8, 8)]
    """
    sizes = [as_int("sizes[i]", k, minimum=2) for k in sizes]
    rows_per_call = as_int("rows_per_call", rows_per_call, minimum=1)
    t0 = time.perf_counter()
    for n in sizes:
        t_level = time.perf_counter()
        kernel_args, starts, shape = _prepare(model, cycles, xlim, ylim, n, projection, max_steps, tol)
        if kernel_args is None:
            yield np.full(shape, -1, dtype=np.int64)
            continue
        out = np.empty(starts.shape[0], np.int64)
        step = rows_per_call * shape[1]
        for i in range(0, starts.shape[0], step):
            if cancelled is not None and cancelled():
                return
            out[i:i + step] = _label(kernel_args, starts[i:i + step])
        yield out.reshape(shape)
        spent, last = time.perf_counter() - t0, time.perf_counter() - t_level
        if budget is not None and spent + 4.0 * last > budget:
            return


def _prepare(model: Model, cycles: CycleSet, xlim: Any, ylim: Any, n: Any, projection: Projection | None,
             max_steps: Any, tol: Any) -> tuple[tuple | None, np.ndarray, tuple[int, int]]:
    """Validate; return the kernel's other arguments (None: no attractor), the starts (N, M) and the grid shape."""
    check_model(model)
    if not isinstance(cycles, CycleSet):
        raise TypeError(f"cycles must be a CycleSet (from find_cycles), got {type(cycles).__name__}")
    xs, ys = grid_axes(xlim, ylim, n)
    max_steps = as_int("max_steps", max_steps, minimum=1)
    M = model.dim
    if M < 2:
        raise ValueError(f"basins on a 2-D grid need a model with M >= 2 latent units, got M = {M}")
    if projection is None:
        projection = Projection.coordinates(M, 0, 1)
    elif not isinstance(projection, Projection) or projection.dim != M:
        got = f"a Projection of dimension {projection.dim}" if isinstance(projection, Projection) \
            else type(projection).__name__
        raise ValueError(f"projection must be a Projection of dimension M = {M}, got {got}")
    stable = cycles.stable
    if any(c.points.shape[1] != M for c in stable):
        raise ValueError(f"cycles must belong to a model of dimension M = {M}, got cycles of dimension "
                         f"{sorted({c.points.shape[1] for c in stable})}")
    X, Y = np.meshgrid(xs, ys)
    plane = np.stack([X.ravel(), Y.ravel()], axis=1)
    starts = projection.lift(plane)
    shape = (len(ys), len(xs))
    if not stable:
        return None, starts, shape
    targets = np.ascontiguousarray(np.concatenate([c.points for c in stable]))
    labels = np.concatenate([np.full(c.order, i, np.int64) for i, c in enumerate(stable)])
    scale = 1.0 + float(np.max(np.abs(targets)))
    tol = 1e-4 * scale if tol is None else as_float("tol", tol, minimum=0.0, strict_minimum=True)
    return (model.canonical.arrays, targets, labels, max_steps, tol, 1e8 * scale), np.ascontiguousarray(starts), shape


def _label(kernel_args: tuple, starts: np.ndarray) -> np.ndarray:
    arrays, targets, labels, max_steps, tol, escape = kernel_args
    return _basins.basin_labels(*arrays, np.ascontiguousarray(starts), targets, labels, max_steps, tol, escape)
