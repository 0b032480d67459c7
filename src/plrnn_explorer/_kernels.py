"""Numba kernels on the canonical form ``z' = A z + W_out relu(W_in z + b_in) + h``.

Private: public functions validate their input and then call these. Every
kernel takes the canonical arrays ``(A, W_out, W_in, b_in, h)`` first.

Regions are uint8 arrays of G gate bits (1 = gate strictly positive). A region
word of length k is a (k, G) uint8 array; words are compared row by row,
lexicographically, which is the same as comparing integer codes with gate 0 as
the most significant bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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
    out[0] = z0
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
        out[b, 0] = z0[b]
        for t in range(1, n_steps):
            _step_into(A, W_out, W_in, b_in, h, out[b, t - 1], gate_buf, out[b, t])
    return out


@njit(cache=True, nogil=True)
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


# --------------------------------------------------------------------------
# linear algebra without allocation
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _cycle_system(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp):
    """Monodromy P = J_k...J_1 and offset v = sum_j J_k...J_{j+1} c_j of word[:k]."""
    M = A.shape[0]
    for i in range(M):
        v[i] = 0.0
        for j in range(M):
            P[i, j] = 1.0 if i == j else 0.0
    for s in range(k):
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


@njit(cache=True, nogil=True)
def _solve_cycle(A, W_out, W_in, b_in, h, word, k, z1, P, v, J, c, tmp, sys, rel_tol):
    """z1 solves (I - P) z1 = v for the region word; returns False if singular."""
    M = A.shape[0]
    _cycle_system(A, W_out, W_in, b_in, h, word, k, P, v, J, c, tmp)
    for i in range(M):
        z1[i] = v[i]
        for j in range(M):
            sys[i, j] = (1.0 if i == j else 0.0) - P[i, j]
    return _solve_inplace(sys, z1, rel_tol)


@njit(cache=True, nogil=True)
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


#: outcomes of :func:`_check_word`
SINGULAR, INCONSISTENT, DIVERGED, CONSISTENT = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _workspace(M, G, k):
    """Buffers of one cycle check, allocated once per search.

    Returns ``(z1, P, v, J, c, tmp, sysm, actual, z, znext, gate_buf)``.
    """
    return (np.empty(M), np.empty((M, M)), np.empty(M), np.empty((M, M)), np.empty(M), np.empty((M, M)),
            np.empty((M, M)), np.empty((k, G), np.uint8), np.empty(M), np.empty(M), np.empty(G))


@njit(cache=True, nogil=True)
def _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol):
    """Solve the cycle equation of ``word`` and trace the true map from its solution.

    Returns SINGULAR, DIVERGED, INCONSISTENT (``ws[7]`` then holds the regions
    actually visited) or CONSISTENT; ``ws[0]`` is z_1 and ``ws[1]`` the monodromy.
    """
    z1, P, v, J, c, tmp, sysm, actual, z, znext, gate_buf = ws
    if not _solve_cycle(A, W_out, W_in, b_in, h, word, k, z1, P, v, J, c, tmp, sysm, rel_tol):
        return SINGULAR
    if not _trace_regions(A, W_out, W_in, b_in, h, z1, k, actual, z, znext, gate_buf):
        return DIVERGED
    return CONSISTENT if _words_equal(actual, word, k, W_in.shape[0]) else INCONSISTENT


# --------------------------------------------------------------------------
# words: equality, primitivity, least rotation
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _rows_cmp(a, ia, b, ib, G):
    for g in range(G):
        if a[ia, g] != b[ib, g]:
            return -1 if a[ia, g] < b[ib, g] else 1
    return 0


@njit(cache=True, nogil=True)
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
                found_words, singular_words, rel_tol, stats):
    """Run SCYFI for cycles of minimal period k.

    found_words (cap, k, G) receives the canonical (least-rotation) words of
    the cycles found (stats[0] on entry = number of words preloaded there,
    e.g. from a neighbouring parameter value). singular_words receives
    canonical words whose cycle equation was singular. stats (int64[9]):
    0 n_found, 1 n_singular_stored, 2 candidate solves, 3 random draws,
    4 singular equations, 5 consistent candidates, 6 solves at the last find,
    7 1 if found_words overflowed (the run stopped early), 8 solves in the
    chain (since its random draw) that made the last find.
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
            status = _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol)
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


@njit(cache=True, nogil=True)
def _decode_letter(code, G, word, s):
    for g in range(G):
        word[s, g] = np.uint8((code >> (G - 1 - g)) & 1)


