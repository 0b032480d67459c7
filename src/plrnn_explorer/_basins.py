"""Numba kernel for basins of attraction on a grid of initial states (private).

Every start is iterated until it comes within ``tol`` of a point of one of
the target (stable) cycles, escapes beyond ``escape`` (or becomes
non-finite), or ``max_steps`` run out. Starts are independent, so the loop
over them runs in parallel.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._kernels import _step_into
from ._threads import parallel_section


@parallel_section
@njit(cache=True, nogil=True, parallel=True)
def basin_labels(A, W_out, W_in, b_in, h, starts, targets, target_labels, max_steps, tol, escape):
    """Label of the target each start converges to; -1 if none within ``max_steps``.

    ``starts`` (N, M); ``targets`` (P, M) cycle points; ``target_labels`` (P,)
    the label of each target point; returns (N,) int64.
    """
    N, M = starts.shape
    P = targets.shape[0]
    G = W_in.shape[0]
    tol2 = tol * tol
    out = np.full(N, -1, np.int64)
    for n in prange(N):
        z = starts[n].copy()
        znext = np.empty(M)
        gate_buf = np.empty(G)
        for _ in range(max_steps + 1):
            hit = -1
            for p in range(P):
                d2 = 0.0
                for m in range(M):
                    diff = z[m] - targets[p, m]
                    d2 += diff * diff
                if d2 <= tol2:
                    hit = p
                    break
            if hit >= 0:
                out[n] = target_labels[hit]
                break
            _step_into(A, W_out, W_in, b_in, h, z, gate_buf, znext)
            gone = False
            for m in range(M):
                if not (abs(znext[m]) <= escape):  # also catches NaN
                    gone = True
            if gone:
                break
            for m in range(M):
                z[m] = znext[m]
    return out
