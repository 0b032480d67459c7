"""Gradient theorems: ‖∂L/∂θ‖ near degenerate transcritical, flip and border-collision bifurcations.

If a stable fixed point (or cycle) whose basin contains the initial state
undergoes a degenerate transcritical bifurcation (DTB, an eigenvalue of its
Jacobian reaches +1 and the point runs off to infinity) at θ = θ_c, the
gradient of the loss of long sequences diverges as θ → θ_c (Eisenmann et al.,
NeurIPS 2023, Thm. 1). Intuition: ``z* = (I - J)^{-1} c`` and
``∂z*/∂θ`` both blow up as an eigenvalue of ``J`` tends to 1.

:func:`gradient_divergence` evaluates the exact loss gradient along a
parameter path approaching θ_c geometrically; :func:`gt16_dtb_demo` does it on
the GT16 landscape of Fig. 3.

Two further cases on the same fixed point (our derivations, checked
numerically in notebook 11):

* **degenerate flip** (:func:`gt16_flip_demo`): an eigenvalue of the fixed
  point's Jacobian reaches -1. The fixed point stays finite, but the transient
  from the initial state decays like ``(1 - d)^t`` at distance ``d``; its
  contribution to the gradient of the T-step loss grows without bound as
  ``d -> 0`` while ``d >~ 1/T`` and saturates below, so the gradient diverges
  when the sequence grows with the approach.
* **border collision** (:func:`gt16_bcb_demo`): the fixed point reaches the
  switching border ``z_j = 0`` of unit j. The derivative of the fixed point
  w.r.t. the weights that act through ``relu(z_j)`` is
  ``(I - J)^{-1} e_i relu(z*_j)`` and vanishes linearly as ``z*_j -> 0``;
  beyond the border (unit off) it is zero: vanishing gradients for those
  weights, while the gradient w.r.t. all parameters stays finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._validation import as_float, as_int
from ..models import Model, PLRNN
from .objective import Objective

__all__ = ["GradientDivergence", "gradient_divergence", "gt16_dtb_setup", "gt16_dtb_demo", "gt16_flip_demo",
           "gt16_bcb_demo"]


@dataclass(frozen=True)
class GradientDivergence:
    """Loss and gradient norm along a path ``θ = θ_c - f (θ_c - θ_start)``, ``f`` from 1 down.

    Attributes
    ----------
    param : str
        Parameter path that moves.
    critical_value : float
        θ_c, the bifurcation value approached.
    fractions : ndarray
        Remaining fraction ``f`` of the distance (decreasing, 1 first).
    values, distances : ndarray
        θ and ``|θ - θ_c|`` at each point.
    losses, grad_norms : ndarray
        Loss and norm of its gradient w.r.t. all trained parameters.
    settings : dict
        Loss settings.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.systems.skew_tent(0.2, 0.5, 1.0)            # stable FP 1/(1 - a_r), DTB at a_r = 1
    >>> data = pe.systems.simulate_data(m, 3000, z0=[0.5])
    >>> gd = pe.training.gradient_divergence(m, data, "W[0,0]", 0.8, n_points=5, min_fraction=1e-2)
    >>> gd.param, gd.critical_value, gd.fractions.round(4).tolist()
    ('W[0,0]', 0.8, [1.0, 0.3162, 0.1, 0.0316, 0.01])
    >>> gd.distances.round(4).tolist()                    # |W - 0.8|, starting at the model's W = 0.3
    [0.5, 0.1581, 0.05, 0.0158, 0.005]
    >>> bool(gd.grad_norms[-1] > 100 * gd.grad_norms[1]), bool(gd.growth(0.1) > 10)
    (True, True)
    """

    param: str
    critical_value: float
    fractions: np.ndarray
    values: np.ndarray
    distances: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)

    def growth(self, last: float = 0.01) -> float:
        """Gradient norm at the closest point over the norm at fraction ``last`` of the distance.

        ``last=0.01`` measures the growth over the last 1 % of the path
        (log-log interpolation between path points).
        """
        last = as_float("last", last, minimum=self.fractions[-1], maximum=1.0)
        logf = np.log(self.fractions[::-1])
        at_last = np.exp(np.interp(np.log(last), logf, np.log(self.grad_norms[::-1])))
        return float(self.grad_norms[-1] / at_last)

    def slope(self, smallest: float, largest: float) -> float:
        """Least-squares slope of log(gradient norm) against log(distance) for fractions in [smallest, largest].

        About -k where the norm grows like ``distance**-k``, +1 where it
        vanishes linearly.

        Examples
        --------
        >>> import numpy as np
        >>> from plrnn_explorer.training import GradientDivergence
        >>> f = np.logspace(0, -3, 7)
        >>> gd = GradientDivergence("h[0]", 0.0, f, f, f, np.ones(7), 5.0 * f)
        >>> round(gd.slope(1e-3, 1.0), 6)
        1.0
        """
        smallest = as_float("smallest", smallest, minimum=0.0, strict_minimum=True)
        largest = as_float("largest", largest, minimum=smallest, maximum=1.0)
        keep = (self.fractions >= smallest * (1 - 1e-12)) & (self.fractions <= largest * (1 + 1e-12))
        if keep.sum() < 2:
            raise ValueError(f"smallest, largest must enclose at least 2 path points: fewer than 2 path points with "
                             f"fractions in [{smallest}, {largest}]; the path has fractions "
                             f"{self.fractions.min():.3g}..{self.fractions.max():.3g}")
        return float(np.polyfit(np.log(self.distances[keep]), np.log(self.grad_norms[keep]), 1)[0])

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Log-log plot of the gradient norm against the distance to θ_c."""
        from ..plotting.training import plot_gradient_divergence

        return plot_gradient_divergence(self, ax=ax, **kwargs)


