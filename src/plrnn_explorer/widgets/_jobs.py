"""Cancellable background work with a status line (private).

Long computations (bifurcation maps and diagrams, training analyses, basins)
run on a worker thread so the kernel keeps handling widget events, above all
Cancel and slider moves. The work function receives ``progress(done, total)``
and ``cancelled()`` callables; the library calls them between chunks.

Three rules make this safe and honest:

- **Two jobs at once are safe.** numba's ``workqueue`` threading layer (its
  fallback when neither TBB nor OpenMP is installed) aborts the process when
  two threads launch parallel kernels at once. The library already runs its
  parallel kernels one at a time per process, granted in arrival order
  (:func:`plrnn_explorer._threads.parallel_section`), so two jobs interleave
  kernel by kernel on every threading layer; the panels add no lock of their own.
- **Cancel acts within a second.** Cancel asks the job to stop at its next
  slice (the library checks ``cancelled()`` every ~0.3 s of work); if it has
  not stopped one second later the panel lets it go: the buttons come back at
  once and the job's late result is dropped.
- **Say what runs.** The status line names the job, its progress and the
  seconds elapsed, and says when numba is compiling (or loading) its kernels
  on first use (:func:`compiling`).

Widget and figure updates are handed back to the kernel's event loop, so they
run on the main thread like every other widget callback; without a running
loop (plain scripts, tests) they run on the worker thread.
"""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

__all__ = ["Job", "JobControls", "compile_note", "compiling"]

Work = Callable[[Callable[[int, int], None], Callable[[], bool]], Any]
Done = Callable[[Any, bool], None]

#: a job that has not stopped this many seconds after Cancel is let go
CANCEL_GRACE = 1.0
#: seconds between refreshes of the status line
TICK = 0.5


class _CompileWatch:
    """Counts threads inside numba's compiler (first use of a kernel: compile or load from the cache)."""

    def __init__(self) -> None:
        self.active = 0
        self._guard = threading.Lock()
        self._installed = False

    def install(self) -> None:
        if self._installed:
            return
        from numba.core import event

        watch = self

        class _Listener(event.Listener):
            def on_start(self, ev: Any) -> None:
                with watch._guard:
                    watch.active += 1

            def on_end(self, ev: Any) -> None:
                with watch._guard:
                    watch.active = max(0, watch.active - 1)

        event.register("numba:compiler_lock", _Listener())
        self._installed = True


_COMPILE_WATCH = _CompileWatch()


def compiling() -> bool:
    """True while numba compiles or loads a kernel on its first use in this process.

    Examples
    --------
    >>> compiling()
    False
    """
    _COMPILE_WATCH.install()
    return _COMPILE_WATCH.active > 0


def compile_note() -> str:
    """" (compiling on first use: up to a minute)" while numba compiles, else ""."""
    return " (compiling on first use: up to a minute)" if compiling() else ""


def _event_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not inside a kernel's event loop
        return None


class Job:
    """One run of ``work(progress, cancelled)`` on a worker thread.

    ``on_progress(done, total)`` and ``on_finish(result, cancelled, error)``
    run on the event loop that started the job (or on the worker without
    one). A job that is let go (:meth:`abandon`) calls neither again.

    Examples
    --------
    >>> got = []
    >>> job = Job(lambda progress, cancelled: 6 * 7, on_finish=lambda r, c, e: got.append((r, c, e)))
    >>> job.start(); _ = job.join(10); got
    [(42, False, None)]
    """

    def __init__(self, work: Work, *, on_progress: Callable[[int, int], None] | None = None,
                 on_finish: Callable[[Any, bool, Exception | None], None] | None = None) -> None:
        self._work = work
        self._on_progress = on_progress
        self._on_finish = on_finish
        self._cancel = threading.Event()
        self._abandoned = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.started_at = 0.0
        self.done_total: tuple[int, int] | None = None

    @property
    def alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def start(self) -> None:
        _COMPILE_WATCH.install()
        self._loop = _event_loop()
        self.started_at = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        """Ask the work to stop at its next chunk."""
        self._cancel.set()

    def abandon(self) -> None:
        """Stop reporting: the work still ends at its next chunk, its result is dropped."""
        self._cancel.set()
        self._abandoned = True

    def join(self, timeout: float | None = None) -> bool:
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.alive

    def _in_ui(self, fn: Callable[..., None] | None, *args: Any) -> None:
        if fn is None or self._abandoned:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: None if self._abandoned else fn(*args))
        else:
            fn(*args)

    def _progress(self, done: int, total: int) -> None:
        self.done_total = (int(done), int(total))
        self._in_ui(self._on_progress, int(done), int(total))

    def _cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        result, error = None, None
        try:
            if not self._cancel.is_set():
                result = self._work(self._progress, self._cancelled)
        except Exception as exc:  # noqa: BLE001 - reported in the panel; the kernel and panel live on
            error = exc
        self._in_ui(self._on_finish, result, self._cancel.is_set(), error)


