"""A one-parameter bifurcation diagram on :func:`plrnn_explorer.sweep`; clicking moves the model there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from ..bifurcations.family import check_values
from ..models import Model
from ..plotting.bifurcation import plot_branches
from ._jobs import JobControls
from ._ui import BlitLayer, MessageBar, canvas_figure
from .parameter_panel import _state
from .state import ExplorerState

__all__ = ["BifurcationDiagramPanel", "orbit_diagram"]


def orbit_diagram(model: Model, param: str, values: Any, coord: int = 0, *, n_starts: int = 8,
                  n_transient: int = 300, n_keep: int = 60, seed: int = 0,
                  cancelled: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Last iterates of orbits from several starts at every parameter value (the "orbit diagram").

    Returns ``(x, y)``: parameter values and coordinate ``coord`` of the last
    ``n_keep`` of ``n_transient + n_keep`` states of ``n_starts`` orbits per
    value (starts drawn once, normal with the scale of ``h``); diverging
    orbits are left out.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> x, y = orbit_diagram(pe.PLRNN([0.5], [[0.0]], [1.0]), "A[0,0]", [0.0, 0.5], n_starts=2, n_keep=3)
    >>> x.tolist(), y.round(6).tolist()
    ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    """
    values = check_values("values", values)
    model.get_param(param)
    rng = np.random.default_rng(seed)
    scale = 1.0 + float(np.abs(model.canonical.arrays[-1]).max())
    z0 = rng.normal(0.0, scale, size=(n_starts, model.dim))
    xs, ys = [], []
    for v in values:
        if cancelled is not None and cancelled():
            break
        traj = model.set_param(param, float(v)).simulate(z0, n_transient + n_keep)[:, -n_keep:, coord]
        with np.errstate(invalid="ignore"):
            ok = np.all(np.isfinite(traj) & (np.abs(traj) < 1e6 * scale), axis=1)
        y = traj[ok].ravel()
        xs.append(np.full(y.size, float(v)))
        ys.append(y)
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


