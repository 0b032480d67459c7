"""One parameter's slider, exact number box and range settings (private).

The model holds the exact value; the row only shows it. The slider is an
integer slider over grid indices ``0..n`` of the row's range, so the browser
never rounds a value the kernel sent and never sends a rounded copy back:
only a real slider move produces a new index, which becomes the grid value
``low + (high - low) * index / n``. The number box is text parsed in the
kernel, so a typed ``0.5`` reaches the model as the double nearest to 0.5,
and it shows the model's value as the shortest text that reads back exactly.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as W

__all__ = ["MAX_STEPS", "VALUE_LIMIT", "ParameterRow", "parse_value"]

#: most grid steps a slider gets (a wider range coarsens the step)
MAX_STEPS = 100_000
#: largest |value| the panels accept: beyond it every orbit overflows and a slider range is meaningless
VALUE_LIMIT = 1e12
#: default number of slider steps over a range
DEFAULT_STEPS = 1000


def parse_value(path: str, text: Any) -> float:
    """The number typed for ``path``; ValueError with a message for the user if it is not acceptable.

    Examples
    --------
    >>> parse_value("A[0,0]", " 0.5 "), parse_value("h[1]", "-5")
    (0.5, -5.0)
    >>> parse_value("A[0,0]", "abc")
    Traceback (most recent call last):
    ...
    ValueError: A[0,0]: 'abc' is not a number
    >>> parse_value("A[0,0]", "1e308")
    Traceback (most recent call last):
    ...
    ValueError: A[0,0]: 1e+308 is too large (|value| must be at most 1e+12)
    """
    try:
        v = float(str(text).strip())
    except ValueError:
        raise ValueError(f"{path}: {str(text).strip()!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}: must be a finite number, got {v}")
    if abs(v) > VALUE_LIMIT:
        raise ValueError(f"{path}: {v:g} is too large (|value| must be at most {VALUE_LIMIT:g})")
    return v


def _check_range(path: str, lo: float, hi: float) -> None:
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"range of {path} must be two finite numbers low < high, got ({lo}, {hi})")
    if max(abs(lo), abs(hi)) > VALUE_LIMIT:
        raise ValueError(f"range of {path} must lie within +-{VALUE_LIMIT:g}, got ({lo}, {hi})")


def _n_steps(span: float, step: float) -> int:
    """Grid steps of about ``step`` over ``span``: 1 to :data:`MAX_STEPS` (a tiny step or a huge ratio gives the most)."""
    ratio = span / step
    return int(max(1, round(ratio))) if math.isfinite(ratio) and ratio < MAX_STEPS else MAX_STEPS


class ParameterRow(W.VBox):
    """Slider, exact number box, range/step settings and a message line for one parameter path.

    ``propose(path, value, from_slider)`` is called with a value the user asked
    for; the owner applies it to the model and calls :meth:`show` with the
    model's value.

    Examples
    --------
    >>> asked = []
    >>> row = ParameterRow("A[0,0]", 0.5, (-1.0, 1.0), lambda p, v, s: asked.append((v, s)))
    >>> row.slider.max, row.slider.value, row.box.value
    (1000, 750, '0.5')
    >>> row.slider.value = 751; row.box.value = "0.9"
    >>> asked
    [(0.502, True), (0.9, False)]
    >>> row.show(0.4987); row.slider.value            # a value between grid points: nearest index
    749
    >>> row.slider.value = 750; asked[-1]             # a real move off it
    (0.5, True)
    """

    def __init__(self, path: str, value: float, rng: tuple[float, float], propose: Callable[[str, float, bool], Any],
                 *, step: float | None = None, on_remove: Callable[[str], Any] | None = None) -> None:
        self.path = path
        self._propose = propose
        self._quiet = False
        lo, hi = float(rng[0]), float(rng[1])
        _check_range(path, lo, hi)
        self.value = float(value)
        self.slider = W.IntSlider(value=0, min=0, max=1, readout=False, continuous_update=True, description=path,
                                  layout=W.Layout(width="340px"), style={"description_width": "64px"})
        self.box = W.Text(value="", continuous_update=False, layout=W.Layout(width="120px"))
        self.box.add_class("plrnn-param-box")
        self.message = W.HTML("").add_class("plrnn-param-message")
        self.low = W.Text(description="low", continuous_update=False, layout=W.Layout(width="130px"),
                          style={"description_width": "30px"})
        self.high = W.Text(description="high", continuous_update=False, layout=W.Layout(width="130px"),
                           style={"description_width": "30px"})
        self.step = W.Text(description="step", continuous_update=False, layout=W.Layout(width="130px"),
                           style={"description_width": "30px"})
        self.settings = W.HBox([self.low, self.high, self.step], layout=W.Layout(display="none"))
        self.settings_button = W.ToggleButton(icon="sliders", tooltip="range and step of this slider",
                                              layout=W.Layout(width="32px"))
        self.settings_button.observe(lambda ch: setattr(self.settings.layout, "display", None if ch["new"] else "none"),
                                     names="value")
        self.remove_button = W.Button(icon="times", tooltip=f"remove {path} from the sliders",
                                      layout=W.Layout(width="32px"))
        if on_remove is not None:
            self.remove_button.on_click(lambda _: on_remove(self.path))
        else:
            self.remove_button.layout.display = "none"
        self.set_range(lo, hi, step if step is not None else (hi - lo) / DEFAULT_STEPS)
        self.initial_range = (self.lo, self.hi, self.n)
        self.show(self.value)
        self.slider.observe(self._on_slider, names="value")
        self.box.observe(self._on_box, names="value")
        for w in (self.low, self.high, self.step):
            w.observe(self._on_settings, names="value")
        super().__init__([W.HBox([self.slider, self.box, self.settings_button, self.remove_button]),
                          self.settings, self.message])
        self.add_class("plrnn-param-row")

    # -- grid ------------------------------------------------------------------
    def value_at(self, index: int) -> float:
        """The parameter value at slider index ``index``, rounded 3 digits finer than the step; ends exact."""
        if index >= self.n:
            return self.hi
        v = self.lo + (self.hi - self.lo) * index / self.n
        step = (self.hi - self.lo) / self.n
        digits = max(1, math.ceil(math.log10(max(abs(v), step) / step)) + 3)  # 3 digits finer than the step
        return float(f"{v:.{digits}g}")  # 0.2, not 0.19999999999999996

    def index_of(self, value: float) -> int:
        """The slider index nearest to ``value``."""
        return int(min(self.n, max(0, round((value - self.lo) / (self.hi - self.lo) * self.n))))

    def set_range(self, lo: float, hi: float, step: float) -> None:
        """Slider range ``[lo, hi]`` in steps of about ``step`` (at most :data:`MAX_STEPS` steps)."""
        _check_range(self.path, lo, hi)
        if not (math.isfinite(step) and step > 0):
            raise ValueError(f"step of {self.path} must be a positive number, got {step}")
        self.n = _n_steps(float(hi) - float(lo), step)
        self.lo, self.hi = float(lo), float(hi)
        self._sync()

    def restore_range(self) -> None:
        """Back to the range and step the row started with."""
        self.lo, self.hi, self.n = self.initial_range
        self._sync()

    # -- model -> widgets ----------------------------------------------------
    def show(self, value: float) -> None:
        """Show the model's exact ``value``; the range grows to include it."""
        self.value = float(value)
        if not self.lo <= value <= self.hi:
            step = (self.hi - self.lo) / self.n
            self.lo, self.hi = min(self.lo, value), max(self.hi, value)
            self.n = _n_steps(self.hi - self.lo, step)
        self._sync()

    def _sync(self) -> None:
        self._quiet = True
        try:
            with self.slider.hold_sync():
                self.slider.max = self.n
                self.slider.value = self.index_of(self.value)
            self.box.value = repr(self.value)
            self.low.value, self.high.value = repr(self.lo), repr(self.hi)
            self.step.value = f"{(self.hi - self.lo) / self.n:.6g}"
        finally:
            self._quiet = False

    def set_disabled(self, disabled: bool) -> None:
        """Grey out (a model without this entry) or enable the row."""
        for w in (self.slider, self.box, self.low, self.high, self.step):
            w.disabled = disabled

    def say(self, text: str) -> None:
        """Show ``text`` (an error) next to the box; "" clears it."""
        self.message.value = (f'<span style="color:#a94442">{html.escape(text)}</span>' if text else "")

    # -- user -> owner -----------------------------------------------------------
    def _on_slider(self, change: Any) -> None:
        if self._quiet or change["new"] == self.index_of(self.value):
            return  # set by the kernel, or the model already sits at this grid point
        self._propose(self.path, self.value_at(int(change["new"])), True)

    def _on_box(self, change: Any) -> None:
        if self._quiet:
            return
        try:
            v = parse_value(self.path, change["new"])
        except ValueError as exc:
            self.say(str(exc))
            self._sync()  # the box shows the model's value again
            return
        self._propose(self.path, v, False)

    def _on_settings(self, change: Any) -> None:
        if self._quiet:
            return
        try:
            lo = parse_value(f"low of {self.path}", self.low.value)
            hi = parse_value(f"high of {self.path}", self.high.value)
            step = parse_value(f"step of {self.path}", self.step.value)
            self.set_range(lo, hi, step)
        except ValueError as exc:
            self.say(str(exc))
            self._sync()
            return
        self.say("")

