"""Headless tests of the panels: set values, assert state, cycles and plotted data changed."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from traitlets import TraitError

import plrnn_explorer as pe
from plrnn_explorer import widgets
from plrnn_explorer.widgets._debounce import Debouncer

GT16 = {"A": [0.8377689, 0.96461297], "W": [[0, -0.64375], [0.52505308, 0]], "h": [0.37298253, -0.97931491]}


@pytest.fixture
def gt16():
    return pe.PLRNN(**GT16)


def click(fig, ax, x, y, name="button_press_event"):
    """Simulate a mouse event at data coordinates (x, y) of ``ax``."""
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    MouseEvent(name, fig.canvas, px, py, button=1)._process()


def lines(ax, gid):
    return [ln for ln in ax.lines if ln.get_gid() == gid]


# -- state ------------------------------------------------------------------------------
def test_state_recomputes_on_model_change_and_keeps_state_on_error(gt16):
    st = widgets.ExplorerState(gt16, max_order=16)
    assert [c.order for c in st.cycles.stable] == [16]
    seen = []
    st.observe(lambda ch: seen.append(ch["new"]), names="cycles")
    st.model = gt16.set_param("A[0,0]", 0.5)
    assert len(seen) == 1 and seen[0] is st.cycles
    fp = st.cycles[1][0]
    assert np.allclose(st.model.step(fp.points[0]), fp.points[0])
    before_model, before_cycles = st.model, st.cycles
    assert not st.apply(lambda m: m.set_param("W[5,5]", 1.0))
    assert "W[5,5]" in st.message
    assert st.model is before_model and st.cycles is before_cycles
    with pytest.raises(TraitError):
        st.cycles = None


def test_state_search_failure_shows_message_and_no_stale_cycles(gt16, monkeypatch):
    st = widgets.ExplorerState(gt16, max_order=4)
    pp = widgets.PhasePortrait(st)

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(widgets.state, "find_cycles", broken)
    st.model = gt16.set_param("h[0]", 0.5)
    assert st.message == "cycle search failed: RuntimeError: solver exploded"
    assert st.cycles is None and lines(pp.ax, "cycle") == [] and pp.summary.value == "no cycles computed"


def test_state_reports_singular_configuration():
    st = widgets.ExplorerState(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, 1.0]), max_order=2)
    assert st.message == ""
    st.model = pe.PLRNN([1.0, 0.5], [[0, 0], [0, 0]], [0.0, 0.0])   # a line of fixed points
    assert st.message.startswith("singular configuration")
    assert st.cycles.degenerate


def test_state_search_matches_exhaustive_on_small_orders(gt16):
    st = widgets.ExplorerState(gt16, max_order=6)
    for a in (0.3, 0.6, 0.9, 1.1):
        st.model = gt16.set_param("A[1,1]", a)
        assert st.cycles.keys() == pe.exhaustive_cycles(st.model, 6).keys()


# -- debouncing ----------------------------------------------------------------------------
def test_debouncer_coalesces_a_burst():
    calls = []
    d = Debouncer(lambda: calls.append(1), delay=0.05)
    for _ in range(10):
        d()
    assert calls == [1] and d.pending                         # the first at once, the rest wait
    import time

    time.sleep(0.3)
    assert calls == [1, 1] and not d.pending
    time.sleep(0.1)
    d()                                                        # after a quiet spell: at once again
    assert calls == [1, 1, 1] and not d.pending
    lazy = Debouncer(lambda: calls.append(2), delay=10.0, leading=False)
    lazy()
    assert calls[-1] == 1 and lazy.pending
    lazy.flush()
    assert calls[-1] == 2
    with pytest.raises(ValueError, match="delay"):
        Debouncer(lambda: None, -1)


def test_debouncer_uses_the_running_event_loop():
    """In a kernel the call runs on the event loop's thread, like every widget callback."""
    import asyncio
    import threading

    threads = []
    d = Debouncer(lambda: threads.append(threading.get_ident()), delay=0.02)

    async def drag():
        for _ in range(5):
            d()
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.1)

    asyncio.run(drag())
    assert threads == [threading.get_ident()] * 2              # the leading call and the trailing one


def test_jobs_hand_results_back_to_the_event_loop():
    import asyncio
    import threading

    from plrnn_explorer.widgets._jobs import JobControls

    where = {}

    def work(progress, cancelled):
        where["work"] = threading.get_ident()
        progress(1, 2)
        return 42

    def done(result, cancelled):
        where["done"], where["result"] = threading.get_ident(), result

    async def main():
        jc = JobControls("Run", work, done)
        jc.start()
        while "done" not in where:
            await asyncio.sleep(0.01)
        return jc

    jc = asyncio.run(main())
    assert where["result"] == 42 and where["done"] == threading.get_ident() != where["work"]
    assert jc.status.value.startswith("done") and not jc.run_button.disabled


def test_two_jobs_run_at_once_and_cancel_lets_go_within_a_second():
    import threading
    import time

    from plrnn_explorer.widgets._jobs import JobControls

    inside, overlap = [], []

    def work(progress, cancelled):
        for i in range(30):
            if cancelled():
                return i
            inside.append(threading.get_ident())
            if len(set(inside[-2:])) > 1:
                overlap.append(i)
            time.sleep(0.01)                                  # a "slice" of work
            progress(i + 1, 30)
        return 30

    results = []
    a = JobControls("A", work, lambda r, c: results.append(r))
    b = JobControls("B", work, lambda r, c: results.append(r))
    a.start(); b.start()
    assert a.wait(20) and b.wait(20)
    assert sorted(results) == [30, 30] and overlap              # both finished, slices interleaved

    def stubborn(progress, cancelled):                          # one slice that takes 5 s
        time.sleep(5)
        return "late"

    late = []
    c = JobControls("C", stubborn, lambda r, cancelled: late.append(r))
    c.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    c.cancel()
    assert time.monotonic() - t0 < 1.5 and not c.running and not c.run_button.disabled
    assert "cancelled" in c.status.value
    c.job.join(10)
    assert late == []                                           # the late result is dropped


