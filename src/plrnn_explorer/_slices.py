"""Run long work in short slices, so that Ctrl-C and Cancel act quickly and keep what is done.

A long computation over ``total`` independent items (grid points, grid rows,
grid edges) is cut into slices. Between two slices :func:`run_in_slices`
calls ``progress(done, total)`` and ``cancel()``; a ``KeyboardInterrupt``
raised inside a slice (Ctrl-C, or a callback raising it) or ``cancel()``
returning True stops the loop. The slices finished so far are kept and the
outcome says the run is partial. A slice interrupted half way is discarded
as a whole, so each item is either fully done or not done.

Slice sizes adapt to a time target (``target_seconds``, default 0.3 s) so
that no single compiled call holds the interpreter for long: after every
slice the next size is scaled by target / measured time (at most x4 per
step, at least one item).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._validation import as_int

__all__ = ["SliceOutcome", "run_in_slices", "run_resumable", "check_cancel", "is_interrupt", "TARGET_SECONDS"]

#: time aimed at per slice, seconds (an interrupt is seen within about twice this)
TARGET_SECONDS = 0.3

#: work units per call of run_in_slices in :func:`run_resumable` (keeps its bookkeeping arrays small)
RUN_UNITS = 1 << 20


@dataclass
class SliceOutcome:
    """What :func:`run_in_slices` finished.

    Attributes
    ----------
    done
        (total,) bool, True for every item whose slice completed.
    interrupted
        True if the run stopped early (Cancel or KeyboardInterrupt).
    reason
        ``"cancelled"``, ``"KeyboardInterrupt"`` or ``""``.
    """

    done: np.ndarray
    interrupted: bool = False
    reason: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.done.all())


def is_interrupt(exc: BaseException) -> bool:
    """True if ``exc`` is a Ctrl-C.

    That is a ``KeyboardInterrupt``, or the ``SystemError`` ("returned a
    result with an exception set") that numba's dispatcher raises when the
    signal lands just as a compiled function returns, with the
    ``KeyboardInterrupt`` as its cause (possibly wrapped twice).

    Examples
    --------
    >>> is_interrupt(KeyboardInterrupt()), is_interrupt(SystemError("other"))
    (True, False)
    """
    seen = 0
    while isinstance(exc, SystemError) and seen < 8:    # numba may wrap it twice (dispatcher, unpickling)
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return isinstance(exc, KeyboardInterrupt)


def check_cancel(cancel: Any, name: str = "cancel") -> Callable[[], bool] | None:
    """``cancel`` must be None or a callable taking no argument.

    Examples
    --------
    >>> check_cancel(True)
    Traceback (most recent call last):
    ...
    TypeError: cancel must be None or a callable cancel() -> bool (e.g. lambda: stop_flag.is_set()), got bool
    """
    if cancel is not None and not callable(cancel):
        raise TypeError(f"{name} must be None or a callable {name}() -> bool "
                        f"(e.g. lambda: stop_flag.is_set()), got {type(cancel).__name__}")
    return cancel


def run_in_slices(total: int, work: Callable[[np.ndarray], Any], *, cancel: Callable[[], bool] | None = None,
                  progress: Callable[[int, int], Any] | None = None, size: int | None = None,
                  target_seconds: float = TARGET_SECONDS) -> SliceOutcome:
    """Call ``work(idx)`` on consecutive index slices of ``range(total)`` until done or stopped.

    Parameters
    ----------
    total
        Number of items.
    work
        ``work(idx)`` does items ``idx`` (an int array) and stores their results.
    cancel
        Checked before every slice; True stops the run.
    progress
        Called as ``progress(n_done, total)`` after every slice.
    size
        Fixed slice size; None adapts it to ``target_seconds``.

    Examples
    --------
    >>> out = []
    >>> res = run_in_slices(10, lambda idx: out.extend(idx.tolist()), size=3,
    ...                     cancel=lambda: len(out) >= 6)
    >>> out, int(res.done.sum()), res.interrupted, res.reason
    ([0, 1, 2, 3, 4, 5], 6, True, 'cancelled')
    >>> def stop(done, total):
    ...     raise KeyboardInterrupt
    >>> run_in_slices(5, lambda idx: None, progress=stop, size=2).done.tolist()
    [True, True, False, False, False]
    """
    total = as_int("total", total, minimum=0)
    fixed = size is not None
    step = as_int("chunk_size", size, minimum=1) if fixed else 1
    outcome = SliceOutcome(np.zeros(total, bool))
    start = 0
    try:
        while start < total:
            if cancel is not None and cancel():
                outcome.interrupted, outcome.reason = True, "cancelled"
                break
            idx = np.arange(start, min(total, start + step))
            t0 = time.perf_counter()
            work(idx)
            dt = time.perf_counter() - t0
            outcome.done[idx] = True
            start = idx[-1] + 1
            if not fixed:
                step = max(1, min(4 * step, int(step * target_seconds / max(dt, 1e-6))))
            if progress is not None:
                progress(int(start), total)
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        outcome.interrupted, outcome.reason = True, "KeyboardInterrupt"
    return outcome


def run_resumable(advance: Callable[[int], Any], finished: Callable[[], bool], *,
                  cancel: Callable[[], bool] | None = None) -> str:
    """Drive a resumable computation of unknown length in slices until ``finished()``.

    ``advance(n)`` does at most ``n`` units of work (for example solves),
    keeping its state between calls; slice sizes adapt as in
    :func:`run_in_slices`, so ``cancel()`` and Ctrl-C are seen about every
    0.3 s. Returns ``""`` when finished, else ``"cancelled"`` or
    ``"interrupted"`` (the state then holds what was done).

    Examples
    --------
    >>> left = [10]
    >>> run_resumable(lambda n: left.__setitem__(0, max(0, left[0] - n)), lambda: left[0] == 0), left
    ('', [0])
    >>> left = [10]
    >>> run_resumable(lambda n: left.__setitem__(0, left[0] - 1), lambda: left[0] == 0, cancel=lambda: left[0] < 8)
    'cancelled'
    """
    def stop() -> bool:
        return finished() or (cancel is not None and bool(cancel()))

    while not finished():
        outcome = run_in_slices(RUN_UNITS, lambda idx: advance(len(idx)), cancel=stop)
        if finished():
            break
        if outcome.interrupted:
            return "cancelled" if outcome.reason == "cancelled" else "interrupted"
    return ""