class JobControls(W.HBox):
    """Run and Cancel buttons, a progress bar and a status line for one job at a time.

    ``work(progress, cancelled)`` runs on a worker thread; ``on_done(result,
    cancelled)`` runs on the kernel's event loop when it returns (with the
    part computed before a Cancel), unless the job was let go.

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
    >>> got, jc.progress.value, jc.status.value.startswith("done")
    ([('result', False)], 3, True)
    """

    def __init__(self, run_label: str, work: Work, on_done: Done, *, what: str | None = None) -> None:
        self._work, self._on_done = work, on_done
        self.what = what or run_label.lower()
        self.job: Job | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.run_button = W.Button(description=run_label, button_style="primary", layout=W.Layout(width="110px"))
        self.cancel_button = W.Button(description="Cancel", disabled=True, layout=W.Layout(width="80px"))
        self.cancel_button.add_class("plrnn-job-cancel")
        self.run_button.add_class("plrnn-job-run")
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="160px"))
        self.status = W.HTML("").add_class("plrnn-job-status")
        self.run_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        super().__init__([self.run_button, self.cancel_button, self.progress, self.status])

    @property
    def running(self) -> bool:
        """True while the current job has not finished (a job let go after Cancel does not count)."""
        return self.job is not None and self.job.alive and not self.job._abandoned

    def start(self) -> None:
        """Start the work on a worker thread (ignored while a job runs)."""
        if self.running:
            return
        self._loop = _event_loop()
        self.job = Job(self._work, on_progress=self._show_progress, on_finish=self._finish)
        self.progress.value, self.progress.max = 0, 1
        self.progress.bar_style = "info"
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self._show_status()
        self.job.start()
        if self._loop is not None:
            self._loop.call_later(TICK, self._tick, self.job)

    def cancel(self) -> None:
        """Stop the running job: at its next chunk, or let it go after :data:`CANCEL_GRACE` seconds."""
        job = self.job
        if job is None or not self.running:
            return
        job.cancel()
        self.status.value = "cancelling..."
        if self._loop is not None:
            self._loop.call_later(CANCEL_GRACE, self._let_go, job)
        elif not job.join(CANCEL_GRACE):
            self._let_go(job)

    def _let_go(self, job: Job) -> None:
        if job is not self.job or not job.alive:
            return
        job.abandon()
        self.status.value = (f"cancelled: the {self.what} stopped (its last slice finishes in the background)")
        self.progress.bar_style = "warning"
        self.run_button.disabled, self.cancel_button.disabled = False, True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished; True if it did within ``timeout`` seconds."""
        if self.job is not None:
            self.job.join(timeout)
        return not self.running

    def _tick(self, job: Job) -> None:
        if job is not self.job or not self.running:
            return
        self._show_status()
        self._loop.call_later(TICK, self._tick, job)

    def _show_status(self) -> None:
        job = self.job
        if job is None or job.cancel_requested:
            return
        t = time.monotonic() - job.started_at
        if job.done_total is None:
            step = "starting"
        else:
            done, total = job.done_total
            step = "finishing (continuing cycles across cells)" if done >= total else f"{done}/{total}"
        self.status.value = f"{self.what}: {step}{compile_note()}, {t:.1f} s"

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max = max(1, total)
        self.progress.value = min(done, self.progress.max)
        self._show_status()

    def _finish(self, result: Any, cancelled: bool, error: Exception | None) -> None:
        seconds = time.monotonic() - self.job.started_at if self.job is not None else 0.0
        try:
            if error is not None:
                raise error
            self._on_done(result, cancelled)
            self.status.value = ("cancelled: showing the part computed" if cancelled
                                 else f"done in {seconds:.1f} s")
            self.progress.bar_style = "warning" if cancelled else "success"
        except Exception as exc:  # noqa: BLE001 - report in the panel; the kernel and panel live on
            self.status.value = f'<span style="color:#a94442">failed: {html.escape(f"{type(exc).__name__}: {exc}")}</span>'
            self.progress.bar_style = "danger"
        finally:
            self.run_button.disabled, self.cancel_button.disabled = False, True
