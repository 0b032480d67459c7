"""Loss curves, loss/gradient landscapes and gradient-divergence plots."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_training", "plot_landscape", "plot_gradient_divergence"]


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_training(run: Any, ax: Any = None, *, log: bool = True, per_epoch: bool = True) -> Any:
    """Loss against epoch: the per-epoch mini-batch curve and the checkpoint losses.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5], [[0.0]], [1.0])
    >>> run = pe.train(m, m.replace(h=[0.5]).simulate([0.0], 20), 5, seed=0)
    >>> ax = plot_training(run)
    >>> len(ax.lines)
    2
    """
    ax = _axes(ax)
    if per_epoch and len(run.epoch_losses):
        ax.plot(np.arange(1, len(run.epoch_losses) + 1), run.epoch_losses, lw=1, alpha=0.6,
                label="mini-batch loss")
    ax.plot(run.epochs, run.losses, ".-", ms=3, label="checkpoint loss")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    return ax


def plot_landscape(ls: Any, ax: Any = None, *, quantity: str | None = None, vmax_loss: float | None = None,
                   cmap: str = "viridis") -> Any:
    """Heat map(s) of a :class:`~plrnn_explorer.training.LossLandscape`.

    ``quantity="loss"`` (linear colour, clipped at ``vmax_loss``),
    ``"grad_norm"`` (colour = log10 of the gradient norm, as in the paper's
    Fig. 3) or ``None`` for both side by side (``ax`` then is None or two axes).
    Diverged points (NaN/Inf) are left blank. Returns the axes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> gt = pe.systems.gt16()
    >>> ls = pe.loss_landscape(gt, gt.simulate([0.5, -1.0], 50), ("A[0,0]", [-0.1, 0.1]),
    ...                        ("A[1,1]", [-0.1, 0.1]), relative=True)
    >>> axes = plot_landscape(ls)
    >>> len(axes)
    2
    """
    if quantity is None:
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(1, 2, figsize=(10, 4))
        if len(ax) != 2:
            raise ValueError("quantity=None draws two panels: pass ax=None or a pair of axes")
        plot_landscape(ls, ax[0], quantity="loss", vmax_loss=vmax_loss, cmap=cmap)
        plot_landscape(ls, ax[1], quantity="grad_norm", cmap=cmap)
        return ax
    if quantity not in ("loss", "grad_norm"):
        raise ValueError(f"quantity must be 'loss', 'grad_norm' or None, got {quantity!r}")
    ax = _axes(ax)
    with np.errstate(divide="ignore", invalid="ignore"):
        if quantity == "loss":
            z = np.where(np.isfinite(ls.loss), ls.loss, np.nan)
            label = "loss"
        else:
            z = np.log10(np.where(np.isfinite(ls.grad_norm), ls.grad_norm, np.nan))
            label = "log10 ‖∇L‖"
    z = np.ma.masked_invalid(z)
    mesh = ax.pcolormesh(ls.xs, ls.ys, z, shading="nearest", cmap=cmap,
                         vmax=vmax_loss if quantity == "loss" else None)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    prefix = "Δ" if ls.relative else ""
    ax.set_xlabel(prefix + ls.param_x)
    ax.set_ylabel(prefix + ls.param_y)
    return ax


def plot_gradient_divergence(gd: Any, ax: Any = None) -> Any:
    """Gradient norm against the distance to the bifurcation value, log-log.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from plrnn_explorer.training import gt16_dtb_demo
    >>> ax = gt16_dtb_demo(n_points=5, n_steps=500, min_fraction=0.1).plot()
    >>> ax.get_xscale(), ax.get_yscale()
    ('log', 'log')
    """
    ax = _axes(ax)
    ax.loglog(gd.distances, gd.grad_norms, "o-", ms=3)
    ax.invert_xaxis()
    ax.set_xlabel(f"|{gd.param} - {gd.critical_value:g}|")
    ax.set_ylabel("‖∂L/∂θ‖")
    return ax
