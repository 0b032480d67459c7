"""Bifurcations along a training run: events between consecutive checkpoints."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from .._labelled import provenance_attrs
from .._validation import as_real_array
from ..cycles import CycleSet
from ..models import Model, check_model
from ._common import orders_upto
from ._engine import CancelArg, ProgressArg
from .events import BifurcationEvent
from .family import Family, line_family
from .sweep import _event_rows, run_path

__all__ = ["TrainingAnalysis", "analyze_training"]


class TrainingAnalysis:
    """Cycles at every checkpoint of a training run and the bifurcations between them.

    Attributes
    ----------
    epochs
        (n,) epoch of each checkpoint.
    losses
        (n,) loss per checkpoint, or None.
    cycles
        ``cycles[i]``: the :class:`~plrnn_explorer.CycleSet` of checkpoint i.
    events
        :class:`~plrnn_explorer.bifurcations.BifurcationEvent` list; ``ev.epoch``
        (= ``ev.value``) is the fractional epoch where the event was located on
        the straight line between the two checkpoints' parameters.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]   # a_r = -0.8, -0.9, -1.1
    >>> ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, 1.0], epochs=[0, 10, 20], seed=0)
    >>> ta
    <TrainingAnalysis 3 checkpoints, 2 event(s)>
    >>> ta.epochs.tolist(), ta.losses.tolist()
    ([0.0, 10.0, 20.0], [3.0, 2.0, 1.0])
    >>> [cs.counts() for cs in ta.cycles]
    [{1: 1, 2: 0}, {1: 1, 2: 0}, {1: 1, 2: 1}]
    >>> [(e.kind, e.order, round(e.epoch, 6)) for e in ta.events]
    [('degenerate_flip', 1, 15.0), ('border_collision', 2, 15.0)]
    """

    def __init__(self, epochs: np.ndarray, losses: np.ndarray | None, cycles: list[CycleSet],
                 events: list[BifurcationEvent], stats: dict[str, Any]) -> None:
        self.epochs = epochs
        self.losses = losses
        self.cycles = cycles
        self.events = events
        self.stats = stats

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Loss curve with the events marked, see :func:`plrnn_explorer.plotting.bifurcation.plot_training_events`."""
        from ..plotting.bifurcation import plot_training_events

        return plot_training_events(self, ax=ax, **kwargs)

    def to_dataframe(self):
        """One row per event: epoch, kind, order, stability before/after (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([{"epoch": e.epoch, "kind": e.kind, "order": e.order, "refined": e.refined,
                              "stable_before": None if e.cycle_before is None else e.cycle_before.stable,
                              "stable_after": None if e.cycle_after is None else e.cycle_after.stable}
                             for e in self.events], columns=["epoch", "kind", "order", "refined", "stable_before",
                                                             "stable_after"])

    def to_xarray(self):
        """Labelled ``xarray.Dataset``: per checkpoint (dimension ``epoch``) the loss (if given) and the
        cycle counts per order, and the events as a table along ``event``. Needs xarray.

        Event variables: ``event_epoch`` (fractional epoch), ``event_kind``,
        ``event_order``, ``event_value`` (the same fractional epoch: the
        parameter of the path between checkpoints), ``event_refined``,
        ``event_stable_before`` / ``event_stable_after`` (1/0, -1 for no cycle).
        Attributes: seed, budgets, max_order, package version, creation date.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]
        >>> ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, 1.0], epochs=[0, 10, 20], seed=0)
        >>> ds = ta.to_xarray()
        >>> ds.loss.values.tolist(), ds.event_kind.values.tolist(), ds.event_epoch.values.round(6).tolist()
        ([3.0, 2.0, 1.0], ['degenerate_flip', 'border_collision'], [15.0, 15.0])
        >>> ds.counts.sel(order=2).values.tolist(), ds.attrs["seed"]
        ([0.0, 0.0, 1.0], 0)
        """
        import xarray as xr

        rows = _event_rows(self.events)
        orders = list(self.cycles[0].orders) if self.cycles else []
        counts = np.array([[len(cs[k]) for k in orders] for cs in self.cycles], float).reshape(-1, len(orders))
        stable = np.array([[sum(c.stable for c in cs[k]) for k in orders] for cs in self.cycles],
                          float).reshape(-1, len(orders))
        budgets = self.stats.get("budgets")
        data = {
            "counts": (("epoch", "order"), counts, {"long_name": "number of cycles",
                                                   "description": "number of distinct cycles of each order at "
                                                                  "the checkpoint"}),
            "stable_counts": (("epoch", "order"), stable, {"long_name": "number of stable cycles",
                                                          "description": "number of cycles of each order whose "
                                                                         "multipliers lie inside the unit circle"}),
            "event_epoch": (("event",), np.array([e.epoch for e in self.events], float), {
                "long_name": "epoch of the event", "units": "epochs",
                "description": "fractional epoch where the event was located on the straight line between the "
                               "parameters of two consecutive checkpoints"}),
            "event_kind": (("event",), np.array([r["kind"] for r in rows], dtype=str), {
                "long_name": "bifurcation kind",
                "description": "event kind (see plrnn_explorer.bifurcations.EVENT_KINDS)"}),
            "event_order": (("event",), np.array([r["order"] for r in rows], np.int64), {
                "long_name": "cycle order", "description": "period of the cycle concerned"}),
            "event_value": (("event",), np.array([r["value"] for r in rows], float), {
                "long_name": "event value", "units": "epochs",
                "description": "value of the path parameter (the fractional epoch) where the event was located"}),
            "event_refined": (("event",), np.array([r["refined"] for r in rows], np.int8), {
                "long_name": "located by root finding",
                "description": "1 if the epoch was refined by root finding, 0 if it is a midpoint"}),
            "event_stable_before": (("event",), np.array([r["stable_before"] for r in rows], np.int8), {
                "long_name": "stable before", "description": "1/0: cycle stable/unstable before; -1: absent"}),
            "event_stable_after": (("event",), np.array([r["stable_after"] for r in rows], np.int8), {
                "long_name": "stable after", "description": "1/0: cycle stable/unstable after; -1: absent"})}
        if self.losses is not None:
            data["loss"] = (("epoch",), self.losses, {"long_name": "loss",
                                                      "description": "training loss of each checkpoint"})
        return xr.Dataset(
            data, coords={"epoch": ("epoch", self.epochs, {"long_name": "epoch", "units": "epochs",
                                                           "description": "epoch of each checkpoint"}),
                          "order": ("order", np.asarray(orders, np.int64), {"long_name": "cycle order"})},
            attrs=provenance_attrs(
                "training_analysis", None, self.stats.get("seed"), self.stats.get("created"),
                title="bifurcations along a training run",
                description="plrnn_explorer training analysis: cycles per checkpoint and the bifurcations "
                            "between consecutive checkpoints",
                max_order=int(orders[-1]) if orders else None,
                budgets=None if budgets is None else {str(k): list(v) for k, v in budgets.items()},
                complete=not self.stats.get("interrupted", False) and "failed_chunks" not in self.stats))

    def __repr__(self) -> str:
        return f"<TrainingAnalysis {len(self.epochs)} checkpoints, {len(self.events)} event(s)>"


class _PiecewiseLine(Family):
    """The polygonal path through all checkpoints, parametrised by epoch."""

    def __init__(self, checkpoints: Sequence[Model], epochs: np.ndarray) -> None:
        self._lines = [line_family(checkpoints[i], checkpoints[i + 1], float(epochs[i]), float(epochs[i + 1]))
                       for i in range(len(checkpoints) - 1)]
        self._epochs = epochs
        super().__init__(checkpoints[0], self._at, "epoch")

    def _at(self, t: float) -> Model:
        i = int(np.clip(np.searchsorted(self._epochs, t, side="right") - 1, 0, len(self._lines) - 1))
        return self._lines[i].model(t)


def analyze_training(checkpoints: Sequence[Model], max_order: int, *, losses: Sequence[float] | None = None,
                     epochs: Sequence[float] | None = None, seed: int | np.random.Generator | None = None,
                     client: Any = None,
                     budgets: Any = None, progress: ProgressArg = False,
                     cancel: CancelArg = None) -> TrainingAnalysis:
    """Bifurcations between consecutive checkpoints of a training run.

    Cycles up to ``max_order`` are found at every checkpoint (SCYFI, continued
    checkpoint to checkpoint by itinerary), and every change between two
    consecutive checkpoints is located by root finding along the straight line
    between their parameter sets, giving a fractional epoch.

    Parameters
    ----------
    checkpoints
        Models of the same class and shapes, in training order.
    max_order
        Orders 1..max_order.
    losses
        Loss per checkpoint (for :meth:`TrainingAnalysis.plot`); Inf or NaN
        (a diverged epoch) is data and is accepted.
    epochs
        Strictly increasing epoch per checkpoint (default 0, 1, 2, ...).
    seed, client, budgets, cancel
        As for :func:`~plrnn_explorer.sweep` (``seed`` may be a
        ``numpy.random.Generator``; the int used is in ``stats["seed"]``).
    progress
        True for a tqdm progress bar, False or None for none, or a callable
        ``progress(done, total)`` called as work completes (e.g. a widget's
        progress bar); here after every slice of checkpoints, counting checkpoints.

    Returns
    -------
    TrainingAnalysis

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]   # a_r = -0.8, -0.9, -1.1
    >>> ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, 1.0], epochs=[0, 10, 20], seed=0)
    >>> [(e.kind, e.order, round(e.epoch, 6)) for e in ta.events]
    [('degenerate_flip', 1, 15.0), ('border_collision', 2, 15.0)]
    """
    if isinstance(checkpoints, Model) or not hasattr(checkpoints, "__len__"):
        raise TypeError("checkpoints must be a sequence of models (e.g. TrainingRun.checkpoints)")
    ckpts = [check_model(m, f"checkpoints[{i}]") for i, m in enumerate(checkpoints)]
    if not ckpts:
        raise ValueError("checkpoints must not be empty")
    n = len(ckpts)
    ep = np.arange(n, dtype=float) if epochs is None else as_real_array("epochs", epochs, ndim=1)
    if ep.shape != (n,):
        raise ValueError(f"epochs must have one entry per checkpoint ({n}), got shape {ep.shape}")
    if n > 1 and not np.all(np.diff(ep) > 0):
        raise ValueError("epochs must be strictly increasing")
    ls = None if losses is None else as_real_array("losses", losses, ndim=1, finite=False)  # inf: diverged
    if ls is not None and ls.shape != (n,):
        raise ValueError(f"losses must have one entry per checkpoint ({n}), got shape {ls.shape}")
    family = _PiecewiseLine(ckpts, ep) if n > 1 else Family(ckpts[0], lambda t: ckpts[0], "epoch")
    cycles, events, _, stats = run_path(family, ep, ckpts, orders_upto(max_order), seed=seed, budgets=budgets,
                                        refine=True, client=client, progress=progress, cancel=cancel)
    events = [dataclasses.replace(e, epoch=float(e.value)) for e in events]
    return TrainingAnalysis(ep, ls, cycles, events, stats)
