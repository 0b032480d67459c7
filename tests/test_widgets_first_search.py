"""The constructor's first cycle search inside a running event loop (a kernel): off the main thread, with a status.

Each scenario runs ``asyncio.run`` in a thread of its own that the test joins with a timeout, so a deadlock
(a blocking read of ``cycles`` waiting for a delivery its own thread's event loop would have to make) fails the
test instead of hanging it. The searches are slowed down by a monkeypatched ``find_cycles`` (a fixed sleep
before the real search) so that "returns at once" is measured against a search of known length.
"""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer import widgets
from plrnn_explorer.widgets.app import App
from plrnn_explorer.plotting.phase import default_limits
from plrnn_explorer.widgets.phase_portrait import cycle_summary

SLOW = 1.5          # seconds each search sleeps before searching
QUICK = SLOW / 3    # a constructor (panels and figures included) must return well within this
DEADLOCK = 120.0    # a scenario not finished after this long is stuck


@pytest.fixture(scope="module")
def gt16():
    return pe.systems.gt16()


@pytest.fixture(scope="module", autouse=True)
def compiled(gt16):
    """Compile and load the kernels outside the timed scenarios."""
    widgets.Explorer(gt16, max_order=16)


@pytest.fixture
def slow_search(monkeypatch):
    """find_cycles sleeping SLOW s first; records (thread id, model) of every call."""
    real = widgets.state.find_cycles
    calls: list[tuple[int, pe.PLRNN]] = []

    def slow(model, *args, **kwargs):
        calls.append((threading.get_ident(), model))
        time.sleep(SLOW)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(widgets.state, "find_cycles", slow)
    return calls


def _direct(model, max_order=16):
    """The search the state makes, called directly: same budgets and seed, no warm start."""
    n_out, n_in = widgets.state.INTERACTIVE_BUDGET
    return pe.find_cycles(model, max_order, outer_loop_iterations=n_out, inner_loop_iterations=n_in, seed=0)


def _same(a, b) -> bool:
    return a.keys() == b.keys() and all(x.same_as(y) for x, y in zip(sorted(a, key=lambda c: c.key),
                                                                       sorted(b, key=lambda c: c.key)))


def _run_in_own_loop(scenario):
    """``asyncio.run(scenario())`` on a fresh thread; its result, or a failure if it has not ended in DEADLOCK s."""
    out: dict = {}

    def target():
        try:
            out["result"] = asyncio.run(scenario())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = exc

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(DEADLOCK)
    assert not th.is_alive(), f"the scenario is stuck after {DEADLOCK} s (deadlock)"
    if "error" in out:
        raise out["error"]
    return out["result"]


def test_without_a_running_loop_the_constructor_searches_before_it_returns(gt16, slow_search):
    ex = widgets.Explorer(gt16, max_order=16)
    assert slow_search and slow_search[0][0] == threading.get_ident()            # on this thread
    assert not ex.state.searching and ex.state.busy == "" and ex.state.cycles_nowait is ex.cycles
    assert _same(ex.cycles, _direct(gt16))


