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
two threads launch parallel kernels at once. Serial kernels (SCYFI searches,
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


_PARALLEL_LOCK = threading.Lock()


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
        with _PARALLEL_LOCK, _controller().limit(limits=1, user_api="blas"):
            return kernel(*args, **kwargs)

    return run
