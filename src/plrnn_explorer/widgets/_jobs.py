"""Cancellable background work with a progress bar (private).

Long computations (bifurcation maps, training analyses) run on a worker
thread so the kernel keeps handling widget events, above all the Cancel
button. The work function receives ``progress(done, total)`` and
``cancelled()`` callables and checks the latter between chunks. Widget and
figure updates (progress, the finished result) are handed back to the
kernel's event loop, so they run on the main thread like every other widget
callback; without a running loop (plain scripts, tests) they run on the
worker thread.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as W

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]
Done = Callable[[Any, bool], None]


class JobControls(W.HBox):
    """Run and Cancel buttons, a progress bar and a status line for one job at a time.

    Examples
    --------
    >>> got = []
    >>> def work(progress, cancelled):
    ...     for i in range(3):
    ...         progress(i + 1, 3)
    ...     return "result"
    >>> jc = JobControls("Compute", work, lambda res, cancelled: got.append((res, cancelled)))
    >>> jc.start(); jc.wait(10)
    True
    >>> got, jc.progress.value, jc.status.value
    ([('result', False)], 3, 'done')
    """

    def __init__(self, run_label: str, work: Work, on_done: Done) -> None:
        self._work, self._on_done = work, on_done
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancel = threading.Event()
        self.run_button = W.Button(description=run_label, button_style="primary", layout=W.Layout(width="110px"))
        self.cancel_button = W.Button(description="Cancel", disabled=True, layout=W.Layout(width="80px"))
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="160px"))
        self.status = W.HTML("").add_class("plrnn-job-status")
        self.run_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        super().__init__([self.run_button, self.cancel_button, self.progress, self.status])

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the work on a worker thread (ignored while a job runs)."""
        if self.running:
            return
        self._cancel.clear()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # not inside a kernel's event loop
            self._loop = None
        self.progress.value, self.progress.max = 0, 1
        self.progress.bar_style = "info"
        self.status.value = "running..."
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the running job to stop after its current chunk."""
        self._cancel.set()
        self.status.value = "cancelling..."

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; True if it did within ``timeout`` seconds."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _in_ui(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the event loop that started the job (or here, if none)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)
        else:
            fn(*args)

    def _progress(self, done: int, total: int) -> None:
        self._in_ui(self._show_progress, int(done), int(total))

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)

    def _run(self) -> None:
        try:
            result = self._work(self._progress, self._cancel.is_set)
        except Exception as exc:  # noqa: BLE001 - report in the panel; the kernel and panel live on
            self._in_ui(self._finish, None, False, exc)
        else:
            self._in_ui(self._finish, result, self._cancel.is_set(), None)

    def _finish(self, result: Any, cancelled: bool, error: Exception | None) -> None:
        try:
            if error is not None:
                raise error
            self._on_done(result, cancelled)
            self.status.value = "cancelled: showing the part computed" if cancelled else "done"
            self.progress.bar_style = "warning" if cancelled else "success"
        except Exception as exc:  # noqa: BLE001 - report in the panel; the kernel and panel live on
            self.status.value = f'<span style="color:#a94442">failed: {html.escape(f"{type(exc).__name__}: {exc}")}</span>'
            self.progress.bar_style = "danger"
        finally:
            self.run_button.disabled, self.cancel_button.disabled = False, True
