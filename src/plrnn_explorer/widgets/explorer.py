"""The composed explorer: parameters, phase portrait, bifurcation map and training panels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import numpy as np
from traitlets import Instance, link

from ..cycles import CycleSet
from ..models import Model
from ._ui import MessageBar
from .bifurcation_panel import BifurcationMapPanel
from .diagram_panel import BifurcationDiagramPanel
from .parameter_panel import ParameterPanel
from .phase_portrait import PhasePortrait
from .state import INTERACTIVE_BUDGET, ExplorerState, _AfterFirstSearch
from .training_panel import TrainingPanel

__all__ = ["Explorer"]


class Explorer(W.VBox):
    """All panels on one shared :class:`ExplorerState`.

    Parameters
    ----------
    model
        The model to explore.
    max_order
        Highest cycle order searched after every change.
    params
        Parameter paths for the sliders (default: see
        :func:`~plrnn_explorer.widgets.parameter_panel.default_params`).
    ranges
        Slider ranges ``{path: (low, high)}``.
    steps
        Slider steps ``{path: step}`` (default range / 1000).
    run
        Optional training run (``.checkpoints``, ``.losses``, ``.epochs``,
        e.g. from :func:`plrnn_explorer.train`): adds a :class:`TrainingPanel`.
    map_params
        Two parameter paths for the bifurcation map (default: the first two
        slider parameters).
    diagram
        ``(path, values)`` of the one-parameter bifurcation diagram (default:
        the first slider parameter over its slider range, 101 values).
    budget
        Interactive SCYFI budgets ``(N_out, N_in)``, or None for the paper's.
    debounce
        Seconds a slider drag must pause before recomputing.

    Attributes
    ----------
    model
        Trait: the current model; set it to explore another one.
    cycles
        Trait (read-only): the current model's :class:`~plrnn_explorer.CycleSet`.
        A model set from code is searched at once; a change made in the
        panels inside a kernel is searched on a worker thread, and
        ``state.cycles_model`` tells which model the cycles belong to
        (``ex.state.wait()`` in a cell, or ``await ex.state.until_current()``,
        waits for the newest).
    state
        The shared :class:`ExplorerState`.
    parameters, portrait, bifurcation_map, diagram, training
        The panels (``training`` is None without ``run``).

    Notes
    -----
    Inside a kernel (a running event loop) the constructor returns at once:
    the first search runs on a worker thread while the panels show "searching
    cycles up to order K: 1.2 s" (with "compiling on first use" while numba
    compiles its kernels, up to a minute in a fresh installation), and they
    draw the cycles when they arrive. Reading :attr:`cycles` (or
    ``state.cycles``) before then waits for them, so ``ex = Explorer(m);
    ex.cycles.counts()`` works in one cell; a slider moved meanwhile
    supersedes the first search and the read waits for the new model's.
    Setting :attr:`model` from code searches before the assignment returns,
    as always (a first search still running is superseded). Without a
    running event loop (scripts, tests) the constructor searches before it
    returns.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> ex = Explorer(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]), max_order=2, debounce=0)
    >>> ex.model = ex.model.set_param("h[0]", 2.0)
    >>> ex.cycles[1][0].points
    array([[ 4., -2.]])
    """

    model = Instance(Model)
    cycles = _AfterFirstSearch(CycleSet, allow_none=True, read_only=True)

    def __init__(self, model: Model, max_order: int = 10, *, params: Sequence[str] | None = None,
                 ranges: Mapping[str, tuple[float, float]] | None = None,
                 steps: Mapping[str, float] | None = None, run: Any = None,
                 map_params: Sequence[str] | None = None, diagram: tuple[str, Sequence[float]] | None = None, budget: tuple[int, int] | None = INTERACTIVE_BUDGET,
                 debounce: float = 0.08) -> None:
        self.state = ExplorerState(model, max_order, budget=budget)
        self.parameters = ParameterPanel(self.state, params, ranges=ranges, steps=steps, debounce=debounce, show_message=False)
        self.portrait = PhasePortrait(self.state, show_message=False)
        if map_params is not None:
            mp = list(map_params)
        else:  # the first two slider parameters, topped up with the model's other entries
            sliders = self.parameters.params
            mp = (sliders + [p for p in model.param_paths() if p not in sliders])[:2]
        self.bifurcation_map = BifurcationMapPanel(self.state, mp, show_message=False) if len(mp) == 2 else None
        self.training = TrainingPanel(run, state=self.state, show_message=False) if run is not None else None
        if diagram is None and self.parameters.params:
            row = self.parameters.rows[self.parameters.params[0]]
            diagram = (row.path, np.linspace(row.lo, row.hi, 101))
        self.diagram = (BifurcationDiagramPanel(self.state, diagram[0], diagram[1], show_message=False)
                        if diagram is not None else None)
        tabs = [(p, t) for p, t in ((self.bifurcation_map, "bifurcation map"), (self.diagram, "bifurcation diagram"),
                                    (self.training, "training")) if p is not None]
        views: list[W.Widget] = [self.portrait]
        if tabs:
            views.append(W.Tab([p for p, _ in tabs], titles=tuple(t for _, t in tabs)))
        # parameters, portrait and the map side by side; they wrap below each other on a narrow page
        top = W.HBox([self.parameters, *views], layout=W.Layout(align_items="flex-start", flex_flow="row wrap"))
        children: list[W.Widget] = [MessageBar(self.state), top]
        super().__init__(children, model=self.state.model)
        self.add_class("plrnn-explorer")
        self.set_trait("cycles", self.state.cycles_nowait)  # None while the first search runs: no waiting here
        link((self, "model"), (self.state, "model"))
        self.state.observe(lambda ch: self.set_trait("cycles", ch["new"]), names="cycles")

    def _await_first_search(self) -> None:
        """Wait for the state's first search (called by a read of :attr:`cycles`)."""
        state = self.__dict__.get("state")
        if state is not None:
            state._await_first_search()
