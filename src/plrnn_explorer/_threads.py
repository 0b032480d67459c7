"""Keep BLAS's own thread pool out of the way of numba's parallel kernels.

A process that has just done multi-threaded NumPy linear algebra leaves
OpenBLAS/MKL worker threads that compete with numba's ``prange`` threads for the
same cores (oversubscription: a sweep measured 416 s instead of 1.1 s). The
parallel kernels do no BLAS calls themselves, so BLAS is limited to one thread
while they run and restored afterwards.

The limit is process-wide (BLAS libraries have one setting per process): two
Python threads running parallel kernels at once share it, and the first to
finish restores BLAS's setting early. numba's own thread count is
``NUMBA_NUM_THREADS`` (default: all cores).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    # inspecting the loaded libraries costs ~1 ms: do it once per process
    return ThreadpoolController()


def blas_single_threaded(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a numba-parallel ``kernel`` so BLAS runs single-threaded while it runs.

    Examples
    --------
    >>> import numpy as np
    >>> total = blas_single_threaded(np.sum)
    >>> float(total(np.ones(3)))
    3.0
    """

    @functools.wraps(kernel)
    def run(*args: Any) -> Any:
        with _controller().limit(limits=1, user_api="blas"):
            return kernel(*args)

    return run
