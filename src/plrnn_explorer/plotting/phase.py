"""Phase portraits: cycles, trajectories, switching borders and basins of attraction.

Every function draws into ``ax`` (a new figure's axes if None) and returns it.
For M > 2 everything is drawn in a :class:`~plrnn_explorer.projection.Projection`
plane (coordinates or principal components): cycles and trajectories are
projected onto it, borders and basins are those of the 2-D slice of state
space the plane cuts out.

Artists carry a ``gid`` (``"cycle"``, ``"trajectory"``, ``"borders"``,
``"basins"``) so interactive code and tests can find them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .._validation import as_int, as_real_array
from ..attraction import basins as _basins_grid
from ..attraction import grid_axes
from ..cycles import Cycle, CycleSet
from ..models import Model, check_model
from ..projection import Projection

__all__ = [
    "default_limits",
    "default_projection",
    "phase_portrait",
    "plot_basins",
    "plot_borders",
    "plot_cycles",
    "plot_trajectory",
]

_STABLE_COLOURS = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown",
                   "tab:pink", "tab:olive", "tab:cyan")


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def stable_colour(index: int) -> str:
    """Colour of the ``index``-th stable cycle (as in ``CycleSet.stable``)."""
    return _STABLE_COLOURS[index % len(_STABLE_COLOURS)]


def order_colour(order: int) -> Any:
    """Colour of unstable cycles of a given order (a grey-blue ramp by order)."""
    from matplotlib import colormaps

    return colormaps["cividis"]((order - 1) % 12 / 12.0)


def default_projection(model: Model, cycles: CycleSet | None = None, *, pca: bool = False) -> Projection:
    """The plane of ``z_0, z_1`` (others fixed at the mean cycle point), or the cycles' principal plane.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> default_projection(pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0])).labels
    ('$z_0$', '$z_1$')
    """
    check_model(model)
    M = model.dim
    if M < 2:
        raise ValueError(f"a phase portrait needs a model with M >= 2 latent units, got M = {M}")
    pts = np.concatenate([c.points for c in cycles]) if cycles is not None and len(cycles) else np.zeros((0, M))
    if pca:
        if len(pts) < 3:
            pts = np.concatenate([pts, _sample_orbit(model)])
        return Projection.pca(pts)
    origin = pts.mean(axis=0) if len(pts) else np.zeros(M)
    return Projection.coordinates(M, 0, 1, origin=origin)


#: default limits never frame points farther out than this times the scale of a sample orbit's first step
LIMIT_CAP = 100.0


def _orbit_numpy(model: Model, n_steps: int) -> np.ndarray:
    """``model.simulate([0.1, ..., 0.1], n_steps)`` in plain NumPy (the same map, equal up to rounding).

    A panel drawn while a first cycle search runs on a worker thread calls
    this: the numba kernel would wait, on the kernel's main thread, for
    numba's compiler lock, which that search holds for many seconds while it
    compiles its kernels on first use.
    """
    A, W_out, W_in, b_in, h = model.canonical.arrays
    out = np.empty((n_steps, model.dim))
    z = np.full(model.dim, 0.1)
    out[0] = z
    with np.errstate(all="ignore"):  # a diverging orbit overflows; its rows are dropped by the callers
        for t in range(1, n_steps):
            pre = W_in @ z + b_in
            z = A @ z + W_out @ np.where(pre > 0.0, pre, 0.0) + h
            out[t] = z
    return out


def _sample_orbit(model: Model, n_steps: int = 300) -> np.ndarray:
    traj = _orbit_numpy(model, n_steps)
    traj = traj[np.all(np.isfinite(traj), axis=1)]
    return traj[len(traj) // 2:] if len(traj) > 3 else np.zeros((1, model.dim))


def _projection(projection: Projection | None, dim: int) -> Projection:
    if projection is None:
        if dim < 2:
            raise ValueError(f"a phase portrait needs a model with M >= 2 latent units, got M = {dim}")
        return Projection.coordinates(dim, 0, 1)
    if not isinstance(projection, Projection):
        raise TypeError(f"projection must be a Projection, got {type(projection).__name__}")
    if projection.dim != dim:
        raise ValueError(f"projection must have the model's dimension M = {dim}, got dimension {projection.dim}")
    return projection


def default_limits(model: Model, cycles: CycleSet | None = None, projection: Projection | None = None,
                   ) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits ``(xlim, ylim)`` framing all cycle points (or a sample orbit) with a margin.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])
    >>> default_limits(m, pe.find_cycles(m, 1, seed=0))
    ((1.5, 2.5), (-2.5, -1.5))
    """
    check_model(model)
    proj = _projection(projection, model.dim)
    from_cycles = cycles is not None and len(cycles) > 0
    pts = np.concatenate([c.points for c in cycles]) if from_cycles else _orbit_numpy(model, 300)
    with np.errstate(all="ignore"):
        xy = proj.to_plane(pts)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if not len(xy):
        return (-1.0, 1.0), (-1.0, 1.0)
    if from_cycles:
        lo, hi = xy.min(axis=0), xy.max(axis=0)
    else:  # an orbit may diverge: frame its bulk within a cap, never its last (huge) points
        cap = LIMIT_CAP * (1.0 + float(np.abs(xy[:2]).max()))
        xy = xy[np.abs(xy).max(axis=1) <= cap]
        if not len(xy):
            return (-cap, cap), (-cap, cap)
        lo, hi = np.percentile(xy, 2, axis=0), np.percentile(xy, 98, axis=0)
    pad = 0.2 * (hi - lo) + 0.5
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def _closed(xy: np.ndarray) -> np.ndarray:
    return np.concatenate([xy, xy[:1]]) if len(xy) > 1 else xy


