"""Small building blocks shared by the panels (private): ipympl figures, a blitted layer, the message bar."""

from __future__ import annotations

import html
import sys
import warnings
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import ipywidgets as W
import matplotlib
from matplotlib.figure import Figure

from .state import ExplorerState


def _ipympl_classes() -> tuple[type, type]:
    """ipympl's ``Canvas`` and ``FigureManager``, imported without changing pyplot's backend.

    Importing ipympl makes it pyplot's backend (``matplotlib.use`` in its
    ``__init__``). Panels only need its canvas class, so a backend the user had
    already chosen (e.g. inline, or Agg in scripts and tests) is restored.
    """
    if "ipympl.backend_nbagg" not in sys.modules:
        before = dict.get(matplotlib.rcParams, "backend")  # raw value: not resolved yet if not a str
        import ipympl.backend_nbagg  # noqa: F401

        if isinstance(before, str) and dict.get(matplotlib.rcParams, "backend") != before:
            matplotlib.use(before)
    from ipympl.backend_nbagg import Canvas, FigureManager

    return Canvas, FigureManager


def canvas_figure(figsize: tuple[float, float] = (5.5, 4.5)) -> Figure:
    """A matplotlib figure on an ipympl canvas (an ipywidget), not registered with pyplot.

    The canvas, ``fig.canvas``, is the widget to display. It works without a
    kernel too (tests, nbconvert): drawing then renders off screen. Keeping the
    figure out of pyplot's figure manager means ``plt.show()`` or ``%matplotlib
    widget`` never display it a second time.
    """
    Canvas, FigureManager = _ipympl_classes()
    fig = Figure(figsize=figsize)
    fig.subplots_adjust(left=0.15, right=0.97, bottom=0.12, top=0.97)  # fixed: a layout engine costs ~15 ms a frame
    canvas = Canvas(fig)
    with warnings.catch_warnings():  # ipympl 0.10's Toolbar passes its canvas on to traitlets, which warns
        warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
        FigureManager(canvas, 0)  # gives the canvas its toolbar (pan, zoom, save)
    canvas.header_visible = False
    canvas.toolbar_position = "left"
    return fig


def clear_axes(ax) -> None:
    """Remove the plotted artists of ``ax`` but keep its ticks (``ax.clear()`` rebuilds them: slow)."""
    for artist in [*ax.lines, *ax.collections, *ax.images, *ax.texts, *ax.patches]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()


class BlitLayer:
    """Redraw only the artists that change (a slider step) over a cached picture of the rest (blitting).

    A full figure draw renders the axes frame, ticks, labels and legends:
    most of the time of a frame (text layout). The layer's artists
    (``artists()``) are marked animated, so a full draw leaves them out; at
    the end of every full draw the picture is cached and the layer drawn on
    top. :meth:`update` then restores the cached picture, draws only the layer
    and sends the changed pixels (ipympl's ``blit``), with no round trip to the
    browser; it falls back to a full draw when ``static_key()`` (whatever the
    cached picture shows: limits, labels, legend entries) has changed or no
    picture is cached yet.

    Examples
    --------
    >>> fig = canvas_figure((3, 2)); ax = fig.add_subplot()
    >>> (line,) = ax.plot([0, 1], [0, 1])
    >>> layer = BlitLayer(fig, lambda: ax.lines, lambda: ax.get_xlim())
    >>> layer.update()                     # nothing cached yet: a full draw is asked for
    'full'
    >>> fig.canvas.draw(); line.set_ydata([1, 0]); layer.update()
    'blit'
    >>> _ = ax.set_xlim(0, 2); layer.update()  # the static part changed
    'full'
    """

    def __init__(self, figure: Figure, artists: Callable[[], Sequence[Any]],
                 static_key: Callable[[], Hashable]) -> None:
        self.figure, self.canvas = figure, figure.canvas
        self._artists, self._static_key = artists, static_key
        self._background: Any = None
        self._key: Hashable = None
        self.draw_callback = self.canvas.mpl_connect("draw_event", self._on_draw)

    def _layer(self) -> list[Any]:
        layer = sorted(self._artists(), key=lambda a: a.get_zorder())  # matplotlib's drawing order
        for a in layer:
            a.set_animated(True)
        return layer

    def _on_draw(self, event: Any) -> None:
        layer = self._layer()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._key = self._static_key()
        for a in layer:
            self.figure.draw_artist(a)

    def update(self) -> str:
        """Show the layer's new state: ``"blit"`` (cheap) or ``"full"`` (a full draw was asked for)."""
        layer = self._layer()
        if self._background is None or self._static_key() != self._key:
            self._background = None
            self.canvas.draw_idle()
            return "full"
        self.canvas.restore_region(self._background)
        for a in layer:
            self.figure.draw_artist(a)
        self.canvas.blit(self.figure.bbox)
        return "blit"

    def invalidate(self) -> None:
        """The static part changed in a way ``static_key`` does not see: the next update draws in full."""
        self._background = None
        self.canvas.draw_idle()


class MessageBar(W.HTML):
    """Shows ``state.message`` (errors and warnings); empty and invisible when there is none."""

    def __init__(self, state: ExplorerState) -> None:
        super().__init__()
        self.add_class("plrnn-message")
        self._state = state
        state.observe(self._show, names="message")
        self._show()

    def _show(self, change: object = None) -> None:
        text = self._state.message
        self.value = (f'<div style="color:#a94442;background:#f2dede;padding:4px 8px;border-radius:3px">'
                      f"{html.escape(text)}</div>") if text else ""
