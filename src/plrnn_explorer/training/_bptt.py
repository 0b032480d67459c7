"""Numba kernels: forward pass with teacher forcing and exact BPTT on the canonical form.

Private. Parameters travel as one flat float64 vector ``theta`` holding the
canonical arrays ``(A, W_out, W_in, b_in, h)`` in that order, row-major
(:func:`unpack` gives views). Gradients use the same flat layout.

Forward pass of one window ``x_1..x_L`` (0-based ``t = 0..L-1`` below; the
1-based step of the docs is ``t + 1``)::

    z~_0[:N] = x_0,  z~_0[N:] = 0                      (inverted observation model)
    z_t      = clip(A z~_{t-1} + W_out relu(W_in z~_{t-1} + b_in) + h, -c, c)      (t >= 1)
    loss    += sum_n l(z_t[n] - x_t[n])                   (n < N; l = e^2 or |e|)
    z~_t     = z_t, with the first N units replaced by x_t  if tau > 0 and t % tau == 0
               else z~_t[:N] = (1 - alpha) z_t[:N] + alpha x_t

The scalar kernels process the windows of a batch one after another; for large
models :func:`batch_loss_grad_blas` (plain NumPy) processes them together with BLAS
matrix products (``Objective.batched`` chooses).

Backward pass: with ``d_t = dLoss/dz_t`` (the unforced prediction) and
``r_t`` the gate pattern of ``z~_t``, the Jacobian of the step is
``J_t = A + W_out diag(r_t) W_in`` (the same ``J_r`` SCYFI multiplies), so

    dLoss/dz~_{t-1} = J_{t-1}^T d_t
    d_{t-1} = s_{t-1} * dLoss/dz~_{t-1} + dl/dz_{t-1}

where ``s`` is 0 on the first N units at a sparse-forcing step, ``1 - alpha``
on the first N units otherwise, and 1 on the other units.

State clipping (``clip = c``, ``inf`` for none): every unit of the prediction
is clipped to ``[-c, c]`` before the loss and the forcing see it; the
derivative of the clip is 1 inside and 0 outside, so ``d_t`` is multiplied
by the mask ``|pre-clip z_t| <= c`` before it flows into the parameters.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: loss kinds understood by the kernels
MSE = 0
MAE = 1


@njit(cache=True)
def unpack(theta, M, G):
    """Views ``(A, W_out, W_in, b_in, h)`` into the flat vector ``theta``."""
    o1 = M * M
    o2 = o1 + M * G
    o3 = o2 + G * M
    o4 = o3 + G
    return (theta[:o1].reshape((M, M)), theta[o1:o2].reshape((M, G)),
            theta[o2:o3].reshape((G, M)), theta[o3:o4], theta[o4:o4 + M])


@njit(cache=True)
def _window(theta, grad, M, G, x, alpha, tau, clip, loss_kind, want_grad, Z, S, E, K, d, dt, eg):
    """Loss (un-normalised sum) of one window; adds its gradient to ``grad``.

    Buffers: ``Z`` (L, M) forced states, ``S`` (L, G) gate pre-activations of
    ``Z``, ``E`` (L, N) residuals, ``K`` (L, M) clip masks (1 = not clipped),
    ``d``/``dt`` (M,), ``eg`` (G,).
    """
    A, W_out, W_in, b_in, h = unpack(theta, M, G)
    L, N = x.shape
    for n in range(N):
        Z[0, n] = x[0, n]
    for m in range(N, M):
        Z[0, m] = 0.0
    loss = 0.0
    for t in range(1, L):
        zp = Z[t - 1]
        for g in range(G):
            s = b_in[g]
            for m in range(M):
                s += W_in[g, m] * zp[m]
            S[t - 1, g] = s
        forced = tau > 0 and t % tau == 0
        for i in range(M):
            s = h[i]
            for m in range(M):
                s += A[i, m] * zp[m]
            for g in range(G):
                a = S[t - 1, g]
                if a > 0.0:
                    s += W_out[i, g] * a
            K[t, i] = 1.0
            if s > clip:
                s = clip
                K[t, i] = 0.0
            elif s < -clip:
                s = -clip
                K[t, i] = 0.0
            if i < N:
                e = s - x[t, i]
                E[t, i] = e
                loss += e * e if loss_kind == MSE else abs(e)
                if forced:
                    s = x[t, i]
                else:
                    s = (1.0 - alpha) * s + alpha * x[t, i]
            Z[t, i] = s
    if not want_grad or not np.isfinite(loss):
        return loss
    gA, gWo, gWi, gbi, gh = unpack(grad, M, G)
    for m in range(M):
        d[m] = 0.0
    for t in range(L - 1, 0, -1):
        # d holds dLoss/dz~_t propagated from the future; make it dLoss/dz_t
        scale = 0.0 if (tau > 0 and t % tau == 0) else 1.0 - alpha
        for n in range(N):
            d[n] *= scale
        for n in range(N):
            e = E[t, n]
            if loss_kind == MSE:
                d[n] += 2.0 * e
            elif e > 0.0:
                d[n] += 1.0
            elif e < 0.0:
                d[n] -= 1.0
        for m in range(M):
            d[m] *= K[t, m]
        # z_t = F(z~_{t-1}): parameter gradients and dLoss/dz~_{t-1}
        zp = Z[t - 1]
        for g in range(G):
            a = S[t - 1, g]
            if a > 0.0:
                s = 0.0
                for i in range(M):
                    s += W_out[i, g] * d[i]
                    gWo[i, g] += d[i] * a
                eg[g] = s
                gbi[g] += s
                for m in range(M):
                    gWi[g, m] += s * zp[m]
            else:
                eg[g] = 0.0
        for i in range(M):
            di = d[i]
            gh[i] += di
            for m in range(M):
                gA[i, m] += di * zp[m]
        for m in range(M):
            s = 0.0
            for i in range(M):
                s += A[i, m] * d[i]
            for g in range(G):
                s += W_in[g, m] * eg[g]
            dt[m] = s
        for m in range(M):
            d[m] = dt[m]
    return loss


@njit(cache=True)
def batch_loss_grad(theta, M, G, data, starts, L, alpha, tau, clip, loss_kind, want_grad, grad):
    """Mean loss over the windows ``data[s:s+L]`` for ``s`` in ``starts``.

    ``grad`` (same size as ``theta``) receives the gradient of that mean.
    Returns the mean loss (NaN/Inf when the forward pass diverged; the gradient
    is then not computed).
    """
    N = data.shape[1]
    Z = np.empty((L, M))
    S = np.empty((L, G))
    E = np.empty((L, N))
    K = np.empty((L, M))
    d = np.empty(M)
    dt = np.empty(M)
    eg = np.empty(G)
    grad[:] = 0.0
    total = 0.0
    for b in range(starts.shape[0]):
        s0 = starts[b]
        total += _window(theta, grad, M, G, data[s0:s0 + L], alpha, tau, clip, loss_kind, want_grad,
                         Z, S, E, K, d, dt, eg)
    norm = 1.0 / (starts.shape[0] * (L - 1) * N)
    for i in range(grad.shape[0]):
        grad[i] *= norm
    return total * norm


@njit(cache=True, parallel=True)
def many_loss_grad(thetas, M, G, data, starts, L, alpha, tau, clip, loss_kind, losses_out, grads_out):
    """:func:`batch_loss_grad` for every row of ``thetas``, in parallel over the rows.

    Each row is one independent serial call, so the results equal those of
    calling :func:`batch_loss_grad` row by row bit for bit.
    """
    for c in prange(thetas.shape[0]):
        losses_out[c] = batch_loss_grad(thetas[c], M, G, data, starts, L, alpha, tau, clip, loss_kind, True,
                                        grads_out[c])


@njit(cache=True, parallel=True)
def grid_loss_grad(base, dx, dy, xs, ys, M, G, data, starts, L, alpha, tau, clip, loss_kind,
                   rows, cols, coefs, n_params, loss_out, norm_out, gx_out, gy_out):
    """Loss and gradient norm on a 2-D parameter grid, in parallel over grid rows.

    The canonical vector at grid point (i, j) is ``base + xs[j] dx + ys[i] dy``
    (exact: canonical forms are linear in the model parameters). The norm is
    that of the model-parameter gradient ``g_p[rows] += coefs * g[cols]``;
    ``gx_out``/``gy_out`` receive the partial derivatives along the two axes.
    """
    ny = ys.shape[0]
    nx = xs.shape[0]
    P = base.shape[0]
    for i in prange(ny):
        theta = np.empty(P)
        grad = np.empty(P)
        gp = np.empty(n_params)
        for j in range(nx):
            for k in range(P):
                theta[k] = base[k] + xs[j] * dx[k] + ys[i] * dy[k]
            loss = batch_loss_grad(theta, M, G, data, starts, L, alpha, tau, clip, loss_kind, True, grad)
            loss_out[i, j] = loss
            if not np.isfinite(loss):
                norm_out[i, j] = np.nan
                gx_out[i, j] = np.nan
                gy_out[i, j] = np.nan
                continue
            gx = 0.0
            gy = 0.0
            for k in range(P):
                gx += grad[k] * dx[k]
                gy += grad[k] * dy[k]
            gx_out[i, j] = gx
            gy_out[i, j] = gy
            gp[:] = 0.0
            for k in range(rows.shape[0]):
                gp[rows[k]] += coefs[k] * grad[cols[k]]
            s = 0.0
            for k in range(n_params):
                s += gp[k] * gp[k]
            norm_out[i, j] = np.sqrt(s)


def batch_loss_grad_blas(theta, M, G, data, starts, L, alpha, tau, clip, loss_kind, want_grad, grad):
    """:func:`batch_loss_grad` with all windows of the batch processed together by BLAS products.

    Plain NumPy: every time step is one ``(B, M) x (M, G)``-sized matrix product per
    layer, and the parameter gradients are single products over all steps and
    windows at the end. Equal to the scalar kernel up to rounding (the sums run
    in another order); faster when ``B * M * G`` is large. A non-finite loss
    leaves ``grad`` at zero; overflow is silent, as in the scalar kernel.
    """
    grad[:] = 0.0
    chunk = max(1, int(BLAS_CHUNK_BYTES // (24 * L * (M + G + data.shape[1]))))
    total = 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        for lo in range(0, starts.shape[0], chunk):
            total += _blas_loss_grad(theta, M, G, data, starts[lo:lo + chunk], L, alpha, tau, clip, loss_kind,
                                     want_grad, grad)
            if not np.isfinite(total):
                grad[:] = 0.0
                break
    norm = 1.0 / (starts.shape[0] * (L - 1) * data.shape[1])
    grad *= norm
    return total * norm


#: memory of the buffers of one chunk of windows in :func:`batch_loss_grad_blas`
BLAS_CHUNK_BYTES = 2**28


def _blas_loss_grad(theta, M, G, data, starts, L, alpha, tau, clip, loss_kind, want_grad, grad):
    """Un-normalised loss sum of the windows at ``starts``; adds their gradient sum to ``grad``."""
    o1, o2 = M * M, M * M + M * G
    o3, o4 = o2 + G * M, o2 + G * M + G
    A = theta[:o1].reshape(M, M)
    W_out = theta[o1:o2].reshape(M, G)
    W_in = theta[o2:o3].reshape(G, M)
    b_in, h = theta[o3:o4], theta[o4:o4 + M]
    N = data.shape[1]
    B = starts.shape[0]
    X = np.ascontiguousarray(data[starts[None, :] + np.arange(L)[:, None]])  # (L, B, N)
    clipped = bool(np.isfinite(clip))
    Z = np.empty((L, B, M))  # forced states z~
    S = np.empty((L - 1, B, G))  # gate pre-activations of z~_{t-1}
    R = np.empty((L - 1, B, G))  # relu(S)
    E = np.empty((L, B, N))  # residuals
    K = np.ones((L, B, M)) if clipped else None
    Z[0] = 0.0
    Z[0, :, :N] = X[0]
    A_T, W_out_T, W_in_T = A.T.copy(), W_out.T.copy(), W_in.T.copy()
    for t in range(1, L):
        zp = Z[t - 1]
        np.dot(zp, W_in_T, out=S[t - 1])
        S[t - 1] += b_in
        np.maximum(S[t - 1], 0.0, out=R[t - 1])
        z = Z[t]
        np.dot(zp, A_T, out=z)
        z += R[t - 1] @ W_out_T
        z += h
        if clipped:
            K[t] = ~((z > clip) | (z < -clip))
            np.clip(z, -clip, clip, out=z)
        np.subtract(z[:, :N], X[t], out=E[t])
        if tau > 0 and t % tau == 0:
            z[:, :N] = X[t]
        elif alpha != 0.0:
            z[:, :N] = (1.0 - alpha) * z[:, :N] + alpha * X[t]
    err = E[1:]
    loss = float(np.sum(err * err) if loss_kind == MSE else np.sum(np.abs(err)))
    if not want_grad or not np.isfinite(loss):
        return loss
    D = np.empty((L - 1, B, M))  # dLoss/dz_t (the unforced prediction), t = 1..L-1
    EG = np.empty((L - 1, B, G))  # dLoss/d(gate pre-activation)
    gate = S > 0.0
    d = np.zeros((B, M))
    for t in range(L - 1, 0, -1):
        scale = 0.0 if (tau > 0 and t % tau == 0) else 1.0 - alpha
        d[:, :N] *= scale
        d[:, :N] += 2.0 * E[t] if loss_kind == MSE else np.sign(E[t])
        if clipped:
            d *= K[t]
        D[t - 1] = d
        eg = EG[t - 1]
        np.dot(d, W_out, out=eg)
        eg *= gate[t - 1]
        d = d @ A
        d += eg @ W_in
    n = (L - 1) * B  # explicit sizes: G may be 0
    Dm, EGm = D.reshape(n, M), EG.reshape(n, G)
    Zp, Rm = Z[:-1].reshape(n, M), R.reshape(n, G)
    gA, gWo, gWi, gbi, gh = (grad[:o1].reshape(M, M), grad[o1:o2].reshape(M, G), grad[o2:o3].reshape(G, M),
                             grad[o3:o4], grad[o4:o4 + M])
    gA += Dm.T @ Zp
    gWo += Dm.T @ Rm
    gWi += EGm.T @ Zp
    gbi += EGm.sum(axis=0)
    gh += Dm.sum(axis=0)
    return loss