def test_panels_keep_no_lock_of_their_own():
    """One mechanism serialises numba-parallel kernels: the library's parallel_section."""
    from plrnn_explorer.widgets import _jobs

    assert not hasattr(_jobs, "NUMBA_LOCK") and not hasattr(_jobs, "FairLock")


def test_status_says_when_numba_compiles_on_first_use():
    import threading

    import numba

    from plrnn_explorer.widgets._jobs import compile_note, compiling

    assert not compiling() and compile_note() == ""
    seen = []

    @numba.njit
    def fresh(x):                                                # never compiled before: compiles on this call
        return x + 1

    stop = threading.Event()

    def poll():
        while not stop.is_set():
            seen.append(compile_note())

    t = threading.Thread(target=poll)
    t.start()
    fresh(1)
    stop.set(); t.join()
    assert "compiling on first use" in "".join(seen) and compile_note() == ""


# -- cycle searches off the main thread ---------------------------------------------------------
def _in_loop(coro_fn, timeout=600):
    import asyncio

    return asyncio.run(asyncio.wait_for(coro_fn(), timeout))


def test_panel_changes_search_on_a_worker_and_the_newest_model_wins(gt16):
    import asyncio
    import threading

    st = widgets.ExplorerState(gt16, max_order=16)
    panel = widgets.ParameterPanel(st, ["A[0,0]"], debounce=0, show_message=False)
    pp = widgets.PhasePortrait(st, show_message=False)
    c16 = st.cycles.stable[0]
    pp.selected = c16
    where, seen = [], []
    real = widgets.state.find_cycles

    def spy(model, *args, **kwargs):
        where.append(threading.get_ident())
        return real(model, *args, **kwargs)

    st.observe(lambda ch: seen.append((st.cycles_model, ch["new"])), names="cycles")
    row = panel.rows["A[0,0]"]
    values = [row.value_at(row.index_of(0.8377689) + i) for i in range(1, 6)]

    async def drag():
        widgets.state.find_cycles = spy
        try:
            for v in values:                                       # five steps faster than a search
                panel.sliders["A[0,0]"].value = row.index_of(v)
                assert st.searching and st.model.get_param("A[0,0]") == v   # the model is the newest at once
                assert "previous parameters" in pp.info.value      # the info line never passes for the new model's
                await asyncio.sleep(0)
            return await st.until_current(600)
        finally:
            widgets.state.find_cycles = real

    assert _in_loop(drag)
    assert where and threading.get_ident() not in where             # never searched on the loop's thread
    assert st.cycles_model is st.model and st.model.get_param("A[0,0]") == values[-1]
    # stale results are never shown: every delivered CycleSet belongs to the model it is shown with, in order
    shown = [m.get_param("A[0,0]") for m, _ in seen]
    assert shown == sorted(shown) and shown[-1] == values[-1]
    for model, cycles in seen:                                     # each result belongs to its model
        for c in cycles:
            z = c.points[0]
            assert np.allclose(model.simulate(z, c.order + 1)[-1], z, atol=1e-8 * (1 + np.abs(z).max()))
    if pp.selected is not None:
        assert pp.info.value == widgets.phase_portrait.cycle_info(pp.selected) and pp.selected in list(st.cycles)
    else:
        assert "no longer exists" in pp.info.value
    assert f"A[0,0]={values[-1]:.6g}" in pp.ax.get_title()


def test_a_model_set_from_code_is_searched_at_once_even_inside_a_loop(gt16):
    st = widgets.ExplorerState(gt16, max_order=4)

    async def set_from_code():
        st.model = gt16.set_param("h[0]", 0.5)
        return st.cycles_model is st.model and not st.searching

    assert _in_loop(set_from_code)


def test_slow_background_search_shows_busy_status(gt16, monkeypatch):
    import asyncio
    import time

    st = widgets.ExplorerState(gt16, max_order=4)
    pp = widgets.PhasePortrait(st, show_message=False)
    real = widgets.state.find_cycles

    def slow(*args, **kwargs):
        time.sleep(0.8)
        return real(*args, **kwargs)

    monkeypatch.setattr(widgets.state, "find_cycles", slow)
    busy = []

    async def change():
        st.apply(lambda m: m.set_param("h[0]", 0.5))
        t0 = time.monotonic()
        while st.searching:
            busy.append((round(time.monotonic() - t0, 2), st.busy, pp.summary.value))
            await asyncio.sleep(0.05)
        return True

    assert _in_loop(change)
    texts = [b for _, b, _ in busy if b]
    assert texts and texts[-1].startswith("searching cycles up to order 4") and texts[-1].endswith(" s")
    assert any(s.startswith("searching cycles") for _, _, s in busy)     # shown in the portrait's summary
    assert all(t >= widgets.state.BUSY_DELAY - 0.06 for t, b, _ in busy if b)   # quick searches stay silent
    assert st.busy == "" and pp.summary.value == widgets.phase_portrait.cycle_summary(st.cycles)