class BifurcationDiagramPanel(W.VBox):
    """Cycles against one parameter, stable solid and unstable dashed, with events; linked to the model.

    "Compute" runs :func:`plrnn_explorer.sweep` on the current model (worker
    thread, progress, Cancel; the state's interactive SCYFI budgets, so a
    101-value sweep to order 16 takes seconds, not minutes) and draws each cycle's coordinate ``coord``
    continued from value to value by its itinerary
    (:func:`~plrnn_explorer.plotting.bifurcation.plot_branches`); events are
    marked and labelled by kind. With "orbit diagram" the last iterates of
    orbits from several starts are drawn behind (grey dots), which also shows
    attractors that are not cycles up to ``max_order``. A vertical line marks
    the current model; clicking the diagram moves the model to the nearest
    computed parameter value.

    Parameters
    ----------
    model
        A model (the panel then owns a new :class:`ExplorerState`) or a shared state.
    param
        Parameter path, e.g. ``"A[0,0]"``.
    values
        Increasing parameter values.
    max_order
        Highest cycle order (default: the state's).
    coord
        Coordinate of the cycle points drawn.
    orbits
        Draw the orbit diagram behind the cycles.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> tent = pe.PLRNN([0.2], [[0.0]], [1.0])
    >>> dp = BifurcationDiagramPanel(tent, "W[0,0]", np.linspace(-2, 0.5, 11), max_order=2)
    >>> dp.compute(); dp.jobs.wait(600)
    True
    >>> [(e.kind, e.order) for e in dp.result.events][:2]
    [('degenerate_flip', 1), ('border_collision', 2)]
    >>> dp.move_to(-1.6), dp.state.model.get_param("W[0,0]")
    (True, -1.5)
    """

    def __init__(self, model: Model | ExplorerState, param: str, values: Sequence[float], *,
                 max_order: int | None = None, coord: int = 0, orbits: bool = False,
                 figsize: tuple[float, float] = (7.2, 4.2), show_message: bool = True) -> None:
        self.state = _state(model, max_order or 10)
        m = self.state.model
        m.get_param(param)  # a ValueError naming a bad path
        self.values = check_values("values", values)
        if self.values.size < 2:
            raise ValueError("values must hold at least 2 parameter values")
        if not isinstance(coord, (int, np.integer)) or not 0 <= coord < m.dim:
            raise ValueError(f"coord must be an int in 0..{m.dim - 1}, got {coord!r}")
        self.param = param
        self.coord = int(coord)
        self.max_order = max_order
        self.result: Any = None
        self.orbit_points: tuple[np.ndarray, np.ndarray] | None = None
        self.orbits_box = W.Checkbox(value=orbits, description="orbit diagram", indent=False,
                                     layout=W.Layout(width="120px"))
        self.jobs = JobControls("Compute", self._work, self._done, what="bifurcation diagram")
        self.figure = canvas_figure(figsize)
        self.canvas = self.figure.canvas
        # the model's marker moves over a cached frame (see BlitLayer)
        self.layer = BlitLayer(self.figure, lambda: [self.marker], lambda: (id(self.ax), self.ax.get_xlim(), self.ax.get_ylim()))
        self.canvas.mpl_connect("button_press_event", self._on_press)
        # after the cycles (and the portrait, whose frame matters most on a slider step), not on every model change
        self.state.observe(lambda _: self._mark_model(), names="cycles")
        self._draw()
        children: list[W.Widget] = [
            W.HTML(f"<b>Bifurcation diagram</b> over {param}: press Compute; click to move the model there"),
            W.HBox([self.orbits_box]), self.jobs, self.canvas]
        if show_message:
            children.append(MessageBar(self.state))
        super().__init__(children)
        self.add_class("plrnn-bifurcation-diagram")

    # -- computing -------------------------------------------------------------
    def compute(self) -> None:
        """Start the sweep in the background (see :attr:`jobs`: ``wait()``, ``cancel()``)."""
        self.jobs.start()

    def _work(self, progress: Any, cancelled: Any) -> Any:
        import plrnn_explorer as pe

        model = self.state.model
        max_order = self.max_order or self.state.max_order
        sw = pe.sweep(model, self.param, self.values, max_order, seed=self.state.seed, budgets=self.state.budget,
                      progress=progress, cancel=cancelled)
        orbit = None
        if self.orbits_box.value and not cancelled():
            orbit = orbit_diagram(model, self.param, self.values, self.coord, cancelled=cancelled)
        return sw, orbit

    def _done(self, result: Any, cancelled: bool) -> None:
        self.result, self.orbit_points = result
        self._draw()

    def _draw(self) -> None:
        self.layer.invalidate()
        self.figure.clear()
        self.figure.subplots_adjust(left=0.12, right=0.66, bottom=0.12, top=0.95)
        self.ax = ax = self.figure.add_subplot()
        if self.orbit_points is not None and self.orbit_points[0].size:
            ax.plot(*self.orbit_points, ",", color="0.6", zorder=0, gid="orbits")
        if self.result is not None:
            plot_branches(self.result, ax, coord=self.coord, legend_outside=True)
        else:
            ax.text(0.5, 0.5, "press Compute", transform=ax.transAxes, ha="center", va="center", color="0.5")
            ax.set_xlabel(self.param)
            ax.set_ylabel(f"z{self.coord}")
        ax.set_xlim(float(self.values[0]), float(self.values[-1]))
        self.marker = ax.axvline(np.nan, color="tab:blue", lw=2, alpha=0.6, gid="model")
        self._mark_model()

    def _mark_model(self) -> None:
        try:
            v = self.state.model.get_param(self.param)
        except ValueError:  # the new model has no such entry
            v = np.nan
        self.marker.set_xdata([v, v])
        self.layer.update()

    # -- clicking ------------------------------------------------------------------
    def move_to(self, value: float) -> bool:
        """Move the shared model to the computed parameter value nearest ``value``."""
        v = float(self.values[int(np.argmin(np.abs(self.values - value)))])
        return self.state.apply(lambda m: m.set_param(self.param, v))

    def _on_press(self, event: Any) -> None:
        tb = getattr(self.canvas, "toolbar", None)
        if event.inaxes is not self.ax or event.xdata is None or (tb is not None and tb.mode):
            return
        self.move_to(event.xdata)