def gradient_divergence(model: Model, data: Any, param: str, critical_value: float, *,
                        start: float | None = None, n_points: int = 41, min_fraction: float = 1e-4,
                        method: str = "bptt", alpha: float | None = None, tau: int | None = None,
                        seq_len: int | None = None, loss: str = "mse",
                        params: Sequence[str] | None = None) -> GradientDivergence:
    """Exact loss gradient along a path approaching a bifurcation value geometrically.

    Parameters
    ----------
    model, data
        Model and (T, N) observations; use long sequences (the theorem is about
        the loss of long trajectories: at distance d the orbit needs about 1/d
        steps to feel the escaping fixed point).
    param
        Path of the parameter that moves, e.g. ``"A[1,1]"``.
    critical_value
        The bifurcation value θ_c (not included in the path).
    start
        First value (default: the model's current value).
    n_points
        Points on the path; the remaining fractions of the distance are
        ``logspace(0, log10(min_fraction), n_points)``.
    min_fraction
        Closest approach as a fraction of ``|start - θ_c|``.
    method, alpha, tau, seq_len, loss, params
        As in :func:`~plrnn_explorer.training.loss_and_gradient`.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.systems.skew_tent(0.2, 0.5, 1.0)            # stable FP 1/(1 - a_r), DTB at a_r = 1
    >>> data = pe.systems.simulate_data(pe.systems.skew_tent(0.2, 0.5, 1.0), 3000, z0=[0.5])
    >>> gd = pe.training.gradient_divergence(m, data, "W[0,0]", 0.8, n_points=9, min_fraction=1e-2)
    >>> bool(gd.grad_norms[-1] > 100 * gd.grad_norms[0])
    True
    """
    obj = Objective.create(model, data, method=method, alpha=alpha, tau=tau, seq_len=seq_len,
                           loss=loss, params=params)
    critical_value = as_float("critical_value", critical_value)
    start = model.get_param(param) if start is None else as_float("start", start)
    if start == critical_value:
        raise ValueError(f"start must differ from critical_value, got both = {start}")
    n_points = as_int("n_points", n_points, minimum=2)
    min_fraction = as_float("min_fraction", min_fraction, minimum=0.0, maximum=1.0, strict_minimum=True)
    fractions = np.logspace(0.0, np.log10(min_fraction), n_points)
    values = critical_value - fractions * (critical_value - start)
    losses = np.empty(n_points)
    norms = np.empty(n_points)
    for i, v in enumerate(values):
        value, g = obj.evaluate(model.set_param(param, float(v)))
        losses[i] = value
        norms[i] = np.linalg.norm(g) if np.isfinite(value) else np.nan
    settings = {"method": method, "alpha": alpha, "tau": tau, "seq_len": obj.seq_len, "loss": loss}
    return GradientDivergence(param, critical_value, fractions, values, np.abs(values - critical_value),
                              losses, norms, settings)


def gt16_dtb_setup(delta_a00: float = -0.3, a11_start: float = 0.5, n_steps: int = 20000
                   ) -> tuple[PLRNN, np.ndarray, str, float]:
    """A DTB on the GT16 landscape: ``(model, data, param, critical_value)``.

    Data: the GT16 model (:func:`plrnn_explorer.systems.gt16`) simulated for
    ``n_steps`` from (0.5, -1) (it settles on its stable 16-cycle). Model: GT16
    with ``a00`` shifted by ``delta_a00`` and ``a11 = a11_start``. For
    ``a00 < 0.8`` its fixed point in the region ``z1 > 0, z2 <= 0``,
    ``z* = (h1 / (1 - a00), (h2 + w10 z1*) / (1 - a11))``, is real and stable
    with Jacobian eigenvalues ``a00`` and ``a11``; as ``a11 -> 1`` (the
    Δa11 ≈ 0.035 line of Fig. 3) it escapes to ``z2 -> -inf``: a DTB at
    ``critical_value = 1``. The moving parameter is ``"A[1,1]"``.

    Examples
    --------
    >>> from plrnn_explorer.training import gt16_dtb_setup
    >>> model, data, param, crit = gt16_dtb_setup(n_steps=100)
    >>> param, crit, data.shape
    ('A[1,1]', 1.0, (100, 2))
    """
    from ..systems import gt16

    gt = gt16()
    a = gt.A.copy()
    a[0] += as_float("delta_a00", delta_a00)
    a[1] = as_float("a11_start", a11_start, maximum=1.0)
    a00_max = 1.0 - gt.h[0] * gt.W[1, 0] / -gt.h[1]  # z1* = h1 / (1 - a00) must stay below -h2 / w10
    if a[0] >= a00_max:
        raise ValueError(f"delta_a00 must make a00 < {a00_max:.4f} so that the fixed point is real, "
                         f"got a00 = {a[0]:.4f}")
    data = gt.simulate([0.5, -1.0], as_int("n_steps", n_steps, minimum=2))
    return gt.replace(A=a), data, "A[1,1]", 1.0