WORKQUEUE_SCRIPT = """
import numpy as np, plrnn_explorer as pe
from plrnn_explorer import widgets
gt16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
ckpts = [gt16.set_param("A[0,0]", a) for a in np.linspace(0.3, 0.84, 8)]
run = type("Run", (), {"checkpoints": ckpts, "losses": np.ones(8), "epochs": np.arange(8)})()
ex = widgets.Explorer(gt16, max_order=4, debounce=0, run=run)
ex.bifurcation_map.n.value = 30
ex.bifurcation_map.compute(); ex.training.analyze(); ex.portrait.basins_box.value = True
ok = ex.bifurcation_map.jobs.wait(600), ex.training.jobs.wait(600), ex.portrait.wait_for_basins(600)
import numba
print(numba.threading_layer(), all(ok), ex.bifurcation_map.jobs.status.value.split()[0],
      ex.training.jobs.status.value.split()[0])
"""


def test_three_jobs_at_once_are_safe_under_numbas_workqueue_layer():
    """workqueue aborts the process on concurrent parallel launches (without the lock this script dies)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    out = subprocess.run([sys.executable, "-c", WORKQUEUE_SCRIPT], capture_output=True, text=True, timeout=900,
                         env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["workqueue", "True", "done", "done"]


def test_basins_coarse_to_fine_levels_equal_basins_and_stop_on_budget_or_cancel(gt16):
    from plrnn_explorer.attraction import basins_coarse_to_fine

    cyc = pe.find_cycles(gt16, 16, seed=0)
    levels = list(basins_coarse_to_fine(gt16, cyc, (-2, 2), (-3, 1), (8, 16), budget=None, rows_per_call=3))
    assert [lv.shape for lv in levels] == [(8, 8), (16, 16)]
    for lv in levels:
        assert np.array_equal(lv, pe.basins(gt16, cyc, (-2, 2), (-3, 1), lv.shape[0]))
    assert (levels[-1] == 0).any()                              # the 16-cycle attracts something
    assert len(list(basins_coarse_to_fine(gt16, cyc, (-2, 2), (-3, 1), (8, 16, 32), budget=0.0))) == 1
    calls = []
    assert list(basins_coarse_to_fine(gt16, cyc, (-2, 2), (-3, 1), (8,), cancelled=lambda: calls.append(1) or True)) == []


def test_phase_portrait_basins_are_superseded_by_a_model_change(gt16):
    pp = widgets.PhasePortrait(gt16, max_order=16, basins=True)
    first = pp.basins_job
    pp.state.model = gt16.set_param("h[0]", 0.3)
    assert first is None or first._abandoned or not first.alive     # superseded unless already finished
    assert pp.wait_for_basins(600) and pp.basin_labels is not None


def test_panels_share_one_colour_table_for_event_kinds():
    from plrnn_explorer.plotting.bifurcation import EVENT_STYLE

    assert widgets.training_panel.EVENT_COLOURS == {k: c for k, (c, _) in EVENT_STYLE.items()}


# -- parameter panel --------------------------------------------------------------------------
def test_parameter_panel_slider_box_reset_and_errors(gt16):
    panel = widgets.ParameterPanel(gt16, ["A[0,0]", "W[1,0]"], max_order=16, debounce=0)
    st = panel.state
    row = panel.rows["A[0,0]"]
    panel.sliders["A[0,0]"].value = row.index_of(0.5)            # a real slider move: the grid value
    assert st.model.get_param("A[0,0]") == row.value_at(row.index_of(0.5))
    assert panel.boxes["A[0,0]"].value == repr(st.model.get_param("A[0,0]"))
    assert st.cycles.stable[0].order == 1                      # the 16-cycle is gone: a stable fixed point
    panel.boxes["W[1,0]"].value = "9"                          # beyond the slider range: widens it
    assert panel.rows["W[1,0]"].hi == 9.0 and st.model.get_param("W[1,0]") == 9.0
    assert panel.sliders["W[1,0]"].value == panel.sliders["W[1,0]"].max
    ranges = {p: (r.lo, r.hi, r.n) for p, r in panel.rows.items()}
    panel.reset_button.click()
    assert st.model is gt16 and panel.boxes["A[0,0]"].value == repr(GT16["A"][0])
    assert ranges["W[1,0]"] != (panel.rows["W[1,0]"].lo, panel.rows["W[1,0]"].hi, panel.rows["W[1,0]"].n)
    assert [(r.lo, r.hi, r.n) for r in panel.rows.values()] == [r.initial_range for r in panel.rows.values()]
    assert [c.order for c in st.cycles.stable] == [16]
    # invalid input: a message next to the box, and the model stays
    for text, words in (("nan", "finite number"), ("abc", "is not a number"), ("1e308", "too large"),
                        ("-inf", "finite number")):
        panel.boxes["A[0,0]"].value = text
        assert words in row.message.value, text
        assert st.model is gt16 and panel.boxes["A[0,0]"].value == repr(GT16["A"][0])
    # an outside model change moves the sliders and boxes, exactly
    st.model = gt16.set_param("W[1,0]", 0.1)
    assert panel.boxes["W[1,0]"].value == "0.1" and panel.rows["W[1,0]"].value == 0.1
    with pytest.raises(ValueError, match="no parameter 'Q'"):
        widgets.ParameterPanel(gt16, ["Q[0]"])
    with pytest.raises(TypeError, match="sequence of parameter paths"):
        widgets.ParameterPanel(gt16, "A[0,0]")


@pytest.mark.parametrize("typed", ["0.5", "0.9", "-5", "0.49905308", "1e-17", "123456.789"])
def test_parameter_panel_values_reach_the_model_bit_for_bit(gt16, typed):
    """A typed value reaches the model exactly; the browser's echo of the slider never changes it."""
    panel = widgets.ParameterPanel(gt16, ["A[0,0]"], max_order=16, debounce=0)
    row = panel.rows["A[0,0]"]
    panel.boxes["A[0,0]"].value = typed
    v = float(typed)
    assert panel.state.model.get_param("A[0,0]") == v and row.message.value == ""
    assert row.lo <= v <= row.hi                                   # the range grew to show it
    before = panel.state.model
    # the front end's echo: the slider sent back at the grid point nearest to the value
    panel.sliders["A[0,0]"].value = row.index_of(v)
    assert panel.state.model is before
    # the old float slider's echo (value rounded to its step) is also no move
    step = (row.hi - row.lo) / row.n
    rounded = row.lo + round((v - row.lo) / step) * step
    panel.sliders["A[0,0]"].value = row.index_of(rounded)
    assert panel.state.model is before and panel.boxes["A[0,0]"].value == repr(v)


