"""Fixed-point candidates at large M by a low-rank update of two precomputed pieces (private).

The order-1 candidate of a region pattern D solves ``B(D) z = c(D)`` with
``B(D) = I - A - W_out diag(D) W_in`` and ``c(D) = h + W_out diag(D) b_in``.
Relative to a *base* pattern D0 whose matrix B0 = B(D0) is factored once,
``B(D) = B0 - W_out[:, S] E W_in[S, :]`` where S is the set of the r gates in
which D and D0 differ and ``E = diag(D_S - D0_S)`` (entries +-1). With
``R = B0^-1 W_out`` (M x G) and ``Q = W_in R`` (G x G), precomputed once,
the Woodbury identity gives the candidate from an r x r system::

    (E - Q[S, S]) t = p0[S],    z = z0 + R[:, S] t,

where ``z0 = B0^-1 c(D0)`` and ``p0 = W_in z0 + b_in`` (t are the gate values
of z on S, times E). The two bases are "all gates off" and "all gates on", so
one of them is at most G / 2 gates from every pattern: O(r^3) instead of O(M^3) per candidate (r <= 0.75 M), and the
random restarts of the search (which differ from each other and from their
chain steps in about half of the gates) profit as much as the chain steps.

The result must be the one the full LU (:func:`plrnn_explorer._kernels._check_word`)
would give: the same outcome (singular, diverged, consistent, inconsistent)
and the same regions visited. :func:`check_fixed_point` therefore accepts a
low-rank solution only when

1. an upper bound on ||B(D)^-1||_2 (from ||B0^-1||_2, ||B0^-1 W_out||_2,
   ||W_in B0^-1||_2 and LAPACK's norm estimates of the r x r system's
   inverse) shows that the
   full LU's pivot test (``rel_tol``) cannot call B(D) singular: its
   smallest pivot is at least 1 / (M ||B(D)^-1||_2),
2. the true residual ``B(D) z - c(D)`` (from the map step that checks the
   regions, so it costs O(M) per mismatched gate) is tiny, and
3. no gate value of z is close enough to its border for the difference
   between the two solutions (bounded by ||B(D)^-1|| times their residuals)
   to change its sign;

otherwise it returns ``REJECTED`` and the caller solves by the full LU.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from numba import njit

from ._kernels import (CONSISTENT, INCONSISTENT, _check_word, _scipy_routine, _step_sparse_into, _words_equal,
                       _workspace, nonzeros)

#: latent dimension from which order-1 searches use the low-rank update. Measured by
#: ``python benchmarks/bench_large_m.py`` (per candidate, random PLRNNs, words with half of the gates on,
#: single-threaded BLAS, 2-core machine under load, 2026-12): full LU / low-rank = 0.84 at M = 24,
#: 0.99 at 32, 1.04 at 40, 1.19 at 48, 1.39 at 64, 1.71 at 100, 2.26 at 200, 3.4 at 1000.
#: The searches use the update on the BLAS path only (it shares that path's workspace), so it is
#: at least ``_kernels.BLAS_MIN_DIM``.
LOWRANK_MIN_DIM = 48
#: a low-rank solve is tried when r <= LOWRANK_MAX_FRACTION * M: with 75 % of the gates on (r = 0.75 M from
#: the all-off base) it was still 1.2x (M = 500) to 2.3x (M = 200) faster than the full LU
LOWRANK_MAX_FRACTION = 0.75
#: the precomputed arrays (two bases of (G, M) + (G, G) floats) may take this many bytes at most
LOWRANK_MAX_BYTES = 256 << 20
#: outcomes of :func:`check_fixed_point` when the caller must solve by the full LU: no base within reach (or
#: none usable), and a low-rank solution that failed an acceptance test
FALL_BACK, REJECTED = -1, -2
#: accepted residual ||B z - c|| relative to ||B|| ||z|| (a backward-stable LU gives ~M * 1e-16)
RESIDUAL_RTOL = 1e-10
#: safety factor on the bounds of the acceptance tests
SAFETY = 8.0

_EPS = np.finfo(np.float64).eps
_dgetrf = _scipy_routine("scipy.linalg.cython_lapack", "dgetrf", 6)
_dgecon = _scipy_routine("scipy.linalg.cython_lapack", "dgecon", 9)


# -- layout of the float64 array ``norms`` (_N_NORMS, 2): one column per base ------------------------------------
#: ||B0||_2, max |B0_ij|, ||B0^-1||_2, ||R||_2 = ||B0^-1 W_out||_2, ||W_in B0^-1||_2
_B_NORM, _B_MAX, _B_INV, _R_NORM, _V_NORM = 0, 1, 2, 3, 4
#: the same for both columns: ||W_out||_2 ||W_in||_2, max_ij (|W_out| |W_in|)_ij
_W_NORMS, _W_MAX = 5, 6
_N_NORMS = 7


def disabled_bases() -> tuple[np.ndarray, ...]:
    """Arrays of :func:`precompute_bases` with no usable base (the caller then always uses the full LU)."""
    empty = np.zeros((0, 0))
    return _pack(np.zeros(0, np.int64), np.zeros((2, 0), np.uint8), np.zeros((2, 0)), np.zeros((2, 0)),
                 np.zeros((2, 0, 0)), np.zeros((2, 0, 0)), np.zeros((_N_NORMS, 2)), np.zeros((3, 0)), 0, empty, empty)


def _pack(usable, base_word, z0, p0, R, Qt, norms, gate_norms, r_max, A, W_in):
    r_buf = max(r_max, 1)
    return (usable, base_word, z0, p0, R, Qt, norms, gate_norms, np.array([r_max], np.int64),
            np.zeros(max(base_word.shape[1], 1), np.int64),            # 9: S, the gates that differ
            np.zeros(r_buf * r_buf),                                    # 10: the r x r system, column-major
            np.zeros(r_buf), np.zeros(r_buf, np.int32),                 # 11, 12: its right-hand side, pivots
            np.zeros(4 * r_buf), np.zeros(r_buf, np.int32),             # 13, 14: dgecon's work arrays
            np.zeros(max(z0.shape[1], 1)),                              # 15: residual
            np.zeros(4, np.int32), np.zeros(2), np.zeros(1, np.uint8),  # 16-18: LAPACK's scalar arguments
            *nonzeros(A), *nonzeros(W_in))                              # 19-24: the nonzeros of A and W_in


def precompute_bases(A: np.ndarray, W_out: np.ndarray, W_in: np.ndarray, b_in: np.ndarray, h: np.ndarray,
                     rel_tol: float, min_dim: int = LOWRANK_MIN_DIM) -> tuple[np.ndarray, ...]:
    """The two bases (all gates off, all on) of :func:`check_fixed_point`, or :func:`disabled_bases`.

    Disabled below ``min_dim`` (benchmarks lower it to measure the crossover) and when the arrays would exceed
    ``LOWRANK_MAX_BYTES``. A base is usable when its matrix is far enough
    from singular that acceptance test 1 can pass. Costs a few M x M
    factorisations and singular value computations (once per search).
    Returns the tuple of arrays (and scratch) that :func:`check_fixed_point` takes.
    """
    M, G = A.shape[0], W_in.shape[0]
    if M < min_dim or G == 0 or 2 * 8 * (G * M + G * G) > LOWRANK_MAX_BYTES:
        return disabled_bases()
    usable = np.zeros(2, np.int64)
    base_word = np.zeros((2, G), np.uint8)
    base_word[1] = 1
    z0, p0 = np.zeros((2, M)), np.zeros((2, G))
    R, Qt = np.zeros((2, G, M)), np.zeros((2, G, G))
    norms = np.zeros((_N_NORMS, 2))
    norms[_W_NORMS] = scipy.linalg.norm(W_out, 2) * scipy.linalg.norm(W_in, 2)
    norms[_W_MAX] = (np.abs(W_out) @ np.abs(W_in)).max()
    for b in range(2):
        on = base_word[b].astype(bool)
        B0 = np.eye(M) - A - (W_out[:, on] @ W_in[on, :])
        c0 = h + W_out[:, on] @ b_in[on]
        if not np.all(np.isfinite(B0)):
            continue
        sv = scipy.linalg.svdvals(B0)
        b_max = float(np.abs(B0).max())
        if not sv[-1] > 0.0 or M / sv[-1] * rel_tol * max(b_max, 1.0) > 1e-4:
            continue                                        # too close to singular to certify anything from it
        lu = scipy.linalg.lu_factor(B0)
        z0[b] = scipy.linalg.lu_solve(lu, c0)
        p0[b] = W_in @ z0[b] + b_in
        R[b] = scipy.linalg.lu_solve(lu, W_out).T          # row g: B0^-1 W_out[:, g]
        Qt[b] = R[b] @ W_in.T                               # Qt[g, a] = W_in[a] . R[g] = Q[a, g]
        V = scipy.linalg.lu_solve(lu, W_in.T, trans=1)      # (W_in B0^-1)^T
        norms[:_W_NORMS, b] = (sv[0], b_max, 1.0 / sv[-1], scipy.linalg.svdvals(R[b])[0],
                               scipy.linalg.svdvals(V)[0])
        usable[b] = 1
    if not usable.any():
        return disabled_bases()
    gate_norms = np.stack([np.linalg.norm(W_in, axis=1), np.abs(W_in).sum(axis=1), np.abs(b_in)])
    return _pack(usable, base_word, z0, p0, R, Qt, norms, gate_norms, int(LOWRANK_MAX_FRACTION * M), A, W_in)


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _inverse_norm_2(Cf, r, piv, work, iwork, ints, reals, chars):
    """LU-factor the r x r column-major ``Cf`` (dgetrf) and bound ||C^-1||_2 <= sqrt(||C^-1||_1 ||C^-1||_inf).

    The two norms are LAPACK's (dgecon) estimates. Returns inf when C is
    singular or the estimate fails.
    """
    norm_1 = 0.0
    norm_inf = 0.0
    for j in range(r):
        s = 0.0
        for i in range(r):
            s += abs(Cf[j * r + i])
        norm_1 = max(norm_1, s)
    for i in range(r):
        s = 0.0
        for j in range(r):
            s += abs(Cf[j * r + i])
        norm_inf = max(norm_inf, s)
    if not (norm_1 > 0.0 and np.isfinite(norm_1) and np.isfinite(norm_inf)):
        return np.inf
    ints[0] = r
    ints[1] = 0
    _dgetrf(ints[0:].ctypes, ints[0:].ctypes, Cf.ctypes, ints[0:].ctypes, piv.ctypes, ints[1:].ctypes)
    if ints[1] != 0:
        return np.inf
    prod = 1.0
    for which in range(2):
        chars[0] = 79 if which == 0 else 73        # "O": 1-norm, "I": infinity norm
        reals[0] = norm_1 if which == 0 else norm_inf
        reals[1] = 0.0
        _dgecon(chars.ctypes, ints[0:].ctypes, Cf.ctypes, ints[0:].ctypes, reals[0:].ctypes, reals[1:].ctypes,
                work.ctypes, iwork.ctypes, ints[1:].ctypes)
        if ints[1] != 0 or not reals[1] > 0.0:
            return np.inf
        prod *= 1.0 / (reals[1] * reals[0])
    return np.sqrt(prod)


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_small(Cf, r, piv, x):
    """x <- C^-1 x from the dgetrf factors in ``Cf`` (column-major, leading dimension r)."""
    for i in range(r):
        p = piv[i] - 1
        if p != i:
            t = x[i]
            x[i] = x[p]
            x[p] = t
    for j in range(r):
        xj = x[j]
        if xj != 0.0:
            for i in range(j + 1, r):
                x[i] -= Cf[j * r + i] * xj
    for j in range(r - 1, -1, -1):
        x[j] /= Cf[j * r + j]
        xj = x[j]
        for i in range(j):
            x[i] -= Cf[j * r + i] * xj


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_from_base(word, b, z, lr, rel_tol, M, G):
    """z = the candidate of ``word`` by the update of base b; returns the bound on ||B(D)^-1||_2 (inf: unusable).

    Returns inf when test 1 of the module docstring fails (then z is not set).
    """
    base_word, z0, p0, Rb, Qb, norms = lr[1], lr[2][b], lr[3][b], lr[4][b], lr[5][b], lr[6]
    S, Cf, t, piv, work, iwork, ints, reals, chars = lr[9], lr[10], lr[11], lr[12], lr[13], lr[14], lr[16], lr[17], \
        lr[18]
    r = 0
    for g in range(G):
        if word[0, g] != base_word[b, g]:
            S[r] = g
            r += 1
    sign = 1.0 if b == 0 else -1.0          # E = D_S - D0_S: +1 from the all-off base, -1 from the all-on base
    for j in range(r):                      # (E - Q[S, S]) t = p0[S], column by column
        row = Qb[S[j]]
        for i in range(r):
            Cf[j * r + i] = -row[S[i]]
        Cf[j * r + j] += sign
        t[j] = p0[S[j]]
    c_inv = _inverse_norm_2(Cf, r, piv, work, iwork, ints, reals, chars) if r > 0 else 0.0
    # ||B^-1||_2 <= ||B0^-1|| + ||B0^-1 W_out|| ||C^-1|| ||W_in B0^-1||; the full LU's smallest pivot is at least
    # 1 / (||B^-1||_2 ||L||_2) >= 1 / (||B^-1||_2 M): above its threshold, the full LU does not call B singular
    inv_ub = norms[_B_INV, b] + norms[_R_NORM, b] * c_inv * norms[_V_NORM, b]
    b_max_ub = norms[_B_MAX, b] + norms[_W_MAX, b]
    if not inv_ub * M * rel_tol * max(b_max_ub, 1.0) * SAFETY < 1.0:
        return np.inf
    if r > 0:
        _solve_small(Cf, r, piv, t)
    for i in range(M):
        z[i] = z0[i]
    for j in range(r):                      # z = z0 + R[S]^T t
        tj = t[j]
        rj = Rb[S[j]]
        for i in range(M):
            z[i] += tj * rj[i]
    return inv_ub


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def check_fixed_point(A, W_out, W_in, b_in, h, word, ws, lr, rel_tol):
    """Order-1 :func:`~plrnn_explorer._kernels._check_word` by the low-rank update, or FALL_BACK / REJECTED.

    ``word`` (1, G), ``ws`` a :func:`~plrnn_explorer._kernels._workspace`
    (``ws[0]`` receives z, ``ws[7]`` the regions visited), ``lr`` the tuple of
    :func:`precompute_bases`. Returns CONSISTENT or INCONSISTENT when the
    three acceptance tests of the module docstring pass, REJECTED when one
    fails, FALL_BACK when no usable base is within ``r_max`` gates of ``word``.
    """
    usable = lr[0]
    if usable.shape[0] == 0:
        return FALL_BACK
    M = A.shape[0]
    G = W_in.shape[0]
    r_max = lr[8][0]
    n_on = 0
    for g in range(G):
        n_on += word[0, g]
    # the base with the better-conditioned update first (smaller bound on ||B^-1|| for the same ||C^-1||), the other
    # one if the first is out of reach or fails test 1
    norms = lr[6]
    first = 0 if usable[1] == 0 or (usable[0] == 1 and norms[_R_NORM, 0] * norms[_V_NORM, 0]
                                    <= norms[_R_NORM, 1] * norms[_V_NORM, 1]) else 1
    z, actual, gate_buf, znext, res = ws[0], ws[7], ws[10], ws[9], lr[15]
    inv_ub = np.inf
    tried = False
    for i in range(2):
        b = first if i == 0 else 1 - first
        if usable[b] == 1 and (n_on if b == 0 else G - n_on) <= r_max:
            tried = True
            inv_ub = _solve_from_base(word, b, z, lr, rel_tol, M, G)
            if np.isfinite(inv_ub):
                break
    if not tried:
        return FALL_BACK
    if not np.isfinite(inv_ub):
        return REJECTED
    if not _step_sparse_into(W_out, b_in, h, z, lr[19], lr[20], lr[21], lr[22], lr[23], lr[24], gate_buf, znext,
                             ws[11][G:]):       # the scratch half of gate_col
        return REJECTED
    for g in range(G):
        actual[0, g] = 1 if gate_buf[g] > 0.0 else 0
    # test 2: residual B(D) z - c(D) = z - F_D(z), F_D(z) = F(z) + sum over mismatched gates of (D - actual) W_out gate
    S = lr[9]
    n_mis = 0
    for g in range(G):
        if word[0, g] != actual[0, g]:
            S[n_mis] = g
            n_mis += 1
    for i in range(M):                      # row by row: W_out is row-major
        acc = z[i] - znext[i]
        row = W_out[i]
        for j in range(n_mis):
            g = S[j]
            acc -= (float(word[0, g]) - float(actual[0, g])) * gate_buf[g] * row[g]
        res[i] = acc
    res_2 = 0.0
    z_2 = 0.0
    z_inf = 0.0
    for i in range(M):
        res_2 += res[i] * res[i]
        z_2 += z[i] * z[i]
        z_inf = max(z_inf, abs(z[i]))
    res_2 = np.sqrt(res_2)
    z_2 = np.sqrt(z_2)
    scale = (max(norms[_B_NORM, 0], norms[_B_NORM, 1]) + norms[_W_NORMS, 0]) * z_2     # >= ||B(D)||_2 ||z||_2
    if not res_2 <= RESIDUAL_RTOL * scale:
        return REJECTED
    # test 3: this z and the full LU's (residual ~ sqrt(M) eps ||B|| ||z||, Wilkinson's rule of thumb) both lie
    # within dz of the exact solution; no gate value may be within reach of its border
    dz = inv_ub * (res_2 + np.sqrt(M) * _EPS * scale)
    wi_2, wi_1, b_abs = lr[7][0], lr[7][1], lr[7][2]
    for g in range(G):
        margin = SAFETY * (wi_2[g] * dz + M * _EPS * (wi_1[g] * z_inf + b_abs[g]))
        if not abs(gate_buf[g]) > margin:
            return REJECTED
    return CONSISTENT if _words_equal(actual, word, 1, G) else INCONSISTENT


@njit(cache=True, nogil=True)
def check_words(A, W_out, W_in, b_in, h, words, lr, rel_tol, status, blas):
    """status[i] = :func:`check_fixed_point` of words[i] ((n, 1, G)), the full LU's outcome where it falls back.

    Returns the number of words solved by the low-rank update. For tests and
    benchmarks (the counterpart of :func:`plrnn_explorer._kernels.check_words`).
    """
    n, k, G = words.shape
    ws = _workspace(A.shape[0], G, k)
    n_lowrank = 0
    for i in range(n):
        s = check_fixed_point(A, W_out, W_in, b_in, h, words[i], ws, lr, rel_tol)
        if s >= 0:
            n_lowrank += 1
        else:
            s = _check_word(A, W_out, W_in, b_in, h, words[i], k, ws, rel_tol, blas)
        status[i] = s
    return n_lowrank
