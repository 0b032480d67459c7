"""Small building blocks shared by the panels (private): ipympl figures and the message bar."""

from __future__ import annotations

import html
import sys
import warnings

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
