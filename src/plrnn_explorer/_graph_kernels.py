"""Numba kernels of the region transition graph (private; see :mod:`plrnn_explorer.transition_graph`).

Two jobs:

- :func:`pair_edges`: for realised regions ``a`` and ``b``, is there a point
  ``z`` in region ``a`` whose image ``F(z)`` lies in region ``b``? An edge is
  dropped only when a small dense simplex finds a *checked* Farkas
  certificate that the pair's polyhedron has no point in the box
  ``|z|_inf <= R``; every other outcome (a feasible LP, a certificate that
  fails its check, an iteration limit) keeps the edge. A kept edge that is
  not realised costs cycle solves, never a cycle, so the graph's soundness
  rests on the certificate check alone, not on the simplex.
- :func:`closed_walk_words`: every closed walk of length k starting at a
  given letter that is the least rotation of its word (a necklace): the
  cycle equation is solved with prefix-shared products of the regions'
  precomputed pieces, and the solution is traced through the true map
  (a gate exactly 0 counts as off, as in :func:`._kernels._check_word`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._kernels import _solve_inplace

#: outcome codes of one pair LP
EMPTY = 0        # a checked Farkas certificate: no point with |z|_inf <= R
KEPT = 1         # feasible, or not proven empty
#: status codes of closed_walk_words results
CONSISTENT_WORD = 1
SINGULAR_WORD = 2

_PIVOT_TOL = 1e-11
_MAX_PIVOTS = 500
_DANTZIG_PIVOTS = 60


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _pivot(T, nr, nc, r, c):
    inv = 1.0 / T[r, c]
    for j in range(nc):
        T[r, j] *= inv
    for i in range(nr):
        if i != r:
            f = T[i, c]
            if f != 0.0:
                for j in range(nc):
                    T[i, j] -= f * T[r, j]
            T[i, c] = 0.0
    T[r, c] = 1.0


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _simplex(T, basis, p, ncols, obj, allowed):
    """Simplex on tableau T (rows 0..p-1 constraints, row ``obj`` the reduced costs, last column rhs).

    Minimises; columns >= ``allowed`` never enter. The entering column is the
    most negative reduced cost (Dantzig: about half the pivots of Bland's
    rule on the region LPs) for the first ``_DANTZIG_PIVOTS`` pivots, then
    the first negative one (Bland's rule, which cannot cycle). Returns False
    on the pivot limit.
    """
    rhs = T.shape[1] - 1
    nr = T.shape[0]
    for it in range(_MAX_PIVOTS):
        enter = -1
        if it < _DANTZIG_PIVOTS:
            most = -_PIVOT_TOL
            for j in range(allowed):
                if T[obj, j] < most:
                    most = T[obj, j]
                    enter = j
        else:
            for j in range(allowed):
                if T[obj, j] < -_PIVOT_TOL:
                    enter = j
                    break
        if enter < 0:
            return True
        leave = -1
        best = np.inf
        for i in range(p):
            a = T[i, enter]
            if a > _PIVOT_TOL:
                ratio = T[i, rhs] / a
                if ratio < best - 1e-15 or (ratio <= best + 1e-15 and leave >= 0 and basis[i] < basis[leave]):
                    best = ratio
                    leave = i
        if leave < 0:
            return False          # unbounded: impossible for these bounded problems, so numerical trouble
        _pivot(T, nr, T.shape[1], leave, enter)
        basis[leave] = enter
    return False


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def farkas_empty(Gm, hv, m, R, T, basis, y):
    """True iff a checked certificate proves ``{z : Gm[:m] z <= hv[:m]}`` has no point with ``|z|_inf <= R``.

    Solves ``min h^T y  s.t.  G^T y = 0, sum(y) = 1, y >= 0`` (the dual of
    the largest margin ``max s: G z + s <= h``) by a two-phase simplex, and
    accepts its ``y`` only when ``h^T y + ||G^T y||_1 R < 0`` computed from
    the clipped ``y >= 0``: then every ``z`` in the box violates
    ``y^T (h - G z) >= 0``. ``T`` is a workspace of at least
    ``(n + 2, m + n + 2)``, ``basis`` of ``n + 1`` ints, ``y`` of ``m``.
    """
    n = Gm.shape[1]
    p = n + 1
    nc = m + p + 1
    rhs = nc - 1
    obj = p
    for i in range(p + 1):
        for j in range(nc):
            T[i, j] = 0.0
    for j in range(m):
        for i in range(n):
            T[i, j] = Gm[j, i]
        T[n, j] = 1.0
    T[n, rhs] = 1.0
    for i in range(p):
        T[i, m + i] = 1.0
        basis[i] = m + i
    # phase 1: minimise the sum of the artificials
    for j in range(m):
        s = 0.0
        for i in range(p):
            s += T[i, j]
        T[obj, j] = -s
    T[obj, rhs] = -1.0
    if not _simplex(T, basis, p, nc, obj, m + p):
        return False
    if -T[obj, rhs] > 1e-9:
        return False       # no y: the margin is unbounded, the set is not empty
    # drive zero-level artificials out of the basis where possible
    for i in range(p):
        if basis[i] >= m:
            for j in range(m):
                if abs(T[i, j]) > 1e-9:
                    _pivot(T, p + 1, nc, i, j)
                    basis[i] = j
                    break
    # phase 2: minimise h^T y
    for j in range(nc):
        T[obj, j] = 0.0
    for j in range(m):
        T[obj, j] = hv[j]
    for i in range(p):
        bj = basis[i]
        if bj < m:
            f = hv[bj]
            for j in range(nc):
                T[obj, j] -= f * T[i, j]
            T[obj, bj] = 0.0
    _simplex(T, basis, p, nc, obj, m)       # any basic y is checked below, optimal or not
    for j in range(m):
        y[j] = 0.0
    for i in range(p):
        if basis[i] < m:
            y[basis[i]] = max(T[i, rhs], 0.0)
    total = 0.0
    hy = 0.0
    hy_abs = 0.0
    for j in range(m):
        total += y[j]
        hy += hv[j] * y[j]
        hy_abs += abs(hv[j] * y[j])
    if total <= 0.5:
        return False
    res = 0.0
    for i in range(n):
        s = 0.0
        s_abs = 0.0
        for j in range(m):
            s += Gm[j, i] * y[j]
            s_abs += abs(Gm[j, i] * y[j])
        res += abs(s) + 1e-15 * s_abs      # rounding of the sum itself
    return hy + 1e-15 * hy_abs + res * R < 0.0


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _add_gate_rows(rows, rhs, m, wg, bg, pattern, slack, gate_of):
    """Append ``gate on: -(wg z + bg) <= 0`` / ``gate off: wg z + bg <= 0`` rows (unit length, relaxed by slack).

    A gate constant in z (zero row) that contradicts its pattern returns -1
    (the polyhedron is empty for every z); constant and consistent gates add
    no row. ``gate_of[row]`` receives the gate of each row added. Returns
    the new row count.
    """
    G, n = wg.shape
    for g in range(G):
        sgn = 1.0 if pattern[g] == 0 else -1.0
        norm = 0.0
        for i in range(n):
            norm += wg[g, i] * wg[g, i]
        norm = np.sqrt(norm)
        scale = 0.0
        for i in range(n):
            scale = max(scale, abs(wg[g, i]))
        if norm <= 1e-13 * max(scale, 1.0) and norm <= 1e-300 + 1e-13 * abs(bg[g]):
            b = bg[g]
            tol = 1e-12 * (1.0 + abs(b))
            if (pattern[g] != 0 and b < -tol) or (pattern[g] == 0 and b > tol):
                return -1
            continue
        for i in range(n):
            rows[m, i] = sgn * wg[g, i] / norm
        r = -sgn * bg[g] / norm
        rhs[m] = r + slack * (1.0 + abs(r))
        gate_of[m] = g
        m += 1
    return m


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _gates_after(W_in, b_in, J, c, wg, bg):
    """``wg z + bg``: the gates ``W_in (J z + c) + b_in`` at the image of z under the affine map ``z -> J z + c``."""
    G, n = W_in.shape
    for g in range(G):
        s = b_in[g]
        for i in range(n):
            s += W_in[g, i] * c[i]
        bg[g] = s
        for j in range(n):
            t = 0.0
            for i in range(n):
                t += W_in[g, i] * J[i, j]
            wg[g, j] = t


@njit(cache=True, nogil=True)
def pair_edges(W_in, b_in, Jr, cr, regions, a_start, a_stop, slack, R, adj):
    """adj[a, b] = EMPTY or KEPT for a in [a_start, a_stop) and every region b (see the module docstring).

    ``Jr[r], cr[r]``: the affine piece ``z -> Jr z + cr`` of region r;
    ``regions[r]``: its gate pattern (uint8, 1 = on).
    """
    n_reg, G = regions.shape
    n = W_in.shape[1]
    rows = np.empty((2 * G, n))
    rhs = np.empty(2 * G)
    T = np.empty((n + 2, 2 * G + n + 2))
    basis = np.empty(n + 1, np.int64)
    y = np.empty(2 * G)
    wg = np.empty((G, n))
    bg = np.empty(G)
    gate_of = np.empty(2 * G, np.int64)
    for a in range(a_start, a_stop):
        m_a = _add_gate_rows(rows, rhs, 0, W_in, b_in, regions[a], slack, gate_of)
        _gates_after(W_in, b_in, Jr[a], cr[a], wg, bg)
        for b in range(n_reg):
            if m_a < 0:
                adj[a, b] = EMPTY
                continue
            m = _add_gate_rows(rows, rhs, m_a, wg, bg, regions[b], slack, gate_of)
            if m < 0:
                adj[a, b] = EMPTY
            elif farkas_empty(rows, rhs, m, R, T, basis, y):
                adj[a, b] = EMPTY
            else:
                adj[a, b] = KEPT


@njit(cache=True, nogil=True)
def edge_triples(W_in, b_in, Jr, cr, regions, out_ptr, out_idx, edge_src, edges, e_start, e_stop, tri_ptr, slack, R,
                 hint, tri, counts):
    """Which successors ``c`` of each edge ``a -> b`` continue it to a realised 3-word ``a b c``.

    Edge ``e = edges[i]`` (``e_start <= i < e_stop``) is ``edge_src[e] -> out_idx[e]``;
    its flags ``tri[tri_ptr[e] + j]`` are set for the j-th out-neighbour
    ``c`` of ``b``: EMPTY when a checked Farkas certificate proves that no
    ``z`` with ``|z|_inf <= R`` lies in region a with ``F(z)`` in b and
    ``F(F(z))`` in c, KEPT otherwise. A certificate whose rows of the third
    block are the gates S of c proves the same for every c' that agrees
    with c on S (their rows are identical), so it flags them all: about 70
    LPs settle the ~330 successors of an edge of a trained M = 8, H = 10
    model. ``hint`` (same layout as ``tri``, or empty): 3-words flagged
    KEPT there are kept without an LP (keeping is always safe: it costs
    walks, never a cycle). ``counts[0]`` += LPs run.
    """
    hinted = hint.shape[0] > 0
    G, n = W_in.shape
    rows = np.empty((3 * G, n))
    rhs = np.empty(3 * G)
    gate_of = np.empty(3 * G, np.int64)
    T = np.empty((n + 2, 3 * G + n + 2))
    basis = np.empty(n + 1, np.int64)
    y = np.empty(3 * G)
    wg = np.empty((G, n))
    bg = np.empty(G)
    J2 = np.empty((n, n))
    c2 = np.empty(n)
    for i_e in range(e_start, e_stop):
        e = edges[i_e]
        a = edge_src[e]
        b = out_idx[e]
        lo, hi = out_ptr[b], out_ptr[b + 1]
        base = tri_ptr[e] - lo
        for p in range(lo, hi):
            tri[base + p] = KEPT if hinted and hint[base + p] == KEPT else 2      # 2: not settled yet
        m = _add_gate_rows(rows, rhs, 0, W_in, b_in, regions[a], slack, gate_of)
        if m >= 0:
            _gates_after(W_in, b_in, Jr[a], cr[a], wg, bg)
            m = _add_gate_rows(rows, rhs, m, wg, bg, regions[b], slack, gate_of)
        if m < 0:
            for p in range(lo, hi):
                tri[base + p] = EMPTY
            continue
        for i in range(n):             # the two-step piece: J2 = J_b J_a, c2 = J_b c_a + c_b
            for j in range(n):
                t = 0.0
                for l in range(n):
                    t += Jr[b, i, l] * Jr[a, l, j]
                J2[i, j] = t
            t = cr[b, i]
            for l in range(n):
                t += Jr[b, i, l] * cr[a, l]
            c2[i] = t
        _gates_after(W_in, b_in, J2, c2, wg, bg)
        for p in range(lo, hi):
            if tri[base + p] != 2:
                continue
            c = out_idx[p]
            m3 = _add_gate_rows(rows, rhs, m, wg, bg, regions[c], slack, gate_of)
            if m3 < 0:
                tri[base + p] = EMPTY
                continue
            counts[0] += 1
            if not farkas_empty(rows, rhs, m3, R, T, basis, y):
                tri[base + p] = KEPT
                continue
            tri[base + p] = EMPTY
            for q in range(p + 1, hi):       # every later successor with the same rows in the certificate
                if tri[base + q] != 2:
                    continue
                c_q = out_idx[q]
                same = True
                for r in range(m, m3):
                    if y[r] > 0.0 and regions[c_q, gate_of[r]] != regions[c, gate_of[r]]:
                        same = False
                        break
                if same:
                    tri[base + q] = EMPTY


@njit(cache=True, nogil=True)
def carry_triples(old_of, old_out_ptr, old_out_idx, old_tri_ptr, old_tri, out_ptr, out_idx, edge_src, tri_ptr, hint):
    """``hint`` for :func:`edge_triples` from another graph's 3-word flags: KEPT where the same 3-word (the same
    three gate patterns; ``old_of[r]`` is region r's index in the other graph, or -1) was kept there, else EMPTY."""
    for e in range(out_idx.shape[0]):
        a, b = edge_src[e], out_idx[e]
        lo, hi = out_ptr[b], out_ptr[b + 1]
        a0, b0 = old_of[a], old_of[b]
        e0 = -1 if a0 < 0 or b0 < 0 else _edge_index(old_out_ptr, old_out_idx, a0, b0)
        for p in range(lo, hi):
            flag = EMPTY
            c0 = old_of[out_idx[p]]
            if e0 >= 0 and c0 >= 0:
                q0 = _edge_index(old_out_ptr, old_out_idx, b0, c0)
                if q0 >= 0 and old_tri[old_tri_ptr[e0] + q0 - old_out_ptr[b0]] == KEPT:
                    flag = KEPT
            hint[tri_ptr[e] + p - lo] = flag


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _is_necklace(word, k):
    """(least rotation?, primitive?) of the letter sequence word[:k]."""
    primitive = True
    for r in range(1, k):
        cmp = 0
        for i in range(k):
            x = word[(i + r) % k]
            if x != word[i]:
                cmp = -1 if x < word[i] else 1
                break
        if cmp < 0:
            return False, False
        if cmp == 0:
            primitive = False
    return True, primitive


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _traces_word(A, W_out, W_in, b_in, h, z1, regions, word, k, z, zn, gate):
    """Does the true map, started at z1, visit regions[word[0]], ..., regions[word[k-1]]? (early exit)"""
    M = A.shape[0]
    G = W_in.shape[0]
    for i in range(M):
        z[i] = z1[i]
    for s in range(k):
        pat = regions[word[s]]
        for g in range(G):
            t = b_in[g]
            for i in range(M):
                t += W_in[g, i] * z[i]
            if (t > 0.0) != (pat[g] != 0):
                return False
            gate[g] = t if t > 0.0 else 0.0
        for i in range(M):
            t = h[i]
            for j in range(M):
                t += A[i, j] * z[j]
            for g in range(G):
                t += W_out[i, g] * gate[g]
            if not np.isfinite(t):
                return False
            zn[i] = t
        for i in range(M):
            z[i] = zn[i]
    return True


@njit(cache=True, nogil=True)
def closed_walk_words(A, W_out, W_in, b_in, h, Jr, cr, regions, out_ptr, out_idx, adj, tri_ptr, tri, kept_ptr,
                      kept_pos, k, unit_a, unit_q, u_start, u_stop, rel_tol, found, status, counts):
    """Cycle candidates of order k among the closed walks ``w_1 -> ... -> w_k -> w_1`` of the graph.

    Work comes in *units*: unit u is the walks that start with letter
    ``unit_a[u]`` and, for k > 1, continue along the out-list entry
    ``out_idx[unit_q[u]]`` (one first edge), so that no unit is large and a
    search can stop between units. Units ``u_start .. u_stop - 1`` are done.
    Only necklaces (least rotations) are visited, so every letter is >= the
    first. With 3-word flags (``tri_ptr``, ``tri`` of :func:`edge_triples`;
    empty arrays for none) and k >= 2, a walk is visited only when all k of
    its cyclic 3-words are kept; it then steps along the kept lists
    (``kept_pos[kept_ptr[e]:kept_ptr[e + 1]]``: the out-list positions of
    the kept successors of edge e), not the whole out-lists. A primitive
    word whose cycle equation has a solution that the true map traces
    through the word is stored with CONSISTENT_WORD; a word
    (primitive or not) whose equation is singular with SINGULAR_WORD.
    ``found`` (cap, k) int64 and ``status`` receive them; ``counts`` =
    [stored, walks solved]. Returns the first unit not done: ``u_stop``, or
    earlier when ``found`` is full (then ``counts`` covers the units done;
    the caller enlarges ``found`` and goes on from there).
    """
    M = A.shape[0]
    G = W_in.shape[0]
    word = np.zeros(k, np.int64)
    pos = np.zeros(k + 1, np.int64)    # next out-list (or kept-list) position for word[d] at depth d
    edge = np.zeros(k + 1, np.int64)   # filtered walks: edge index of word[d - 1] -> word[d]
    P = np.zeros((k + 1, M, M))
    v = np.zeros((k + 1, M))
    for i in range(M):
        P[0, i, i] = 1.0
    ws = (np.empty((M, M)), np.empty(M), np.empty(M), np.empty(M), np.empty(G))
    counts[0] = 0
    counts[1] = 0
    for u in range(u_start, u_stop):
        stored, solved = counts[0], counts[1]
        if tri_ptr.shape[0] > 0 and k >= 2:
            ok = _filtered_walks_of_unit(A, W_out, W_in, b_in, h, Jr, cr, regions, out_ptr, out_idx, adj, tri_ptr,
                                         tri, kept_ptr, kept_pos, k, unit_a[u], unit_q[u], rel_tol, found, status,
                                         counts, word, pos, edge, P, v, ws)
        else:
            ok = _walks_of_unit(A, W_out, W_in, b_in, h, Jr, cr, regions, out_ptr, out_idx, adj, k, unit_a[u],
                                unit_q[u], rel_tol, found, status, counts, word, pos, P, v, ws)
        if not ok:
            counts[0], counts[1] = stored, solved
            return u
    return u_stop


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _extend(Jr, cr, P, v, d, nxt, M):
    """P[d+1], v[d+1] = piece nxt applied after P[d], v[d]."""
    for i in range(M):
        for j in range(M):
            t = 0.0
            for l in range(M):
                t += Jr[nxt, i, l] * P[d, l, j]
            P[d + 1, i, j] = t
        t = cr[nxt, i]
        for l in range(M):
            t += Jr[nxt, i, l] * v[d, l]
        v[d + 1, i] = t


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _solve_walk(A, W_out, W_in, b_in, h, regions, word, k, P, v, rel_tol, found, status, counts, ws):
    """Solve and check the closed walk word[:k] (a necklace); store it if consistent or singular. False: full."""
    M = A.shape[0]
    neck, prim = _is_necklace(word, k)
    if not neck:
        return True
    sysm, z1, z, zn, gate = ws
    counts[1] += 1
    for i in range(M):
        z1[i] = v[k, i]
        for j in range(M):
            sysm[i, j] = (1.0 if i == j else 0.0) - P[k, i, j]
    st = 0
    if not _solve_inplace(sysm, z1, rel_tol):
        st = SINGULAR_WORD
    elif prim and _traces_word(A, W_out, W_in, b_in, h, z1, regions, word, k, z, zn, gate):
        st = CONSISTENT_WORD
    if st != 0:
        if counts[0] >= found.shape[0]:
            return False
        for s in range(k):
            found[counts[0], s] = word[s]
        status[counts[0]] = st
        counts[0] += 1
    return True


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _edge_index(out_ptr, out_idx, a, b):
    """Position of the edge ``a -> b`` in the out-lists (sorted per letter), or -1."""
    lo, hi = out_ptr[a], out_ptr[a + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if out_idx[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    if lo < out_ptr[a + 1] and out_idx[lo] == b:
        return lo
    return -1


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _triple_kept(out_ptr, out_idx, tri_ptr, tri, e1, e2):
    """Is the 3-word of the consecutive edges e1 = (x -> y), e2 = (y -> z) kept?"""
    return tri[tri_ptr[e1] + e2 - out_ptr[out_idx[e1]]] != EMPTY


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _closing_kept(out_ptr, out_idx, tri_ptr, tri, e_last, a, q):
    """Are the 3-words through the closing edge ``c -> a`` (c = out_idx[e_last]) and the first edge q kept?"""
    back = _edge_index(out_ptr, out_idx, out_idx[e_last], a)
    return (_triple_kept(out_ptr, out_idx, tri_ptr, tri, e_last, back)
            and _triple_kept(out_ptr, out_idx, tri_ptr, tri, back, q))


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _filtered_walks_of_unit(A, W_out, W_in, b_in, h, Jr, cr, regions, out_ptr, out_idx, adj, tri_ptr, tri, kept_ptr,
                            kept_pos, k, a, q, rel_tol, found, status, counts, word, pos, edge, P, v, ws):
    """_walks_of_unit for k >= 2 along the kept 3-words only (see closed_walk_words)."""
    M = A.shape[0]
    word[0] = a
    word[1] = out_idx[q]
    if k == 2 and (adj[word[1], a] == 0 or not _closing_kept(out_ptr, out_idx, tri_ptr, tri, q, a, q)):
        return True
    _extend(Jr, cr, P, v, 0, a, M)
    _extend(Jr, cr, P, v, 1, word[1], M)
    edge[1] = q
    d = 2
    if k > 2:
        pos[2] = kept_ptr[q]
    # depth d: word[:d] fixed; pos[d] = next kept-list position (of edge[d - 1]) for word[d]
    while True:
        if d == k:
            if not _solve_walk(A, W_out, W_in, b_in, h, regions, word, k, P, v, rel_tol, found, status, counts, ws):
                return False
            if k == 2:
                return True
            d -= 1
            continue
        p = pos[d]
        end = kept_ptr[edge[d - 1] + 1]
        while p < end:
            c = out_idx[kept_pos[p]]
            if c >= a and (d < k - 1 or (adj[c, a] != 0
                                         and _closing_kept(out_ptr, out_idx, tri_ptr, tri, kept_pos[p], a, q))):
                break
            p += 1
        if p >= end:
            if d == 2:
                return True
            d -= 1
            continue
        pos[d] = p + 1
        edge[d] = kept_pos[p]
        word[d] = out_idx[edge[d]]
        _extend(Jr, cr, P, v, d, word[d], M)
        d += 1
        if d < k:
            pos[d] = kept_ptr[edge[d - 1]]


@njit(cache=True, nogil=True, no_cpython_wrapper=True)
def _walks_of_unit(A, W_out, W_in, b_in, h, Jr, cr, regions, out_ptr, out_idx, adj, k, a, q, rel_tol, found,
                   status, counts, word, pos, P, v, ws):
    """Depth-first over the closed walks of one unit (see closed_walk_words). False when ``found`` is full."""
    M = A.shape[0]
    word[0] = a
    _extend(Jr, cr, P, v, 0, a, M)
    if k == 1:
        if adj[a, a] == 0:
            return True
        return _solve_walk(A, W_out, W_in, b_in, h, regions, word, 1, P, v, rel_tol, found, status, counts, ws)
    word[1] = out_idx[q]
    if k == 2 and adj[word[1], a] == 0:
        return True
    _extend(Jr, cr, P, v, 1, word[1], M)
    d = 2
    if k > 2:
        pos[2] = out_ptr[word[1]]
    # depth d: word[:d] fixed with P[d], v[d] its product; pos[d] = next out-list position for word[d]
    while True:
        if d == k:
            if not _solve_walk(A, W_out, W_in, b_in, h, regions, word, k, P, v, rel_tol, found, status, counts, ws):
                return False
            if k == 2:
                return True
            d -= 1
            continue
        prev = word[d - 1]
        p = pos[d]
        end = out_ptr[prev + 1]
        while p < end and (out_idx[p] < a or (d == k - 1 and adj[out_idx[p], a] == 0)):
            p += 1
        if p >= end:
            if d == 2:
                return True
            d -= 1
            continue
        nxt = out_idx[p]
        pos[d] = p + 1
        word[d] = nxt
        _extend(Jr, cr, P, v, d, nxt, M)
        d += 1
        if d < k:
            pos[d] = out_ptr[word[d - 1]]
