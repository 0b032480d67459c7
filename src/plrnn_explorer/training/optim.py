"""Gradient-descent optimizers on flat parameter vectors."""

from __future__ import annotations

import numpy as np

__all__ = ["Adam", "SGD"]


class SGD:
    """Plain gradient descent ``p <- p - lr g``.

    Examples
    --------
    >>> import numpy as np
    >>> SGD(0.1).step(np.array([1.0]), np.array([2.0]))
    array([0.8])
    """

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Return the updated parameters."""
        return p - self.lr * g


class Adam:
    """Adam (Kingma & Ba, ICLR 2015) with bias correction.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``p <- p - lr m_hat / (sqrt(v_hat) + eps)`` with ``m_hat = m / (1 - b1^t)``,
    ``v_hat = v / (1 - b2^t)``.

    Examples
    --------
    >>> import numpy as np
    >>> opt = Adam(0.1)
    >>> opt.step(np.array([1.0, 1.0]), np.array([3.0, -0.5]))   # first step moves by lr
    array([0.9, 1.1])
    """

    def __init__(self, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, self.b1, self.b2, self.eps = lr, betas[0], betas[1], eps
        self.t = 0
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None

    def step(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Return the updated parameters."""
        if self.m is None or self.v is None:
            self.m = np.zeros_like(p)
            self.v = np.zeros_like(p)
        self.t += 1
        self.m = self.b1 * self.m + (1.0 - self.b1) * g
        self.v = self.b2 * self.v + (1.0 - self.b2) * g * g
        m_hat = self.m / (1.0 - self.b1 ** self.t)
        v_hat = self.v / (1.0 - self.b2 ** self.t)
        return p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(name: str, lr: float) -> Adam | SGD:
    """``"adam"`` or ``"sgd"``; raises ValueError naming ``optimizer`` otherwise."""
    if name == "adam":
        return Adam(lr)
    if name == "sgd":
        return SGD(lr)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")