def gt16_dtb_demo(*, n_points: int = 41, min_fraction: float = 1e-4, n_steps: int = 20000,
                  method: str = "bptt", alpha: float | None = None) -> GradientDivergence:
    """The theorem on GT16: the gradient norm diverges as ``a11 -> 1`` (see :func:`gt16_dtb_setup`).

    With ``method="gtf"`` and ``alpha > 0`` the forced map's Jacobian is
    damped by ``1 - alpha``, the bifurcation is not reached and the gradient
    stays bounded (generalized teacher forcing avoids the DTB).

    Examples
    --------
    >>> from plrnn_explorer.training import gt16_dtb_demo
    >>> gd = gt16_dtb_demo(n_points=21, n_steps=5000, min_fraction=1e-2)
    >>> bool(gd.growth(0.1) > 10)
    True
    """
    model, data, param, crit = gt16_dtb_setup(n_steps=n_steps)
    return gradient_divergence(model, data, param, crit, n_points=n_points, min_fraction=min_fraction,
                               method=method, alpha=alpha)


def gt16_flip_demo(*, n_points: int = 41, min_fraction: float = 1e-6, n_steps: int = 20000,
                   method: str = "bptt", alpha: float | None = None) -> GradientDivergence:
    """A degenerate flip on GT16: the gradient norm grows as ``a11 -> -1`` (see :func:`gt16_dtb_setup`).

    Same model and data as :func:`gt16_dtb_demo`, but ``a11`` moves from 0.5
    down to the flip value -1, where the fixed point's eigenvalue ``a11``
    reaches -1 while the fixed point itself stays finite (``z2* = (h2 + w10
    z1*) / (1 - a11)`` stays negative, so the point stays in its region). The
    growth comes from the slowly decaying, alternating transient from the
    initial state: at distance ``d`` it lasts about ``1/d`` steps, so the
    gradient of the ``n_steps``-step loss grows once ``d`` is below roughly
    ``n_steps**-1/2`` and saturates for ``d`` below about ``1/n_steps``.

    Examples
    --------
    >>> from plrnn_explorer.training.theorem import gt16_flip_demo
    >>> gd = gt16_flip_demo(n_points=13, min_fraction=1e-6, n_steps=5000)
    >>> gd.param, gd.critical_value
    ('A[1,1]', -1.0)
    >>> bool(gd.grad_norms[-1] > 30 * gd.grad_norms[3]), bool(gd.losses.max() < 2)
    (True, True)
    """
    model, data, param, _ = gt16_dtb_setup(n_steps=n_steps)
    return gradient_divergence(model, data, param, -1.0, n_points=n_points, min_fraction=min_fraction,
                               method=method, alpha=alpha)


def gt16_bcb_demo(*, n_points: int = 41, min_fraction: float = 1e-4, n_steps: int = 20000,
                  method: str = "bptt", alpha: float | None = None,
                  params: Sequence[str] | None = ("W",)) -> GradientDivergence:
    """A border collision on GT16: the gradient w.r.t. ``W`` vanishes as ``h1 -> 0``.

    Same model and data as :func:`gt16_dtb_demo`; ``h[0]`` moves from its
    value 0.373 down to 0, where the stable fixed point's first coordinate
    ``z1* = h1 / (1 - a00)`` reaches the border ``z1 = 0`` (a border collision;
    beyond it both units are off at the fixed point). ``W`` acts only through
    ``relu(z)``, and ``relu(z2*) = 0``, so ``d z*/d W = (I - J)^{-1} e_i
    relu(z*_j)`` vanishes linearly in ``z1*``: the gradient w.r.t. ``W`` tends
    to zero (up to the initial transient, of order ``1/n_steps``). Pass
    ``params=None`` for the gradient w.r.t. all parameters, which stays finite.

    Examples
    --------
    >>> from plrnn_explorer.training.theorem import gt16_bcb_demo
    >>> gd = gt16_bcb_demo(n_points=7, min_fraction=1e-3, n_steps=5000)
    >>> gd.param, gd.critical_value
    ('h[0]', 0.0)
    >>> round(gd.slope(1e-3, 1e-1), 1)
    1.0
    """
    model, data, _, _ = gt16_dtb_setup(n_steps=n_steps)
    return gradient_divergence(model, data, "h[0]", 0.0, n_points=n_points, min_fraction=min_fraction,
                               method=method, alpha=alpha, params=None if params is None else list(params))
