"""Keep BLAS's thread pool and numba's parallel threads out of each other's way.

Two ways they oversubscribe the cores (a sweep measured 416 s instead of 1.1 s
with OpenBLAS multi-threaded):

* after each parallel kernel, numba's OpenMP worker threads spin-wait for the
  next one (libgomp's default), and a multi-threaded BLAS call made meanwhile
  (NumPy code between kernels) competes with them: 200 alternations of a
  batched simulation and a 200 x 200 solve took 1.7 s instead of 0.16 s.
  Importing the package therefore defaults ``OMP_WAIT_POLICY`` to ``PASSIVE``
  (idle OpenMP threads sleep), unless the user set it; it only takes effect if
  no OpenMP runtime was loaded before ``plrnn_explorer``;
* BLAS threads competing with a running parallel kernel: the parallel kernels
  do no BLAS calls themselves, so BLAS is limited to one thread while they run
  and restored afterwards.

Parallel kernels release the GIL but run one at a time per process (a lock):
each already uses every numba thread, the BLAS limit is process-wide (BLAS
libraries have one setting per process), and numba's ``workqueue`` threading
layer (used where neither TBB nor OpenMP is available) aborts the process when
two threads launch parallel kernels at once. The lock is granted in arrival
order (:class:`FairLock`), so two threads that both run many kernels (a
bifurcation map and a training analysis in the panels, each on its own worker
thread) take turns kernel by kernel; a plain lock would let the thread that
just released it take it again and starve the other. Serial kernels (SCYFI searches,
``search_points_serial`` for Dask workers) are not serialised. numba's own
thread count is ``NUMBA_NUM_THREADS`` (default: all cores).
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any, Callable

from threadpoolctl import ThreadpoolController

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class FairLock:
    """A non-reentrant lock granted in arrival order (a ticket lock).

    Examples
    --------
    >>> lock = FairLock()
    >>> with lock:
    ...     lock.waiting()
    0
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0      # next ticket to hand out
        self._serving = 0   # ticket that holds the lock
        self._dropped: set[int] = set()  # tickets whose waiter gave up (KeyboardInterrupt)

    def acquire(self) -> None:
        with self._cond:
            ticket = self._next
            self._next += 1
            try:
                while self._serving != ticket:
                    self._cond.wait()
            except BaseException:  # interrupted while waiting: give the turn on
                if self._serving == ticket:
                    self._advance()
                else:
                    self._dropped.add(ticket)
                raise

    def release(self) -> None:
        with self._cond:
            self._advance()

    def _advance(self) -> None:  # with self._cond held: serve the next ticket still waiting
        self._serving += 1
        while self._serving in self._dropped:
            self._dropped.discard(self._serving)
            self._serving += 1
        self._cond.notify_all()

    def waiting(self) -> int:
        """Number of threads waiting for the lock (the holder not counted)."""
        with self._cond:
            return max(0, self._next - self._serving - 1)

    def __enter__(self) -> FairLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()


#: process-wide: held while a numba-parallel kernel runs (see the module docstring)
PARALLEL_LOCK = FairLock()


@functools.lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # inspecting the loaded libraries costs ~1 ms: do it once per process
    return ThreadpoolController()


def parallel_section(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a numba-parallel ``kernel``: one at a time, with BLAS single-threaded.

    Examples
    --------
    >>> import numpy as np
    >>> total = parallel_section(np.sum)
    >>> float(total(np.ones(3)))
    3.0
    """

    @functools.wraps(kernel)
    def run(*args: Any, **kwargs: Any) -> Any:
        with PARALLEL_LOCK, _controller().limit(limits=1, user_api="blas"):
            return kernel(*args, **kwargs)

    return run