def test_parameter_panel_code_checkpoint_and_reset_are_exact(gt16):
    ex = widgets.Explorer(gt16, max_order=4, params=["A[0,0]", "W[1,0]"], ranges={"A[0,0]": (0.0, 1.0)},
                          debounce=0, run=type("Run", (), {"checkpoints": [gt16.set_param("A[0,0]", 0.6), gt16],
                                                           "losses": [2.0, 1.0], "epochs": [0, 1]})())
    row = ex.parameters.rows["A[0,0]"]
    for v in (0.9, 0.123456789012345, -5.0, 0.8997689):
        ex.model = gt16.set_param("A[0,0]", v)
        ex.parameters.sliders["A[0,0]"].value = row.index_of(v)  # echo
        assert ex.model.get_param("A[0,0]") == v and ex.parameters.boxes["A[0,0]"].value == repr(v)
    ex.training.epoch.value = 0
    assert ex.model.get_param("A[0,0]") == 0.6 and ex.parameters.boxes["A[0,0]"].value == "0.6"
    assert ex.state.epoch == 0 and "epoch 0" in ex.portrait.ax.get_title() and "A[0,0]=0.6" in ex.portrait.ax.get_title()
    ex.parameters.reset()
    assert ex.model is gt16 and (row.lo, row.hi) == (0.0, 1.0)
    assert ex.state.epoch is None and "epoch" not in ex.portrait.ax.get_title()


def test_parameter_panel_picker_ranges_and_steps(gt16):
    sh = pe.ShallowPLRNN(np.full(2, 0.5), np.zeros((2, 10)), np.zeros((10, 2)), np.zeros(2), np.zeros(10))
    panel = widgets.ParameterPanel(sh, max_order=2, debounce=0)
    assert any(p.startswith("h2[") for p in panel.params) and any(p.startswith("h1[") for p in panel.params)
    assert "W2[3,1]" in panel.picker.options
    panel.picker.value = "W2[3,1]"                                # picking an entry adds its slider
    assert "W2[3,1]" in panel.params and "W2[3,1]" not in panel.picker.options
    assert panel.state.params == panel.params
    panel.boxes["W2[3,1]"].value = "0.25"
    assert panel.state.model.get_param("W2[3,1]") == 0.25
    panel.rows["W2[3,1]"].remove_button.click()
    assert "W2[3,1]" not in panel.params and "W2[3,1]" in panel.picker.options
    panel.picker.value = "Q[9]"
    panel.add_button.click()
    assert "no parameter 'Q'" in panel.state.message
    # per-slider range and step
    p2 = widgets.ParameterPanel(gt16, ["h[0]"], ranges={"h[0]": (-2.0, 2.0)}, steps={"h[0]": 0.5}, debounce=0)
    row = p2.rows["h[0]"]
    assert (row.lo, row.hi, row.n) == (-2.0, 2.0, 8)
    row.step.value = "0.01"
    assert row.n == 400
    row.low.value = "5"                                            # low >= high: refused with a message
    assert "low &lt; high" in row.message.value and row.lo == -2.0
    p2.sliders["h[0]"].value = 200
    assert p2.state.model.get_param("h[0]") == 0.0


def test_parameter_panel_debounces_drags(gt16):
    panel = widgets.ParameterPanel(gt16, ["h[0]"], debounce=10.0)
    searches = []
    panel.state.observe(lambda ch: searches.append(ch["new"]), names="cycles")
    row = panel.rows["h[0]"]
    for i in range(row.index_of(0.3), row.index_of(0.4) + 1):   # a drag
        panel.sliders["h[0]"].value = i
    assert len(searches) == 1                                     # its first step at once, the rest coalesced
    assert panel.state.model.get_param("h[0]") == row.value_at(row.index_of(0.3))
    panel.flush()
    assert len(searches) == 2 and panel.state.model.get_param("h[0]") == row.value_at(row.index_of(0.4))


# -- phase portrait ---------------------------------------------------------------------------
def test_phase_portrait_follows_the_model(gt16):
    pp = widgets.PhasePortrait(gt16, max_order=16)
    assert type(pp.canvas).__name__ == "Canvas"                # an ipympl canvas widget
    stable = [ln for ln in lines(pp.ax, "cycle") if ln.get_linestyle() == "-"]
    assert len(stable) == 1 and len(stable[0].get_xydata()) == 17
    old = [ln.get_xydata().copy() for ln in lines(pp.ax, "cycle")]
    old_borders = pp.ax.collections[0].get_segments()
    pp.state.model = gt16.set_param("h[1]", -0.5)
    new = [ln.get_xydata() for ln in lines(pp.ax, "cycle")]
    assert len(new) != len(old) or any(not np.allclose(a, b) for a, b in zip(old, new))
    assert "stable" in pp.summary.value and pp.table.value == ""      # the table is filled when opened
    pp.table_box.selected_index = 0
    assert pp.table.value == widgets.phase_portrait.cycle_table_html(pp.state.cycles) and "<table" in pp.table.value
    assert len(pp.ax.collections[0].get_segments()) == len(old_borders)
    pp.basins_box.value = True                                 # no stable cycle here: nothing to shade
    assert pp.wait_for_basins(600) and len(pp.ax.images) == 0 and "no stable cycle" in pp.basins_status.value
    pp.state.model = gt16
    assert pp.wait_for_basins(600)
    assert [im.get_gid() for im in pp.ax.images] == ["basins"]
    assert pp.basin_labels is not None and "basins on a" in pp.basins_status.value
    pp.borders_box.value = False
    assert not [c for c in pp.ax.collections if c.get_gid() == "borders"]


