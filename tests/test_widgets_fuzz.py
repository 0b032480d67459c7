"""Odd values in every panel input never kill a widget: no exception escapes a callback, a message is shown,
and the model (and the rest of the state) is unchanged.

Inputs are set the way the front end sets them (``widget.set_state``), so an exception raised by an observer
would escape here exactly as it would reach ipykernel's comm handler. Matplotlib callbacks (the map's click)
run with an exception handler that re-raises, instead of matplotlib's default of printing and going on.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

import plrnn_explorer as pe
from plrnn_explorer import widgets
from plrnn_explorer.widgets._param_row import VALUE_LIMIT

ODD_TEXT = ["abc", "", "   ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e309", "1" * 400,
            "-" + "9" * 40, "0x10", "1,5", "None", "[1]", "1e", "--1", "2j", "1e12", "1.0000001e12", "-0",
            "-0.0", "5e-324", " 0.25 ", "1_000", "\u0663", "\x00", "😀"]


@pytest.fixture(scope="module")
def explorer():
    gt16 = pe.systems.gt16()
    ckpts = [gt16.set_param("A[0,0]", a) for a in (0.80, 0.82, 0.84)]
    run = type("Run", (), {"checkpoints": ckpts, "losses": np.array([3.0, 2.0, 1.0]), "epochs": np.arange(3)})()
    ex = widgets.Explorer(gt16, max_order=4, params=["A[0,0]", "W[1,0]", "h[1]"], run=run, debounce=0)
    for canvas in (ex.portrait.canvas, ex.bifurcation_map.canvas, ex.training.canvas, ex.diagram.canvas):
        canvas.callbacks.exception_handler = _reraise
    return ex


def _reraise(exc):
    raise exc


def _expected(text: str) -> float | None:
    """The value a typed text must give, or None if it must be refused (an independent reading of the rule)."""
    try:
        v = float(text.strip())
    except ValueError:
        return None
    return v if math.isfinite(v) and abs(v) <= VALUE_LIMIT else None


@pytest.mark.parametrize("text", ODD_TEXT)
def test_number_boxes(explorer, text):
    st = explorer.state
    for path, row in explorer.parameters.rows.items():
        before = st.model
        explorer.model = before.set_param(path, 0.125)                  # a known start (from code: exact)
        before = st.model
        row.box.set_state({"value": text})
        want = _expected(text)
        if want is None:
            assert st.model is before and row.message.value != "", (path, text)
            assert row.box.value == repr(0.125)                         # the box shows the model again
        else:
            assert st.model.get_param(path) == want and row.message.value == ""
            others = [p for p in before.param_paths() if p != st.model.canonical_path(path)]
            assert all(st.model.get_param(p) == before.get_param(p) for p in others)


@pytest.mark.parametrize("text", ODD_TEXT)
@pytest.mark.parametrize("box", ["low", "high", "step"])
def test_range_and_step_boxes(explorer, text, box):
    st = explorer.state
    row = explorer.parameters.rows["W[1,0]"]
    row.restore_range()
    before, rng = st.model, (row.lo, row.hi, row.n)
    getattr(row, box).set_state({"value": text})
    assert st.model is before                                          # a range never changes the model
    new = (row.lo, row.hi, row.n)
    if new == rng and _expected(text) is None:
        assert row.message.value != ""
    assert row.lo < row.hi and 1 <= row.n and math.isfinite(row.lo) and math.isfinite(row.hi)
    assert row.slider.max == row.n and 0 <= row.slider.value <= row.n


@pytest.mark.parametrize("text", ["A[0]", "A[-1,-1]", "A[ 0 , 0 ]", "A[0,0,0]", "A[", "A", "a[0]", "W[9,9]",
                                  "W[1.5,0]", "W[99999999999999999999999,0]", "h[-3]", "", "  ", "😀[0]"])
def test_picker(explorer, text):
    p = explorer.parameters
    before, params = explorer.state.model, list(p.params)
    explorer.state.message = ""
    p.picker.set_state({"value": text})
    p.add_button.click()
    assert explorer.state.model is before
    assert len(set(explorer.state.model.canonical_path(q) for q in p.params)) == len(p.params)   # no alias twice
    if p.params == params and text.strip():
        assert explorer.state.message != "" or text.replace(" ", "") in ("A[0]", "A[-1,-1]", "A[0,0]")
    for q in p.params:
        if q not in params:
            p.remove_param(q)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 5e-324, 1e12])
@pytest.mark.parametrize("box", ["x_low", "x_high", "y_low", "y_high"])
def test_map_ranges_then_compute_and_click(explorer, value, box):
    bp, st = explorer.bifurcation_map, explorer.state
    saved = {b: getattr(bp, b).value for b in ("x_low", "x_high", "y_low", "y_high")}
    before = st.model
    try:
        getattr(bp, box).set_state({"value": value})
        st.message = ""
        ok = True
        try:
            bp.grid()
        except ValueError:
            ok = False
        if not ok:
            bp.compute()
            assert bp.jobs.wait(60) and bp.jobs.status.value.startswith('<span style="color:#a94442">failed')
            bp.canvas.draw()
            MouseEvent("button_press_event", bp.canvas, *bp.ax.transAxes.transform((0.5, 0.5)), button=1)._process()
            assert st.model is before and st.message != ""
    finally:
        for b, v in saved.items():
            getattr(bp, b).value = v


@pytest.mark.parametrize("pair", [("A[0]", "A[0,0]"), ("A[-1,-1]", "A[1,1]"), ("h[0]", "h[-2]")])
def test_map_axes_that_alias_one_entry_are_refused(explorer, pair):
    bp, st = explorer.bifurcation_map, explorer.state
    before, params = st.model, bp.params
    with pytest.raises(ValueError, match="same parameter entry"):
        bp.set_params(*pair)
    assert bp.params == params
    with pytest.raises(ValueError, match="same parameter entry"):
        widgets.BifurcationMapPanel(st.model, list(pair))
    # the same through the dropdowns: a message, and Compute refuses with a message
    st.message = ""
    bp.y_param.set_state({"index": bp.x_param.index})
    assert "same parameter entry" in st.message and st.model is before
    bp.compute()
    assert bp.jobs.wait(60) and "same parameter entry" in bp.jobs.status.value
    bp.set_params(*params)


@pytest.mark.parametrize("value", [0, -1, 10**20, 10**6, 2.5, "16", None, float("nan")])
def test_max_order(explorer, value):
    st = explorer.state
    before, order, cycles = st.model, st.max_order, st.cycles
    with pytest.raises(Exception) as info:
        st.max_order = value
    assert type(info.value).__name__ == "TraitError"
    assert st.model is before and st.max_order == order and st.cycles is cycles


@pytest.mark.parametrize("index", [-1, 3, 10**20, "x", None])
def test_epoch_picker(explorer, index):
    tp, st = explorer.training, explorer.state
    before, epoch = st.model, tp.epoch.value
    with pytest.raises(Exception) as info:
        tp.epoch.set_state({"index": index})
    assert type(info.value).__name__ in ("TraitError", "TypeError")        # refused by the widget itself
    assert st.model is before and tp.epoch.value == epoch


@pytest.mark.parametrize("name, content", [("m.json", b"{not json"), ("m.json", b"[]"), ("m.json", b'{"A": "x"}'),
                                           ("m.npz", b"PK\x03\x04garbage"), ("m.mat", b"MATLAB 5.0 garbage"),
                                           ("m.pt", b"\x80\x02garbage"), ("m.txt", b"1 2 3"), ("m", b""),
                                           ("m.json", b'{"A": [1e400, 0], "W": [[0, 0], [0, 0]], "h": [0, 0]}')])
def test_upload_of_a_broken_file(name, content):
    from plrnn_explorer.widgets.app import App

    app = App(pe.systems.gt16(), max_order=2)
    ex, before = app.explorer, app.explorer.model
    app.upload.set_state({"value": [{"name": name, "type": "", "size": len(content), "content": content,
                                     "last_modified": 0}]})
    assert "could not load" in app.source.value and "color:#a94442" in app.source.value
    assert app.explorer is ex and ex.model is before