def test_inside_a_loop_the_constructor_returns_at_once_and_the_status_says_what_runs(gt16, slow_search):
    async def scenario():
        loop_thread = threading.get_ident()
        t0 = time.perf_counter()
        ex = widgets.Explorer(gt16, max_order=16)
        took = time.perf_counter() - t0
        at_return = (ex.state.searching, ex.state.cycles_nowait, ex.state.busy, ex.portrait.summary.value,
                     ex.portrait.drawn_cycles)
        seen = []
        while ex.state.searching:
            seen.append((ex.state.busy, ex.portrait.summary.value))
            await asyncio.sleep(0.05)
        return ex, took, at_return, seen, loop_thread

    ex, took, at_return, seen, loop_thread = _run_in_own_loop(scenario)
    assert took < QUICK, f"constructor took {took:.2f} s for a search of more than {SLOW} s"
    searching, nowait, busy, summary, drawn = at_return
    assert searching and nowait is None and drawn is None
    assert busy == summary == "searching cycles up to order 16: 0.0 s"             # at once, in the portrait
    assert [t for t, _ in slow_search] == [slow_search[0][0]] != [loop_thread]     # one search, on the worker
    secs = [float(b.rsplit(": ", 1)[1].rstrip(" s")) for b, _ in seen]
    assert secs == sorted(secs) and secs[-1] >= SLOW - 0.3                          # the clock runs
    assert all(b.startswith("searching cycles up to order 16") and s == b for b, s in seen)
    assert ex.state.busy == "" and ex.state.cycles_model is ex.model
    assert _same(ex.cycles, _direct(gt16)) and ex.state.cycles is ex.cycles
    assert ex.portrait.drawn_cycles is ex.cycles and ex.portrait.summary.value == cycle_summary(ex.cycles)
    assert [ln for ln in ex.portrait.ax.lines if ln.get_gid() == "cycle"]          # drawn when they arrived
    xlim, ylim = default_limits(ex.model, ex.cycles)                               # framed as if built with them
    assert ex.portrait.ax.get_xlim() == pytest.approx(xlim) and ex.portrait.ax.get_ylim() == pytest.approx(ylim)


def test_reading_cycles_in_the_same_cell_waits_for_the_first_search_without_deadlock(gt16, slow_search):
    async def scenario():
        ex = widgets.Explorer(gt16, max_order=16)
        changes = []
        ex.observe(lambda ch: changes.append(ch["new"]), names="cycles")
        t0 = time.perf_counter()
        counts = ex.cycles.counts()            # the loop is blocked by this read: it cannot deliver
        waited = time.perf_counter() - t0
        state_cycles = ex.state.cycles
        await asyncio.sleep(0.2)               # the loop's own delivery callback runs now: must change nothing
        return ex, counts, waited, state_cycles, changes

    ex, counts, waited, state_cycles, changes = _run_in_own_loop(scenario)
    direct = _direct(gt16)
    assert counts == direct.counts() and _same(ex.cycles, direct)
    assert waited > SLOW - QUICK                                                    # it did wait for the search
    assert state_cycles is ex.cycles and len(changes) == 1 and changes[0] is ex.cycles   # delivered once
    assert ex.portrait.drawn_cycles is ex.cycles and ex.state.busy == ""


def test_wait_on_the_loops_thread_delivers_the_result_itself(gt16, slow_search):
    async def scenario():
        st = widgets.ExplorerState(gt16, max_order=16)
        before = st.searching
        return st, before, st.wait(DEADLOCK / 2)

    st, before, done = _run_in_own_loop(scenario)
    assert before and done and st.cycles_model is st.model and _same(st.cycles_nowait, _direct(gt16))


def test_panels_built_during_the_first_search_do_not_wait_and_draw_the_cycles_later(gt16, slow_search):
    async def scenario():
        st = widgets.ExplorerState(gt16, max_order=16)
        t0 = time.perf_counter()
        pp = widgets.PhasePortrait(st)
        panel = widgets.ParameterPanel(st, ["A[0,0]"])
        bp = widgets.BifurcationMapPanel(st, ["A[0,0]", "A[1,1]"], n=3)
        took = time.perf_counter() - t0
        early = (st.searching, pp.drawn_cycles, pp.summary.value)
        assert await st.until_current(DEADLOCK / 2)
        return st, pp, panel, bp, took, early

    st, pp, panel, bp, took, (searching, drawn, summary) = _run_in_own_loop(scenario)
    assert took < QUICK and searching and drawn is None and summary.startswith("searching cycles")
    assert pp.drawn_cycles is st.cycles and _same(st.cycles, _direct(gt16))
    assert "stable: order 16" in pp.summary.value and panel.state is bp.state is st