def test_phase_portrait_click_starts_trajectory_and_picks_cycles(gt16):
    pp = widgets.PhasePortrait(gt16, max_order=16)
    (x0, x1), (y0, y1) = pp.ax.get_xlim(), pp.ax.get_ylim()
    x, y = x0 + 0.1 * (x1 - x0), y0 + 0.1 * (y1 - y0)           # a corner, away from the cycles
    click(pp.figure, pp.ax, x, y)
    (traj,) = lines(pp.ax, "trajectory")
    assert np.allclose(traj.get_xydata()[0], [x, y], atol=1e-9)
    assert np.allclose(traj.get_xydata(), gt16.simulate([x, y], pp.n_steps))
    c16 = pp.state.cycles.stable[0]
    click(pp.figure, pp.ax, *c16.points[3])
    assert pp.selected is not None and pp.selected.same_as(c16)
    assert "16-cycle" in pp.info.value and "stable spiral" in pp.info.value
    assert len(lines(pp.ax, "selected")) == 1 and len(lines(pp.ax, "trajectory")) == 1
    fp = pp.state.cycles[1][0]
    pp.info.value = ""
    click(pp.figure, pp.ax, *fp.points[0], name="motion_notify_event")
    assert "1-cycle" in pp.info.value and "saddle" in pp.info.value or "unstable" in pp.info.value
    pp.clear_button.click()
    assert lines(pp.ax, "trajectory") == []


def test_phase_portrait_info_line_follows_the_model(gt16):
    pp = widgets.PhasePortrait(gt16, max_order=16)
    c = pp.state.cycles.stable[0]
    click(pp.figure, pp.ax, *c.points[0])
    assert pp.selected is c and "16-cycle" in pp.info.value
    old = pp.info.value
    pp.state.model = gt16.set_param("h[0]", GT16["h"][0] + 1e-3)     # the cycle moves a little
    assert pp.selected is not None and pp.selected is not c
    assert pp.info.value == widgets.phase_portrait.cycle_info(pp.selected) != old
    pp.state.model = gt16.set_param("A[0,0]", 0.5)                   # the 16-cycle is gone
    assert pp.selected is None and "no longer exists" in pp.info.value


def test_explorer_changes_dimension(gt16):
    ex = widgets.Explorer(gt16, max_order=4, params=["A[0,0]", "A[1,1]"], debounce=0)
    ex.portrait.add_trajectory([0.1, 0.2])
    m3 = pe.PLRNN([0.5, 0.4, 0.3], np.zeros((3, 3)), [1.0, 0.0, -1.0])
    ex.model = m3
    assert ex.portrait.trajectories == [] and ex.portrait.notice.value == ""
    assert lines(ex.portrait.ax, "cycle") and ex.cycles[1][0].points.shape == (1, 3)
    ex.portrait.add_trajectory([0.0, 0.0, 0.0])                     # clicks work at once in 3-D
    assert len(lines(ex.portrait.ax, "trajectory")) == 1
    ex.parameters.boxes["A[0,0]"].value = "0.25"
    assert ex.model.get_param("A[0,0]") == 0.25 and ex.model.dim == 3
    ex.model = gt16
    assert ex.model is gt16 and ex.portrait.trajectories == []


def test_phase_portrait_reports_diverging_trajectory():
    m = pe.PLRNN([1.5, 0.5], [[0, 0], [0, 0]], [0.0, 0.0])      # z0 explodes unless it starts at 0
    pp = widgets.PhasePortrait(m, max_order=2)
    pp.add_trajectory([1.0, 1.0])
    assert "diverges" in pp.notice.value
    with pytest.raises(ValueError, match="finite state of shape"):
        pp.add_trajectory([np.nan, 0.0])


def test_phase_portrait_of_a_1d_model_explains_and_survives_clicks():
    pp = widgets.PhasePortrait(pe.PLRNN([0.2], [[-1.7]], [1.0]), max_order=2)
    assert "at least 2 latent units" in pp.notice.value
    MouseEvent("button_press_event", pp.canvas, 100, 100, button=1)._process()
    assert pp.trajectories == [] and "2 cycle(s)" not in pp.notice.value


def test_phase_portrait_projections_for_m3():
    rng = np.random.default_rng(2)
    m = pe.PLRNN(rng.uniform(0.3, 0.8, 3), rng.normal(0, 0.7, (3, 3)), rng.normal(0, 1, 3))
    pp = widgets.PhasePortrait(m, max_order=3)
    assert pp.ax.get_xlabel() == "$z_0$" and pp.view_controls.layout.display is None
    pp.y_coord.value = 2
    assert pp.ax.get_ylabel() == "$z_2$"
    pp.view.value = "PCA"
    assert pp.ax.get_xlabel() == "PC1"
    (x0, x1), (y0, y1) = pp.ax.get_xlim(), pp.ax.get_ylim()
    click(pp.figure, pp.ax, x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0))
    (traj,) = lines(pp.ax, "trajectory")
    z0 = pp.trajectories[0]
    assert np.allclose(traj.get_xydata(), pp.projection.to_plane(m.simulate(z0, pp.n_steps)))