def plot_cycles(cycles: CycleSet | Iterable[Cycle], ax: Any = None, *, projection: Projection | None = None,
                legend: bool = True, markersize: float = 6.0) -> Any:
    """Draw cycles: stable ones with filled markers and solid lines, unstable ones open and dotted.

    Each stable cycle gets its own colour and legend entry; unstable cycles are
    coloured by order with one legend entry per order.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.2, 0.3], [[0, -1.7], [0.5, 0]], [1.0, 0.5])
    >>> ax = plot_cycles(pe.find_cycles(m, 4, seed=0))
    >>> all(line.get_gid() == "cycle" for line in ax.lines)
    True
    """
    ax = _axes(ax)
    cyc_list = list(cycles)
    if not cyc_list:
        return ax
    proj = _projection(projection, cyc_list[0].points.shape[1])
    seen_orders: set[int] = set()
    n_stable = 0
    for c in cyc_list:
        xy = _closed(proj.to_plane(c.points))
        if c.stable:
            colour, label = stable_colour(n_stable), f"stable {c.order}-cycle ({c.kind})" if c.order > 1 \
                else f"stable fixed point ({c.kind})"
            n_stable += 1
            (line,) = ax.plot(xy[:, 0], xy[:, 1], "-o", color=colour, ms=markersize, lw=1.2, zorder=4,
                              label=label)
        else:
            colour = order_colour(c.order)
            label = None
            if c.order not in seen_orders:
                seen_orders.add(c.order)
                label = f"unstable {c.order}-cycles" if c.order > 1 else "unstable fixed points"
            (line,) = ax.plot(xy[:, 0], xy[:, 1], ":o", color=colour, mfc="none", ms=markersize, lw=0.9,
                              zorder=3, label=label)
        line.set_gid("cycle")
    if legend:
        outside_legend(ax)
    return ax


def outside_legend(ax: Any, **kwargs: Any) -> Any:
    """A legend to the right of the axes, off the data (leave room with ``subplots_adjust(right=...)``)."""
    style = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "fontsize": "small",
             "frameon": False}
    style.update(kwargs)
    return ax.legend(**style)


