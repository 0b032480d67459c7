"""Numba kernels on the canonical form ``z' = A z + W_out relu(W_in z + b_in) + h``.

Private: public functions validate their input and then call these. Every
kernel takes the canonical arrays ``(A, W_out, W_in, b_in, h)`` first.

Regions are uint8 arrays of G gate bits (1 = gate strictly positive). A region
word of length k is a (k, G) uint8 array; words are compared row by row,
lexicographically, which is the same as comparing integer codes with gate 0 as
the most significant bit.
"""

from __future__ import annotations

import llvmlite.binding as _llvm
import numpy as np
from numba import njit, prange, types
from numba.extending import get_cython_function_address

from ._threads import parallel_section

# --------------------------------------------------------------------------
# random numbers: splitmix64 with explicit state, so runs are reproducible and
# independent of numba's thread-local generator (safe inside prange).
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _rand_u64(state):
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def _rand_below(state, n):
    """Uniform integer in [0, n) (n small; modulo bias is < 2^-40)."""
    return np.int64(_rand_u64(state) % np.uint64(n))


@njit(cache=True, nogil=True)
def _rand_normal(state):
    """Standard normal deviate (Box-Muller)."""
    u1 = (np.float64(_rand_u64(state) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    u2 = (np.float64(_rand_u64(state) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


# --------------------------------------------------------------------------
# the map
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _step_into(A, W_out, W_in, b_in, h, z, gate_buf, out):
    """out = F(z); gate_buf receives the gate pre-activations W_in z + b_in."""
    M = A.shape[0]
    G = W_in.shape[0]
    for g in range(G):
        s = b_in[g]
        for m in range(M):
            s += W_in[g, m] * z[m]
        gate_buf[g] = s
    for i in range(M):
        s = h[i]
        for m in range(M):
            s += A[i, m] * z[m]
        for g in range(G):
            if gate_buf[g] > 0.0:
                s += W_out[i, g] * gate_buf[g]
        out[i] = s


def nonzeros(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row pointers, column indices and values of the nonzeros of X, row by row (for :func:`_step_sparse_into`)."""
    rows, cols = np.nonzero(X)
    ptr = np.zeros(X.shape[0] + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=X.shape[0]), out=ptr[1:])
    return ptr, cols.astype(np.int64), np.ascontiguousarray(X[rows, cols], np.float64)


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _step_sparse_into(W_out, b_in, h, z, a_ptr, a_idx, a_val, w_ptr, w_idx, w_val, gate_buf, out, on):
    """:func:`_step_into` over the nonzeros of A and W_in (from :func:`nonzeros`) and the active gates only.

    The same sums in the same order without the exact zeros, so the same
    result for finite z, in O(nnz(A) + nnz(W_in) + M * active gates) instead
    of O(M^2 + 2 M G). ``on`` (G,) int64 is scratch. Returns False when
    ``out`` is not finite.
    """
    M = h.shape[0]
    G = b_in.shape[0]
    n_on = 0
    for g in range(G):
        s = b_in[g]
        for p in range(w_ptr[g], w_ptr[g + 1]):
            s += w_val[p] * z[w_idx[p]]
        gate_buf[g] = s
        if s > 0.0:
            on[n_on] = g
            n_on += 1
    finite = True
    for i in range(M):
        s = h[i]
        for p in range(a_ptr[i], a_ptr[i + 1]):
            s += a_val[p] * z[a_idx[p]]
        row = W_out[i]
        for j in range(n_on):
            g = on[j]
            s += row[g] * gate_buf[g]
        out[i] = s
        if not np.isfinite(s):
            finite = False
    return finite


@njit(cache=True, nogil=True)
def step(A, W_out, W_in, b_in, h, z):
    out = np.empty(A.shape[0])
    gate_buf = np.empty(W_in.shape[0])
    _step_into(A, W_out, W_in, b_in, h, z, gate_buf, out)
    return out


@njit(cache=True, nogil=True)
def simulate(A, W_out, W_in, b_in, h, z0, n_steps):
    M = A.shape[0]
    out = np.empty((n_steps, M))
    gate_buf = np.empty(W_in.shape[0])
    for i in range(M):      # element loop: an array assignment would compile numba's shape-error formatter
        out[0, i] = z0[i]
    for t in range(1, n_steps):
        _step_into(A, W_out, W_in, b_in, h, out[t - 1], gate_buf, out[t])
    return out


@parallel_section
@njit(cache=True, nogil=True, parallel=True)
def simulate_batch(A, W_out, W_in, b_in, h, z0, n_steps):
    B, M = z0.shape
    out = np.empty((B, n_steps, M))
    for b in prange(B):
        gate_buf = np.empty(W_in.shape[0])
        for i in range(M):
            out[b, 0, i] = z0[b, i]
        for t in range(1, n_steps):
            _step_into(A, W_out, W_in, b_in, h, out[b, t - 1], gate_buf, out[b, t])
    return out


# --------------------------------------------------------------------------
# the cycle equation of a region word
#
# Two paths with the same results up to rounding and the same singularity
# test. Scalar loops (no call overhead) win for small M; BLAS/LAPACK (dgemm
# for the monodromy products, dgetrf for the factorisation) win for large M.
# The kernels take the choice as their last argument ``blas``: None for the
# scalar loops, True for BLAS/LAPACK (``blas_arg`` picks it by BLAS_MIN_DIM).
# They branch on ``blas is None``, which numba decides when it compiles for a
# None argument: a process that meets small models only never compiles (nor
# links into every kernel) the BLAS path. (For True numba keeps both branches.)
#
# The scalar kernels are kept small and free of calls that can fail: numba
# then inlines them and drops their array reference counting, which would
# otherwise cost more than a whole small-M solve (atomic operations per array
# argument and call). Internal helpers have no CPython wrapper (it only
# costs compile time).
# --------------------------------------------------------------------------

#: latent dimension M from which cycle solves use BLAS/LAPACK instead of scalar loops.
#: Measured by ``python benchmarks/bench_large_m.py`` (per-candidate cost of both paths
#: on random PLRNNs at orders 1 and 2, single-threaded BLAS; it prints the crossover).
#: 2-core development machine, quiet, 2026-12: the BLAS path is faster from M = 20 at
#: order 2 (M = 24: scalar 9.9 us, BLAS 8.1 us; M = 100: 489 us, 121 us) and from M = 40
#: at order 1 (M = 24: 4.4 us, 6.0 us; M = 200: 757 us, 283 us); in loaded runs the
#: order-2 crossover fell between 20 and 32. Higher orders (more products) dominate a
#: search's cost, so the switch is near the order-2 crossover.
BLAS_MIN_DIM = 24

#: ``path`` arguments of :func:`blas_arg`: by ``BLAS_MIN_DIM``, scalar loops, BLAS/LAPACK
AUTO_PATH, SCALAR_PATH, BLAS_PATH = -1, 0, 1


def blas_arg(M: int, path: int = AUTO_PATH) -> bool | None:
    """The ``blas`` argument of the cycle kernels: None (scalar loops) or True (BLAS/LAPACK).

    ``path``: ``AUTO_PATH`` (BLAS/LAPACK iff ``M >= BLAS_MIN_DIM``), ``SCALAR_PATH`` or ``BLAS_PATH``.
    """
    if path == BLAS_PATH or (path == AUTO_PATH and M >= BLAS_MIN_DIM):
        return True
    if path in (AUTO_PATH, SCALAR_PATH):
        return None
    raise ValueError(f"path must be AUTO_PATH, SCALAR_PATH or BLAS_PATH, got {path!r}")

#: structure of W_in, found on a workspace's first BLAS solve: not known yet; one
#: nonzero per row (PLRNN, ALRNN: each gate reads one coordinate); anything else
_GATES_UNKNOWN, _GATES_SELECT, _GATES_DENSE = 0, 1, 2


def _scipy_routine(module: str, name: str, n_args: int) -> types.ExternalFunction:
    """A BLAS/LAPACK routine of SciPy's build (the library numba's own np.dot uses), callable in kernels.

    Reached through a named symbol, so that kernels loaded from numba's
    on-disk cache link to it in every new process. Fortran convention: every
    argument is a pointer. Unlike np.dot, a call cannot raise (see above).
    """
    symbol = f"plrnn_explorer_{name}"
    _llvm.add_symbol(symbol, get_cython_function_address(module, name))
    return types.ExternalFunction(symbol, types.void(*([types.voidptr] * n_args)))


_dgemm = _scipy_routine("scipy.linalg.cython_blas", "dgemm", 13)
_dgetrf = _scipy_routine("scipy.linalg.cython_lapack", "dgetrf", 6)


@njit(cache=True, nogil=True)
def _workspace(M, G, k):
    """Buffers of one cycle check, allocated once per search of one model.

    Returns ``(z1, P, v, J, c, tmp, sysm, actual, z, znext, gate_buf, gate_col,
    gate_val, mode, pivots, ints, consts, chars, out_on, in_on)``. The BLAS
    path records W_in's structure in ``mode[0]`` (``_GATES_*``, with
    ``gate_col[:G]``, ``gate_val``) and whether A is diagonal in ``mode[1]``,
    and uses the rest as arguments and scratch of its BLAS/LAPACK calls.
    """
    mode = np.empty(2, np.int64)
    mode[0] = _GATES_UNKNOWN
    mode[1] = 0     # 1 when A is diagonal (set with mode[0])
    consts = np.empty(2)
    consts[0] = 1.0
    consts[1] = 0.0
    chars = np.empty(1, np.uint8)
    chars[0] = 78   # "N": no transposition
    return (np.empty(M), np.empty((M, M)), np.empty(M), np.empty((M, M)), np.empty(M), np.empty((M, M)),
            np.empty((M, M)), np.empty((k, G), np.uint8), np.empty(M), np.empty(M), np.empty(G),
            np.empty(2 * G, np.int64), np.empty(G), mode, np.empty(M, np.int32), np.empty(8, np.int32), consts, chars,
            np.empty((M, G)), np.empty((G, M)))


# -- scalar path --------------------------------------------------------------


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _piece_into(A, W_out, W_in, b_in, h, r, J, c):
    """J = A + W_out diag(r) W_in and c = h + W_out diag(r) b_in for region bits r."""
    M = A.shape[0]
    G = W_in.shape[0]
    for i in range(M):
        c[i] = h[i]
        for j in range(M):
            J[i, j] = A[i, j]
    for g in range(G):
        if r[g]:
            for i in range(M):
                w = W_out[i, g]
                if w != 0.0:
                    c[i] += w * b_in[g]
                    for j in range(M):
                        J[i, j] += w * W_in[g, j]


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_inplace(Mat, x, rel_tol):
    """Solve Mat y = x by Gaussian elimination with partial pivoting, in place.

    Mat is destroyed, x receives y. Returns False (and leaves garbage) when a
    pivot is below ``rel_tol`` times the largest absolute entry of Mat, i.e. the
    matrix is singular to working precision.
    """
    n = Mat.shape[0]
    scale = 0.0
    for i in range(n):
        for j in range(n):
            a = abs(Mat[i, j])
            if a > scale:
                scale = a
    if scale == 0.0 or not np.isfinite(scale):
        return False
    # relative to max(scale, 1): for I - P the entries are small only when P ~ I, which is singular
    thresh = rel_tol * max(scale, 1.0)
    for col in range(n):
        piv = col
        best = abs(Mat[col, col])
        for r in range(col + 1, n):
            a = abs(Mat[r, col])
            if a > best:
                best = a
                piv = r
        if best <= thresh:
            return False
        if piv != col:
            for j in range(n):
                tmp = Mat[col, j]
                Mat[col, j] = Mat[piv, j]
                Mat[piv, j] = tmp
            tmp = x[col]
            x[col] = x[piv]
            x[piv] = tmp
        inv = 1.0 / Mat[col, col]
        for r in range(col + 1, n):
            f = Mat[r, col] * inv
            if f != 0.0:
                for j in range(col, n):
                    Mat[r, j] -= f * Mat[col, j]
                x[r] -= f * x[col]
    for i in range(n - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, n):
            s -= Mat[i, j] * x[j]
        x[i] = s / Mat[i, i]
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _cycle_product_scalar(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp):
    """Monodromy P = J_k...J_1 and offset v = sum_j J_k...J_{j+1} c_j of word[:k], by scalar loops.

    J_1, c_1 are built in P, v directly: k - 1 products.
    """
    M = A.shape[0]
    _piece_into(A, W_out, W_in, b_in, h, word[0], P, v)
    for s in range(1, k):
        _piece_into(A, W_out, W_in, b_in, h, word[s], J, c)
        # v <- J v + c ; P <- J P
        for i in range(M):
            acc = c[i]
            for j in range(M):
                acc += J[i, j] * v[j]
            tmp[i, 0] = acc
        for i in range(M):
            v[i] = tmp[i, 0]
        for i in range(M):
            for j in range(M):
                acc = 0.0
                for m in range(M):
                    acc += J[i, m] * P[m, j]
                tmp[i, j] = acc
        for i in range(M):
            for j in range(M):
                P[i, j] = tmp[i, j]


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_cycle(A, W_out, W_in, b_in, h, word, k, z1, P, v, J, c, tmp, sys, rel_tol):
    """z1 solves (I - P) z1 = v for the region word (scalar path); returns False if singular."""
    M = A.shape[0]
    _cycle_product_scalar(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp)
    for i in range(M):
        z1[i] = v[i]
        for j in range(M):
            sys[i, j] = (1.0 if i == j else 0.0) - P[i, j]
    return _solve_inplace(sys, z1, rel_tol)


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _trace_regions(A, W_out, W_in, b_in, h, z1, k, actual, z, znext, gate_buf):
    """Iterate the true map k steps from z1; actual[s] = region of the s-th point.

    Returns True if the orbit stayed finite.
    """
    M = A.shape[0]
    G = W_in.shape[0]
    for i in range(M):
        z[i] = z1[i]
    for s in range(k):
        _step_into(A, W_out, W_in, b_in, h, z, gate_buf, znext)
        for g in range(G):
            actual[s, g] = 1 if gate_buf[g] > 0.0 else 0
        for i in range(M):
            if not np.isfinite(znext[i]):
                return False
            z[i] = znext[i]
    return True


# -- BLAS/LAPACK path -----------------------------------------------------------


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _matmul_into(m, n, q, a, lda, b, ldb, out, ldc, ints, consts, chars):
    """out[:m, :n] = a[:m, :q] @ b[:q, :n] by BLAS dgemm (row-major arrays, leading dimensions lda, ldb, ldc).

    Row-major ``out = a b`` is column-major ``out^T = b^T a^T``. ``ints``
    (int32[6]), ``consts`` ([1.0, 0.0]), ``chars`` ("N"): the pointer arguments.
    """
    ints[0] = n
    ints[1] = m
    ints[2] = q
    ints[3] = ldb
    ints[4] = lda
    ints[5] = ldc
    _dgemm(chars.ctypes, chars.ctypes, ints[0:].ctypes, ints[1:].ctypes, ints[2:].ctypes, consts.ctypes, b.ctypes,
           ints[3:].ctypes, a.ctypes, ints[4:].ctypes, consts[1:].ctypes, out.ctypes, ints[5:].ctypes)


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _gate_structure(W_in, gate_col, gate_val):
    """_GATES_SELECT if every row g of W_in has one nonzero, at gate_col[g] with value gate_val[g]; else _GATES_DENSE."""
    G, M = W_in.shape
    for g in range(G):
        col = -1
        for m in range(M):
            if W_in[g, m] != 0.0:
                if col >= 0:
                    return _GATES_DENSE
                col = m
        if col < 0:
            return _GATES_DENSE
        gate_col[g] = col
        gate_val[g] = W_in[g, col]
    return _GATES_SELECT


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _piece_blas(A, W_out, W_in, b_in, h, r, J, c, structure, gate_col, gate_val, out_on, in_on, ints, consts, chars):
    """:func:`_piece_into` using W_in's ``structure``: O(M^2 + M G) when each gate reads one coordinate.

    W_out diag(r) W_in then only adds to columns of A; otherwise it is one
    dgemm over the active gates. The other arrays: see :func:`_workspace`.
    """
    M = A.shape[0]
    G = W_in.shape[0]
    if structure == _GATES_SELECT:
        on = gate_col[G:]                   # the active gates, then J and c row by row (cache-friendly)
        n_on = 0
        for g in range(G):
            if r[g]:
                on[n_on] = g
                n_on += 1
        for i in range(M):
            for j in range(M):
                J[i, j] = A[i, j]
            acc = h[i]
            for t in range(n_on):
                g = on[t]
                w = W_out[i, g]
                J[i, gate_col[g]] += w * gate_val[g]
                acc += w * b_in[g]
            c[i] = acc
        return
    for i in range(M):
        c[i] = h[i]
        for j in range(M):
            J[i, j] = A[i, j]
    n_on = 0                                # the active columns of W_out and rows of W_in
    for g in range(G):
        if r[g]:
            for m in range(M):
                out_on[m, n_on] = W_out[m, g]
                in_on[n_on, m] = W_in[g, m]
                c[m] += W_out[m, g] * b_in[g]
            n_on += 1
    if n_on > 0:
        consts[1] = 1.0                     # J <- 1 * out_on in_on + 1 * J
        _matmul_into(M, M, n_on, out_on, G, in_on, M, J, M, ints, consts, chars)
        consts[1] = 0.0


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _cycle_product_blas(A, W_out, W_in, b_in, h, word, k, P, v, ws):
    """:func:`_cycle_product_scalar` with dgemm products and structured pieces (scratch: ``ws``)."""
    J, c, tmp, vtmp, gate_col, gate_val, mode = ws[3], ws[4], ws[5], ws[9], ws[11], ws[12], ws[13]
    ints, consts, chars, out_on, in_on = ws[15], ws[16], ws[17], ws[18], ws[19]
    M = A.shape[0]
    if mode[0] == _GATES_UNKNOWN:
        mode[0] = _gate_structure(W_in, gate_col, gate_val)
        mode[1] = 1 if _is_diagonal(A) else 0
    structure = mode[0]
    select_diagonal = structure == _GATES_SELECT and mode[1] == 1
    cols, slot = ws[14], ws[8]              # scratch of the structured products (pivots and z: free until the solve)
    n_cols = 0
    _piece_blas(A, W_out, W_in, b_in, h, word[0], P, v, structure, gate_col, gate_val, out_on, in_on, ints, consts,
                chars)
    for s in range(1, k):
        if select_diagonal:                 # PLRNN, ALRNN: J_s is never built
            _select_affine_step(A, W_out, b_in, h, word[s], v, vtmp, gate_col, gate_val)
            if s <= 2:                      # P = J_1 is diagonal outside the columns r_1 writes; later P is dense
                n_cols = _written_columns(word[0], gate_col, cols, slot) if s == 1 else _all_columns(cols, slot)
            _select_product(A, W_out, word[s], P, tmp, cols, n_cols, slot, J.reshape(M * M), gate_col, gate_val,
                            out_on, in_on, ints, consts, chars)
        else:
            _piece_blas(A, W_out, W_in, b_in, h, word[s], J, c, structure, gate_col, gate_val, out_on, in_on, ints,
                        consts, chars)
            for i in range(M):              # v <- J v + c (O(M^2): scalar is as fast)
                acc = c[i]
                for j in range(M):
                    acc += J[i, j] * v[j]
                vtmp[i] = acc
            for i in range(M):
                v[i] = vtmp[i]
            _matmul_into(M, M, M, J, M, P, M, tmp, M, ints, consts, chars)     # P <- J P
        for i in range(M):
            for j in range(M):
                P[i, j] = tmp[i, j]


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _is_diagonal(A):
    M = A.shape[0]
    for i in range(M):
        for j in range(M):
            if i != j and A[i, j] != 0.0:
                return False
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _select_product(A, W_out, r, P, out, cols, n_cols, slot, prod, gate_col, gate_val, out_on, in_on, ints, consts,
                    chars):
    """out = J P for region bits r, a diagonal A and gates that each read one coordinate (PLRNN, ALRNN).

    J P = A P + W_out[:, on] diag(gate_val[on]) P[gate_col[on], :]: a row scaling and one dgemm over the active
    gates only (M x n_on x M instead of M x M x M). P is diagonal outside the columns ``cols[:n_cols]`` (all of
    them once P is a product; only those written by region r_1's active gates while P = J_1, see
    :func:`_written_columns`), so the dgemm runs over those columns (M x n_on x n_cols), and a column j outside
    them, P[:, j] = A[j, j] e_j, takes the active gates of r that read coordinate j. ``slot[j]``: j's position in
    ``cols``, or -1. Scratch: ``prod`` (>= M n_cols, flat).
    """
    M = A.shape[0]
    G = W_out.shape[1]
    n_on = 0
    for g in range(G):
        if r[g]:
            w = gate_val[g]
            src = gate_col[g]
            for m in range(M):
                out_on[m, n_on] = W_out[m, g] * w
            for t in range(n_cols):
                in_on[n_on, t] = P[src, cols[t]]
            n_on += 1
    for i in range(M):
        a = A[i, i]
        for j in range(M):
            out[i, j] = a * P[i, j]
    if n_on == 0:
        return
    if n_cols > 0:
        _matmul_into(M, n_cols, n_on, out_on, G, in_on, M, prod, n_cols, ints, consts, chars)   # prod: (M, n_cols)
        for i in range(M):
            for t in range(n_cols):
                out[i, cols[t]] += prod[i * n_cols + t]
    for g in range(G):
        if r[g]:
            j = gate_col[g]
            if slot[j] < 0.0:
                f = gate_val[g] * A[j, j]
                for m in range(M):
                    out[m, j] += W_out[m, g] * f


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _written_columns(r, gate_col, cols, slot):
    """The distinct coordinates the active gates of r read, i.e. the columns where J_r differs from a diagonal A.

    Puts them in ``cols[:n]`` and each one's position in ``slot`` (-1 for the other coordinates); returns n.
    """
    for j in range(slot.shape[0]):
        slot[j] = -1.0
    n = 0
    for g in range(r.shape[0]):
        if r[g]:
            j = gate_col[g]
            if slot[j] < 0.0:
                slot[j] = n
                cols[n] = j
                n += 1
    return n


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _all_columns(cols, slot):
    """``cols`` = 0, 1, ..., M - 1 and ``slot`` likewise (a dense P); returns M."""
    M = slot.shape[0]
    for j in range(M):
        cols[j] = j
        slot[j] = j
    return M


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _select_affine_step(A, W_out, b_in, h, r, v, vtmp, gate_col, gate_val):
    """v <- J v + c for region bits r, diagonal A and gates that each read one coordinate: O(M n_on), J not built.

    J v + c = A v + h + sum over active gates g of W_out[:, g] (gate_val[g] v[gate_col[g]] + b_in[g]).
    """
    M = A.shape[0]
    G = W_out.shape[1]
    for i in range(M):
        vtmp[i] = A[i, i] * v[i] + h[i]
    for g in range(G):
        if r[g]:
            x = gate_val[g] * v[gate_col[g]] + b_in[g]
            for i in range(M):
                vtmp[i] += W_out[i, g] * x
    for i in range(M):
        v[i] = vtmp[i]


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_lapack(P, x, rel_tol, F, pivots, ints):
    """Solve (I - P) y = x with LAPACK's dgetrf; x receives y. False when singular.

    The method and the test of :func:`_solve_inplace` (LU with partial row
    pivoting; singular when a pivot, a diagonal entry of U, is not above
    ``rel_tol * max(1, max |I - P|)``), with the factorisation in LAPACK.
    F (scratch) receives I - P in column-major order, as LAPACK wants it.
    """
    n = P.shape[0]
    scale = 0.0
    for jb in range(0, n, 32):              # transpose in 32 x 32 blocks: cache-friendly for large M
        for ib in range(0, n, 32):
            for j in range(jb, min(jb + 32, n)):
                for i in range(ib, min(ib + 32, n)):
                    a = (1.0 if i == j else 0.0) - P[i, j]
                    F[j, i] = a
                    a = abs(a)
                    if a > scale:
                        scale = a
    if scale == 0.0 or not np.isfinite(scale):
        return False
    thresh = rel_tol * max(scale, 1.0)
    ints[0] = n
    ints[1] = 0                 # info (> 0: an exact zero pivot, caught by the test below)
    _dgetrf(ints[0:].ctypes, ints[0:].ctypes, F.ctypes, ints[0:].ctypes, pivots.ctypes, ints[1:].ctypes)
    for i in range(n):
        if not abs(F[i, i]) > thresh:       # also catches NaN from dividing by a tiny earlier pivot
            return False
    for i in range(n):                      # x <- row swaps of x, in LAPACK's order (1-based)
        p = pivots[i] - 1
        if p != i:
            t = x[i]
            x[i] = x[p]
            x[p] = t
    for j in range(n):                      # x <- L^-1 x (unit lower triangle; column j of L is F[j, j+1:])
        xj = x[j]
        if xj != 0.0:
            for i in range(j + 1, n):
                x[i] -= F[j, i] * xj
    for j in range(n - 1, -1, -1):          # x <- U^-1 x
        x[j] /= F[j, j]
        xj = x[j]
        for i in range(j):
            x[i] -= F[j, i] * xj
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_cycle_blas(A, W_out, W_in, b_in, h, word, k, ws, rel_tol):
    """:func:`_solve_cycle` by BLAS/LAPACK: z_1 in ws[0], monodromy in ws[1]; False if singular."""
    z1, P, v = ws[0], ws[1], ws[2]
    _cycle_product_blas(A, W_out, W_in, b_in, h, word, k, P, v, ws)
    for i in range(A.shape[0]):
        z1[i] = v[i]
    return _solve_lapack(P, z1, rel_tol, ws[6], ws[14], ws[15])


# -- both -----------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _cycle_system(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp, blas):
    """Monodromy P = J_k...J_1 and offset v = sum_j J_k...J_{j+1} c_j of word[:k] (J, c, tmp (M, M): scratch)."""
    if blas is None:
        _cycle_product_scalar(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp)
    else:
        _cycle_product_blas(A, W_out, W_in, b_in, h, word, k, P, v, _workspace(A.shape[0], W_in.shape[0], k))


#: outcomes of :func:`_check_word`
SINGULAR, INCONSISTENT, DIVERGED, CONSISTENT = 0, 1, 2, 3


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol, blas):
    """Solve the cycle equation of ``word`` and trace the true map from its solution.

    Returns SINGULAR, DIVERGED, INCONSISTENT (``ws[7]`` then holds the regions
    actually visited) or CONSISTENT; ``ws[0]`` is z_1 and ``ws[1]`` the monodromy.
    ``ws``: a :func:`_workspace` of this model; ``blas``: see :func:`blas_arg`.
    """
    G = W_in.shape[0]
    if blas is None:
        ok = _solve_cycle(A, W_out, W_in, b_in, h, word, k, ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6], rel_tol)
    else:
        ok = _solve_cycle_blas(A, W_out, W_in, b_in, h, word, k, ws, rel_tol)
    if not ok:
        return SINGULAR
    if not _trace_regions(A, W_out, W_in, b_in, h, ws[0], k, ws[7], ws[8], ws[9], ws[10]):
        return DIVERGED
    return CONSISTENT if _words_equal(ws[7], word, k, G) else INCONSISTENT


# --------------------------------------------------------------------------
# words: equality, primitivity, least rotation
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _rows_cmp(a, ia, b, ib, G):
    for g in range(G):
        if a[ia, g] != b[ib, g]:
            return -1 if a[ia, g] < b[ib, g] else 1
    return 0


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _words_equal(a, b, k, G):
    for s in range(k):
        for g in range(G):
            if a[s, g] != b[s, g]:
                return False
    return True


@njit(cache=True, nogil=True)
def _is_primitive(word, k, G):
    """True iff word[:k] is not a power of a shorter word."""
    for d in range(1, k):
        if k % d != 0:
            continue
        periodic = True
        for s in range(d, k):
            if _rows_cmp(word, s, word, s - d, G) != 0:
                periodic = False
                break
        if periodic:
            return False
    return True


@njit(cache=True, nogil=True)
def _least_rotation(word, k, G):
    """Offset of the lexicographically least rotation of word[:k] (naive O(k^2 G))."""
    best = 0
    for r in range(1, k):
        for s in range(k):
            c = _rows_cmp(word, (r + s) % k, word, (best + s) % k, G)
            if c != 0:
                if c < 0:
                    best = r
                break
    return best


# --------------------------------------------------------------------------
# SCYFI for one order
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _draw_word(word, k, G, pool, state):
    n_pool = pool.shape[0]
    for s in range(k):
        if n_pool == 0:
            for g in range(G):
                word[s, g] = np.uint8(_rand_u64(state) >> np.uint64(63))
        else:
            row = _rand_below(state, n_pool)
            for g in range(G):
                word[s, g] = pool[row, g]


@njit(cache=True, nogil=True)
def _rotate_into(dst, word, k, G, rot):
    """dst[s] = word[(rot + s) % k] for s < k."""
    for s in range(k):
        for g in range(G):
            dst[s, g] = word[(rot + s) % k, g]


@njit(cache=True, nogil=True)
def _store_word(store, n_stored, word, k, G, rot):
    """Copy the rotation of word starting at ``rot`` into store[n_stored]."""
    _rotate_into(store[n_stored], word, k, G, rot)


@njit(cache=True, nogil=True)
def _find_word(store, n_stored, word, k, G):
    for i in range(n_stored):
        if _words_equal(store[i], word, k, G):
            return True
    return False


@njit(cache=True, nogil=True)
def scyfi_order(A, W_out, W_in, b_in, h, k, n_outer, n_inner, pool, seed_state,
                found_words, singular_words, rel_tol, stats, blas):
    """Run SCYFI for cycles of minimal period k.

    found_words (cap, k, G) receives the canonical (least-rotation) words of
    the cycles found (stats[0] on entry = number of words preloaded there,
    e.g. from a neighbouring parameter value). singular_words receives
    canonical words whose cycle equation was singular. stats (int64[9]):
    0 n_found, 1 n_singular_stored, 2 candidate solves, 3 random draws,
    4 singular equations, 5 consistent candidates, 6 solves at the last find,
    7 1 if found_words overflowed (the run stopped early), 8 solves in the
    chain (since its random draw) that made the last find. ``blas``: see
    :func:`blas_arg`.
    """
    M = A.shape[0]
    G = W_in.shape[0]
    cap = found_words.shape[0]
    cap_s = singular_words.shape[0]
    word = np.empty((k, G), np.uint8)
    canon = np.empty((k, G), np.uint8)
    ws = _workspace(M, G, k)
    actual = ws[7]
    n_hist_max = 16
    history = np.empty((n_hist_max, k, G), np.uint8)
    n_hist = 0
    state = seed_state.copy()
    for i in range(1, 9):
        stats[i] = 0
    chain = 0

    outer = 0
    while outer < n_outer:
        _draw_word(word, k, G, pool, state)
        stats[3] += 1
        n_hist = 0
        chain = 0
        inner = 0
        while inner < n_inner:
            inner += 1
            stats[2] += 1
            chain += 1
            status = _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol, blas)
            if status == SINGULAR:
                stats[4] += 1
                if _is_primitive(word, k, G):
                    _rotate_into(canon, word, k, G, _least_rotation(word, k, G))
                    if stats[1] < cap_s and not _find_word(singular_words, stats[1], canon, k, G):
                        _store_word(singular_words, stats[1], canon, k, G, 0)
                        stats[1] += 1
                _draw_word(word, k, G, pool, state)
                stats[3] += 1
                n_hist = 0
                chain = 0
                continue
            if status == CONSISTENT:
                stats[5] += 1
                if _is_primitive(word, k, G):
                    _rotate_into(canon, word, k, G, _least_rotation(word, k, G))
                    if not _find_word(found_words, stats[0], canon, k, G):
                        if stats[0] >= cap:
                            stats[7] = 1
                            return state
                        _store_word(found_words, stats[0], canon, k, G, 0)
                        stats[0] += 1
                        stats[6] = stats[2]
                        stats[8] = chain
                        outer = 0
                        inner = 0
                _draw_word(word, k, G, pool, state)
                stats[3] += 1
                n_hist = 0
                chain = 0
            elif status == INCONSISTENT and not _find_word(history, min(n_hist, n_hist_max), actual, k, G):
                # a "virtual" cycle: re-initialise with the candidate's own regions
                _store_word(history, n_hist % n_hist_max, word, k, G, 0)
                n_hist += 1
                for s in range(k):
                    for g in range(G):
                        word[s, g] = actual[s, g]
            else:
                # diverged, or the word iteration returned to a word it already
                # tried: it is deterministic, so it would loop forever; restart
                _draw_word(word, k, G, pool, state)
                stats[3] += 1
                n_hist = 0
                chain = 0
        outer += 1
    return state


# --------------------------------------------------------------------------
# exhaustive enumeration of one order (the exact oracle)
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _decode_letter(code, G, word, s):
    for g in range(G):
        word[s, g] = np.uint8((code >> (G - 1 - g)) & 1)


@njit(cache=True, nogil=True)
def exhaustive_order(A, W_out, W_in, b_in, h, k, rel_tol, letters, pos, found_words, singular_words, counts,
                     max_steps, blas):
    """Check the Lyndon words of length k over the 2^G regions, resumably: at most ``max_steps`` steps per call.

    Lyndon words are exactly the primitive words that are their own least
    rotation, so each candidate cycle of minimal period k is tried once.
    Powers ``u^(k/p)`` of shorter Lyndon words are checked too, and kept
    only when their cycle equation is singular (a possible continuum).
    Words are generated by Duval's algorithm, one step per Lyndon word of
    length <= k; its state is ``letters`` (k,) int64 and ``pos`` (1,) int64,
    the current length (start with ``letters[0] = -1``, ``pos[0] = 1``; 0 when
    done). counts (int64[4]): 0 n_found, 1 n_singular, 2 words tried, 3 set
    to 1 when a buffer is full (nothing is lost: grow the buffers, keeping
    their contents, and call again). Returns the number of steps done.
    ``blas``: how to solve (see :func:`blas_arg`).
    """
    M = A.shape[0]
    G = W_in.shape[0]
    n_letters = np.int64(1) << G
    cap = found_words.shape[0]
    cap_s = singular_words.shape[0]
    word = np.empty((k, G), np.uint8)
    ws = _workspace(M, G, k)
    steps = 0
    length = pos[0]
    while length > 0 and steps < max_steps:
        if counts[0] >= cap or counts[1] + 2 > cap_s:   # room for what one step can store
            counts[3] = 1
            break
        steps += 1
        letters[length - 1] += 1
        m = length                  # the Lyndon word of this step has length m
        while length < k:
            letters[length] = letters[length - m]
            length += 1
        # m == k: a candidate cycle. m < k dividing k: the word is a power u^(k/m) of a Lyndon word, no new cycle,
        # but a singular equation may be a new continuum. One call site, so the solver is compiled in once.
        if k % m == 0:
            if m == k:
                counts[2] += 1
            for s in range(k):
                _decode_letter(letters[s], G, word, s)
            status = _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol, blas)
            if status == SINGULAR:
                _store_word(singular_words, counts[1], word, k, G, 0)
                counts[1] += 1
            elif status == CONSISTENT and m == k:
                _store_word(found_words, counts[0], word, k, G, 0)
                counts[0] += 1
        while length > 0 and letters[length - 1] == n_letters - 1:
            length -= 1
    pos[0] = length
    return steps


@njit(cache=True, nogil=True)
def check_words(A, W_out, W_in, b_in, h, words, rel_tol, status, blas):
    """status[i] = outcome of :func:`_check_word` (SINGULAR, INCONSISTENT, DIVERGED, CONSISTENT) for words[i].

    ``blas``: how to solve (see :func:`blas_arg`).
    """
    n, k, G = words.shape
    ws = _workspace(A.shape[0], G, k)
    for i in range(n):
        status[i] = _check_word(A, W_out, W_in, b_in, h, words[i], k, ws, rel_tol, blas)


# --------------------------------------------------------------------------
# accurate cycle points and the region pool
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def cycle_points(A, W_out, W_in, b_in, h, word, rel_tol, blas):
    """All k points of the cycle of ``word``, each solved from its own rotation.

    Solving every rotation separately keeps unstable long cycles accurate
    (forward iteration would amplify rounding errors by |lambda|^k).
    Returns (points (k, M), monodromy (M, M) of the word, ok); ``blas``: see
    :func:`blas_arg`.
    """
    k, G = word.shape
    M = A.shape[0]
    pts = np.empty((k, M))
    rot = np.empty((k, G), np.uint8)
    P0 = np.empty((M, M))
    ws = _workspace(M, G, k)
    z1, P = ws[0], ws[1]
    for r in range(k):
        _rotate_into(rot, word, k, G, r)
        if blas is None:
            ok = _solve_cycle(A, W_out, W_in, b_in, h, rot, k, z1, P, ws[2], ws[3], ws[4], ws[5], ws[6], rel_tol)
        else:
            ok = _solve_cycle_blas(A, W_out, W_in, b_in, h, rot, k, ws, rel_tol)
        if not ok:
            return pts, P0, False
        for i in range(M):      # element loops: an array assignment would compile numba's shape-error formatter
            pts[r, i] = z1[i]
            if r == 0:
                for j in range(M):
                    P0[i, j] = P[i, j]
    return pts, P0, True


@njit(cache=True, nogil=True)
def sample_regions(A, W_out, W_in, b_in, h, n_traj, n_steps, n_box, radius, seed_state):
    """Gate patterns seen along trajectories and at random points in a box.

    Returns an (N, G) uint8 array of unique-ish patterns (duplicates removed by
    the caller). Trajectories start at N(0, radius^2) points and run n_steps.
    """
    M = A.shape[0]
    G = W_in.shape[0]
    state = seed_state.copy()
    out = np.empty((n_traj * n_steps + n_box, G), np.uint8)
    z = np.empty(M)
    zn = np.empty(M)
    gate_buf = np.empty(G)
    row = 0
    for t in range(n_traj):
        for i in range(M):
            z[i] = radius * _rand_normal(state)
        for s in range(n_steps):
            _step_into(A, W_out, W_in, b_in, h, z, gate_buf, zn)
            finite = True
            for i in range(M):
                if not np.isfinite(zn[i]):
                    finite = False
            if not finite:
                break
            for g in range(G):
                out[row, g] = 1 if gate_buf[g] > 0.0 else 0
            row += 1
            for i in range(M):
                z[i] = zn[i]
    for b in range(n_box):
        for i in range(M):
            z[i] = radius * (2.0 * (np.float64(_rand_u64(state) >> np.uint64(11)) / 9007199254740992.0) - 1.0)
        for g in range(G):
            s = b_in[g]
            for i in range(M):
                s += W_in[g, i] * z[i]
            out[row, g] = 1 if s > 0.0 else 0
        row += 1
    return out[:row]
