"""Bifurcation diagrams, two-parameter bifurcation maps and loss curves with events."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EVENT_STYLE", "attractor_classes", "plot_branches", "plot_sweep", "plot_map", "plot_training_events"]

#: colour and short label of each event kind
EVENT_STYLE: dict[str, tuple[str, str]] = {
    "border_collision": ("tab:orange", "BCB"),
    "degenerate_transcritical": ("tab:green", "DTB"),
    "degenerate_flip": ("tab:purple", "DFB"),
    "flip": ("tab:pink", "flip"),
    "neimark_sacker": ("tab:cyan", "NS"),
    "fold": ("tab:red", "fold"),
    "appearance": ("0.4", "appear"),
    "disappearance": ("0.6", "disappear"),
}


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _style(kind: str) -> tuple[str, str]:
    return EVENT_STYLE.get(kind, ("k", kind))


def plot_sweep(sw: Any, ax: Any = None, *, coord: int = 0, events: bool = True, labels: bool = True) -> Any:
    """Bifurcation diagram: cycle points (coordinate ``coord``) against the swept parameter.

    Stable cycles are filled dots, unstable ones open circles; events are
    dashed vertical lines coloured by kind and labelled (e.g. "DFB 1" = a
    degenerate flip of a fixed point).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, plrnn_explorer as pe
    >>> sw = pe.sweep(pe.PLRNN([0.2], [[0.0]], [1.0]), "W[0,0]", np.linspace(-2, 0.5, 11), 2, seed=0)
    >>> ax = plot_sweep(sw)
    >>> len([ln for ln in ax.lines if ln.get_gid() == "event"]) == len(sw.events)
    True
    """
    ax = _axes(ax)
    xs: dict[bool, list[float]] = {True: [], False: []}
    ys: dict[bool, list[float]] = {True: [], False: []}
    for v, cs in zip(sw.values, sw.cycles):
        for c in cs:
            if coord >= c.points.shape[1]:
                raise ValueError(f"coord must be < the model dimension {c.points.shape[1]}, got {coord}")
            xs[c.stable] += [float(v)] * c.order
            ys[c.stable] += c.points[:, coord].tolist()
    _robust_ylim(ax, ys[True] + ys[False])
    ax.plot(xs[True], ys[True], "o", ms=3, color="k", label="stable", gid="stable")
    ax.plot(xs[False], ys[False], "o", ms=4, mfc="none", color="tab:red", label="unstable", gid="unstable")
    if events:
        seen = set()
        for ev in sw.events:
            colour, short = _style(ev.kind)
            ax.axvline(ev.value, color=colour, ls="--", lw=1, gid="event",
                       label=None if ev.kind in seen else ev.kind.replace("_", " "))
            seen.add(ev.kind)
            if labels:
                ax.annotate(f"{short} {ev.order}", (ev.value, 1.0), xycoords=("data", "axes fraction"),
                            rotation=90, va="top", ha="right", fontsize=7, color=colour)
    ax.set_xlabel(sw.param)
    ax.set_ylabel(f"z{coord}")
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_branches(sw: Any, ax: Any = None, *, coord: int = 0, events: bool = True, labels: bool = True,
                  legend_outside: bool = False) -> Any:
    """Bifurcation diagram with branches: each cycle continued from value to value by its itinerary.

    A cycle found at neighbouring parameter values with the same (canonical)
    itinerary is the same branch; its points are joined, solid where it is
    stable at both ends and dashed otherwise. Events are vertical lines
    coloured by kind (:data:`EVENT_STYLE`) and labelled (e.g. "DFB 1").

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import numpy as np, plrnn_explorer as pe
    >>> sw = pe.sweep(pe.PLRNN([0.2], [[0.0]], [1.0]), "W[0,0]", np.linspace(-2, 0.5, 11), 2, seed=0)
    >>> ax = plot_branches(sw)
    >>> sorted({c.get_gid() for c in ax.collections})
    ['stable', 'unstable']
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    ax = _axes(ax)
    segs: dict[bool, list[list[tuple[float, float]]]] = {True: [], False: []}
    dots: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    prev: dict[Any, Any] = {}
    prev_v = None
    for v, cs, done in zip(sw.values, sw.cycles, sw.computed):
        if not done:
            prev, prev_v = {}, None
            continue
        now = {}
        for c in cs:
            if coord >= c.points.shape[1]:
                raise ValueError(f"coord must be < the model dimension {c.points.shape[1]}, got {coord}")
            now[c.key] = c
            dots[c.stable] += [(float(v), float(y)) for y in c.points[:, coord]]
            old = prev.get(c.key)
            if old is not None:
                solid = bool(old.stable and c.stable)
                segs[solid] += [[(float(prev_v), float(a)), (float(v), float(b))]
                                for a, b in zip(old.points[:, coord], c.points[:, coord])]
        prev, prev_v = now, v
    ys = [y for d in dots.values() for _, y in d]
    _robust_ylim(ax, ys)
    ax.add_collection(LineCollection(segs[False], colors="tab:red", linestyles="--", linewidths=1.0, gid="unstable"))
    ax.add_collection(LineCollection(segs[True], colors="k", linestyles="-", linewidths=1.6, gid="stable"))
    for stable, style in ((True, {"color": "k", "ms": 2.5}), (False, {"color": "tab:red", "ms": 2.5, "mfc": "none"})):
        if dots[stable]:
            x, y = np.array(dots[stable]).T
            ax.plot(x, y, "o", gid="stable_points" if stable else "unstable_points", **style)
    handles = [Line2D([], [], color="k", lw=1.6, label="stable"),
               Line2D([], [], color="tab:red", ls="--", lw=1.0, label="unstable")]
    if events:
        seen = set()
        for ev in sw.events:
            colour, short = _style(ev.kind)
            ax.axvline(ev.value, color=colour, ls=":", lw=1, gid="event")
            if ev.kind not in seen:
                handles.append(Line2D([], [], color=colour, ls=":", label=ev.kind.replace("_", " ")))
            seen.add(ev.kind)
            if labels:
                ax.annotate(f"{short} {ev.order}", (ev.value, 1.0), xycoords=("data", "axes fraction"),
                            rotation=90, va="top", ha="right", fontsize=7, color=colour)
    ax.set_xlim(float(np.min(sw.values)), float(np.max(sw.values)))
    ax.set_xlabel(sw.param)
    ax.set_ylabel(f"z{coord}")
    where = ({"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "frameon": False}
             if legend_outside else {"loc": "best"})
    ax.legend(handles=handles, fontsize=7, **where)
    return ax


def _robust_ylim(ax: Any, y: list[float]) -> None:
    """Keep cycles running off to infinity (near a degenerate transcritical event) from flattening the plot."""
    if len(y) < 4:
        return
    lo, hi = np.percentile(y, [2, 98])
    r = max(hi - lo, 1e-9)
    if max(y) - min(y) > 10 * r:
        ax.set_ylim(lo - 0.5 * r, hi + 0.5 * r)


def attractor_classes(bm: Any) -> tuple[np.ndarray, list[str]]:
    """Classify the cells of a bifurcation map by the periods of the stable cycles present.

    Returns ``(codes, names)``: ``codes`` (len(ys), len(xs)) int indexes
    ``names`` (-1 where not computed); names read e.g. "stable fixed point",
    "stable 16-cycle", "stable 1- and 16-cycles" or "no stable cycle found".

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> bm = pe.bifurcation_map(pe.PLRNN([0.2], [[0.0]], [1.0]), ("A[0,0]", [0.1, 0.3]),
    ...                         ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    >>> codes, names = attractor_classes(bm)
    >>> names, codes.tolist()
    (['stable fixed point', 'stable 2-cycle'], [[1, 1], [0, 0], [0, 0]])
    """
    stable = np.asarray(bm.stable_counts) > 0
    orders = list(bm.orders)
    sigs = {}
    codes = np.full(stable.shape[:2], -1, np.int64)
    for i, j in np.ndindex(*stable.shape[:2]):
        if bm.computed[i, j]:
            sig = tuple(k for n, k in enumerate(orders) if stable[i, j, n])
            codes[i, j] = sigs.setdefault(sig, len(sigs))
    ordered = sorted(sigs, key=lambda s: (len(s) != 1, len(s), s))
    remap = np.array([ordered.index(s) for s in sigs] + [-1], np.int64)
    codes = remap[codes]
    return codes, [_attractor_name(s) for s in ordered]


def _attractor_name(sig: tuple[int, ...]) -> str:
    if not sig:
        return "no stable cycle found"
    if sig == (1,):
        return "stable fixed point"
    if len(sig) == 1:
        return f"stable {sig[0]}-cycle"
    return "stable " + ", ".join(f"{k}-" for k in sig[:-1]) + f" and {sig[-1]}-cycles"


def _attractor_colours(names: list[str]) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    out, i = [], 0
    for name in names:
        if name == "no stable cycle found":
            out.append("0.93")
        else:
            out.append(cmap(i % 10))
            i += 1
    return out


def plot_map(bm: Any, ax: Any = None, *, order: int | None = None, stable: bool = False, boundaries: bool = True,
             cmap: str = "viridis", by: str = "count", legend_outside: bool = False) -> Any:
    """Two-parameter map: cycles per cell, with boundary segments coloured by event kind.

    ``by="count"`` colours the number of cycles; ``by="attractors"`` colours
    each cell by the periods of the stable cycles present
    (:func:`attractor_classes`) with a discrete legend.

    Parameters
    ----------
    bm
        A :class:`~plrnn_explorer.bifurcations.BifurcationMap`.
    order
        Show the cycles of this order only (default: all orders together).
    stable
        Count stable cycles only.
    boundaries
        Draw :attr:`~plrnn_explorer.bifurcations.BifurcationMap.boundaries`.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> bm = pe.bifurcation_map(pe.PLRNN([0.2], [[0.0]], [1.0]), ("A[0,0]", [0.1, 0.3]),
    ...                         ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    >>> ax = plot_map(bm)
    >>> len(ax.collections) >= 2        # the cells and the boundary segments
    True
    """
    from matplotlib.collections import LineCollection

    ax = _axes(ax)
    if by not in ("count", "attractors"):
        raise ValueError(f"by must be 'count' or 'attractors', got {by!r}")
    if by == "attractors":
        return _plot_attractor_map(bm, ax, boundaries, legend_outside)
    counts = bm.stable_counts if stable else bm.counts
    if order is not None:
        if not 1 <= order <= counts.shape[2]:
            raise ValueError(f"order must be in 1..{counts.shape[2]}, got {order}")
        data = counts[:, :, order - 1].astype(float)
    else:
        data = counts.sum(axis=2).astype(float)
    data[~bm.computed] = np.nan
    mesh = ax.pcolormesh(_cell_bounds(bm.xs), _cell_bounds(bm.ys), data, cmap=cmap, shading="flat")
    what = ("stable " if stable else "") + ("cycles" if order is None else f"{order}-cycles")
    ax.figure.colorbar(mesh, ax=ax, label=f"number of {what}")
    if boundaries and bm.boundaries:
        kinds = sorted({s.kind for s in bm.boundaries})
        for kind in kinds:
            segs = [(s.start, s.end) for s in bm.boundaries if s.kind == kind]
            ax.add_collection(LineCollection(segs, colors=_style(kind)[0], linewidths=1.5,
                                             label=kind.replace("_", " "), gid="boundary"))
        ax.legend(fontsize=7, loc="best")
    ax.set_xlabel(bm.param_x)
    ax.set_ylabel(bm.param_y)
    return ax


def _plot_attractor_map(bm: Any, ax: Any, boundaries: bool, legend_outside: bool) -> Any:
    from matplotlib.collections import LineCollection
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    codes, names = attractor_classes(bm)
    colours = _attractor_colours(names)
    data = np.ma.masked_less(codes.astype(float), 0)
    if names:
        ax.pcolormesh(_cell_bounds(bm.xs), _cell_bounds(bm.ys), data, cmap=ListedColormap(colours),
                      vmin=-0.5, vmax=len(names) - 0.5, shading="flat", gid="attractors")
    handles = [Patch(facecolor=c, edgecolor="0.6", label=n) for c, n in zip(colours, names)]
    if boundaries and bm.boundaries:
        for kind in sorted({s.kind for s in bm.boundaries}):
            segs = [(s.start, s.end) for s in bm.boundaries if s.kind == kind]
            lc = LineCollection(segs, colors=_style(kind)[0], linewidths=1.5, label=kind.replace("_", " "),
                                gid="boundary")
            ax.add_collection(lc)
            handles.append(lc)
    if handles:
        where = ({"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, "frameon": False}
                 if legend_outside else {"loc": "best"})
        ax.legend(handles=handles, fontsize=7, **where)
    ax.set_xlabel(bm.param_x)
    ax.set_ylabel(bm.param_y)
    return ax


def _cell_bounds(v: np.ndarray) -> np.ndarray:
    """Cell edges around grid values (midpoints; half a step beyond the ends)."""
    v = np.asarray(v, float)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def plot_training_events(ta: Any, ax: Any = None, *, log: bool = False) -> Any:
    """Loss per checkpoint with the bifurcation events marked at their (fractional) epochs.

    Without losses, the number of cycles per checkpoint is drawn instead. A
    checkpoint whose loss is not finite (a diverged run) is marked with a red
    cross at the top of the axes.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import plrnn_explorer as pe
    >>> ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]
    >>> ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, 1.0], epochs=[0, 10, 20], seed=0)
    >>> ax = plot_training_events(ta)
    >>> len([ln for ln in ax.lines if ln.get_gid() == "event"])
    2
    """
    ax = _axes(ax)
    if ta.losses is not None:
        y, ylabel = ta.losses, "loss"
    else:
        y, ylabel = np.array([len(cs) for cs in ta.cycles], float), "number of cycles"
    ax.plot(ta.epochs, y, ".-", color="k", lw=1.2, ms=3, label=ylabel, gid="loss")
    bad = ~np.isfinite(np.asarray(y, float))
    if bad.any():  # a diverged checkpoint (loss inf or NaN) is data: mark it at the top of the axes
        from matplotlib.transforms import blended_transform_factory

        ax.plot(np.asarray(ta.epochs)[bad], np.full(int(bad.sum()), 0.97), "x", color="r", ms=8, mew=2,
                transform=blended_transform_factory(ax.transData, ax.transAxes), gid="diverged",
                label=f"{ylabel} not finite (diverged)")
    seen = set()
    for ev in ta.events:
        colour, short = _style(ev.kind)
        ax.axvline(ev.epoch, color=colour, ls="--", lw=1, gid="event",
                   label=None if ev.kind in seen else ev.kind.replace("_", " "))
        ax.plot([ev.epoch], [np.interp(ev.epoch, ta.epochs, y)], "o", color=colour, ms=6, gid="event_marker")
        seen.add(ev.kind)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7, loc="best")
    return ax