def test_the_status_says_compiling_on_first_use_while_numba_compiles(gt16, monkeypatch):
    from numba.core import event

    real = widgets.state.find_cycles

    def compiling_first(*args, **kwargs):              # stands in for a first use: numba holds its compiler lock
        with event.trigger_event("numba:compiler_lock"):
            time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(widgets.state, "find_cycles", compiling_first)

    async def scenario():
        st = widgets.ExplorerState(gt16, max_order=16)
        seen = []
        while st.searching:
            seen.append(st.busy)
            await asyncio.sleep(0.05)
        return st, seen

    st, seen = _run_in_own_loop(scenario)
    assert any(b.startswith("searching cycles up to order 16 (compiling on first use") for b in seen), seen
    assert st.busy == "" and _same(st.cycles, _direct(gt16))


def test_a_model_set_from_code_during_the_first_search_is_searched_at_once(gt16, slow_search):
    new = gt16.set_param("A[0,0]", 0.5)

    async def scenario():
        ex = widgets.Explorer(gt16, max_order=16)
        ex.model = new                                   # from code: searched here, before the assignment returns
        now = (ex.state.searching, ex.state.cycles_model, ex.cycles)
        await asyncio.sleep(SLOW + 0.5)                  # the superseded first search ends: its result is dropped
        return ex, now

    ex, (searching, cycles_model, cycles) = _run_in_own_loop(scenario)
    assert not searching and cycles_model is new and _same(cycles, _direct(new))
    assert ex.cycles is cycles and ex.state.cycles_model is new and ex.state.busy == ""


def test_the_app_returns_at_once_and_shows_the_cycles_when_they_arrive(slow_search):
    async def scenario():
        t0 = time.perf_counter()
        app = App(max_order=16)
        took = time.perf_counter() - t0
        st = app.explorer.state
        busy = st.busy
        assert await st.until_current(DEADLOCK / 2)
        return app, took, busy

    app, took, busy = _run_in_own_loop(scenario)
    assert took < QUICK and busy.startswith("searching cycles up to order 16")
    assert _same(app.explorer.cycles, _direct(app.explorer.model))
    assert "stable: order 16" in app.explorer.portrait.summary.value


def test_cycles_nowait_never_waits(gt16, slow_search):
    async def scenario():
        st = widgets.ExplorerState(gt16, max_order=16)
        t0 = time.perf_counter()
        first = st.cycles_nowait
        took = time.perf_counter() - t0
        st.wait(DEADLOCK / 2)
        return st, first, took

    st, first, took = _run_in_own_loop(scenario)
    assert first is None and took < 0.05 and st.cycles_nowait is st.cycles is not None
    assert np.allclose(gt16.step(st.cycles[1][0].points[0]), st.cycles[1][0].points[0])


def test_reading_cycles_after_a_change_during_the_first_search_waits_for_the_new_models(gt16, slow_search):
    new = gt16.set_param("A[0,0]", 0.6)

    async def change_then_read():
        st = widgets.ExplorerState(gt16, max_order=16)
        st.apply(lambda m: new)                          # a panel change: supersedes the first search
        return st, st.cycles                             # blocks this loop's thread until the new model's arrive

    st, cycles = _run_in_own_loop(change_then_read)
    assert st.cycles_model is st.model is new and cycles is st.cycles
    assert [m for _, m in slow_search][-1] is new
    assert _same(cycles, _direct(new)) and cycles.keys() != _direct(gt16).keys()


COLD_SCRIPT = """
import asyncio, json, threading, time
from numba.core import event
import plrnn_explorer as pe
from plrnn_explorer import widgets

main_thread_compiles = []
class Watch(event.Listener):
    def on_start(self, ev):
        if threading.current_thread() is threading.main_thread():
            main_thread_compiles.append(time.perf_counter())
    def on_end(self, ev):
        pass
event.register("numba:compiler_lock", Watch())

async def main():
    t0 = time.perf_counter()
    ex = widgets.Explorer(pe.systems.gt16(), max_order=16)
    took = time.perf_counter() - t0
    during = len(main_thread_compiles)
    seen = [ex.state.busy]
    while ex.state.searching:
        await asyncio.sleep(0.05)
        seen.append(ex.state.busy)
    return {"took": took, "total": time.perf_counter() - t0, "main_thread_compiles": during, "busy": seen,
            "keys": sorted(map(repr, ex.cycles.keys()))}

print(json.dumps(asyncio.run(main())))
"""