@njit(cache=True, nogil=True)
def exhaustive_order(A, W_out, W_in, b_in, h, k, rel_tol, found_words, singular_words, counts):
    """Check every Lyndon word of length k over the 2^G regions.

    Lyndon words are exactly the primitive words that are their own least
    rotation, so each candidate cycle of minimal period k is tried once.
    Powers ``u^(k/p)`` of shorter Lyndon words are checked too, and kept
    only when their cycle equation is singular (a possible continuum).
    Words are generated by Duval's algorithm. counts (int64[4]): 0 n_found,
    1 n_singular, 2 words tried, 3 1 if a buffer overflowed (the caller retries
    with larger buffers).
    """
    M = A.shape[0]
    G = W_in.shape[0]
    n_letters = np.int64(1) << G
    cap = found_words.shape[0]
    cap_s = singular_words.shape[0]
    letters = np.empty(k, np.int64)
    word = np.empty((k, G), np.uint8)
    ws = _workspace(M, G, k)
    for i in range(4):
        counts[i] = 0
    length = 1
    letters[0] = -1
    while length > 0:
        letters[length - 1] += 1
        if length == k:
            counts[2] += 1
            for s in range(k):
                _decode_letter(letters[s], G, word, s)
            status = _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol)
            if status == SINGULAR:
                if counts[1] >= cap_s:
                    counts[3] = 1
                    return
                _store_word(singular_words, counts[1], word, k, G, 0)
                counts[1] += 1
            elif status == CONSISTENT:
                if counts[0] >= cap:
                    counts[3] = 1
                    return
                _store_word(found_words, counts[0], word, k, G, 0)
                counts[0] += 1
        m = length
        while length < k:
            letters[length] = letters[length - m]
            length += 1
        if m < k and k % m == 0:
            # a power u^(k/m) of a Lyndon word: no new cycle, but a singular equation may be a new continuum
            for s in range(k):
                _decode_letter(letters[s], G, word, s)
            if _check_word(A, W_out, W_in, b_in, h, word, k, ws, rel_tol) == SINGULAR:
                if counts[1] >= cap_s:
                    counts[3] = 1
                    return
                _store_word(singular_words, counts[1], word, k, G, 0)
                counts[1] += 1
        while length > 0 and letters[length - 1] == n_letters - 1:
            length -= 1


@njit(cache=True, nogil=True)
def check_words(A, W_out, W_in, b_in, h, words, rel_tol, status):
    """status[i] = outcome of :func:`_check_word` (SINGULAR, INCONSISTENT, DIVERGED, CONSISTENT) for words[i]."""
    n, k, G = words.shape
    ws = _workspace(A.shape[0], G, k)
    for i in range(n):
        status[i] = _check_word(A, W_out, W_in, b_in, h, words[i], k, ws, rel_tol)


@njit(cache=True, nogil=True)
def time_checks(A, W_out, W_in, b_in, h, k, n, seed_state):
    """Check n random words of length k (uniform gate bits); used to time one solve. Returns #consistent."""
    G = W_in.shape[0]
    ws = _workspace(A.shape[0], G, k)
    word = np.empty((k, G), np.uint8)
    state = seed_state.copy()
    hits = 0
    for i in range(n):
        _draw_word(word, k, G, np.zeros((0, G), np.uint8), state)
        if _check_word(A, W_out, W_in, b_in, h, word, k, ws, 1e-12) == CONSISTENT:
            hits += 1
    return hits


# --------------------------------------------------------------------------
# accurate cycle points and the region pool
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def cycle_points(A, W_out, W_in, b_in, h, word, rel_tol):
    """All k points of the cycle of ``word``, each solved from its own rotation.

    Solving every rotation separately keeps unstable long cycles accurate
    (forward iteration would amplify rounding errors by |lambda|^k).
    Returns (points (k, M), monodromy (M, M) of the word, ok).
    """
    k, G = word.shape
    M = A.shape[0]
    pts = np.empty((k, M))
    rot = np.empty((k, G), np.uint8)
    P = np.empty((M, M))
    P0 = np.empty((M, M))
    v = np.empty(M)
    J = np.empty((M, M))
    c = np.empty(M)
    tmp = np.empty((M, M))
    sysm = np.empty((M, M))
    z1 = np.empty(M)
    for r in range(k):
        _rotate_into(rot, word, k, G, r)
        if not _solve_cycle(A, W_out, W_in, b_in, h, rot, k, z1, P, v, J, c, tmp, sysm, rel_tol):
            return pts, P0, False
        if r == 0:
            P0[:, :] = P
        pts[r] = z1
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
