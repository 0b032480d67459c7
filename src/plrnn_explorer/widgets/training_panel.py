"""The loss curve of a training run with its bifurcation events; an epoch slider picks a checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from ..models import Model
from ..plotting.bifurcation import EVENT_STYLE
from ..plotting.phase import outside_legend
from ._jobs import JobControls
from ._ui import BlitLayer, MessageBar, canvas_figure
from .state import ExplorerState

__all__ = ["EVENT_COLOURS", "TrainingPanel"]

#: colour of each bifurcation event kind: the one table of :data:`plrnn_explorer.plotting.bifurcation.EVENT_STYLE`
EVENT_COLOURS = {kind: colour for kind, (colour, _) in EVENT_STYLE.items()}


def _as_run(run: Any, losses: Any, epochs: Any) -> tuple[list[Model], np.ndarray, np.ndarray]:
    if hasattr(run, "checkpoints"):
        ckpts = list(run.checkpoints)
        losses = run.losses if losses is None else losses
        epochs = run.epochs if epochs is None else epochs
    elif isinstance(run, (list, tuple)):
        ckpts = list(run)
    else:
        raise TypeError("run must be a TrainingRun (with .checkpoints, .losses, .epochs) or a list of models, "
                        f"got {type(run).__name__}")
    if not ckpts or not all(isinstance(m, Model) for m in ckpts):
        raise TypeError("the run's checkpoints must be a non-empty sequence of plrnn_explorer models")
    n = len(ckpts)
    ep = np.arange(n) if epochs is None else np.asarray(epochs, dtype=np.int64)
    ls = np.full(n, np.nan) if losses is None else np.asarray(losses, dtype=float)
    if ep.shape != (n,) or ls.shape != (n,):
        raise ValueError(f"epochs and losses must have one entry per checkpoint ({n}), got shapes {ep.shape}, {ls.shape}")
    if np.any(np.diff(ep) <= 0):
        raise ValueError("epochs must be strictly increasing")
    return ckpts, ls, ep


class TrainingPanel(W.VBox):
    """Loss per checkpoint with bifurcation events; the epoch slider sets the shared model.

    Parameters
    ----------
    run
        A :class:`~plrnn_explorer.TrainingRun` (``.checkpoints``, ``.losses``,
        ``.epochs``) or a list of models.
    losses, epochs
        Per-checkpoint losses and epochs when ``run`` is a list (or to override).
    state
        Shared :class:`ExplorerState`; default a new one on the first checkpoint.
    analysis
        Result of :func:`plrnn_explorer.analyze_training` to show at once; else
        "Analyze" computes it on a worker thread (progress bar; Cancel keeps
        the events found so far) with the state's interactive SCYFI budgets
        (seconds; pass ``analysis`` computed with the paper's budgets when
        completeness matters more than speed).
    max_order
        Highest cycle order of the analysis.
    show_message
        Show ``state.message`` in the panel (off when composed in an Explorer).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> ckpts = [pe.PLRNN([a, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]) for a in (0.1, 0.2, 0.3)]
    >>> tp = TrainingPanel(ckpts, losses=[3.0, 2.0, 1.0], epochs=[0, 10, 20])
    >>> tp.epoch.value = 10
    >>> tp.state.epoch, tp.state.model.get_param("A[0,0]")
    (10, 0.2)
    """

    def __init__(self, run: Any, *, losses: Sequence[float] | None = None, epochs: Sequence[int] | None = None,
                 state: ExplorerState | None = None, analysis: Any = None, max_order: int = 10,
                 figsize: tuple[float, float] = (7.2, 3.2), show_message: bool = True) -> None:
        self.checkpoints, self.losses, self.epochs = _as_run(run, losses, epochs)
        if state is not None and not isinstance(state, ExplorerState):
            raise TypeError(f"state must be an ExplorerState or None, got {type(state).__name__}")
        self.state = state if state is not None else ExplorerState(self.checkpoints[-1], max_order)
        self.max_order = max_order
        self.events: list[Any] = list(analysis.events) if analysis is not None else []
        self.figure = canvas_figure(figsize)
        self.figure.subplots_adjust(bottom=0.2, right=0.68)  # room for the epoch label and the legend
        self.ax = self.figure.add_subplot()
        self.canvas = self.figure.canvas
        # the model's marker moves over a cached frame (see BlitLayer)
        self.layer = BlitLayer(self.figure, lambda: [self.epoch_line], lambda: (id(self.ax), self.ax.get_xlim(), self.ax.get_ylim()))
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.epoch = W.SelectionSlider(options=[int(e) for e in self.epochs], value=int(self.epochs[-1]),
                                       description="epoch", continuous_update=False,
                                       layout=W.Layout(width="420px"))
        self.epoch.observe(self._on_epoch, names="value")
        self.jobs = JobControls("Analyze", self._work, self._done)
        self.state.observe(self._on_state_epoch, names="epoch")
        self._draw()
        children: list[W.Widget] = [W.HTML("<b>Training</b>: loss and bifurcation events"), self.jobs,
                                    self.epoch, self.canvas]
        if show_message:
            children.append(MessageBar(self.state))
        super().__init__(children)
        self.add_class("plrnn-training-panel")

    # -- drawing -----------------------------------------------------------------
    def _draw(self) -> None:
        ax = self.ax
        ax.clear()
        (line,) = ax.plot(self.epochs, self.losses, "-", color="k", lw=1.2, label="loss")
        line.set_gid("loss")
        if np.all(self.losses[np.isfinite(self.losses)] > 0) and np.isfinite(self.losses).any():
            ax.set_yscale("log")
        seen: set[str] = set()
        for ev in self.events:
            kind = str(getattr(ev, "kind", "event"))
            ax.axvline(float(ev.epoch), color=EVENT_COLOURS.get(kind, "k"), lw=1.2, alpha=0.8, ls="--",
                       label=None if kind in seen else kind.replace("_", " "), gid="event")
            seen.add(kind)
        self.epoch_line = ax.axvline(float(self.epoch.value) if hasattr(self, "epoch") else self.epochs[-1],
                                     color="tab:blue", lw=2, gid="epoch")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        outside_legend(ax)
        self.layer.invalidate()

    # -- epoch selection ----------------------------------------------------------
    def _on_epoch(self, change: Any) -> None:
        e = int(change["new"])
        i = int(np.searchsorted(self.epochs, e))
        self.epoch_line.set_xdata([e, e])
        self.layer.update()
        self.state.apply(lambda _: self.checkpoints[i], epoch=e)

    def _on_state_epoch(self, change: Any) -> None:
        e = change["new"]
        if e is not None and e in self.epoch.options and e != self.epoch.value:
            self.epoch.value = e

    def _on_press(self, event: Any) -> None:
        tb = getattr(self.canvas, "toolbar", None)
        if event.inaxes is not self.ax or event.xdata is None or (tb is not None and tb.mode):
            return
        self.epoch.value = int(self.epochs[int(np.argmin(np.abs(self.epochs - event.xdata)))])

    # -- analysis -----------------------------------------------------------------
    def analyze(self) -> None:
        """Start the bifurcation analysis of the run in the background (see :attr:`jobs`)."""
        self.jobs.start()

    def _work(self, progress: Any, cancelled: Any) -> list[Any]:
        import plrnn_explorer as pe

        losses = self.losses if np.isfinite(self.losses).all() else None  # a run without (all) losses
        ta = pe.analyze_training(self.checkpoints, self.max_order, losses=losses, epochs=self.epochs,
                                 seed=self.state.seed, budgets=self.state.budget, progress=progress,
                                 cancel=cancelled)
        return list(ta.events)

    def _done(self, events: list[Any], cancelled: bool) -> None:
        self.events = events
        self._draw()
