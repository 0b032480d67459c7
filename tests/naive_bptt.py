"""Plain-NumPy reference of teacher-forced BPTT (the oracle for the numba kernels).

Written for clarity, not speed: explicit region Jacobians J_r = A + W_out diag(r) W_in
and explicit forcing masks, straight from the equations in
plrnn_explorer.training.objective.
"""

from __future__ import annotations

import numpy as np


def naive_loss_grad(A, W_out, W_in, b_in, h, x, *, alpha=0.0, tau=0, loss="mse"):
    """Loss of one window x (L, N) and gradients w.r.t. (A, W_out, W_in, b_in, h)."""
    L, N = x.shape
    M = A.shape[0]
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    z_forced = [np.concatenate([x[0], np.zeros(M - N)])]
    preds = [None]
    scales = [None]
    for t in range(1, L):
        zp = z_forced[-1]
        z = A @ zp + W_out @ relu(W_in @ zp + b_in) + h
        preds.append(z)
        zf = z.copy()
        if tau > 0 and t % tau == 0:
            zf[:N] = x[t]
            scales.append(0.0)
        else:
            zf[:N] = (1 - alpha) * z[:N] + alpha * x[t]
            scales.append(1 - alpha)
        z_forced.append(zf)
    err = np.array([preds[t][:N] - x[t] for t in range(1, L)])
    count = (L - 1) * N
    value = np.sum(err ** 2 if loss == "mse" else np.abs(err)) / count
    grads = [np.zeros_like(a) for a in (A, W_out, W_in, b_in, h)]
    d_forced = np.zeros(M)
    for t in range(L - 1, 0, -1):
        mask = np.ones(M)
        mask[:N] = scales[t]
        e = err[t - 1]
        dl = np.zeros(M)
        dl[:N] = (2 * e if loss == "mse" else np.sign(e)) / count
        d = mask * d_forced + dl
        zp = z_forced[t - 1]
        pre = W_in @ zp + b_in
        r = (pre > 0).astype(float)
        J = A + W_out @ np.diag(r) @ W_in
        eg = (W_out.T @ d) * r
        grads[0] += np.outer(d, zp)
        grads[1] += np.outer(d, relu(pre))
        grads[2] += np.outer(eg, zp)
        grads[3] += eg
        grads[4] += d
        d_forced = J.T @ d
    return value, grads