@pytest.mark.slow
def test_a_cold_first_use_compiles_only_on_the_worker_and_says_so(gt16, tmp_path):
    """A fresh process with an empty numba cache (a new installation): the constructor returns in a fraction of the
    compile time, nothing compiles on the main thread, and the status line says 'compiling on first use'."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", COLD_SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["main_thread_compiles"] == 0
    assert r["took"] < 0.25 * r["total"], r                          # e.g. 0.8 s of ~25 s (panels and figures)
    assert r["busy"][0] == "searching cycles up to order 16: 0.0 s"
    assert any("(compiling on first use: up to a minute)" in b for b in r["busy"])
    assert r["keys"] == sorted(map(repr, _direct(gt16).keys()))


def test_the_sample_orbit_of_an_empty_portrait_is_the_models_orbit():
    """The plain-NumPy orbit framing a portrait without cycles follows the map step by step (random models of every
    type, contracting and strongly expanding)."""
    from plrnn_explorer.plotting.phase import _orbit_numpy

    rng = np.random.default_rng(11)
    for trial in range(40):
        M, H = int(rng.integers(2, 6)), int(rng.integers(2, 9))
        scale = [0.3, 1.0, 3.0][trial % 3]                            # contracting, borderline, expanding
        kind = trial % 4
        if kind == 0:
            m = pe.PLRNN(rng.uniform(-1, 1, M) * scale, rng.normal(size=(M, M)) * scale, rng.normal(size=M))
        elif kind == 1:
            m = pe.ShallowPLRNN(rng.uniform(-1, 1, M) * scale, rng.normal(size=(M, H)) * scale,
                                rng.normal(size=(H, M)), rng.normal(size=M), rng.normal(size=H))
        elif kind == 2:
            m = pe.ClippedShallowPLRNN(rng.uniform(-1, 1, M) * scale, rng.normal(size=(M, H)) * scale,
                                       rng.normal(size=(H, M)), rng.normal(size=M), rng.normal(size=H))
        else:
            m = pe.ALRNN(rng.uniform(-1, 1, M) * scale, rng.normal(size=(M, M)) * scale, rng.normal(size=M),
                         int(rng.integers(1, M + 1)))
        orbit = _orbit_numpy(m, 60)
        assert np.array_equal(orbit[0], np.full(M, 0.1))
        finite = np.all(np.isfinite(orbit), axis=1)
        for t in range(1, 60):
            if finite[t - 1] and finite[t] and np.abs(orbit[t]).max() < 1e100:
                step = m.step(orbit[t - 1])
                assert np.allclose(orbit[t], step, rtol=1e-12, atol=1e-12 * (1 + np.abs(step).max())), (trial, t)
        n = min(10, int(np.argmin(finite)) if not finite.all() else 60)
        assert np.allclose(orbit[:n], m.simulate(np.full(M, 0.1), 60)[:n], rtol=1e-9, atol=1e-9)


def test_a_failed_first_search_is_reported_and_reading_cycles_gives_none(gt16, monkeypatch):
    def broken(*args, **kwargs):
        time.sleep(0.5)
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(widgets.state, "find_cycles", broken)

    async def scenario():
        ex = widgets.Explorer(gt16, max_order=16)
        return ex, ex.cycles                             # waits for the failure, then reads None

    ex, cycles = _run_in_own_loop(scenario)
    assert cycles is None and ex.state.cycles_model is ex.model and not ex.state.searching
    assert ex.state.message == "cycle search failed: RuntimeError: solver exploded" and ex.state.busy == ""
    assert ex.portrait.summary.value == "no cycles computed"
