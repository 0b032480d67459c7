"""Two-parameter bifurcation maps: existence and stability regions of all cycles up to an order."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._atomic import atomic_netcdf, atomic_path, check_output_path, json_dumps_strict, json_restore
from .._labelled import (MISSING_COUNT_ENCODING, dim_name, int_with_missing, model_from_attrs, nan_where_missing,
                         parameter_coord_attrs, provenance_attrs, utc_now)
from .._slices import check_cancel, run_in_slices
from .._validation import as_int, resolve_seed
from ..cycles import CycleSet
from ..models import Model, check_model
from ._common import base_seed, check_grid_size, cycle_set, map_budgets, orders_upto, shared_pool
from ._engine import CancelArg, GridCycles, ProgressArg, grid_neighbours, resolve_budgets, search_grid
from ._points import ParamGrid
from .events import BifurcationEvent, detect_events
from .family import Family, check_values

__all__ = ["BifurcationMap", "BoundarySegment", "bifurcation_map", "load_bifurcation_map"]

#: dimension names a map uses besides its two parameters
_MAP_DIMS = frozenset({"order", "segment", "xy", "end", "yx"})


@dataclass(frozen=True)
class BoundarySegment:
    """A piece of a bifurcation curve between two neighbouring grid cells.

    The segment is the cell border between the two cells, placed at the event's
    parameter value along the edge joining them (the midpoint if not refined).

    Attributes
    ----------
    start, end
        (x, y) end points in parameter coordinates.
    kind
        Event kind (see :data:`~plrnn_explorer.bifurcations.EVENT_KINDS`).
    order
        Period of the cycle concerned.
    value
        Event value of the parameter that varies along the edge.
    axis
        ``"x"`` if the edge joins horizontal neighbours, else ``"y"``.
    cells
        ``((iy, ix), (iy, ix))`` of the two cells.
    event
        The :class:`BifurcationEvent` (None for maps loaded from a file).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])      # skew tent, a_l = A, a_r = A + W
    >>> bm = pe.bifurcation_map(tent, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0]), 2, seed=0)
    >>> seg = bm.boundaries[0]
    >>> seg.kind, seg.order, seg.axis, seg.cells
    ('degenerate_flip', 1, 'y', ((0, 0), (1, 0)))
    >>> round(seg.value, 6)                          # W where a_r = 0.1 + W = -1
    -1.1
    >>> [round(v, 6) for v in seg.start + seg.end]   # the cell border, at W = -1.1
    [0.1, -1.1, 0.2, -1.1]
    >>> seg.event.kind == seg.kind
    True
    """

    start: tuple[float, float]
    end: tuple[float, float]
    kind: str
    order: int
    value: float
    axis: str
    cells: tuple[tuple[int, int], tuple[int, int]]
    event: BifurcationEvent | None = None


class BifurcationMap:
    """Cycle counts over a 2-D parameter grid, with bifurcation boundaries.

    Attributes
    ----------
    xs, ys
        Grid values of ``param_x`` and ``param_y``.
    counts, stable_counts
        (len(ys), len(xs), max_order) int arrays: number of (stable) cycles of
        each order 1..max_order per cell; -1 where an interrupted run did not
        get to.
    boundaries
        List of :class:`BoundarySegment`.
    computed
        (len(ys), len(xs)) bool.
    complete
        False if the run was cancelled or interrupted.
    stats
        Work done: seconds, continuation solves, budgets, ...

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])      # skew tent, a_l = A, a_r = A + W
    >>> bm = pe.bifurcation_map(tent, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    >>> bm
    <BifurcationMap A[0,0] x W[0,0] (2x3, orders 1..2): 4 boundary segment(s)>
    >>> bm.xs.tolist(), bm.ys.tolist(), bm.orders, bm.complete
    ([0.1, 0.3], [-2.0, -1.0, 0.0], [1, 2], True)
    >>> bm.counts[:, :, 1].tolist()                  # number of 2-cycles per cell (rows: W, columns: A)
    [[1, 1], [0, 0], [0, 0]]
    >>> bm.model_at(0, 1).get_param("A[0,0]"), bm.cycles_at(0, 1).counts()
    (0.3, {1: 1, 2: 1})
    >>> sorted({(s.kind, s.order) for s in bm.boundaries})
    [('border_collision', 2), ('degenerate_flip', 1)]
    """

    def __init__(self, xs: np.ndarray, ys: np.ndarray, param_x: str, param_y: str, counts: np.ndarray,
                 stable_counts: np.ndarray, boundaries: list[BoundarySegment], computed: np.ndarray,
                 stats: dict[str, Any], model: Model | None = None, grid: GridCycles | None = None) -> None:
        self.xs, self.ys = xs, ys
        self.param_x, self.param_y = param_x, param_y
        self.counts, self.stable_counts = counts, stable_counts
        self.boundaries = boundaries
        self.computed = computed
        self.stats = stats
        self.model = model
        self._grid = grid

    @property
    def orders(self) -> list[int]:
        return list(range(1, self.counts.shape[2] + 1))

    @property
    def complete(self) -> bool:
        """False if the run was cancelled or interrupted (then the map is partial, see :attr:`stats`)."""
        return bool(np.all(self.computed)) and not self.stats.get("interrupted", False)

    def _cell(self, iy: Any, ix: Any) -> tuple[int, int]:
        """Validated non-negative cell indices (negative ones count from the end, as for arrays)."""
        ny, nx = len(self.ys), len(self.xs)
        iy = as_int("iy", iy, minimum=-ny, maximum=ny - 1) % ny
        ix = as_int("ix", ix, minimum=-nx, maximum=nx - 1) % nx
        return iy, ix

    def model_at(self, iy: int, ix: int) -> Model:
        """The model of cell ``(iy, ix)`` (row ``iy`` of ``ys``, column ``ix`` of ``xs``)."""
        if self.model is None:
            raise ValueError("model_at needs the map's model, and this map has none (it was loaded from a file "
                             "written by an earlier version): recompute it with bifurcation_map")
        iy, ix = self._cell(iy, ix)
        return self.model.set_param(self.param_x, float(self.xs[ix])).set_param(self.param_y, float(self.ys[iy]))

    def cycles_at(self, iy: int, ix: int) -> CycleSet:
        """The :class:`~plrnn_explorer.CycleSet` of cell ``(iy, ix)`` (rebuilt from its itineraries)."""
        if self._grid is None:
            raise ValueError("cycles_at needs the map's cycles, which files do not store (this map was loaded from "
                             "a file): recompute the map, or find_cycles(bm.model_at(iy, ix), ...)")
        iy, ix = self._cell(iy, ix)
        if not self.computed[iy, ix]:
            raise ValueError(f"iy, ix must be a computed cell, got ({iy}, {ix}): not computed, the run was "
                             "interrupted first (see bm.computed)")
        return cycle_set(self._grid, iy * len(self.xs) + ix, self.model_at(iy, ix))

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the map, see :func:`plrnn_explorer.plotting.bifurcation.plot_map`."""
        from ..plotting.bifurcation import plot_map

        return plot_map(self, ax=ax, **kwargs)

    # -- labelled data ---------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        b = self.boundaries
        return {"xs": self.xs, "ys": self.ys, "orders": np.asarray(self.orders), "counts": self.counts,
                "stable_counts": self.stable_counts, "computed": self.computed.astype(np.int8),
                "boundary_start": np.array([s.start for s in b], float).reshape(-1, 2),
                "boundary_end": np.array([s.end for s in b], float).reshape(-1, 2),
                "boundary_kind": np.array([s.kind for s in b], dtype=str),
                "boundary_order": np.array([s.order for s in b], np.int64),
                "boundary_value": np.array([s.value for s in b], float),
                "boundary_axis": np.array([s.axis for s in b], dtype=str),
                "boundary_cells": np.array([s.cells for s in b], np.int64).reshape(-1, 2, 2)}

    def _attrs(self) -> dict[str, Any]:
        """Provenance: model (JSON), seed, budgets, max_order, package version, creation date (UTC)."""
        budgets = self.stats.get("budgets")
        return provenance_attrs(
            "bifurcation_map", self.model, self.stats.get("seed"), self.stats.get("created"),
            title=f"bifurcation map over {self.param_x} x {self.param_y}",
            description="plrnn_explorer bifurcation map: cycles per order on a 2-D parameter grid",
            param_x=self.param_x, param_y=self.param_y, max_order=int(self.counts.shape[2]),
            budgets=None if budgets is None else {str(k): list(v) for k, v in budgets.items()},
            complete=self.complete)

    def to_xarray(self):
        """Labelled ``xarray.Dataset`` of the map (needs xarray).

        Dimensions are named after the parameters (``"A[0,0]"`` becomes
        ``A_0_0``, whose coordinate carries ``path`` and ``long_name``), so
        ``ds.counts.sel(order=1).plot()`` labels its axes with them. ``counts``
        and ``stable_counts`` are float with NaN where a cell was not computed
        (written to netCDF as int32 with ``_FillValue = -1``); boundaries run
        along ``segment``. The attributes hold the model (JSON), seed, budgets,
        max_order, package version and creation date; :meth:`to_netcdf` writes
        it and :func:`load_bifurcation_map` reads it back.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])
        >>> ds = pe.bifurcation_map(tent, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0]), 2, seed=0).to_xarray()
        >>> ds.counts.dims, ds["A_0_0"].attrs["long_name"], ds.counts.attrs["long_name"]
        (('W_0_0', 'A_0_0', 'order'), 'A[0,0]', 'number of cycles')
        >>> ds.attrs["seed"], ds.attrs["max_order"], ds.attrs["model_type"]
        (0, 2, 'PLRNN')
        """
        import xarray as xr

        d = self._arrays()
        xd = dim_name(self.param_x, _MAP_DIMS)
        yd = dim_name(self.param_y, _MAP_DIMS | {xd})
        seg, cell = "segment", (yd, xd)
        missing = "; NaN where the cell was not computed (cancelled or interrupted run)"
        ds = xr.Dataset(
            {"counts": (cell + ("order",), nan_where_missing(d["counts"]), {
                "long_name": "number of cycles",
                "description": "number of distinct cycles of each order (period) in the cell" + missing}),
             "stable_counts": (cell + ("order",), nan_where_missing(d["stable_counts"]), {
                 "long_name": "number of stable cycles",
                 "description": "number of cycles of each order whose multipliers all lie inside the unit "
                                "circle" + missing}),
             "computed": (cell, d["computed"], {
                 "long_name": "cell computed", "flag_values": np.array([0, 1], np.int8),
                 "flag_meanings": "not_computed computed",
                 "description": "1 where the cycle search of the cell finished, 0 where the run was cancelled "
                                "or interrupted first"}),
             "boundary_start": ((seg, "xy"), d["boundary_start"], {
                 "long_name": "boundary segment start",
                 "description": f"(x, y) = ({self.param_x}, {self.param_y}) of the segment's start"}),
             "boundary_end": ((seg, "xy"), d["boundary_end"], {
                 "long_name": "boundary segment end",
                 "description": f"(x, y) = ({self.param_x}, {self.param_y}) of the segment's end"}),
             "boundary_kind": ((seg,), d["boundary_kind"], {
                 "long_name": "bifurcation kind",
                 "description": "event kind (see plrnn_explorer.bifurcations.EVENT_KINDS)"}),
             "boundary_order": ((seg,), d["boundary_order"], {
                 "long_name": "cycle order", "description": "period of the cycle concerned"}),
             "boundary_value": ((seg,), d["boundary_value"], {
                 "long_name": "event parameter value",
                 "description": "value of the parameter varying along the edge (x or y, see boundary_axis) "
                                "where the event was located"}),
             "boundary_axis": ((seg,), d["boundary_axis"], {
                 "long_name": "edge direction",
                 "description": "'x' if the segment separates horizontal neighbours, 'y' vertical ones"}),
             "boundary_cells": ((seg, "end", "yx"), d["boundary_cells"], {
                 "long_name": "neighbouring cells",
                 "description": f"(row, column) = ({yd} index, {xd} index) of the two cells the segment "
                                f"separates"})},
            coords={xd: (xd, d["xs"], parameter_coord_attrs(self.param_x)),
                    yd: (yd, d["ys"], parameter_coord_attrs(self.param_y)),
                    "order": ("order", d["orders"], {"long_name": "cycle order",
                                                     "description": "period k of the cycles counted"}),
                    "xy": ("xy", np.array([self.param_x, self.param_y]),
                           {"long_name": "parameter", "description": "the two map parameters (x, y)"})},
            attrs={**self._attrs(), "x_dim": xd, "y_dim": yd})
        for key in ("counts", "stable_counts"):
            ds[key].encoding.update(MISSING_COUNT_ENCODING)
        return ds

    def to_dataframe(self):
        """One row per cell and order: x, y, order, count, stable_count (needs pandas)."""
        import pandas as pd

        ny, nx, K = self.counts.shape
        iy, ix, io = np.meshgrid(np.arange(ny), np.arange(nx), np.arange(K), indexing="ij")
        return pd.DataFrame({self.param_x: self.xs[ix.ravel()], self.param_y: self.ys[iy.ravel()],
                             "order": io.ravel() + 1, "count": self.counts.ravel(),
                             "stable_count": self.stable_counts.ravel()})

    def to_netcdf(self, path: str | PathLike) -> None:
        """Write :meth:`to_xarray` as netCDF (needs netCDF4); plain ``xarray.open_dataset`` reads it."""
        atomic_netcdf(self.to_xarray(), path)

    def to_npz(self, path: str | PathLike) -> None:
        """Write all arrays and the attributes of :meth:`to_xarray` to an ``.npz`` file (no pickle).

        Read back with :func:`load_bifurcation_map`.
        """
        attrs = self._attrs()
        with atomic_path(check_output_path("path", path, (".npz",))) as tmp:
            np.savez(tmp, attrs_json=np.asarray(json_dumps_strict(attrs)), param_x=np.asarray(self.param_x),
                     param_y=np.asarray(self.param_y), **self._arrays())

    def __repr__(self) -> str:
        done = "" if self.complete else f", {int(self.computed.sum())}/{self.computed.size} cells computed"
        return (f"<BifurcationMap {self.param_x} x {self.param_y} ({len(self.xs)}x{len(self.ys)}, orders "
                f"1..{self.counts.shape[2]}): {len(self.boundaries)} boundary segment(s){done}>")


def load_bifurcation_map(path: str | PathLike) -> BifurcationMap:
    """Read a map written by :meth:`BifurcationMap.to_npz` or :meth:`BifurcationMap.to_netcdf`.

    The loaded map has the counts, boundaries, seed and budgets, and the model
    (files written by this version), so :meth:`BifurcationMap.model_at` works;
    its cycles are not saved (:meth:`BifurcationMap.cycles_at` needs a rerun).
    Files written by earlier versions (no model) are read too.

    Examples
    --------
    >>> import os, tempfile, numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])
    >>> bm = pe.bifurcation_map(m, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-1.9, -1.0]), 2, seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "map.npz")
    >>> bm.to_npz(path)
    >>> back = load_bifurcation_map(path)
    >>> np.array_equal(back.counts, bm.counts), back.model_at(1, 0).get_param("W[0,0]")
    (True, -1.0)
    """
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if p.suffix.lower() not in (".npz", ".nc", ".netcdf", ".nc4"):
        raise ValueError(f"path must end in .npz or .nc, got {str(p)!r}")
    if not p.is_file():
        raise FileNotFoundError(f"bifurcation map file {str(p)!r} does not exist")
    try:
        return _read_map(p)
    except (KeyError, ValueError, TypeError, OSError, EOFError, IndexError, AttributeError,
            zipfile.BadZipFile) as exc:
        raise ValueError(f"path {str(p)!r} is not a bifurcation map written by BifurcationMap.to_npz/to_netcdf: "
                         f"{type(exc).__name__}: {exc}") from None


def _read_map(p: Path) -> BifurcationMap:
    if p.suffix.lower() == ".npz":
        with np.load(p, allow_pickle=False) as f:
            d = {k: f[k] for k in f.files}
        attrs = json_restore(json.loads(str(d["attrs_json"]))) if "attrs_json" in d else {}  # absent: format 1
    else:
        import xarray as xr

        with xr.open_dataset(p) as ds:
            attrs = dict(ds.attrs)
            d = {k: ds[k].values for k in ds.data_vars}
            d.update(xs=ds[attrs.get("x_dim", "x")].values, ys=ds[attrs.get("y_dim", "y")].values,
                     param_x=np.asarray(attrs["param_x"]), param_y=np.asarray(attrs["param_y"]))
    ny, nx = np.size(d["ys"]), np.size(d["xs"])
    for key in ("counts", "stable_counts", "computed"):
        if np.shape(d[key])[:2] != (ny, nx):
            raise ValueError(f"{key} has shape {np.shape(d[key])}, expected ({ny}, {nx}, ...) for the grid")
    segs = [BoundarySegment(tuple(map(float, s)), tuple(map(float, e)), str(k), int(o), float(v), str(a),
                            tuple(map(tuple, c.tolist())))
            for s, e, k, o, v, a, c in zip(d["boundary_start"], d["boundary_end"], d["boundary_kind"],
                                           d["boundary_order"], d["boundary_value"], d["boundary_axis"],
                                           d["boundary_cells"])]
    stats: dict[str, Any] = {key: attrs[key] for key in ("seed", "created") if key in attrs}
    if "seed" in stats:
        stats["seed"] = int(stats["seed"])
    if "budgets" in attrs:
        stats["budgets"] = {int(k): tuple(v) for k, v in json.loads(str(attrs["budgets"])).items()}
    if "complete" in attrs:
        stats["interrupted"] = not bool(int(attrs["complete"]))
    return BifurcationMap(np.asarray(d["xs"], float), np.asarray(d["ys"], float), str(d["param_x"]),
                          str(d["param_y"]), int_with_missing(d["counts"]), int_with_missing(d["stable_counts"]),
                          segs, np.asarray(d["computed"]).astype(bool), stats, model_from_attrs(attrs))


def _axis_arg(name: str, arg: Any, model: Model) -> tuple[str, np.ndarray]:
    if not isinstance(arg, (tuple, list)) or len(arg) != 2:
        raise TypeError(f"{name} must be a pair (parameter path, values), e.g. ('A[0,0]', np.linspace(0, 1, 40)), "
                        f"got {type(arg).__name__}")
    param, values = arg
    if not isinstance(param, str):
        raise TypeError(f"{name}[0] must be a parameter path such as 'A[0,0]', got {type(param).__name__}")
    return model.canonical_path(param), check_values(f"{name}[1] (values)", values)


def _cell_edges(v: np.ndarray, i: int) -> tuple[float, float]:
    lo = v[i] if i == 0 else 0.5 * (v[i - 1] + v[i])
    hi = v[i] if i == len(v) - 1 else 0.5 * (v[i] + v[i + 1])
    return float(lo), float(hi)


def _boundaries(px: str, py: str, xs: np.ndarray, ys: np.ndarray, grid: GridCycles,
                points: ParamGrid, refine: bool, cancel: CancelArg) -> tuple[list[BoundarySegment], bool]:
    """Events on every grid edge whose two cells differ in their cycles or their stability.

    Runs edge by edge in time-bounded slices: stopped by ``cancel`` or Ctrl-C it
    returns the segments found so far and False (not complete).
    """
    nx = len(xs)
    sig = [set() for _ in range(grid.n_points)]
    for k in grid.orders:
        for p, w, s in zip(grid.point[k], grid.word[k], grid.stable[k]):
            sig[p].add((k, int(w), bool(s)))
    sets: dict[int, CycleSet] = {}

    def cs(p: int) -> CycleSet:
        if p not in sets:
            sets[p] = cycle_set(grid, p, points.model(p))
        return sets[p]

    edges = []
    for p in range(grid.n_points):
        iy, ix = divmod(p, nx)
        for q, axis in ((p + 1, "x"), (p + nx, "y")):
            if (axis == "x" and ix == nx - 1) or (axis == "y" and iy == len(ys) - 1):
                continue
            if grid.computed[p] and grid.computed[q] and sig[p] != sig[q]:
                edges.append((p, q, axis))
    found: list[list[BoundarySegment]] = [[] for _ in edges]

    def work(idx: np.ndarray) -> None:
        for e in idx:
            p, q, axis = edges[e]
            iy, ix = divmod(p, nx)
            qy, qx = divmod(q, nx)
            path = px if axis == "x" else py
            m = points.model(p)
            fam = Family(m, lambda v, m=m, path=path: m.set_param(path, v), path)
            a, b = (float(xs[ix]), float(xs[qx])) if axis == "x" else (float(ys[iy]), float(ys[qy]))
            segs = []
            for ev in detect_events(fam, a, b, cs(p), cs(q), refine=refine):
                if axis == "x":
                    lo, hi = _cell_edges(ys, iy)
                    start, end = (ev.value, lo), (ev.value, hi)
                else:
                    lo, hi = _cell_edges(xs, ix)
                    start, end = (lo, ev.value), (hi, ev.value)
                segs.append(BoundarySegment(start, end, ev.kind, ev.order, ev.value, axis, ((iy, ix), (qy, qx)), ev))
            found[e] = segs

    outcome = run_in_slices(len(edges), work, cancel=cancel)
    return [seg for segs in found for seg in segs], not outcome.interrupted


def bifurcation_map(model: Model, x: tuple[str, Sequence[float]], y: tuple[str, Sequence[float]], max_order: int,
                    *, seed: int | np.random.Generator | None = None, client: Any = None, budgets: Any = None,
                    refine: bool = True,
                    boundaries: bool = True, progress: ProgressArg = False, cancel: CancelArg = None,
                    chunk_size: int | None = None) -> BifurcationMap:
    """Existence and stability regions of all cycles up to ``max_order`` over a 2-D parameter grid.

    Cycles are searched at every cell with reduced SCYFI budgets
    (:func:`~plrnn_explorer.bifurcations._common.map_budgets`) and then
    continued cell to cell by exact itinerary (one solve per neighbour and
    itinerary), so a cycle found anywhere in its existence region is reported
    everywhere in it. Same seed, same result — also with ``client``.

    Parameters
    ----------
    model
        Any plrnn_explorer model.
    x, y
        ``(parameter path, values)`` of the two axes, e.g. ``("A[0,0]", xs)``.
    max_order
        Orders 1..max_order.
    seed
        Random seed of the search phase: a non-negative int, a
        ``numpy.random.Generator`` (one 63-bit int is drawn from it) or None
        (fresh entropy). The int used is recorded in ``stats["seed"]`` and in
        the saved file, so the map can be recomputed.
    client
        A ``dask.distributed.Client``: the search phase is fanned out in
        chunks. The model is sent to the workers once, each task carries only
        its range of cells; a chunk that fails for good leaves its cells not
        computed and is listed in ``stats["failed_chunks"]`` (see docs/dask.md).
    budgets
        None (:func:`map_budgets`), a pair ``(N_out, N_in)`` or a callable
        ``order -> (N_out, N_in)``.
    refine
        Place boundary segments at events located by root finding (True) or
        at the cell border midway (False: faster for huge grids).
    boundaries
        Compute :attr:`BifurcationMap.boundaries` (False: counts only).
    progress
        True for a tqdm progress bar, False or None for none, or a callable
        ``progress(done, total)`` called as work completes (e.g. a widget's
        progress bar); here after every slice of cells, counting cells.
    cancel
        Callable returning True to stop after the current slice. A cancelled
        or interrupted (Ctrl-C) run returns what is done, with ``complete``
        False: in the search phase the cells done so far (the others have
        counts -1 and ``computed`` False); during continuation the cycles
        spread so far; during boundary location the segments found so far
        (``stats["boundaries_complete"]`` False). Every phase runs in slices
        of about 0.3 s, so an interrupt acts within about a second.
    chunk_size
        Cells per slice of the search phase (a positive int; default: adapted
        to about 0.3 s per slice, or about 6 Dask tasks per worker thread).

    Returns
    -------
    BifurcationMap

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])      # skew tent, a_l = A, a_r = A + W
    >>> bm = pe.bifurcation_map(tent, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    >>> bm.counts.shape
    (3, 2, 2)
    >>> bm.counts[:, 0, :].tolist()        # a_l = 0.1: FP and 2-cycle at a_r = -1.9, FP only at a_r = -0.9, 0.1
    [[1, 1], [1, 0], [1, 0]]
    >>> sorted({(s.kind, s.order) for s in bm.boundaries})
    [('border_collision', 2), ('degenerate_flip', 1)]
    """
    check_model(model)
    check_cancel(cancel)
    created = utc_now()
    seed = resolve_seed(seed)
    _, xs = _axis_arg("x", x, model)
    _, ys = _axis_arg("y", y, model)
    px, py = model.distinct_paths(x=x[0], y=y[0])
    orders = orders_upto(max_order)
    check_grid_size("len(xs) * len(ys) (grid cells)", len(xs) * len(ys), model)
    ny, nx = len(ys), len(xs)
    points = ParamGrid(model, (px, xs), (py, ys))  # models built on demand, never all at once
    pool = shared_pool([points.model(p) for p in (0, nx - 1, nx * ny - nx, nx * ny - 1, nx * ny // 2)], seed)
    grid = search_grid(points, grid_neighbours((ny, nx)), orders,
                       resolve_budgets(orders, budgets, map_budgets), pool, base_seed(seed), progress=progress,
                       cancel=cancel, client=client, chunk_size=chunk_size, desc="bifurcation map")
    segs: list[BoundarySegment] = []
    if boundaries and not grid.stats["interrupted"]:
        segs, done = _boundaries(px, py, xs, ys, grid, points, refine, cancel)
        grid.stats["boundaries_complete"] = done
        grid.stats["interrupted"] = not done
    elif boundaries:
        grid.stats["boundaries_complete"] = False
    grid.stats.update(seed=seed, created=created)
    K = len(orders)
    return BifurcationMap(xs, ys, px, py, grid.counts().reshape(ny, nx, K),
                          grid.counts(stable_only=True).reshape(ny, nx, K), segs, grid.computed.reshape(ny, nx),
                          grid.stats, model, grid)
