"""Sliders and number boxes for chosen parameter entries of the model."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W

from ..models import Model
from ._debounce import Debouncer
from ._ui import MessageBar
from .state import ExplorerState

__all__ = ["ParameterPanel", "default_params"]


def default_params(model: Model, limit: int = 12) -> list[str]:
    """All parameter paths if there are at most ``limit``, else the diagonal of A and the biases h.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> default_params(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]))
    ['A[0,0]', 'A[1,1]', 'W[0,0]', 'W[0,1]', 'W[1,0]', 'W[1,1]', 'h[0]', 'h[1]']
    """
    paths = model.param_paths()
    if len(paths) <= limit:
        return paths
    diag = [p for p in paths if p.startswith("A[") and len(set(p[2:-1].split(","))) == 1]
    return (diag + [p for p in paths if p.startswith("h[")])[:limit]


def _state(model_or_state: Model | ExplorerState, max_order: int) -> ExplorerState:
    if isinstance(model_or_state, ExplorerState):
        return model_or_state
    if isinstance(model_or_state, Model):
        return ExplorerState(model_or_state, max_order)
    raise TypeError(f"expected a plrnn_explorer model or an ExplorerState, got {type(model_or_state).__name__}")


class ParameterPanel(W.VBox):
    """Sliders plus number boxes for parameter entries; the model updates live.

    Parameters
    ----------
    model
        A model (the panel then owns a new :class:`ExplorerState`) or a shared state.
    params
        Parameter paths such as ``"A[0,0]"`` or ``"W[1,0]"``; default
        ``state.params`` or :func:`default_params`.
    ranges
        ``{path: (low, high)}`` slider ranges; default ``value +- max(1, |value|)``.
        Typing a value outside the range into the number box widens it.
    max_order
        Highest cycle order (only used when a model is given).
    debounce
        Seconds a drag must pause before the model is updated (0: immediately).
    show_message
        Show ``state.message`` in the panel (off when composed in an Explorer).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> panel = ParameterPanel(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]), ["h[0]"], debounce=0)
    >>> panel.sliders["h[0]"].value = 0.25
    >>> panel.state.model.get_param("h[0]")
    0.25
    """

    def __init__(self, model: Model | ExplorerState, params: Sequence[str] | None = None, *,
                 ranges: Mapping[str, tuple[float, float]] | None = None, max_order: int = 10,
                 debounce: float = 0.08, show_message: bool = True) -> None:
        self.state = _state(model, max_order)
        m = self.state.model
        if isinstance(params, str):
            raise TypeError("params must be a sequence of parameter paths, e.g. ['A[0,0]', 'h[1]']")
        chosen = list(params) if params is not None else (list(self.state.params) or default_params(m))
        for p in chosen:
            m.get_param(p)  # raises a ValueError naming a bad path
        self.params = chosen
        self.state.params = chosen
        self._initial = m
        self._syncing = threading.local()
        self._apply_later = Debouncer(self._apply, debounce)
        self.sliders: dict[str, W.FloatSlider] = {}
        self.boxes: dict[str, W.FloatText] = {}
        rows = []
        for p in chosen:
            v = m.get_param(p)
            lo, hi = (ranges or {}).get(p, (v - max(1.0, abs(v)), v + max(1.0, abs(v))))
            if not lo < hi:
                raise ValueError(f"ranges[{p!r}] must be (low, high) with low < high, got {(lo, hi)}")
            s = W.FloatSlider(value=v, min=lo, max=hi, step=(hi - lo) / 1000, readout_format=".4f",
                              continuous_update=True, description=p, layout=W.Layout(width="300px"),
                              style={"description_width": "60px"})
            b = W.FloatText(value=v, layout=W.Layout(width="95px"))
            s.observe(self._on_slider, names="value")
            b.observe(self._on_box, names="value")
            self.sliders[p], self.boxes[p] = s, b
            rows.append(W.HBox([s, b]))
        self.reset_button = W.Button(description="Reset", icon="undo", tooltip="back to the initial parameters",
                                     layout=W.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        self.state.observe(self._on_model, names="model")
        header = W.HTML("<b>Parameters</b>")
        children: list[W.Widget] = [header, *rows, self.reset_button]
        if show_message:
            children.append(MessageBar(self.state))
        super().__init__(children)
        self.add_class("plrnn-parameter-panel")

    # -- user input -> state ---------------------------------------------------
    def _quiet(self) -> bool:
        return getattr(self._syncing, "on", False)

    def _on_slider(self, change: Any) -> None:
        if self._quiet():
            return
        path = next(p for p, s in self.sliders.items() if s is change["owner"])
        self._set_silently(self.boxes[path], change["new"])
        self._apply_later()

    def _on_box(self, change: Any) -> None:
        if self._quiet():
            return
        path = next(p for p, b in self.boxes.items() if b is change["owner"])
        v = change["new"]
        if v is None or not math.isfinite(v):
            self.state.message = f"{path} must be a finite number, got {v}"
            self._set_silently(self.boxes[path], self.state.model.get_param(path))
            return
        self._fit_and_set(self.sliders[path], v)
        self._apply_later()

    def _apply(self) -> None:
        def change(m: Model) -> Model:
            for p in self.sliders:
                v = self.boxes[p].value
                if m.get_param(p) != v:
                    m = m.set_param(p, v)
            return m

        self.state.apply(change)

    def reset(self) -> None:
        """Go back to the model the panel started with."""
        self._apply_later.flush()
        self.state.apply(lambda _: self._initial)

    def flush(self) -> None:
        """Apply a pending (debounced) slider change now."""
        self._apply_later.flush()

    # -- state -> widgets ----------------------------------------------------------
    def _on_model(self, change: Any) -> None:
        m = change["new"]
        for p in self.params:
            try:
                v = m.get_param(p)
            except ValueError:  # a model of another shape: these entries no longer exist
                self.sliders[p].disabled = self.boxes[p].disabled = True
                continue
            self.sliders[p].disabled = self.boxes[p].disabled = False
            self._fit_and_set(self.sliders[p], v)
            self._set_silently(self.boxes[p], v)

    def _set_silently(self, w: W.ValueWidget, value: float) -> None:
        self._syncing.on = True
        try:
            w.value = value
        finally:
            self._syncing.on = False

    def _fit_and_set(self, s: W.FloatSlider, v: float) -> None:
        self._syncing.on = True
        try:
            s.min = min(s.min, v)
            s.max = max(s.max, v)
            s.value = v
        finally:
            self._syncing.on = False
