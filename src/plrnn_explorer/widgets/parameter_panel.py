"""Sliders and number boxes for chosen parameter entries of the model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W

from ..models import Model
from ._debounce import Debouncer
from ._param_row import ParameterRow
from ._ui import MessageBar
from .state import ExplorerState

__all__ = ["ParameterPanel", "default_params"]


def default_params(model: Model, limit: int = 12) -> list[str]:
    """All parameter paths if there are at most ``limit``; else diagonals and biases first, then the rest.

    Every array of the model contributes: the diagonal of square matrices
    and the vectors (biases) come first, then the other entries, in the
    model's order, up to ``limit`` paths. Any other entry can be added with the
    panel's picker.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> default_params(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]))
    ['A[0,0]', 'A[1,1]', 'W[0,0]', 'W[0,1]', 'W[1,0]', 'W[1,1]', 'h[0]', 'h[1]']
    >>> sh = pe.ShallowPLRNN(np.full(2, .5), np.zeros((2, 10)), np.zeros((10, 2)), np.zeros(2), np.zeros(10))
    >>> default_params(sh, limit=6)
    ['A[0,0]', 'A[1,1]', 'h1[0]', 'h1[1]', 'h2[0]', 'h2[1]']
    """
    paths = model.param_paths()
    if len(paths) <= limit:
        return paths

    def index(p: str) -> tuple[str, tuple[int, ...]]:
        return p[:p.index("[")], tuple(int(i) for i in p[p.index("[") + 1:-1].split(","))

    shapes: dict[str, tuple[int, ...]] = {}
    for p in paths:
        name, ix = index(p)
        shapes[name] = tuple(max(a, b + 1) for a, b in zip(shapes.get(name, (0,) * len(ix)), ix))

    def first_class(p: str) -> bool:  # a vector entry, or a diagonal entry of a square matrix
        name, ix = index(p)
        return len(ix) == 1 or (len(set(shapes[name])) == 1 and len(set(ix)) == 1)

    first = [p for p in paths if first_class(p)]
    if len(first) > limit:  # many of them: a share of each array
        names = list(dict.fromkeys(p[:p.index("[")] for p in first))
        per = max(1, limit // len(names))
        first = [p for n in names for p in [q for q in first if q.startswith(n + "[")][:per]]
    rest = [p for p in paths if p not in first]
    return (first + rest)[:limit]


def _state(model_or_state: Model | ExplorerState, max_order: int) -> ExplorerState:
    if isinstance(model_or_state, ExplorerState):
        return model_or_state
    if isinstance(model_or_state, Model):
        return ExplorerState(model_or_state, max_order)
    raise TypeError(f"expected a plrnn_explorer model or an ExplorerState, got {type(model_or_state).__name__}")


class ParameterPanel(W.VBox):
    """Sliders plus exact number boxes for parameter entries; the model updates live.

    The model is the single source of truth: a typed value, a value set from
    code (``state.model = ...``), a checkpoint or Reset reaches the model bit
    for bit, and the rows only show it. Only a real slider move changes the
    model to that slider's grid value. A value outside a slider's range widens
    the range; Reset restores the initial model and ranges exactly. A rejected
    value (not a number, not finite, too large, or refused by the model) is
    explained next to its box and changes nothing.

    Parameters
    ----------
    model
        A model (the panel then owns a new :class:`ExplorerState`) or a shared state.
    params
        Parameter paths such as ``"A[0,0]"`` or ``"W[1,0]"``; default
        ``state.params`` or :func:`default_params`. More can be added with the
        picker below the sliders (any entry of any array of the model).
    ranges
        ``{path: (low, high)}`` slider ranges; default ``value +- max(1, |value|)``.
    steps
        ``{path: step}`` slider steps; default range / 1000.
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
    >>> panel.boxes["h[0]"].value = "0.1"            # typed: exact
    >>> panel.state.model.get_param("h[0]")
    0.1
    >>> panel.sliders["h[0]"].value = 600            # a slider move: the grid value
    >>> panel.state.model.get_param("h[0]")
    0.2
    """

    def __init__(self, model: Model | ExplorerState, params: Sequence[str] | None = None, *,
                 ranges: Mapping[str, tuple[float, float]] | None = None,
                 steps: Mapping[str, float] | None = None, max_order: int = 10,
                 debounce: float = 0.08, show_message: bool = True) -> None:
        self.state = _state(model, max_order)
        m = self.state.model
        if isinstance(params, str):
            raise TypeError("params must be a sequence of parameter paths, e.g. ['A[0,0]', 'h[1]']")
        asked = list(params) if params is not None else (list(self.state.params) or default_params(m))
        chosen = [m.canonical_path(p) for p in asked]  # raises a ValueError naming a bad path
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"params must not repeat a parameter entry, got {asked!r}")
        self._ranges = {m.canonical_path(p): r for p, r in (ranges or {}).items()}
        self._steps = {m.canonical_path(p): v for p, v in (steps or {}).items()}
        for p in self._ranges:
            if p not in chosen:
                raise ValueError(f"ranges names {p!r}, which is not among the parameters {chosen!r}")
        self._initial = m
        self._pending: dict[str, float] = {}
        self._apply_later = Debouncer(self._apply, debounce)
        self.rows: dict[str, ParameterRow] = {}
        self.rows_box = W.VBox()
        for p in chosen:
            self._add_row(p)
        self._initial_params = list(chosen)
        self.picker = W.Combobox(placeholder="add a parameter, e.g. W[0,1]", ensure_option=False,
                                 layout=W.Layout(width="220px"))
        self.add_button = W.Button(description="add", icon="plus", layout=W.Layout(width="70px"))
        self.add_button.on_click(lambda _: self._add_from_picker())
        self.picker.observe(lambda ch: self._add_from_picker() if ch["new"] in self.picker.options else None,
                            names="value")
        self._update_picker()
        self.reset_button = W.Button(description="Reset", icon="undo",
                                     tooltip="back to the initial model, parameters and slider ranges",
                                     layout=W.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        self.state.observe(self._on_model, names="model")
        header = W.HTML("<b>Parameters</b> <small>(type an exact value into a box and press Enter)</small>")
        children: list[W.Widget] = [header, self.rows_box, W.HBox([self.picker, self.add_button]),
                                    self.reset_button]
        if show_message:
            children.append(MessageBar(self.state))
        super().__init__(children)
        self.add_class("plrnn-parameter-panel")

    # -- rows ---------------------------------------------------------------------
    @property
    def params(self) -> list[str]:
        """The parameter paths with a slider, in order."""
        return list(self.rows)

    @property
    def sliders(self) -> dict[str, W.IntSlider]:
        """``{path: slider}``; a slider's value is an index into its row's grid."""
        return {p: r.slider for p, r in self.rows.items()}

    @property
    def boxes(self) -> dict[str, W.Text]:
        """``{path: number box}``; the text of the model's exact value."""
        return {p: r.box for p, r in self.rows.items()}

    def add_param(self, path: str) -> None:
        """Add a slider for ``path`` (ValueError naming the path if the model has no such entry).

        Aliases of one entry (``"A[0]"``, ``"A[0,0]"``, ``"A[-2,0]"``) share one slider.
        """
        if not isinstance(path, str):
            raise TypeError(f"path must be a parameter path such as 'W[0,1]', got {type(path).__name__}")
        path = self.state.model.canonical_path(path)
        if path not in self.rows:
            self._add_row(path)
            self._update_picker()

    def remove_param(self, path: str) -> None:
        """Remove the slider of ``path``."""
        row = self.rows.pop(path, None)
        if row is not None:
            self.rows_box.children = [r for r in self.rows_box.children if r is not row]
            self._pending.pop(path, None)
            self.state.params = self.params
            self._update_picker()
            row.close()

    def _add_row(self, path: str) -> None:
        v = self.state.model.get_param(path)
        rng = self._ranges.get(path, (v - max(1.0, abs(v)), v + max(1.0, abs(v))))
        if not (len(rng) == 2 and rng[0] < rng[1]):
            raise ValueError(f"ranges[{path!r}] must be (low, high) with low < high, got {tuple(rng)}")
        row = ParameterRow(path, v, (float(rng[0]), float(rng[1])), self._propose, step=self._steps.get(path),
                           on_remove=self.remove_param)
        self.rows[path] = row
        self.rows_box.children = [*self.rows_box.children, row]
        self.state.params = self.params

    def _add_from_picker(self) -> None:
        path = self.picker.value.strip()
        if not path:
            return
        try:
            self.add_param(path)
        except (ValueError, TypeError) as exc:
            self.state.message = str(exc)
            return
        self.picker.value = ""

    def _update_picker(self) -> None:
        self.picker.options = tuple(p for p in self.state.model.param_paths() if p not in self.rows)

    # -- user input -> state ---------------------------------------------------
    def _propose(self, path: str, value: float, from_slider: bool) -> None:
        self._pending[path] = value
        if from_slider:
            self._apply_later()
        else:
            self._apply_later.flush()
            self._apply()

    def _apply(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return

        def change(m: Model) -> Model:
            for p, v in pending.items():
                if m.get_param(p) != v:
                    m = m.set_param(p, v)
            return m

        ok = self.state.apply(change)
        for p in pending:
            if p in self.rows:
                self.rows[p].say("" if ok else self.state.message)
                if not ok:
                    self.rows[p].show(self.rows[p].value)  # back to the model's value

    def reset(self) -> None:
        """Go back exactly to the initial model and slider ranges."""
        self._pending.clear()
        self._apply_later.flush()
        for row in self.rows.values():
            row.restore_range()
            row.say("")
        self.state.apply(lambda _: self._initial)
        self._show(self.state.model)

    def flush(self) -> None:
        """Apply a pending (debounced) slider change now."""
        self._apply_later.flush()

    # -- state -> widgets ----------------------------------------------------------
    def _on_model(self, change: Any) -> None:
        self._show(change["new"])
        if change["old"] is None or change["old"].param_paths() != change["new"].param_paths():
            self._update_picker()

    def _show(self, m: Model) -> None:
        for p, row in self.rows.items():
            try:
                v = m.get_param(p)
            except ValueError:  # a model of another shape: this entry no longer exists
                row.set_disabled(True)
                row.say(f"the current model has no entry {p}")
                continue
            row.set_disabled(False)
            row.show(v)