def plot_trajectory(model: Model, z0: Any, n_steps: int = 300, ax: Any = None, *,
                    projection: Projection | None = None, **kwargs: Any) -> Any:
    """Draw the orbit of ``z0`` (its finite part: a diverging orbit stops where it overflows).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])
    >>> line = plot_trajectory(m, [0.0, 0.0], 3).lines[0]
    >>> line.get_xydata().tolist()
    [[0.0, 0.0], [1.0, -1.0], [1.5, -1.5]]
    """
    check_model(model)
    n_steps = as_int("n_steps", n_steps, minimum=1)
    proj = _projection(projection, model.dim)
    ax = _axes(ax)
    traj = model.simulate(z0, n_steps)
    finite = np.all(np.isfinite(traj), axis=1)
    n_ok = int(np.argmin(finite)) if not finite.all() else len(traj)
    xy = proj.to_plane(traj[:n_ok])
    style = {"color": "0.35", "lw": 0.8, "marker": ".", "ms": 3, "alpha": 0.8, "zorder": 2}
    style.update(kwargs)
    (line,) = ax.plot(xy[:, 0], xy[:, 1], **style)
    line.set_gid("trajectory")
    if len(xy):
        ax.plot(xy[:1, 0], xy[:1, 1], marker="s", ms=5, color=line.get_color(), mfc="white", ls="none",
                zorder=style["zorder"] + 0.5, gid="trajectory_start")
    return ax


def _clip_line(a: np.ndarray, c: float, xlim: tuple[float, float], ylim: tuple[float, float]) -> np.ndarray | None:
    """Segment of the line ``a . (x, y) + c = 0`` inside the box, or None."""
    pts = []
    if abs(a[1]) > 1e-300:
        for x in xlim:
            y = -(c + a[0] * x) / a[1]
            if ylim[0] <= y <= ylim[1]:
                pts.append((x, y))
    if abs(a[0]) > 1e-300:
        for y in ylim:
            x = -(c + a[1] * y) / a[0]
            if xlim[0] <= x <= xlim[1]:
                pts.append((x, y))
    if len(pts) < 2:
        return None
    pts_arr = np.array(pts)
    d = pts_arr @ np.array([-a[1], a[0]])
    seg = pts_arr[[int(np.argmin(d)), int(np.argmax(d))]]
    return seg[np.lexsort((seg[:, 1], seg[:, 0]))]


def plot_borders(model: Model, ax: Any = None, *, projection: Projection | None = None,
                 xlim: Any = None, ylim: Any = None, **kwargs: Any) -> Any:
    """Draw the switching borders: the gate hyperplanes ``W_in[g] z + b_in[g] = 0`` cut by the plane.

    Drawn inside ``xlim`` x ``ylim`` (default: the current axis limits) as one
    ``LineCollection`` with ``gid="borders"``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.5, 0.5])
    >>> ax = plot_borders(m, xlim=(-1, 2), ylim=(-1, 3))
    >>> [seg.tolist() for seg in ax.collections[0].get_segments()]
    [[[0.0, -1.0], [0.0, 3.0]], [[-1.0, 0.0], [2.0, 0.0]]]
    """
    from matplotlib.collections import LineCollection

    check_model(model)
    proj = _projection(projection, model.dim)
    ax = _axes(ax)
    xl = tuple(as_real_array("xlim", ax.get_xlim() if xlim is None else xlim, ndim=1))
    yl = tuple(as_real_array("ylim", ax.get_ylim() if ylim is None else ylim, ndim=1))
    cf = model.canonical
    segs = []
    for g in range(cf.n_gates):
        a = cf.W_in[g] @ proj.basis
        c = float(cf.W_in[g] @ proj.origin + cf.b_in[g])
        seg = _clip_line(a, c, (min(xl), max(xl)), (min(yl), max(yl)))
        if seg is not None:
            segs.append(seg)
    style = {"colors": "0.6", "linestyles": "--", "linewidths": 0.8, "zorder": 1}
    style.update(kwargs)
    coll = LineCollection(segs, label="switching borders" if segs else None, **style)
    coll.set_gid("borders")
    ax.add_collection(coll, autolim=False)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return ax


