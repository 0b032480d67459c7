"""The shared state through which panels talk to each other.

Panels never touch each other: a parameter panel replaces ``state.model``, the
state recomputes ``state.cycles``, and every panel observing those traits
redraws. Errors (an invalid value, a failed search) go to ``state.message``
and leave the model and cycles as they were.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from traitlets import HasTraits, Instance, Int, List, TraitError, Unicode, observe, validate

from .._validation import as_int
from ..cycles import CycleSet
from ..models import Model
from ..scyfi import find_cycles

__all__ = ["INTERACTIVE_BUDGET", "ExplorerState"]

#: (N_out, N_in) loop budgets per order for interactive searches: with warm starts
#: from the previous parameter value's itineraries these keep a 2-D model's search
#: up to order 10 at 10-25 ms (the paper's budgets take ~0.1 s); see benchmarks/bench_widgets.py.
INTERACTIVE_BUDGET = (10, 100)


class ExplorerState(HasTraits):
    """Current model, its cycles, and the user's selections, shared by all panels.

    Traits
    ------
    model
        The current model; setting it recomputes :attr:`cycles`.
    cycles
        The model's cycles up to ``max_order`` (read-only; recomputed).
    max_order
        Highest cycle order searched.
    params
        Parameter paths selected for exploration, e.g. ``["A[0,0]", "A[1,1]"]``.
    epoch
        Selected training epoch (None when no training run is shown).
    message
        Latest error or warning for the user ("" when all is well).

    Parameters
    ----------
    model
        Initial model.
    max_order
        Highest cycle order searched.
    budget
        ``(N_out, N_in)`` for every order, or None for the paper's budgets
        (:func:`~plrnn_explorer.default_budgets`).
    seed
        Seed of every cycle search (results depend only on the model).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> st = ExplorerState(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]), max_order=3)
    >>> st.cycles.counts()
    {1: 1, 2: 0, 3: 0}
    >>> st.apply(lambda m: m.set_param("h[0]", float("nan")))
    False
    >>> st.message
    'h must contain only finite numbers (found NaN or Inf)'
    """

    model = Instance(Model)
    cycles = Instance(CycleSet, allow_none=True, read_only=True)
    max_order = Int(10)
    params = List(Unicode())
    epoch = Int(None, allow_none=True)
    message = Unicode("")

    def __init__(self, model: Model, max_order: int = 10, *, budget: tuple[int, int] | None = INTERACTIVE_BUDGET,
                 seed: int = 0, params: list[str] | None = None) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a plrnn_explorer model, got {type(model).__name__}")
        self._lock = threading.RLock()
        self._ready = False  # no searches while the constructor sets the traits
        if budget is None:
            self.budget = None
        else:
            if not isinstance(budget, (tuple, list)) or len(budget) != 2:
                raise TypeError(f"budget must be a pair (N_out, N_in) of integers or None, got {budget!r}")
            self.budget = (as_int("budget[0]", budget[0], minimum=1), as_int("budget[1]", budget[1], minimum=1))
        self.seed = as_int("seed", seed, minimum=0)
        super().__init__(model=model, max_order=as_int("max_order", max_order, minimum=1),
                         params=list(params or []))
        self._ready = True
        self.recompute()

    @validate("max_order")
    def _check_max_order(self, proposal: Any) -> int:
        if proposal["value"] < 1:
            raise TraitError(f"max_order must be >= 1, got {proposal['value']}")
        return proposal["value"]

    @observe("model", "max_order")
    def _on_model(self, change: Any) -> None:
        if change["name"] == "model" and not getattr(self, "_keep_epoch", False):
            self.epoch = None  # a model not taken from a checkpoint has no epoch
        if self._ready:
            self.recompute()

    def recompute(self) -> None:
        """Search the cycles of the current model (warm-started from the previous ones)."""
        with self._lock:
            model = self.model
            old = self.cycles
            warm = [c.itinerary for c in old] if old is not None else []
            n_out, n_in = self.budget if self.budget is not None else (None, None)
            try:
                cycles = find_cycles(model, self.max_order, outer_loop_iterations=n_out,
                                     inner_loop_iterations=n_in, seed=self.seed,
                                     initial_itineraries=[w for w in warm if w.shape[1] == model.n_gates])
            except Exception as exc:  # noqa: BLE001 - a panel must survive any failure and say why
                self.message = f"cycle search failed: {type(exc).__name__}: {exc}"
                self.set_trait("cycles", None)  # never show the previous model's cycles as this one's
                return
            self.message = _warnings(cycles, self.max_order)
            self.set_trait("cycles", cycles)

    def apply(self, change: Callable[[Model], Model], *, epoch: int | None = None) -> bool:
        """Replace the model by ``change(model)``; on any error set :attr:`message` and keep the model.

        ``epoch``: the training epoch of the new model (a checkpoint), else None.
        Returns True if the model was replaced.
        """
        with self._lock:
            try:
                new = change(self.model)
                if not isinstance(new, Model):
                    raise TypeError(f"expected a model, got {type(new).__name__}")
            except Exception as exc:  # noqa: BLE001 - invalid user input must never kill the panel
                self.message = str(exc)
                return False
            self._keep_epoch = True
            try:
                self.epoch = epoch
                self.model = new
            finally:
                self._keep_epoch = False
            return True


def _warnings(cycles: CycleSet, max_order: int) -> str:
    if cycles.degenerate:
        n = len(cycles.degenerate)
        return (f"singular configuration: {n} region word(s) with a multiplier exactly 1 "
                "(a continuum of cycles or none); see cycles.degenerate")
    if not len(cycles):
        return f"no fixed points or cycles up to order {max_order}: orbits diverge or are chaotic/long-period"
    return ""
