"""Live phase portrait on an ipympl canvas: cycles, clicked trajectories, borders, basins."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np

from ..cycles import Cycle, CycleSet
from ..models import Model
from ..attraction import basins_coarse_to_fine
from ..plotting.phase import default_limits, default_projection, phase_portrait, plot_basins
from ..projection import Projection
from ._jobs import Job
from ._ui import BlitLayer, MessageBar, canvas_figure, clear_axes
from .parameter_panel import _state
from .state import ExplorerState

__all__ = ["PhasePortrait", "cycle_summary"]

#: a click or hover within this many pixels of a cycle point picks the cycle
PICK_RADIUS_PX = 8.0
#: basin grids, coarse to fine: each level is drawn as it arrives, on a worker thread
BASIN_SIZES = (25, 50, 100, 200)
#: seconds of basin computation per view before refining stops
BASIN_BUDGET = 2.0
#: an orbit ending farther than this times the scale of its start and of the cycles counts as diverging
DIVERGED = 1e6


def cycle_summary(cycles: CycleSet | None) -> str:
    """One line: how many cycles, how many stable, of which orders, and whether the list is complete.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> cycle_summary(pe.find_cycles(pe.PLRNN([0.2], [[-1.7]], [1.0]), 2, seed=0)).split(" (")[0]
    '2 cycle(s) up to order 2; stable: order 2'
    """
    if cycles is None:
        return "no cycles computed"
    st = sorted({c.order for c in cycles.stable})
    stable = "stable: order " + ", ".join(map(str, st)) if st else "none stable"
    complete = getattr(cycles, "complete", None)  # set by searches that can prove completeness
    note = {True: " (complete)", False: " (heuristic: may be incomplete)"}.get(complete, "")
    return f"{len(cycles)} cycle(s) up to order {max(cycles.orders)}; {stable}{note}"


def _fmt_lambda(lam: np.ndarray, n: int = 4) -> str:
    parts = [f"{v.real:.4g}" if abs(v.imag) < 1e-12 else f"{v.real:.4g}{v.imag:+.4g}j" for v in lam[:n]]
    return ", ".join(parts) + (", ..." if lam.size > n else "")


def cycle_table_html(cycles: CycleSet | None, max_rows: int = 25) -> str:
    """An HTML table of the cycles: order, kind, max |multiplier|, multipliers, first point."""
    if cycles is None:
        return ""
    rows = []
    for c in list(cycles)[:max_rows]:
        rows.append(f"<tr><td>{c.order}</td><td>{c.kind}{' (border)' if c.on_border else ''}</td>"
                    f"<td>{c.spectral_radius:.4g}</td><td>{html.escape(_fmt_lambda(c.eigenvalues))}</td>"
                    f"<td>{np.array2string(c.points[0], precision=4, separator=', ')}</td></tr>")
    more = f"<tr><td colspan=5>... {len(cycles) - max_rows} more</td></tr>" if len(cycles) > max_rows else ""
    return ('<table class="plrnn-cycles" style="font-size:85%"><tr><th>order</th><th>kind</th>'
            "<th>max|λ|</th><th>multipliers</th><th>first point</th></tr>" + "".join(rows) + more + "</table>")


def cycle_info(c: Cycle) -> str:
    """HTML description of one cycle (shown on hover or click)."""
    return (f"<b>{c.order}-cycle</b>, {c.kind}; multipliers {html.escape(_fmt_lambda(c.eigenvalues, 6))}; "
            f"first point {np.array2string(c.points[0], precision=4, separator=', ')}")


class PhasePortrait(W.VBox):
    """Phase portrait of the state's model, redrawn whenever the model or its cycles change.

    Click empty space to start a trajectory there; hover or click a cycle to
    see its order, multipliers and kind. For M > 2 the view is the plane of
    two chosen coordinates (others fixed at the mean cycle point) or of the
    first two principal components of the cycle points.

    Parameters
    ----------
    model
        A model (the panel then owns a new :class:`ExplorerState`) or a shared state.
    max_order
        Highest cycle order (only used when a model is given).
    basins, borders
        Initial state of the "basins" and "borders" check boxes.
    n_steps
        Length of the trajectories drawn.
    figsize
        Figure size in inches.
    show_message
        Show ``state.message`` in the panel (off when composed in an Explorer).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pp = PhasePortrait(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]), max_order=2)
    >>> [line.get_gid() for line in pp.ax.lines]
    ['cycle']
    >>> pp.add_trajectory([0.0, 0.0]); [line.get_gid() for line in pp.ax.lines]
    ['trajectory', 'trajectory_start', 'cycle']
    """

    def __init__(self, model: Model | ExplorerState, *, max_order: int = 10, basins: bool = False,
                 borders: bool = True, n_steps: int = 300, figsize: tuple[float, float] = (7.2, 4.5),
                 show_message: bool = True) -> None:
        self.state = _state(model, max_order)
        self.n_steps = int(n_steps)
        self.trajectories: list[np.ndarray] = []
        self.selected: Cycle | None = None
        self._hovered: Cycle | None = None
        self.projection: Projection | None = None
        self.drawn_cycles: CycleSet | None = None
        self.figure = canvas_figure(figsize)
        self.figure.subplots_adjust(left=0.11, right=0.64, top=0.9)  # the legend sits right of the axes
        self.ax = self.figure.add_subplot()
        # a slider step redraws only the data and the title over a cached frame, ticks and legend (see BlitLayer)
        self.layer = BlitLayer(self.figure, self._changing_artists, self._static_key)
        self._auto_limits: tuple[Any, Any, Any] | None = None  # (view key, xlim, ylim) chosen by autoscale
        self.basins_job: Job | None = None
        self.basins_status = W.HTML().add_class("plrnn-basins-status")
        self.basin_labels: np.ndarray | None = None
        self.canvas = self.figure.canvas
        self.basins_box = W.Checkbox(value=basins, description="basins", indent=False, layout=W.Layout(width="80px"))
        self.borders_box = W.Checkbox(value=borders, description="borders", indent=False,
                                      layout=W.Layout(width="80px"))
        self.autoscale_box = W.Checkbox(value=True, description="autoscale", indent=False,
                                        layout=W.Layout(width="90px"))
        self.view = W.ToggleButtons(options=["coordinates", "PCA"], value="coordinates",
                                    style={"button_width": "90px"})
        small = {"layout": W.Layout(width="110px"), "style": {"description_width": "15px"}}
        self.x_coord = W.Dropdown(options=[("z0", 0)], value=0, description="x", **small)
        self.y_coord = W.Dropdown(options=[("z0", 0)], value=0, description="y", **small)
        self.view_controls = W.HBox([self.view, self.x_coord, self.y_coord])
        self._sync_view_controls(self.state.model.dim)
        self.clear_button = W.Button(description="clear trajectories", layout=W.Layout(width="140px"))
        self.clear_button.on_click(lambda _: self.clear_trajectories())
        for w in (self.basins_box, self.borders_box, self.view, self.x_coord, self.y_coord):
            w.observe(lambda _: self.redraw(), names="value")
        self.autoscale_box.observe(lambda ch: self.redraw() if ch["new"] else None, names="value")
        self.summary = W.HTML().add_class("plrnn-cycle-summary")
        self.info = W.HTML("click a cycle for details, or empty space for a trajectory").add_class("plrnn-cycle-info")
        self.notice = W.HTML().add_class("plrnn-portrait-notice")
        self.table = W.HTML().add_class("plrnn-cycle-table")
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.state.observe(lambda _: self.redraw(), names="cycles")
        self.state.observe(lambda ch: self.redraw() if ch["new"] is not None else None, names="preview")
        self.state.observe(self._on_busy, names="busy")
        self.state.observe(self._on_model, names="model")
        controls = W.HBox([self.borders_box, self.basins_box, self.autoscale_box, self.clear_button])
        children: list[W.Widget] = [controls, self.view_controls, self.canvas, self.summary, self.info,
                                    self.basins_status, self.notice]
        if show_message:
            children.append(MessageBar(self.state))
        self.table_box = W.Accordion([self.table], titles=("cycle table",))
        self.table_box.observe(lambda ch: setattr(self.table, "value", cycle_table_html(self.state.cycles_nowait))
                               if ch["new"] is not None else None, names="selected_index")
        children.append(self.table_box)
        super().__init__(children)
        self.add_class("plrnn-phase-portrait")
        self.redraw()

    # -- drawing -------------------------------------------------------------------
    def _sync_view_controls(self, M: int) -> None:
        """Coordinate choices for an M-dimensional model; hidden when there is nothing to choose (M = 2)."""
        if len(self.x_coord.options) != M:
            opts = [(f"z{i}", i) for i in range(M)]
            self.x_coord.options, self.y_coord.options = opts, opts
            self.x_coord.value, self.y_coord.value = 0, min(1, M - 1)
        self.view_controls.layout.display = "none" if M <= 2 else None

    def _make_projection(self, model: Model, cycles: CycleSet | None) -> Projection:
        if model.dim == 2:
            return Projection.coordinates(2, 0, 1)
        if self.view.value == "PCA":
            return default_projection(model, cycles, pca=True)
        base = default_projection(model, cycles)
        i, j = self.x_coord.value, self.y_coord.value
        if i == j:
            j = (i + 1) % model.dim
        return Projection.coordinates(model.dim, i, j, origin=base.origin)

    def _on_busy(self, change: Any) -> None:
        if change["new"]:
            self.summary.value = html.escape(change["new"])
        elif self.state.preview is None:
            self.summary.value = cycle_summary(self.state.cycles_nowait)

    def _on_model(self, change: Any) -> None:
        if self.state.searching and self.selected is not None:  # the info line must not pass for the new model's
            self.info.value = (cycle_info(self.selected) +
                               " <i>(at the previous parameters; searching the new model's cycles...)</i>")

    def redraw(self) -> None:
        """Draw the current cycles with the model they belong to (see ``state.cycles_model``), and trajectories."""
        st = self.state
        preview = st.preview is not None and st.preview_model is st.model
        model, cycles = (st.preview_model, st.preview) if preview else (st.cycles_model or st.model, st.cycles_nowait)
        self.drawn_cycles = cycles  # what hovering and clicking pick from
        ax = self.ax
        self._sync_view_controls(model.dim)
        if any(z.shape != (model.dim,) for z in self.trajectories):  # the model changed dimension
            self.trajectories = [z for z in self.trajectories if z.shape == (model.dim,)]
            self.projection = None
        if self.selected is not None and self.selected.points.shape[1] != model.dim:
            self.selected = None
            self.info.value = "click a cycle for details, or empty space for a trajectory"
        if model.dim < 2:
            self.notice.value = "a phase portrait needs a model with at least 2 latent units"
            return
        keep = not self.autoscale_box.value and self.projection is not None and len(ax.lines + ax.collections)
        xlim, ylim = (ax.get_xlim(), ax.get_ylim()) if keep else (None, None)
        self.projection = self._make_projection(model, cycles)
        if not keep:
            xlim, ylim = self._autoscale(default_limits(model, cycles, self.projection), model.dim)
            if st.cycles_model is None:  # a sample orbit's frame while the first search runs: the cycles choose anew
                self._auto_limits = None
        clear_axes(ax)
        self._stop_basins()
        try:
            phase_portrait(model, cycles if cycles is not None else CycleSet([1], {}), ax=ax,
                           projection=self.projection, xlim=xlim, ylim=ylim, basins=False,
                           borders=self.borders_box.value, trajectories=self.trajectories, n_steps=self.n_steps)
        except Exception as exc:  # noqa: BLE001 - never let a drawing failure kill the panel
            self.notice.value = f"could not draw the portrait: {html.escape(str(exc))}"
        else:
            self.notice.value = self._divergence_notice(model)
        if self.selected is not None and cycles is not None:
            previous, self.selected = self.selected, cycles.find(self.selected)
            if self.selected is not None:
                xy = self.projection.to_plane(self.selected.points)
                (hl,) = ax.plot(xy[:, 0], xy[:, 1], "o", ms=12, mfc="none", mec="k", mew=1.5, zorder=5)
                hl.set_gid("selected")
                self.info.value = cycle_info(self.selected)  # the info line describes the current model
            else:
                self.info.value = (f"the selected {previous.order}-cycle no longer exists at these parameters")
        elif self.selected is not None:
            self.selected = None
            self.info.value = "no cycles computed"
        self._hovered = None
        ax.set_title(self.title(model), fontsize="medium")
        if st.busy:
            self.summary.value = html.escape(st.busy)
        elif preview:
            self.summary.value = f"{len(cycles)} cycle(s) continued from the previous parameters; searching for more..."
        else:
            self.summary.value = cycle_summary(cycles)
        self.layer.update()
        if self.table_box.selected_index is not None:  # the (collapsed by default) table is filled when opened
            self.table.value = cycle_table_html(cycles)
        if self.basins_box.value and cycles is not None:
            self._start_basins(model, cycles, self.projection, (xlim, ylim))

    def _autoscale(self, limits: tuple[Any, Any], dim: int) -> tuple[Any, Any]:
        """New limits only when the cycles near the frame's edge or fill less than a third of it (no jitter while dragging).

        The frame of :func:`default_limits` pads the cycles by over a seventh of its span on each side, so the
        current frame is kept while the new one sticks out by at most a tenth of the current span.
        """
        view = (dim, self.view.value, self.x_coord.value, self.y_coord.value)
        (x0, x1), (y0, y1) = limits
        if self._auto_limits is not None and self._auto_limits[0] == view and self.view.value == "coordinates":
            _, (X0, X1), (Y0, Y1) = self._auto_limits
            tx, ty = 0.1 * (X1 - X0), 0.1 * (Y1 - Y0)
            inside = X0 - tx <= x0 and x1 <= X1 + tx and Y0 - ty <= y0 and y1 <= Y1 + ty
            snug = (x1 - x0) * 3 >= (X1 - X0) and (y1 - y0) * 3 >= (Y1 - Y0)
            if inside and snug:
                return (X0, X1), (Y0, Y1)
        self._auto_limits = (view, (x0, x1), (y0, y1))
        return (x0, x1), (y0, y1)

    def _changing_artists(self) -> list[Any]:
        """What a slider step changes: the data (lines, borders, basins) and the title."""
        ax = self.ax
        data = {*ax.images, *ax.collections, *ax.lines, ax.title}
        return [a for a in ax.get_children() if a in data]  # in the axes' order, as a full draw has them

    def _static_key(self) -> tuple:
        """What the cached frame shows: limits, axis labels, legend entries, figure size."""
        ax = self.ax
        leg = ax.get_legend()
        entries = tuple(t.get_text() for t in leg.get_texts()) if leg is not None else ()
        return (ax.get_xlim(), ax.get_ylim(), ax.get_xlabel(), ax.get_ylabel(), entries,
                tuple(self.figure.get_size_inches()), self.figure.dpi)

    def title(self, model: Model | None = None) -> str:
        """Model class and size, training epoch, and the values of the explored parameters (of ``model``)."""
        m, st = model if model is not None else self.state.model, self.state
        parts = [f"{type(m).__name__} (M={m.dim})"]
        if st.epoch is not None:
            parts.append(f"epoch {st.epoch}")
        vals = []
        for p in st.params[:3]:
            try:
                vals.append(f"{p}={m.get_param(p):.6g}")
            except ValueError:
                continue
        text = ", ".join(parts)
        if vals:
            text += "\n" + ", ".join(vals) + (", ..." if len(st.params) > 3 else "")
        return text

    # -- basins (coarse to fine, on a worker thread) --------------------------------
    def _stop_basins(self) -> None:
        if self.basins_job is not None:
            self.basins_job.abandon()  # superseded: a new view or model
            self.basins_job = None
        self.basin_labels = None
        self.basins_status.value = ""

    def _start_basins(self, model: Model, cycles: CycleSet, projection: Projection, limits: Any) -> None:
        if not cycles.stable:
            self.basins_status.value = "basins: no stable cycle to attract orbits"
            return
        xlim, ylim = limits

        def work(progress: Any, cancelled: Any) -> None:
            for labels in basins_coarse_to_fine(model, cycles, xlim, ylim, BASIN_SIZES, projection=projection,
                                                budget=BASIN_BUDGET, cancelled=cancelled):
                progress(labels.shape[0], BASIN_SIZES[-1])
                job._in_ui(self._draw_basins, job, labels, model, cycles, projection, limits)

        def finish(result: Any, cancelled: bool, error: Exception | None) -> None:
            if job is self.basins_job:
                self.basins_job = None
                if error is not None:
                    self.basins_status.value = f"basins failed: {html.escape(str(error))}"
                elif self.basin_labels is not None:
                    n = self.basin_labels.shape[0]
                    note = "" if n == BASIN_SIZES[-1] else f" (time budget {BASIN_BUDGET:g} s reached)"
                    self.basins_status.value = f"basins on a {n}x{n} grid{note}"

        job = Job(work, on_finish=finish)
        self.basins_job = job
        self.basins_status.value = "basins: computing (the first use compiles the kernel)..."
        job.start()

    def _draw_basins(self, job: Job, labels: np.ndarray, model: Model, cycles: CycleSet, projection: Projection,
                     limits: Any) -> None:
        if job is not self.basins_job:
            return  # superseded by a newer view
        for im in [a for a in self.ax.images if a.get_gid() == "basins"]:
            im.remove()
        plot_basins(model, cycles, self.ax, xlim=limits[0], ylim=limits[1], projection=projection, labels=labels)
        self.basin_labels = labels
        n = labels.shape[0]
        self.basins_status.value = f"basins: {n}x{n} grid drawn, refining..." if n < BASIN_SIZES[-1] else ""
        self.layer.update()

    def wait_for_basins(self, timeout: float | None = None) -> bool:
        """Block until the basins computation has finished (headless use and tests)."""
        job = self.basins_job
        return job is None or job.join(timeout)

    def _divergence_notice(self, model: Model) -> str:
        cycles = self.state.cycles_nowait
        pts = [np.abs(c.points).max() for c in cycles] if cycles is not None else []
        bad = []
        for z0 in self.trajectories:
            end = model.simulate(z0, self.n_steps)[-1]
            scale = 1.0 + max(pts + [float(np.abs(z0).max())])
            if not np.all(np.isfinite(end)) or np.abs(end).max() > DIVERGED * scale:
                bad.append(z0)
        if not bad:
            return ""
        pts = "; ".join(np.array2string(z, precision=3, separator=", ") for z in bad[:3])
        return f"trajectory from {pts} diverges (drawn until it overflows)"

    # -- interaction -----------------------------------------------------------
    def add_trajectory(self, z0: Any) -> None:
        """Draw the orbit of the state ``z0`` (M,) from now on."""
        z = np.asarray(z0, dtype=float)
        if z.shape != (self.state.model.dim,) or not np.all(np.isfinite(z)):
            raise ValueError(f"z0 must be a finite state of shape (M,) = ({self.state.model.dim},), got {z0!r}")
        self.trajectories.append(z)
        self.redraw()

    def clear_trajectories(self) -> None:
        """Remove all trajectories."""
        self.trajectories.clear()
        self.redraw()

    def cycle_at(self, x_px: float, y_px: float) -> Cycle | None:
        """The cycle with a point within :data:`PICK_RADIUS_PX` pixels of display position (x, y)."""
        cycles = self.drawn_cycles
        if cycles is None or self.projection is None:
            return None
        best, best_d = None, PICK_RADIUS_PX
        for c in cycles:
            px = self.ax.transData.transform(self.projection.to_plane(c.points))
            d = float(np.min(np.hypot(px[:, 0] - x_px, px[:, 1] - y_px)))
            if d <= best_d:
                best, best_d = c, d
        return best

    def _toolbar_busy(self) -> bool:
        tb = getattr(self.canvas, "toolbar", None)
        return bool(tb is not None and getattr(tb, "mode", ""))

    def _on_press(self, event: Any) -> None:
        if event.inaxes is not self.ax or event.xdata is None or self.projection is None or self._toolbar_busy():
            return
        c = self.cycle_at(event.x, event.y)
        if c is not None:
            self.selected = c
            self.info.value = cycle_info(c)
            self.redraw()
            return
        self.add_trajectory(self.projection.lift([event.xdata, event.ydata]))

    def _on_motion(self, event: Any) -> None:
        if event.inaxes is not self.ax:
            return
        c = self.cycle_at(event.x, event.y)
        if c is not None and c is not self._hovered:
            self.info.value = cycle_info(c)
        self._hovered = c
