"""Debouncing for slider drags (private).

A drag fires many value changes; recomputing on each would queue up work
and lag behind the mouse. :class:`Debouncer` runs its function at once for
the first change after a quiet spell (``leading``: a single arrow-key step
costs no delay), and otherwise once the changes have paused for ``delay``
seconds, one call at a time. Inside a
Jupyter kernel the call is scheduled on the kernel's asyncio event loop, so
it runs on the kernel's main thread between messages, like every other
widget callback (widget state is not thread-safe). Without a running loop
(plain scripts) a timer thread is used. With ``delay=0`` calls run
immediately in the caller's thread, which keeps headless tests deterministic.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any


class Debouncer:
    """Call ``fn()`` for the first trigger after a quiet spell, then once ``delay`` s after the last of a burst.

    Examples
    --------
    >>> calls = []
    >>> d = Debouncer(lambda: calls.append(1), delay=10.0)
    >>> for _ in range(5):
    ...     d()
    >>> calls, d.pending                 # the first at once, the rest coalesced
    ([1], True)
    >>> d.flush(); calls, d.pending
    ([1, 1], False)
    """

    def __init__(self, fn: Callable[[], None], delay: float = 0.08, *, leading: bool = True) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        if not delay >= 0:
            raise ValueError(f"delay must be a number of seconds >= 0, got {delay!r}")
        self._fn = fn
        self.delay = float(delay)
        self.leading = bool(leading)
        self._last = -float("inf")  # monotonic time of the last trigger
        self._timer: Any = None  # a threading.Timer or an asyncio.TimerHandle: both have cancel()
        self._guard = threading.Lock()  # protects _timer
        self._run_lock = threading.Lock()  # one call of fn at a time

    @property
    def pending(self) -> bool:
        """True while a call is scheduled and has not started."""
        with self._guard:
            return self._timer is not None

    def __call__(self) -> None:
        if self.delay == 0:
            self._run()
            return
        now = time.monotonic()
        with self._guard:
            quiet = self._timer is None and now - self._last >= self.delay
            self._last = now
        if self.leading and quiet:
            self._run()
            return
        with self._guard:
            if self._timer is not None:
                self._timer.cancel()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop in this thread: use a timer thread
                self._timer = threading.Timer(self.delay, self._fire)
                self._timer.daemon = True
                self._timer.start()
            else:
                self._timer = loop.call_later(self.delay, self._fire)

    def _fire(self) -> None:
        with self._guard:
            self._timer = None
        self._run()

    def _run(self) -> None:
        with self._run_lock:
            self._fn()

    def flush(self) -> None:
        """Run a scheduled call now (and cancel its timer); nothing if none is pending."""
        with self._guard:
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
            self._run()
