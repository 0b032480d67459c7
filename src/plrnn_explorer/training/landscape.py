"""Loss and gradient-norm landscapes over a 2-D parameter grid (the paper's Fig. 3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._labelled import dim_name, parameter_coord_attrs, provenance_attrs, utc_now
from .._slices import check_cancel, run_in_slices
from .._validation import as_real_array, check_limit
from ..models import Model
from . import _bptt
from .objective import Objective

__all__ = ["LossLandscape", "loss_landscape"]


@dataclass(frozen=True)
class LossLandscape:
    """Loss and gradient norm on a grid; arrays have shape ``(len(ys), len(xs))``.

    Attributes
    ----------
    param_x, param_y : str
        Parameter paths of the axes.
    xs, ys : ndarray
        Axis values (offsets from ``model``'s values if ``relative``).
    loss : ndarray
        Loss at each grid point (NaN/Inf where the forward pass diverged).
    grad_norm : ndarray
        Euclidean norm of the gradient w.r.t. all trained parameters.
    grad_x, grad_y : ndarray
        Partial derivatives of the loss along the two axes.
    relative : bool
        Whether ``xs``/``ys`` are offsets from the model's values.
    model : Model
        The model the grid was built around.
    settings : dict
        Loss settings (method, alpha, tau, seq_len, loss).
    computed : ndarray of bool
        (len(ys),) rows finished; an interrupted run leaves NaN in the others
        and ``complete`` False.
    created : str
        UTC date and time (ISO 8601) of the computation.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> gt = pe.systems.gt16()
    >>> data = gt.simulate([0.5, -1.0], 100)
    >>> ls = pe.loss_landscape(gt, data, ("A[0,0]", [-0.1, 0.0, 0.1]), ("A[1,1]", [0.0, 0.05]),
    ...                        relative=True)
    >>> ls.param_x, ls.xs.tolist(), ls.param_y, ls.ys.tolist(), ls.relative
    ('A[0,0]', [-0.1, 0.0, 0.1], 'A[1,1]', [0.0, 0.05], True)
    >>> ls.loss.shape, ls.grad_norm.shape, ls.grad_x.shape, ls.grad_y.shape
    ((2, 3), (2, 3), (2, 3), (2, 3))
    >>> float(ls.loss[0, 1]), float(ls.grad_norm[0, 1])   # the data's own model: zero loss and gradient
    (0.0, 0.0)
    >>> bool(ls.loss[0, 0] > 0), ls.settings["method"], ls.model is gt
    (True, 'bptt', True)
    """

    param_x: str
    xs: np.ndarray
    param_y: str
    ys: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    grad_x: np.ndarray
    grad_y: np.ndarray
    relative: bool
    model: Model
    settings: dict[str, Any] = field(default_factory=dict)
    computed: np.ndarray | None = None
    created: str | None = None

    @property
    def complete(self) -> bool:
        """False if the run was cancelled or interrupted: rows with ``computed`` False hold NaN."""
        return self.computed is None or bool(np.all(self.computed))

    def plot(self, ax: Any = None, *, quantity: str | None = None, **kwargs: Any) -> Any:
        """Heat maps of the loss and/or the gradient norm (log colour scale); see
        :func:`plrnn_explorer.plotting.training.plot_landscape`."""
        from ..plotting.training import plot_landscape

        return plot_landscape(self, ax=ax, quantity=quantity, **kwargs)

    def to_xarray(self) -> Any:
        """Labelled ``xarray.Dataset``: loss, grad_norm, grad_x, grad_y over the two parameters. Needs xarray.

        Dimensions are named after the parameters (``"A[0,0]"`` becomes
        ``A_0_0``; the coordinate carries ``path`` and ``long_name``, ``Δ``-prefixed
        if ``relative``). Rows not computed (cancelled run) are NaN. The
        attributes hold the model (JSON), the loss settings (JSON), package
        version and creation date.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> gt = pe.systems.gt16()
        >>> ls = pe.loss_landscape(gt, gt.simulate([0.5, -1.0], 50), ("A[0,0]", [-0.1, 0.1]),
        ...                        ("A[1,1]", [0.0, 0.05]), relative=True)
        >>> ds = ls.to_xarray()
        >>> ds.loss.dims, ds["A_0_0"].attrs["long_name"], ds.loss.attrs["long_name"]
        (('A_1_1', 'A_0_0'), 'ΔA[0,0]', 'loss')
        >>> ds.attrs["model_type"], ds.attrs["relative"]
        ('PLRNN', 1)
        """
        import xarray as xr

        xd = dim_name(self.param_x)
        yd = dim_name(self.param_y, {xd})
        loss = self.settings.get("loss", "mse")
        missing = "; NaN where not computed (cancelled run) or where the forward pass diverged"
        about = {
            "loss": ("loss", f"full-data {loss} loss of the model with the two parameters set"),
            "grad_norm": ("gradient norm", "Euclidean norm of the loss gradient w.r.t. all trained parameters"),
            "grad_x": (f"∂loss/∂{self.param_x}", f"partial derivative of the loss along {self.param_x}"),
            "grad_y": (f"∂loss/∂{self.param_y}", f"partial derivative of the loss along {self.param_y}")}
        return xr.Dataset(
            {k: ((yd, xd), getattr(self, k), {"long_name": ln, "description": de + missing})
             for k, (ln, de) in about.items()},
            coords={xd: (xd, self.xs, parameter_coord_attrs(self.param_x, self.relative)),
                    yd: (yd, self.ys, parameter_coord_attrs(self.param_y, self.relative))},
            attrs=provenance_attrs("loss_landscape", self.model, None, self.created,
                                   title=f"loss landscape over {self.param_x} x {self.param_y}",
                                   param_x=self.param_x, param_y=self.param_y, x_dim=xd, y_dim=yd,
                                   relative=self.relative, settings=self.settings, complete=self.complete))


def _axis(name: str, axis: Any) -> tuple[str, np.ndarray]:
    if not (isinstance(axis, (tuple, list)) and len(axis) == 2 and isinstance(axis[0], str)):
        raise TypeError(f"{name} must be a pair (param_path, values), e.g. ('A[0,0]', np.linspace(0, 1, 50)), "
                        f"got {type(axis).__name__}")
    values = as_real_array(f"{name} values", axis[1], ndim=1)
    if values.size == 0:
        raise ValueError(f"{name} values must not be empty: give a 1-D array of parameter values, "
                         f"got shape {values.shape}")
    return axis[0], values


def loss_landscape(model: Model, data: Any, x_axis: tuple[str, Any], y_axis: tuple[str, Any], *,
                   method: str = "bptt", alpha: float | None = None, tau: int | None = None,
                   seq_len: int | None = None, loss: str = "mse", relative: bool = False,
                   params: Sequence[str] | None = None, state_clip: float | None = None,
                   cancel: Callable[[], bool] | None = None) -> LossLandscape:
    """Loss and gradient norm of ``model`` on ``data`` over a 2-D parameter grid.

    Each grid point replaces two parameter entries of ``model``; the loss is
    the deterministic full-data loss of :func:`~plrnn_explorer.training.loss_and_gradient`
    (consecutive ``seq_len`` windows, same forcing options as training). Grid
    rows run in parallel numba threads.

    Parameters
    ----------
    model
        Model whose other parameters stay fixed.
    data
        (T, N) observations.
    x_axis, y_axis
        ``(param_path, values)``, e.g. ``("A[0,0]", np.linspace(-1, 1, 200))``.
    method, alpha, tau, seq_len, loss, state_clip
        As in :func:`~plrnn_explorer.train` (``state_clip=10`` bounds the loss
        of diverging free runs as the authors' training code does).
    relative
        If True, values are offsets added to the model's current entries
        (the paper's Δa axes).
    params
        Parameters whose gradient enters ``grad_norm`` (default: all).
    cancel
        Callable returning True to stop. The grid runs in slices of rows of
        about 0.3 s each; cancelled or interrupted (Ctrl-C), it returns the
        rows done so far (``computed``), NaN elsewhere, ``complete`` False.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> gt = pe.systems.gt16()
    >>> data = gt.simulate([0.5, -1.0], 100)
    >>> ls = pe.loss_landscape(gt, data, ("A[0,0]", [-0.1, 0.0, 0.1]), ("A[1,1]", [0.0, 0.05]),
    ...                        relative=True)
    >>> ls.loss.shape, float(ls.loss[0, 1])
    ((2, 3), 0.0)
    """
    check_cancel(cancel)
    created = utc_now()
    px, xs = _axis("x_axis", x_axis)
    py, ys = _axis("y_axis", y_axis)
    check_limit("len(xs) * len(ys) (grid points)", xs.size * ys.size, "max_grid_points")
    obj = Objective.create(model, data, method=method, alpha=alpha, tau=tau, seq_len=seq_len,
                           loss=loss, params=params, state_clip=state_clip)
    px, py = model.distinct_paths(x_axis=px, y_axis=py)
    layout = obj.layout
    x0, y0 = (model.get_param(px), model.get_param(py)) if relative else (0.0, 0.0)
    dx, dy = layout.direction(px), layout.direction(py)
    base_model = model.set_param(px, 0.0).set_param(py, 0.0)
    base = layout.theta(base_model)
    ny, nx = ys.size, xs.size
    out = {k: np.full((ny, nx), np.nan) for k in ("loss", "grad_norm", "grad_x", "grad_y")}

    def rows(idx: np.ndarray) -> None:
        part = {k: np.empty((idx.size, nx)) for k in out}
        _bptt.grid_loss_grad(base, dx, dy, xs + x0, ys[idx] + y0, layout.M, layout.G, obj.data, obj.eval_starts,
                             obj.seq_len, obj.alpha, obj.tau, obj.clip, obj.loss_kind, layout.rows, layout.cols,
                             layout.coefs, layout.size, part["loss"], part["grad_norm"], part["grad_x"],
                             part["grad_y"])
        for k in out:
            out[k][idx] = part[k]

    done = run_in_slices(ny, rows, cancel=cancel).done
    settings = {"method": method, "alpha": alpha, "tau": tau, "seq_len": obj.seq_len, "loss": loss,
                "state_clip": state_clip}
    return LossLandscape(px, xs, py, ys, relative=relative, model=model, settings=settings, computed=done,
                         created=created, **out)
