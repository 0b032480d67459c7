"""A two-parameter bifurcation map, computed in cancellable chunks; clicking a cell moves the model there."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from ..models import Model
from ._jobs import JobControls
from ._ui import BlitLayer, MessageBar, canvas_figure
from .parameter_panel import _state
from .state import ExplorerState

__all__ = ["BifurcationMapPanel"]


class BifurcationMapPanel(W.VBox):
    """Existence and stability regions of all cycles over two parameters.

    "Compute" runs :func:`plrnn_explorer.bifurcation_map` on a worker thread
    (progress bar and status line; Cancel keeps the part computed, or lets a
    long chunk go after a second). Cells are coloured by the periods of the
    stable cycles present, boundaries by event kind (legends beside the
    axes). The x and y parameters and their ranges are chosen in the panel.
    Clicking a cell sets
    the two parameters of the shared model to that cell's values, so the phase
    portrait and the other panels follow. A cross marks the current model.

    Parameters
    ----------
    model
        A model (the panel then owns a new :class:`ExplorerState`) or a shared state.
    params
        Two parameter paths (x, y); default ``state.params[:2]`` or ``["A[0,0]", "A[1,1]"]``.
    ranges
        ``{path: (low, high)}``; default current value +- 0.5.
    n
        Grid points per axis.
    max_order
        Highest cycle order of the map; default the state's ``max_order``.
    show_message
        Show ``state.message`` in the panel (off when composed in an Explorer).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> bp = BifurcationMapPanel(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]), ["A[0,0]", "A[1,1]"])
    >>> bp.grid()[0][[0, -1]]
    array([0., 1.])
    >>> bp.move_to(0.25, 0.75), bp.state.model.get_param("A[0,0]")
    (True, 0.25)
    """

    def __init__(self, model: Model | ExplorerState, params: Sequence[str] | None = None, *,
                 ranges: Mapping[str, tuple[float, float]] | None = None, n: int = 21,
                 max_order: int | None = None, figsize: tuple[float, float] = (7.2, 4.2),
                 show_message: bool = True) -> None:
        self.state = _state(model, max_order or 10)
        m = self.state.model
        chosen = list(params) if params is not None else (list(self.state.params[:2]) or ["A[0,0]", "A[1,1]"])
        if len(chosen) != 2:
            raise ValueError(f"params must be two different parameter paths (x, y), got {chosen!r}")
        chosen = m.distinct_paths(x=chosen[0], y=chosen[1])  # ValueError for a bad path or two aliases of one entry
        values = [m.get_param(p) for p in chosen]
        ranges = {m.canonical_path(p): r for p, r in (ranges or {}).items()}
        lims = [ranges.get(p, (v - 0.5, v + 0.5)) for p, v in zip(chosen, values)]
        for p, (lo, hi) in zip(chosen, lims):
            if not lo < hi:
                raise ValueError(f"ranges[{p!r}] must be (low, high) with low < high, got {(lo, hi)}")
        self.max_order = max_order
        box = {"layout": W.Layout(width="130px"), "style": {"description_width": "30px"}}
        pick = {"layout": W.Layout(width="150px"), "style": {"description_width": "15px"}}
        paths = m.param_paths()
        self.x_param = W.Dropdown(options=_with(paths, chosen[0]), value=chosen[0], description="x", **pick)
        self.y_param = W.Dropdown(options=_with(paths, chosen[1]), value=chosen[1], description="y", **pick)
        self.x_low = W.FloatText(value=lims[0][0], description="from", **box)
        self.x_high = W.FloatText(value=lims[0][1], description="to", **box)
        self.y_low = W.FloatText(value=lims[1][0], description="from", **box)
        self.y_high = W.FloatText(value=lims[1][1], description="to", **box)
        self.n = W.BoundedIntText(value=n, min=2, max=400, description="grid", **box).add_class("plrnn-map-grid")
        self.x_param.observe(lambda ch: self._on_param(0, ch["new"]), names="value")
        self.y_param.observe(lambda ch: self._on_param(1, ch["new"]), names="value")
        self.jobs = JobControls("Compute", self._work, self._done, what="bifurcation map")
        self.result: Any = None
        self.figure = canvas_figure(figsize)
        self.canvas = self.figure.canvas
        # the model's marker moves over a cached frame (see BlitLayer)
        self.layer = BlitLayer(self.figure, lambda: [self.marker], lambda: (id(self.ax), self.ax.get_xlim(), self.ax.get_ylim()))
        self.canvas.mpl_connect("button_press_event", self._on_press)
        # after the cycles (and the portrait, whose frame matters most on a slider step), not on every model change
        self.state.observe(lambda _: self._mark_model(), names="cycles")
        self.state.observe(self._on_model_paths, names="model")
        self._new_axes(None)
        children: list[W.Widget] = [
            W.HTML("<b>Bifurcation map</b>: choose two parameters and their ranges, press Compute; "
                   "click a cell to move the model there"),
            W.HBox([self.x_param, self.x_low, self.x_high]), W.HBox([self.y_param, self.y_low, self.y_high, self.n]),
            self.jobs, self.canvas]
        if show_message:
            children.append(MessageBar(self.state))
        super().__init__(children)
        self.add_class("plrnn-bifurcation-map")

    @property
    def params(self) -> list[str]:
        """The x and y parameter paths."""
        return [self.x_param.value, self.y_param.value]

    def set_params(self, x: str, y: str, ranges: Mapping[str, tuple[float, float]] | None = None) -> None:
        """Choose the two parameters (and optionally their ranges); the previous map is cleared."""
        x, y = self.state.model.distinct_paths(x=x, y=y)
        ranges = {self.state.model.canonical_path(p): r for p, r in (ranges or {}).items()}
        for dd, p in ((self.x_param, x), (self.y_param, y)):
            if p not in dd.options:
                dd.options = _with(list(dd.options), p)
        self.x_param.value, self.y_param.value = x, y
        for p, (lo_box, hi_box) in zip((x, y), ((self.x_low, self.x_high), (self.y_low, self.y_high))):
            if ranges and p in ranges:
                lo, hi = ranges[p]
                if not lo < hi:
                    raise ValueError(f"ranges[{p!r}] must be (low, high) with low < high, got {(lo, hi)}")
                lo_box.value, hi_box.value = float(lo), float(hi)

    def _on_model_paths(self, change: Any) -> None:
        paths = change["new"].param_paths()
        if change["old"] is not None and change["old"].param_paths() == paths:
            return
        x, y = self.params
        if x not in paths or y not in paths:  # another model size: fall back to its first two entries
            x, y = paths[0], paths[min(1, len(paths) - 1)]
        self.x_param.options, self.y_param.options = paths, paths
        self.x_param.value, self.y_param.value = x, y

    def _on_param(self, axis: int, path: str) -> None:
        try:
            v = self.state.model.get_param(path)
            self.state.model.distinct_paths(x=self.x_param.value, y=self.y_param.value)
        except ValueError as exc:  # e.g. both axes on one entry: say so, Compute refuses until fixed
            self.state.message = str(exc)
            return
        lo_box, hi_box = (self.x_low, self.x_high) if axis == 0 else (self.y_low, self.y_high)
        lo_box.value, hi_box.value = v - 0.5, v + 0.5
        self.result = None
        self._new_axes(None)

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid values ``(xs, ys)`` of the two parameters."""
        if not (self.x_low.value < self.x_high.value and self.y_low.value < self.y_high.value):
            raise ValueError("the map's ranges must satisfy low < high for both parameters")
        if not all(np.isfinite([self.x_low.value, self.x_high.value, self.y_low.value, self.y_high.value])):
            raise ValueError("the map's ranges must be finite numbers")
        self.state.model.distinct_paths(x=self.x_param.value, y=self.y_param.value)  # not two aliases of one entry
        n = self.n.value
        return np.linspace(self.x_low.value, self.x_high.value, n), np.linspace(self.y_low.value, self.y_high.value, n)

    # -- computing -------------------------------------------------------------
    def compute(self) -> None:
        """Start computing the map in the background (see :attr:`jobs`: ``wait()``, ``cancel()``)."""
        self.jobs.start()

    def _work(self, progress: Any, cancelled: Any) -> Any:
        import plrnn_explorer as pe

        xs, ys = self.grid()
        px, py = self.params
        max_order = self.max_order or self.state.max_order
        return pe.bifurcation_map(self.state.model, (px, xs), (py, ys), max_order, seed=self.state.seed,
                                  progress=progress, cancel=cancelled)

    def _done(self, result: Any, cancelled: bool) -> None:
        self.result = result
        self._new_axes(result)

    def _new_axes(self, result: Any) -> None:
        self.layer.invalidate()
        self.figure.clear()
        self.ax = self.figure.add_subplot()
        try:
            xs, ys = (result.xs, result.ys) if result is not None else self.grid()
        except ValueError:  # invalid range boxes: an empty frame until they are fixed
            xs = ys = None
        self.figure.subplots_adjust(left=0.12, right=0.62, bottom=0.12, top=0.95)
        if result is not None:
            result.plot(ax=self.ax, by="attractors", legend_outside=True)
        else:
            self.ax.text(0.5, 0.5, "press Compute", transform=self.ax.transAxes, ha="center", va="center",
                         color="0.5")
        if xs is not None:
            self.ax.set_xlim(xs[0], xs[-1])
            self.ax.set_ylim(ys[0], ys[-1])
        self.ax.set_xlabel(result.param_x if result is not None else self.params[0])
        self.ax.set_ylabel(result.param_y if result is not None else self.params[1])
        (self.marker,) = self.ax.plot([], [], "x", color="k", ms=10, mew=2, zorder=10, gid="model")
        self._mark_model()

    def _mark_model(self) -> None:
        px, py = (self.result.param_x, self.result.param_y) if self.result is not None else self.params
        try:
            x, y = self.state.model.get_param(px), self.state.model.get_param(py)
        except ValueError:  # the new model has no such entries
            self.marker.set_data([], [])
        else:
            self.marker.set_data([x], [y])
        self.layer.update()

    # -- clicking ------------------------------------------------------------------
    def move_to(self, x: float, y: float) -> bool:
        """Set the two parameters of the shared model to ``(x, y)``; False (and a message) if invalid."""
        px, py = (self.result.param_x, self.result.param_y) if self.result is not None else self.params
        return self.state.apply(lambda m: m.set_param(px, float(x)).set_param(py, float(y)))

    def _on_press(self, event: Any) -> None:
        tb = getattr(self.canvas, "toolbar", None)
        if event.inaxes is not self.ax or event.xdata is None or (tb is not None and tb.mode):
            return
        try:
            xs, ys = self.grid() if self.result is None else (self.result.xs, self.result.ys)
        except ValueError as exc:  # invalid range boxes: say so, never raise out of matplotlib's callback
            self.state.message = str(exc)
            return
        self.move_to(xs[np.argmin(np.abs(xs - event.xdata))], ys[np.argmin(np.abs(ys - event.ydata))])


def _with(paths: Sequence[str], path: str) -> list[str]:
    """``paths`` plus ``path`` if it is missing (e.g. "A[1]" for a diagonal stored as a vector)."""
    return list(paths) if path in paths else [path, *paths]