# -- bifurcation map ----------------------------------------------------------------------------
def test_bifurcation_map_click_moves_the_model(gt16):
    bp = widgets.BifurcationMapPanel(gt16, ["A[0,0]", "A[1,1]"], ranges={"A[0,0]": (0.0, 1.0), "A[1,1]": (0.0, 1.0)}, n=11)
    pp = widgets.PhasePortrait(bp.state)                           # the portrait follows the shared state
    before = [ln.get_xydata().copy() for ln in lines(pp.ax, "cycle")]
    click(bp.figure, bp.ax, 0.31, 0.52)
    m = bp.state.model
    assert m.get_param("A[0,0]") == pytest.approx(0.3) and m.get_param("A[1,1]") == pytest.approx(0.5)
    assert np.allclose(bp.marker.get_xydata(), [[0.3, 0.5]])
    after = [ln.get_xydata() for ln in lines(pp.ax, "cycle")]
    assert len(after) != len(before) or any(not np.allclose(a, b) for a, b in zip(before, after))
    with pytest.raises(ValueError, match="two different parameter paths"):
        widgets.BifurcationMapPanel(gt16, ["A[0,0]"])


def test_bifurcation_map_click_with_invalid_ranges_shows_a_message(gt16):
    bp = widgets.BifurcationMapPanel(gt16, ["A[0,0]", "A[1,1]"], ranges={"A[0,0]": (0.0, 1.0), "A[1,1]": (0.0, 1.0)}, n=11)
    bp.x_low.value, bp.x_high.value = 2.0, 1.0                        # low > high: no grid
    click(bp.figure, bp.ax, 0.31, 0.52)                              # must not raise out of the callback
    assert "low < high" in bp.state.message and bp.state.model == gt16


def test_bifurcation_map_computes_in_background_and_cancels(gt16):
    bp = widgets.BifurcationMapPanel(gt16, ["A[0,0]", "A[1,1]"], n=5, max_order=3)
    bp.compute()
    assert bp.jobs.wait(600)                # generous: on a fresh machine the first call compiles the kernels
    assert bp.jobs.status.value.startswith("done") and bp.result is not None
    assert bp.jobs.progress.value == bp.jobs.progress.max
    assert np.asarray(bp.result.counts).shape[:2] == (5, 5)
    assert len(bp.ax.get_children()) > 12 and bp.marker in bp.ax.lines
    bp.n.value = 60
    bp.jobs.cancel_button.disabled = False
    bp.compute()
    bp.jobs.cancel()
    assert bp.jobs.wait(600)
    assert bp.jobs.status.value.startswith("cancelled") or bp.jobs.status.value.startswith("done")


def test_bifurcation_map_parameters_chosen_in_the_panel_and_coloured_by_attractors(gt16):
    bp = widgets.BifurcationMapPanel(gt16, ["A[0,0]", "A[1,1]"], n=6, max_order=4)
    assert "h[1]" in bp.x_param.options and "W[0,1]" in bp.y_param.options
    bp.set_params("h[0]", "W[1,0]", ranges={"h[0]": (-1.0, 1.0), "W[1,0]": (0.0, 1.0)})
    assert bp.params == ["h[0]", "W[1,0]"] and (bp.x_low.value, bp.x_high.value) == (-1.0, 1.0)
    bp.compute()
    assert bp.jobs.wait(600) and bp.jobs.status.value.startswith("done")
    assert (bp.result.param_x, bp.result.param_y) == ("h[0]", "W[1,0]")
    from plrnn_explorer.plotting.bifurcation import _attractor_name, attractor_classes

    codes, names = attractor_classes(bp.result)
    assert codes.shape == (6, 6) and names and codes.min() >= 0
    # each class is what the cycles at that cell say
    for i, j in [(0, 0), (5, 5), (2, 3)]:
        orders = sorted({c.order for c in bp.result.cycles_at(i, j).stable})
        assert names[codes[i, j]] == _attractor_name(tuple(orders))
    legend = bp.ax.get_legend()
    assert legend is not None and legend.get_bbox_to_anchor().x0 > bp.ax.get_window_extent().x1   # beside the axes
    assert bp.move_to(0.5, 0.2) and bp.state.model.get_param("h[0]") == 0.5
    assert np.allclose(bp.marker.get_xydata(), [[0.5, 0.2]])
    bp.y_param.value = "h[1]"                                           # a new choice clears the map
    assert bp.result is None and bp.y_low.value == pytest.approx(GT16["h"][1] - 0.5)
    with pytest.raises(ValueError, match="two different parameters"):
        bp.set_params("h[0]", "h[0]")


def test_bifurcation_map_failure_shows_message(gt16):
    bp = widgets.BifurcationMapPanel(gt16, ["A[0,0]", "A[1,1]"], n=5)
    bp.x_low.value = 5.0                                           # low > high
    bp.compute()
    assert bp.jobs.wait(600)
    assert "failed" in bp.jobs.status.value and "low &lt; high" in bp.jobs.status.value
    assert not bp.jobs.run_button.disabled


