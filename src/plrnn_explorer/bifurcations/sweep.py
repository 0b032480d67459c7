"""One-parameter sweeps: cycles at every value and the bifurcations between them."""

from __future__ import annotations

from os import PathLike
from typing import Any, Callable, Sequence

import numpy as np

from .._atomic import atomic_netcdf, atomic_path, check_output_path, json_dumps_strict
from .._labelled import (MISSING_COUNT_ENCODING, dim_name, nan_where_missing, parameter_coord_attrs, provenance_attrs,
                         utc_now)
from .._slices import check_cancel, run_in_slices
from .._validation import resolve_seed
from ..cycles import CycleSet
from ..models import Model
from ._common import base_seed, check_grid_size, cycle_set, orders_upto, shared_pool
from ._engine import CancelArg, ProgressArg, grid_neighbours, resolve_budgets, search_grid
from ._points import ModelList
from .events import BifurcationEvent, detect_events
from .family import Family, check_values, param_family

__all__ = ["Sweep", "sweep"]


class Sweep:
    """Cycles of a model along one parameter, with the bifurcations between values.

    Attributes
    ----------
    values
        (n,) parameter values.
    param
        Label of the parameter.
    cycles
        ``cycles[i]``: the :class:`~plrnn_explorer.CycleSet` at ``values[i]``.
    events
        :class:`~plrnn_explorer.bifurcations.BifurcationEvent` list, along the path.
    computed
        (n,) bool: False where an interrupted run did not get to (empty CycleSet).
    stats
        Work done (seconds, solves, budgets, the seed used, ...).
    model
        The model the sweep started from (None if not known).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])     # skew tent: a_l = 0.2, a_r = 0.2 + W
    >>> sw = pe.sweep(tent, "W[0,0]", np.linspace(-2.0, 1.0, 7), max_order=2, seed=0)
    >>> sw
    <Sweep over W[0,0] (7 values, orders 1..2): 3 event(s)>
    >>> sw.values.tolist()
    [-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0]
    >>> sw.counts.tolist()              # rows: values, columns: orders 1, 2
    [[1, 1], [1, 1], [1, 0], [1, 0], [1, 0], [1, 0], [0, 0]]
    >>> sw.stable_counts[:, 1].tolist()  # the stable 2-cycle exists while a_r < -1
    [1, 1, 0, 0, 0, 0, 0]
    >>> sw.cycles[0].counts()
    {1: 1, 2: 1}
    >>> [(e.kind, e.order) for e in sw.events]
    [('degenerate_flip', 1), ('border_collision', 2), ('degenerate_transcritical', 1)]
    """

    def __init__(self, values: np.ndarray, param: str, orders: list[int], cycles: list[CycleSet],
                 events: list[BifurcationEvent], computed: np.ndarray, stats: dict[str, Any],
                 model: Model | None = None) -> None:
        self.values = values
        self.param = param
        self.orders = orders
        self.cycles = cycles
        self.events = events
        self.computed = computed
        self.stats = stats
        self.model = model

    @property
    def counts(self) -> np.ndarray:
        """(n, max_order) number of cycles per value and order (-1 where not computed)."""
        out = np.array([[len(cs[k]) for k in self.orders] for cs in self.cycles], dtype=np.int64)
        out[~self.computed] = -1
        return out.reshape(len(self.values), len(self.orders))

    @property
    def stable_counts(self) -> np.ndarray:
        """(n, max_order) number of stable cycles per value and order (-1 where not computed)."""
        out = np.array([[sum(c.stable for c in cs[k]) for k in self.orders] for cs in self.cycles], dtype=np.int64)
        out[~self.computed] = -1
        return out.reshape(len(self.values), len(self.orders))

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Bifurcation diagram, see :func:`plrnn_explorer.plotting.bifurcation.plot_sweep`."""
        from ..plotting.bifurcation import plot_sweep

        return plot_sweep(self, ax=ax, **kwargs)

    def to_dataframe(self):
        """One row per cycle point: value index, value, order, cycle, point, coordinates, stability. Needs pandas."""
        import pandas as pd

        frames = []
        for i, (v, cs) in enumerate(zip(self.values, self.cycles)):
            df = cs.to_dataframe()
            if len(df):
                df.insert(0, "value", float(v))
                df.insert(0, "index", i)
                frames.append(df)
        if not frames:
            return pd.DataFrame(columns=["index", "value", "order", "cycle", "point", "stable", "kind"])
        return pd.concat(frames, ignore_index=True)

    def events_dataframe(self):
        """One row per event (kind, value, order, refined, stability before/after). Needs pandas."""
        import pandas as pd

        return pd.DataFrame(_event_rows(self.events), columns=list(_EVENT_COLUMNS))

    def _arrays(self) -> dict[str, np.ndarray]:
        ev = _event_rows(self.events)
        return {"values": self.values, "orders": np.asarray(self.orders), "counts": self.counts,
                "stable_counts": self.stable_counts, "computed": self.computed.astype(np.int8),
                **{f"event_{c}": np.asarray([r[c] for r in ev], dtype=t) for c, t in _EVENT_COLUMNS.items()}}

    def _attrs(self) -> dict[str, Any]:
        budgets = self.stats.get("budgets")
        return provenance_attrs(
            "sweep", self.model, self.stats.get("seed"), self.stats.get("created"),
            title=f"sweep over {self.param}",
            description="plrnn_explorer sweep: cycles per order along a parameter",
            param=self.param, max_order=int(self.orders[-1]),
            budgets=None if budgets is None else {str(k): list(v) for k, v in budgets.items()},
            complete=self.complete)

    def to_xarray(self):
        """Labelled ``xarray.Dataset``: counts over (parameter, order), events along ``event``. Needs xarray.

        The parameter dimension is named after the parameter (``"W[0,0]"``
        becomes ``W_0_0``, its coordinate carries ``path`` and ``long_name``);
        counts are NaN where a value was not computed (int32 with
        ``_FillValue = -1`` in netCDF). Attributes: the base model (JSON),
        seed, budgets, max_order, package version, creation date.

        Examples
        --------
        >>> import numpy as np, plrnn_explorer as pe
        >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])
        >>> ds = pe.sweep(tent, "W[0,0]", np.linspace(-2.0, 1.0, 7), max_order=2, seed=0).to_xarray()
        >>> ds.counts.dims, ds["W_0_0"].attrs["path"], ds.event_kind.values.tolist()[:1]
        (('W_0_0', 'order'), 'W[0,0]', ['degenerate_flip'])
        >>> ds.attrs["seed"], ds.attrs["max_order"]
        (0, 2)
        """
        import xarray as xr

        d = self._arrays()
        vd = dim_name(self.param, {"order", "event"})
        missing = "; NaN where the value was not computed (cancelled or interrupted run)"
        event_attrs = {
            "kind": ("bifurcation kind", "event kind (see plrnn_explorer.bifurcations.EVENT_KINDS)"),
            "value": (f"event value of {self.param}", "parameter value where the event was located"),
            "order": ("cycle order", "period of the cycle concerned"),
            "refined": ("located by root finding", "1 if the value was refined by root finding, 0 if it is the "
                                                   "midpoint between grid values"),
            "stable_before": ("stable before", "1/0: the cycle was stable/unstable before the event; -1: absent"),
            "stable_after": ("stable after", "1/0: the cycle is stable/unstable after the event; -1: absent")}
        ds = xr.Dataset(
            {"counts": ((vd, "order"), nan_where_missing(d["counts"]), {
                "long_name": "number of cycles",
                "description": "number of distinct cycles of each order (period) at the value" + missing}),
             "stable_counts": ((vd, "order"), nan_where_missing(d["stable_counts"]), {
                 "long_name": "number of stable cycles",
                 "description": "number of cycles of each order whose multipliers all lie inside the unit "
                                "circle" + missing}),
             "computed": ((vd,), d["computed"], {
                 "long_name": "value computed", "flag_values": np.array([0, 1], np.int8),
                 "flag_meanings": "not_computed computed",
                 "description": "1 where the cycle search finished, 0 where the run was cancelled or "
                                "interrupted first"}),
             **{f"event_{c}": (("event",), d[f"event_{c}"], {"long_name": ln, "description": de})
                for c, (ln, de) in event_attrs.items()}},
            coords={vd: (vd, d["values"], parameter_coord_attrs(self.param)),
                    "order": ("order", d["orders"], {"long_name": "cycle order",
                                                     "description": "period k of the cycles counted"})},
            attrs={**self._attrs(), "param_dim": vd})
        for key in ("counts", "stable_counts"):
            ds[key].encoding.update(MISSING_COUNT_ENCODING)
        return ds

    def to_netcdf(self, path: str | PathLike) -> None:
        """Write :meth:`to_xarray` as netCDF (needs netCDF4); plain ``xarray.open_dataset`` reads it."""
        atomic_netcdf(self.to_xarray(), path)

    def to_npz(self, path: str | PathLike) -> None:
        """Write the arrays and attributes of :meth:`to_xarray` to an ``.npz`` file (no pickle)."""
        with atomic_path(check_output_path("path", path, (".npz",))) as tmp:
            np.savez(tmp, attrs_json=np.asarray(json_dumps_strict(self._attrs())), param=np.asarray(self.param),
                     **self._arrays())

    @property
    def complete(self) -> bool:
        """False if the run was cancelled or interrupted (then the sweep is partial, see :attr:`stats`)."""
        return bool(np.all(self.computed)) and not self.stats.get("interrupted", False)

    def __repr__(self) -> str:
        return (f"<Sweep over {self.param} ({len(self.values)} values, orders 1..{self.orders[-1]}): "
                f"{len(self.events)} event(s)>")


_EVENT_COLUMNS = {"kind": str, "value": float, "order": np.int64, "refined": np.int8, "stable_before": np.int8,
                  "stable_after": np.int8}


def _event_rows(events: Sequence[BifurcationEvent]) -> list[dict[str, Any]]:
    def st(c) -> int:
        return -1 if c is None else int(c.stable)
    return [{"kind": e.kind, "value": float(e.value), "order": int(e.order), "refined": int(e.refined),
             "stable_before": st(e.cycle_before), "stable_after": st(e.cycle_after)} for e in events]


def run_path(family: Family, values: np.ndarray, models: list[Model], orders: list[int], *, seed: Any,
             budgets: Any, refine: bool, client: Any, progress: ProgressArg, cancel: CancelArg
             ) -> tuple[list[CycleSet], list[BifurcationEvent], np.ndarray, dict[str, Any]]:
    """Cycles at every model along a path and the events between consecutive ones.

    ``stats`` records the seed used (``seed`` resolved by :func:`resolve_seed`) and the creation date.
    """
    created = utc_now()
    seed = resolve_seed(seed)
    n = len(values)
    pool = shared_pool([models[0], models[n // 2], models[-1]], seed)
    grid = search_grid(ModelList(models), grid_neighbours((n,)), orders, resolve_budgets(orders, budgets),
                       pool, base_seed(seed), progress=progress, cancel=cancel, client=client, desc="sweep")
    cycles = [cycle_set(grid, i, models[i]) if grid.computed[i] else CycleSet(list(orders), {}) for i in range(n)]
    found: list[list[BifurcationEvent]] = [[] for _ in range(n - 1)]

    def work(idx: np.ndarray) -> None:
        for i in idx:
            if grid.computed[i] and grid.computed[i + 1]:
                found[i] = detect_events(family, float(values[i]), float(values[i + 1]), cycles[i], cycles[i + 1],
                                         refine=refine)

    if not grid.stats["interrupted"]:
        done = not run_in_slices(n - 1, work, cancel=cancel).interrupted
        grid.stats["events_complete"] = done
        grid.stats["interrupted"] = not done
    else:
        grid.stats["events_complete"] = False
    grid.stats.update(seed=seed, created=created)
    return cycles, [e for evs in found for e in evs], grid.computed, grid.stats


def sweep(model: Model, param: str | Callable[[Model, float], Model], values: Sequence[float], max_order: int, *,
          seed: int | np.random.Generator | None = None, client: Any = None, budgets: Any = None,
          refine: bool = True, progress: ProgressArg = False, cancel: CancelArg = None) -> Sweep:
    """Cycles up to ``max_order`` at every value of one parameter, and the bifurcations between.

    Parameters
    ----------
    model
        Any plrnn_explorer model.
    param
        A parameter path such as ``"W[0,0]"`` (see ``model.param_paths()``), or a
        callable ``(model, value) -> model`` for any one-parameter family.
    values
        Strictly monotonic parameter values.
    max_order
        Search orders 1..max_order.
    seed
        A non-negative int, a ``numpy.random.Generator`` (one 63-bit int is
        drawn from it) or None (fresh entropy); the int used is recorded in
        ``stats["seed"]``. Same seed, same result (also with ``client``).
    client
        A ``dask.distributed.Client``: the search is fanned out in chunks.
    budgets
        SCYFI loop budgets: None (the paper's defaults per order), a pair
        ``(N_out, N_in)`` or a callable ``order -> (N_out, N_in)``.
    refine
        Locate events by root finding (True) or only classify them between
        grid values (False; ``value`` is the midpoint).
    progress
        True for a tqdm progress bar, False or None for none, or a callable
        ``progress(done, total)`` called as work completes (e.g. a widget's
        progress bar); here after every slice of values, counting values.
    cancel
        Callable returning True to stop early. A cancelled or interrupted
        (Ctrl-C) sweep returns what is done with ``complete`` False: the values
        searched so far (``computed``), and the events located so far
        (``stats["events_complete"]``). Work runs in slices of about 0.3 s.

    Returns
    -------
    Sweep

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])     # skew tent: a_l = 0.2, a_r = 0.2 + W
    >>> sw = pe.sweep(tent, "W[0,0]", np.linspace(-2.0, 1.0, 16), max_order=2, seed=0)
    >>> [(e.kind, e.order, round(e.value + 0.2, 8)) for e in sw.events]
    [('degenerate_flip', 1, -1.0), ('border_collision', 2, -1.0), ('degenerate_transcritical', 1, 1.0)]
    >>> sw.counts[0].tolist(), sw.counts[-1].tolist()
    ([1, 1], [0, 0])
    """
    family = param_family(model, param)
    check_cancel(cancel)
    vals = check_values("values", values)
    orders = orders_upto(max_order)
    check_grid_size("len(values)", len(vals), model)
    models = [family.model(v) for v in vals]
    cycles, events, computed, stats = run_path(family, vals, models, orders, seed=seed, budgets=budgets,
                                               refine=refine, client=client, progress=progress, cancel=cancel)
    return Sweep(vals, family.label, orders, cycles, events, computed, stats, model)
