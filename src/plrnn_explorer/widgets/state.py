"""The shared state through which panels talk to each other.

Panels never touch each other: a parameter panel replaces ``state.model``, the
state recomputes ``state.cycles``, and every panel observing those traits
redraws. Errors (an invalid value, a failed search) go to ``state.message``
and leave the model and cycles as they were.

Where the search runs: inside a running kernel (an asyncio event loop runs in
the calling thread), the first search, made by the constructor, and every
change made through the panels (:meth:`ExplorerState.apply`: a slider, a
typed value, a map click, a checkpoint, Reset) search on a worker thread, so
the constructor returns at once and the kernel keeps handling widget events.
``state.busy`` says what runs and for how long (and when numba compiles on
first use): at once for the first search, after :data:`BUSY_DELAY` seconds for
later ones. A newer change supersedes the search (the newest model wins, a
stale result is dropped), and ``state.cycles`` changes only together with
``state.cycles_model``, the model they belong to. A model set from code
(``state.model = m``) and every change without a running event loop (scripts,
tests) is searched at once, so ``state.cycles`` is current when the
assignment returns.

Reading ``state.cycles`` before the first search has delivered waits for it
(for the newest model's search if a panel change superseded it), so
``ex = Explorer(m); ex.cycles.counts()`` in one notebook cell gives the
answer. The waiting thread takes the worker's result itself rather than
waiting for the event loop it blocks, so this cannot deadlock. Panels must
not wait: they read :attr:`ExplorerState.cycles_nowait` (None until the first
search delivers) and redraw when ``cycles`` changes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from traitlets import HasTraits, Instance, Int, List, TraitError, Unicode, observe, validate

from .._validation import as_int, as_orders
from ..cycles import CycleSet
from ..itineraries import cycle_from_itinerary
from ..models import Model
from ..scyfi import find_cycles

__all__ = ["BUSY_DELAY", "INTERACTIVE_BUDGET", "ExplorerState"]

#: a background search shows itself in ``state.busy`` once it has run this many seconds
BUSY_DELAY = 0.3


class _Superseded(Exception):
    """Raised inside a background search (between orders) when a newer model is waiting."""


class _AfterFirstSearch(Instance):
    """An :class:`~traitlets.Instance` trait whose read first waits for the owner's first cycle search.

    The owner's ``_await_first_search()`` does the waiting (it returns at once
    when no first search is outstanding).
    """

    def get(self, obj: Any, cls: Any = None) -> Any:
        wait = getattr(obj, "_await_first_search", None)
        if wait is not None:
            wait()
        return super().get(obj, cls)


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
        The cycles up to ``max_order`` of :attr:`cycles_model` (read-only;
        recomputed). Read before the first search has delivered (it runs on
        the worker thread inside a kernel), it waits for that search;
        :attr:`cycles_nowait` never waits.
    cycles_model
        The model whose cycles :attr:`cycles` are: :attr:`model`, or the
        previous model while a background search for the new one runs
        (None until the first search has delivered).
    preview
        While a background search runs: the previous cycles continued to the
        new model (each one solved and checked at the new parameters, so
        exact but possibly incomplete), for a first picture within
        milliseconds; None otherwise. :attr:`preview_model` is its model.
    busy
        What runs in the background, e.g. "searching cycles up to order 16:
        1.2 s" or "searching cycles up to order 16 (compiling on first use:
        up to a minute): 3.0 s" ("" when nothing does, and for the first
        :data:`BUSY_DELAY` s of a search after the first one).
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

    Notes
    -----
    Inside a running event loop (a Jupyter kernel, Voila) the constructor
    returns at once and the first search runs on the worker thread; without
    one (scripts, tests) it searches before returning. See the module
    docstring.

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
    cycles = _AfterFirstSearch(CycleSet, allow_none=True, read_only=True)
    cycles_model = Instance(Model, allow_none=True, read_only=True)
    preview = Instance(CycleSet, allow_none=True, read_only=True)
    preview_model = Instance(Model, allow_none=True, read_only=True)
    busy = Unicode("")
    max_order = Int(10)
    params = List(Unicode())
    epoch = Int(None, allow_none=True)
    message = Unicode("")

    def __init__(self, model: Model, max_order: int = 10, *, budget: tuple[int, int] | None = INTERACTIVE_BUDGET,
                 seed: int = 0, params: list[str] | None = None) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be a plrnn_explorer model, got {type(model).__name__}")
        self._lock = threading.RLock()
        self._generation = 0        # bumped by every search request; a result of an older one is dropped
        self._background = False    # the first search or a panel change: search off the main thread
        self._pending: tuple | None = None  # the newest background request not yet taken by the worker
        self._worker: threading.Thread | None = None
        self._worker_guard = threading.Lock()
        self._arrival = threading.Condition()  # guards _arrived; notified when the worker leaves a result
        self._arrived: tuple | None = None  # the worker's newest (request, cycles, error), not yet delivered
        self._home: tuple[int, asyncio.AbstractEventLoop] | None = None  # (thread id, loop) results go to
        self._first_pending = False  # the first search runs in the background and has not delivered
        self._running_since: float | None = None
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
        self._background = True  # inside a running event loop the first search runs on the worker too
        try:
            self.recompute()
        finally:
            self._background = False

    @validate("max_order")
    def _check_max_order(self, proposal: Any) -> int:
        try:
            as_orders(proposal["value"], None)  # the library's bounds (>= 1, limits.max_order)
        except (TypeError, ValueError) as exc:
            raise TraitError(str(exc)) from None
        return proposal["value"]

    @observe("model", "max_order")
    def _on_model(self, change: Any) -> None:
        if change["name"] == "model" and not getattr(self, "_keep_epoch", False):
            self.epoch = None  # a model not taken from a checkpoint has no epoch
        if self._ready:
            self.recompute()

    @property
    def cycles_nowait(self) -> CycleSet | None:
        """:attr:`cycles` without waiting: None while the first search has not delivered (or after a failed one).

        Panels read this, never :attr:`cycles`, so that building one while the
        first search runs does not block the kernel.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> ExplorerState(pe.PLRNN([0.5], [[0.0]], [1.0]), max_order=1).cycles_nowait.counts()
        {1: 1}
        """
        return self._trait_values.get("cycles")

    def recompute(self) -> None:
        """Search the cycles of the current model (warm-started from the previous ones).

        On the worker thread for the constructor's first search and for a
        change made through :meth:`apply`, when an event loop is running in
        this thread; else at once.
        """
        with self._lock:
            self._generation += 1
            request = (self._generation, self.model, self.max_order, self.cycles_nowait)
            loop = _event_loop() if self._background else None
            if loop is None:
                self._pending = None
                self._deliver(request, *self._search(request))
                return
            first = self.cycles_model is None  # nothing delivered yet: the panels have no cycles to show
            self._home = (threading.get_ident(), loop)
            with self._worker_guard:
                self._pending = (request, loop)
                if self._worker is None or not self._worker.is_alive():
                    self._worker = threading.Thread(target=self._work, daemon=True, name="plrnn-cycle-search")
                    self._worker.start()
            self._running_since = time.monotonic()
            if first:
                self._first_pending = True
                self._tick(request[0])  # say so at once: there is no previous picture to keep showing
            else:
                loop.call_later(BUSY_DELAY, self._tick, request[0])

    def _search(self, request: tuple, superseded: Callable[[], bool] | None = None) -> tuple[Any, Exception | None]:
        _, model, max_order, old = request
        warm = [c.itinerary for c in old] if old is not None else []
        n_out, n_in = self.budget if self.budget is not None else (None, None)

        def between_orders(done: int, total: int) -> None:
            if superseded is not None and superseded():
                raise _Superseded

        try:
            cycles = find_cycles(model, max_order, outer_loop_iterations=n_out, inner_loop_iterations=n_in,
                                 seed=self.seed, initial_itineraries=[w for w in warm if w.shape[1] == model.n_gates],
                                 progress=between_orders if superseded is not None else None)
        except _Superseded:
            return None, _Superseded()
        except Exception as exc:  # noqa: BLE001 - a panel must survive any failure and say why
            return None, exc
        return cycles, None

    def _work(self) -> None:
        """The worker thread: search the newest request until none is waiting.

        A result is left in ``_arrived`` and the event loop is asked to
        deliver it; a thread waiting in :meth:`_until` may take it first.
        """
        while True:
            with self._worker_guard:
                if self._pending is None:
                    self._worker = None
                    return
                (request, loop), self._pending = self._pending, None
            try:
                preview = _continued(request[1], request[2], request[3])
            except Exception:  # noqa: BLE001 - a preview is optional; the search below reports real failures
                preview = None
            if preview is not None:
                _call_soon(loop, self._show_preview, request, preview)
            cycles, error = self._search(request, superseded=lambda: self._pending is not None
                                         or request[0] != self._generation)
            if isinstance(error, _Superseded):
                continue
            with self._arrival:
                if self._arrived is None or self._arrived[0][0] < request[0]:
                    self._arrived = (request, cycles, error)
                self._arrival.notify_all()
            _call_soon(loop, self._take_arrival)

    def _take_arrival(self) -> None:
        """Deliver the worker's result, if one is waiting (on the event loop's thread)."""
        with self._arrival:
            arrived, self._arrived = self._arrived, None
        if arrived is not None:
            self._deliver(*arrived)

    def _deliver(self, request: tuple, cycles: CycleSet | None, error: Exception | None) -> None:
        generation, model, max_order, _ = request
        if generation != self._generation:
            return  # a newer model has been asked for since: never show this result
        self._first_pending = False
        self._running_since = None
        self.busy = ""
        self.set_trait("preview", None)
        self.set_trait("preview_model", None)
        if error is not None:
            self.message = f"cycle search failed: {type(error).__name__}: {error}"
            self.set_trait("cycles_model", model)
            self.set_trait("cycles", None)  # never show the previous model's cycles as this one's
            return
        self.message = _warnings(cycles, max_order)
        self.set_trait("cycles_model", model)  # first: observers of cycles read it
        self.set_trait("cycles", cycles)

    def _show_preview(self, request: tuple, preview: CycleSet) -> None:
        if request[0] == self._generation and self.searching:
            self.set_trait("preview_model", request[1])
            self.set_trait("preview", preview)

    def _tick(self, generation: int) -> None:
        if generation != self._generation or self._running_since is None:
            return
        from ._jobs import compile_note

        t = time.monotonic() - self._running_since
        self.busy = f"searching cycles up to order {self.max_order}{compile_note()}: {t:.1f} s"
        loop = _event_loop()
        if loop is not None:
            loop.call_later(0.25, self._tick, generation)

    @property
    def searching(self) -> bool:
        """True while a background search for the current model has not delivered."""
        return self.cycles_model is not self.model

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :attr:`cycles` belong to the current model (notebook cells, scripts, tests).

        Returns True if they do within ``timeout`` seconds. On the kernel's
        main thread this takes the worker's result itself (the event loop it
        blocks cannot deliver it); never call it in a widget callback, which
        would freeze the panels meanwhile: await :meth:`until_current` there.
        """
        return self._until(lambda: not self.searching, timeout)

    def _await_first_search(self) -> None:
        """Wait until the constructor's background search (or the one that superseded it) has delivered."""
        if self.__dict__.get("_first_pending"):
            self._until(lambda: not self._first_pending)

    def _until(self, done: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``done()``, delivering the worker's results here when this is the loop's thread."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            home = self._home
            deliver = home is not None and (home[0] == threading.get_ident() or home[1].is_closed())
            if deliver:
                self._take_arrival()  # the loop cannot deliver it: it is blocked by this wait, or gone
            if done():
                return True
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            step = 0.1 if deliver else 0.005  # delivering here: woken by the worker; else poll for the loop
            with self._arrival:
                if not (deliver and self._arrived is not None):
                    self._arrival.wait(step if left is None else min(left, step))

    async def until_current(self, timeout: float | None = None) -> bool:
        """Await the current model's cycles (inside an event loop); True if they arrived within ``timeout`` s."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.searching:
            if end is not None and time.monotonic() > end:
                return False
            await asyncio.sleep(0.005)
        return True

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
            self._background = True
            try:
                self.epoch = epoch
                self.model = new
            finally:
                self._keep_epoch = False
                self._background = False
            return True


#: continue at most this many previous cycles for a preview (each costs a linear solve and a check)
PREVIEW_MAX = 64


def _continued(model: Model, max_order: int, old: CycleSet | None) -> CycleSet | None:
    """The cycles of ``old`` that still exist at ``model`` (same itinerary), solved there; None if none to try."""
    if old is None or not 0 < len(old) <= PREVIEW_MAX:
        return None
    orders = list(range(1, max_order + 1))
    by_order: dict[int, list[Any]] = {k: [] for k in orders}
    for c in old:
        if c.order > max_order or c.itinerary.shape[1] != model.n_gates:
            continue
        try:
            by_order[c.order].append(cycle_from_itinerary(model, c.itinerary))
        except ValueError:  # gone at the new parameters (or singular)
            continue
    return CycleSet(orders, by_order, stats={"preview": True})


def _event_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not inside a kernel's event loop
        return None


def _call_soon(loop: asyncio.AbstractEventLoop, fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(*args)`` on ``loop``'s thread (from another thread); nothing if the loop has closed."""
    try:
        loop.call_soon_threadsafe(fn, *args)
    except RuntimeError:  # closed meanwhile: a later wait() or read of cycles delivers the result
        pass


def _warnings(cycles: CycleSet, max_order: int) -> str:
    if cycles.degenerate:
        n = len(cycles.degenerate)
        return (f"singular configuration: {n} region word(s) with a multiplier exactly 1 "
                "(a continuum of cycles or none); see cycles.degenerate")
    if not len(cycles):
        return f"no fixed points or cycles up to order {max_order}: orbits diverge or are chaotic/long-period"
    return ""