def test_diagram_panel_draws_the_sweep_and_moves_the_shared_model():
    from plrnn_explorer.widgets.diagram_panel import orbit_diagram

    tent = pe.PLRNN([0.2], [[0.0]], [1.0])                      # skew tent map: a_l = 0.2, a_r = 0.2 + W
    values = np.linspace(-2.0, 0.5, 26)
    st = widgets.ExplorerState(tent, max_order=2)
    dp = widgets.BifurcationDiagramPanel(st, "W[0,0]", values, orbits=True)
    dp.compute()
    assert dp.jobs.wait(600) and dp.jobs.status.value.startswith("done")
    sw = pe.sweep(tent, "W[0,0]", values, 2, seed=st.seed)
    assert [(e.kind, e.order) for e in dp.result.events] == [(e.kind, e.order) for e in sw.events]
    solid = {c.get_gid(): c for c in dp.ax.collections}
    # the stable 2-cycle exists while a_r = 0.2 + W < -1 (analytic): W < -1.2
    two = [v for v, cs in zip(values, sw.cycles) if any(c.stable and c.order == 2 for c in cs)]
    assert two and min(two) == values[0] and max(two) <= -1.2 + 1e-9
    # a solid segment per point of every cycle stable at both ends of a step, a dashed one otherwise
    want = {True: 0, False: 0}
    for a, b in zip(sw.cycles[:-1], sw.cycles[1:]):
        for c in b:
            old = a.find(c)
            if old is not None:
                want[bool(old.stable and c.stable)] += c.order
    assert len(solid["stable"].get_segments()) == want[True] > 0
    assert len(solid["unstable"].get_segments()) == want[False] > 0
    assert [ln for ln in dp.ax.lines if ln.get_gid() == "event"]
    x, y = dp.orbit_points
    assert x.size and set(np.unique(x)) <= set(values)
    # orbit diagram against a plain NumPy iteration for one value
    v = values[3]
    z = np.random.default_rng(0).normal(0.0, 2.0, size=(8, 1))
    for _ in range(299):
        z = 0.2 * z + (v * np.maximum(z, 0.0)) + 1.0
    want = []
    for _ in range(60):
        z = 0.2 * z + (v * np.maximum(z, 0.0)) + 1.0
        want.append(z[:, 0].copy())
    got = np.sort(orbit_diagram(tent, "W[0,0]", [v])[1])
    assert np.allclose(got, np.sort(np.concatenate(want)))
    assert dp.move_to(-1.49) and st.model.get_param("W[0,0]") == values[np.argmin(np.abs(values + 1.49))]
    assert dp.marker.get_xdata()[0] == st.model.get_param("W[0,0]")


def test_explorer_has_a_linked_diagram_tab(gt16):
    ex = widgets.Explorer(gt16, max_order=4, params=["A[0,0]"], ranges={"A[0,0]": (0.5, 1.0)}, debounce=0)
    assert ex.diagram.state is ex.state and ex.diagram.param == "A[0,0]"
    assert ex.bifurcation_map is not None and ex.bifurcation_map.params == ["A[0,0]", "A[1,1]"]
    assert ex.diagram.values[0] == 0.5 and ex.diagram.values[-1] == 1.0
    ex.diagram.move_to(0.7)
    assert ex.model.get_param("A[0,0]") == 0.7 and ex.parameters.boxes["A[0,0]"].value == "0.7"


# -- training ----------------------------------------------------------------------------------
def _fake_run(gt16):
    ckpts = [gt16.set_param("A[0,0]", a) for a in np.linspace(0.3, 0.84, 7)]
    return ckpts, np.geomspace(5.0, 0.1, 7), np.arange(0, 70, 10)


def test_training_panel_epoch_slider_and_click(gt16):
    ckpts, losses, epochs = _fake_run(gt16)
    tp = widgets.TrainingPanel(ckpts, losses=losses, epochs=epochs, max_order=16)
    (loss,) = lines(tp.ax, "loss")
    assert np.allclose(loss.get_xydata(), np.c_[epochs, losses])
    pp = widgets.PhasePortrait(tp.state)
    before = pp.summary.value
    tp.epoch.value = 20
    assert tp.state.epoch == 20 and tp.state.model == ckpts[2]
    assert np.allclose(tp.epoch_line.get_xdata(), [20, 20])
    assert pp.summary.value != before
    click(tp.figure, tp.ax, 49.0, losses[5])
    assert tp.epoch.value == 50 and tp.state.model == ckpts[5]
    with pytest.raises(ValueError, match="strictly increasing"):
        widgets.TrainingPanel(ckpts, epochs=epochs[::-1])
    with pytest.raises(TypeError, match="TrainingRun"):
        widgets.TrainingPanel(3)


def test_training_panel_marks_events(gt16):
    ckpts, losses, epochs = _fake_run(gt16)
    tp = widgets.TrainingPanel(ckpts, losses=losses, epochs=epochs, max_order=16)
    tp.analyze()
    assert tp.jobs.wait(600) and tp.jobs.status.value.startswith("done")
    assert tp.events                                               # the 16-cycle appears along the way
    marks = lines(tp.ax, "event")
    assert len(marks) == len(tp.events)
    assert all(epochs[0] <= ln.get_xdata()[0] <= epochs[-1] for ln in marks)


# -- explorer --------------------------------------------------------------------------------------
def test_explorer_composes_panels_through_one_state(gt16):
    ckpts, losses, epochs = _fake_run(gt16)
    ex = widgets.Explorer(gt16, max_order=16, params=["A[0,0]", "A[1,1]"], debounce=0,
                          run=type("Run", (), {"checkpoints": ckpts, "losses": losses, "epochs": epochs})())
    assert [c.order for c in ex.cycles.stable] == [16]
    assert ex.parameters.state is ex.portrait.state is ex.bifurcation_map.state is ex.training.state is ex.state
    seen = []
    ex.observe(lambda ch: seen.append(ch["new"]), names="cycles")
    ex.parameters.boxes["A[0,0]"].value = "0.5"
    assert ex.model.get_param("A[0,0]") == 0.5 and len(seen) == 1 and ex.cycles is seen[0]
    ex.model = gt16                                                  # setting the trait recomputes
    assert [c.order for c in ex.cycles.stable] == [16]
    assert ex.parameters.boxes["A[0,0]"].value == repr(GT16["A"][0])
    ex.training.epoch.value = 0
    assert ex.model == ckpts[0] and ex.parameters.boxes["A[0,0]"].value == "0.3"
    with pytest.raises(TraitError):
        ex.cycles = None
    with pytest.raises(TraitError):
        ex.model = "not a model"
    ex.parameters.boxes["A[1,1]"].value = "inf"
    assert "finite" in ex.parameters.rows["A[1,1]"].message.value and ex.model == ckpts[0]