def plot_basins(model: Model, cycles: CycleSet, ax: Any = None, *, xlim: Any = None, ylim: Any = None,
                n: Any = 150, projection: Projection | None = None, alpha: float = 0.25,
                labels: np.ndarray | None = None) -> Any:
    """Shade the basins of attraction of the stable cycles (colours as in :func:`plot_cycles`).

    Uses :func:`plrnn_explorer.basins` (or ``labels`` computed by it on the
    same limits, e.g. by an interactive view); starts that diverge or do not
    converge stay white. Drawn with ``imshow`` (``gid="basins"``).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0])
    >>> ax = plot_basins(m, pe.find_cycles(m, 1, seed=0), xlim=(-1, 1), ylim=(-1, 1), n=4)
    >>> ax.images[0].get_array().shape
    (4, 4, 4)
    """
    from matplotlib.colors import to_rgba

    check_model(model)
    proj = _projection(projection, model.dim)
    ax = _axes(ax)
    xl = ax.get_xlim() if xlim is None else xlim
    yl = ax.get_ylim() if ylim is None else ylim
    if labels is None:
        labels = _basins_grid(model, cycles, xl, yl, n, projection=proj)
    else:
        labels = np.asarray(labels)
        n = (labels.shape[1], labels.shape[0])
    colours = np.array([to_rgba(stable_colour(i), alpha) for i in range(max(1, len(cycles.stable)))])
    rgba = np.where(labels[..., None] >= 0, colours[np.maximum(labels, 0) % len(_STABLE_COLOURS)], 0.0)
    xs, ys = grid_axes(xl, yl, n)
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    im = ax.imshow(rgba, origin="lower", extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
                   interpolation="nearest", aspect="auto", zorder=0)
    im.set_gid("basins")
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    return ax


def phase_portrait(model: Model, cycles: CycleSet | None = None, *, max_order: int = 10, ax: Any = None,
                   projection: Projection | None = None, xlim: Any = None, ylim: Any = None,
                   basins: bool = False, borders: bool = True, trajectories: Iterable[Any] = (),
                   n_steps: int = 300, legend: bool = True, seed: int | None = 0, basin_grid: int = 150) -> Any:
    """A complete phase portrait: basins, borders, trajectories and cycles.

    Parameters
    ----------
    model
        Model with M >= 2.
    cycles
        Its cycles; default ``find_cycles(model, max_order, seed=seed)``.
    projection
        Plane to draw in; default :func:`default_projection`.
    xlim, ylim
        Axis limits; default :func:`default_limits`.
    basins, borders
        Whether to shade basins of attraction / draw switching borders.
    trajectories
        Initial states (M,) whose orbits (``n_steps`` states) are drawn.
    basin_grid
        Grid points per axis of the basins.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]],
    ...              [0.37298253, -0.97931491])
    >>> ax = phase_portrait(m, max_order=16, trajectories=[[0.0, 0.0]])
    >>> sorted({a.get_gid() for a in ax.lines + ax.collections})
    ['borders', 'cycle', 'trajectory', 'trajectory_start']
    """
    check_model(model)
    if cycles is None:
        from ..scyfi import find_cycles

        cycles = find_cycles(model, max_order, seed=seed)
    elif not isinstance(cycles, CycleSet):
        raise TypeError(f"cycles must be a CycleSet or None, got {type(cycles).__name__}")
    proj = default_projection(model, cycles) if projection is None else _projection(projection, model.dim)
    ax = _axes(ax)
    xl, yl = xlim, ylim
    if xl is None or yl is None:  # (the sample orbit default_limits may need costs a few ms)
        dxl, dyl = default_limits(model, cycles, proj)
        xl, yl = (dxl if xl is None else xl), (dyl if yl is None else yl)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    if basins:
        plot_basins(model, cycles, ax, xlim=xl, ylim=yl, n=basin_grid, projection=proj)
    if borders:
        plot_borders(model, ax, projection=proj, xlim=xl, ylim=yl)
    for z0 in trajectories:
        plot_trajectory(model, z0, n_steps, ax, projection=proj)
    plot_cycles(cycles, ax, projection=proj, legend=legend)
    ax.set_xlim(xl)
    ax.set_ylim(yl)
    ax.set_xlabel(proj.labels[0])
    ax.set_ylabel(proj.labels[1])
    return ax