def test_panels_leave_pyplots_backend_alone():
    """ipympl selects itself as pyplot's backend on import; the panels must undo that (fresh process)."""
    import subprocess
    import sys

    code = ("import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt\n"
            "from plrnn_explorer.widgets._ui import canvas_figure\n"
            "fig = canvas_figure()\n"
            "print(type(fig.canvas).__name__, matplotlib.get_backend(), type(plt.figure().canvas).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    canvas, backend, pyplot_canvas = out.stdout.split()
    assert (canvas, backend.lower(), pyplot_canvas) == ("Canvas", "agg", "FigureCanvasAgg")


def test_slider_step_blits_the_data_over_a_cached_frame_and_matches_a_full_draw(gt16):
    """A step redraws only data and title (BlitLayer); the picture equals a plain full draw of the same figure."""
    ex = widgets.Explorer(gt16, max_order=16, params=["A[0,0]"], debounce=0)
    pp = ex.portrait
    pp.canvas.draw()                                                  # what the browser's first frame request does
    modes = []
    update = pp.layer.update
    pp.layer.update = lambda: modes.append(update()) or modes[-1]
    row = ex.parameters.rows["A[0,0]"]
    for i in (1, 2):
        ex.parameters.sliders["A[0,0]"].value = row.index_of(gt16.get_param("A[0,0]")) + i
    assert modes == ["blit", "blit"]
    blitted = np.asarray(pp.canvas.get_renderer().buffer_rgba()).copy()
    pp.canvas.mpl_disconnect(pp.layer.draw_callback)                  # reference: a plain draw, nothing cached
    for a in pp.figure.findobj():
        a.set_animated(False)
    pp.canvas.draw()
    plain = np.asarray(pp.canvas.get_renderer().buffer_rgba())
    differ = np.any(blitted != plain, axis=2).mean()
    assert differ < 1e-3, differ    # a few pixels where data meet the frame (drawn after it); a stale frame: ~1 %
    assert f"A[0,0]={ex.model.get_param('A[0,0]'):.6g}" in pp.ax.get_title()


def test_previous_cycles_continued_to_the_new_model_are_drawn_before_the_search_ends(gt16, monkeypatch):
    import asyncio
    import time

    st = widgets.ExplorerState(gt16, max_order=16, params=["A[0,0]"])
    pp = widgets.PhasePortrait(st, show_message=False)
    pp.selected = st.cycles.stable[0]
    real = widgets.state.find_cycles

    def slow(*args, **kwargs):
        time.sleep(0.6)
        return real(*args, **kwargs)

    monkeypatch.setattr(widgets.state, "find_cycles", slow)
    new_a = GT16["A"][0] + 1e-3

    async def step():
        st.apply(lambda m: m.set_param("A[0,0]", new_a))
        t0 = time.monotonic()
        while st.preview is None and time.monotonic() - t0 < 0.5:
            await asyncio.sleep(0.005)
        seen = (st.searching, st.preview, st.preview_model, pp.drawn_cycles, pp.info.value, pp.ax.get_title())
        await st.until_current(60)
        return seen

    searching, preview, model, drawn, info, title = asyncio.run(step())
    assert searching and preview is not None and drawn is preview and model is st.model
    assert [c.order for c in preview.stable] == [16] and f"A[0,0]={new_a:.6g}" in title
    for c in preview:                                                  # each continued cycle is real at the new model
        z = c.points[0]
        assert np.allclose(model.simulate(z, c.order + 1)[-1], z, atol=1e-9 * (1 + np.abs(z).max()))
        assert pe.cycle_from_itinerary(model, c.itinerary).same_as(c)
    assert "16-cycle" in info and "previous parameters" not in info     # the info line describes the new model
    assert st.preview is None and pp.drawn_cycles is st.cycles and st.cycles_model is st.model


def test_background_and_code_set_searches_at_once_end_on_the_newest_model(gt16, monkeypatch):
    """A search set from code runs while a background search does (each thread has its own HiGHS solver: a
    shared one crashed a kernel); the panel ends on the newest model, searched."""
    import asyncio
    import threading
    import time

    st = widgets.ExplorerState(gt16, max_order=8)
    real = widgets.state.find_cycles
    active, most, guard = [0], [0], threading.Lock()

    def counting(*args, **kwargs):
        with guard:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.01)
            return real(*args, **kwargs)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(widgets.state, "find_cycles", counting)

    async def mix():
        for i in range(15):
            st.apply(lambda m: m.set_param("A[0,0]", 0.5 + 0.01 * i))       # a panel change: on the worker
            await asyncio.sleep(0.002)
            st.model = gt16.set_param("A[0,0]", 0.3 + 0.01 * i)              # from code: on this thread, at once
        return await st.until_current(60)

    assert asyncio.run(mix())
    assert most[0] >= 1 and st.cycles_model is st.model and st.model.get_param("A[0,0]") == 0.3 + 0.01 * 14
    assert st.cycles.keys() == pe.exhaustive_cycles(st.model, 8).keys()
