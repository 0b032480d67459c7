"""Widget responsiveness: slider step -> cycles up to order 16 -> redraw; Cancel latency; basins.

Run: ``python benchmarks/bench_widgets.py [--repeats N] [--max-order K]``

1. **Slider latency** (target <= 150 ms in the browser; this measures the
   kernel side). A ``ParameterPanel`` and a
   ``PhasePortrait`` share one state, as in the Explorer. Each sample moves the
   A[0,0] slider one grid step (no debounce), which replaces the model, searches all cycles
   up to order K (default 16) of the 2-D GT16 system (interactive budgets, warm-started
   from the previous itineraries) and redraws the portrait; the sample ends when the
   portrait sends its frame (the PNG diff ipympl sends to the browser; blitted over a cached
   frame when only the data changed). Compared with the same pipeline whose cycle search is the
   plain-NumPy SCYFI reference (``numpy_reference.py``, same budgets), run
   side by side in this process. The widgets search with
   ``strategy="auto"`` (exact enumeration for low orders, SCYFI above), so a
   second table times the search alone with ``strategy="scyfi"``: the same
   algorithm in numba and in NumPy.
2. **Cancel latency** (target <= 1 s) of the background jobs: a bifurcation
   map (60 x 60, orders up to 16), a training analysis and basins. "UI
   released" is the time from Cancel until the panel's buttons are usable
   again (a job still inside a numba chunk is let go after one second);
   "worker stopped" is the time until the worker thread has ended.
3. **Basins of attraction** on a 200 x 200 grid, warm: the numba kernel
   against a vectorised plain-NumPy implementation of the same iteration,
   and the panel's coarse-to-fine levels (time to the first picture).

With ``--browser``: arrow-key slider steps in Voila, in headless Debian
Chromium, timed in the page from the key press to the portrait's next frame
painted on its canvas (a ``drawImage`` probe: nothing polls or re-encodes the canvas).

Prints markdown tables of medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer import widgets
from plrnn_explorer.widgets.state import INTERACTIVE_BUDGET

sys.path.insert(0, os.path.dirname(__file__))
from numpy_reference import numpy_find_cycles

GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
MAX_ORDER = 16


def render(fig) -> None:
    """What ipympl does when the browser asks for a frame: render with Agg, encode the PNG diff."""
    fig.canvas.draw()
    fig.canvas.get_diff_image()


def slider_latency(values: np.ndarray, budget) -> dict[str, list[float]]:
    """Slider step -> the portrait's frame sent to the browser, with the browser emulated.

    The canvas behaves as with a browser attached: only PNG diffs are encoded and sent, and a full
    redraw asked for with ``draw_idle`` is drawn at once (the browser would ask for it). The time runs
    from the slider's new value to the first frame the portrait sends.
    """
    state = widgets.ExplorerState(GT16, MAX_ORDER, budget=budget)
    panel = widgets.ParameterPanel(state, ["A[0,0]"], debounce=0, show_message=False)
    portrait = widgets.PhasePortrait(state, show_message=False)
    canvas = portrait.canvas
    canvas.syncing_data_url = False
    canvas.draw_idle = canvas.draw
    sent: list[float] = []
    send = canvas.send_binary
    canvas.send_binary = lambda data: (sent.append(time.perf_counter()), send(data))[1]
    canvas.draw()
    out: dict[str, list[float]] = {"total": [], "search": []}
    row = panel.rows["A[0,0]"]
    for v in values:
        n = len(sent)
        t0 = time.perf_counter()
        panel.sliders["A[0,0]"].value = row.index_of(float(v))
        assert len(sent) > n, "no frame was sent"
        out["total"].append(sent[n] - t0)
        out["search"].append(state.cycles.stats["seconds"])
    return out


def numpy_pipeline_latency(values: np.ndarray) -> list[float]:
    """Same pipeline (new model, cycle search, portrait redraw, render), search by the NumPy reference."""
    from plrnn_explorer.plotting.phase import phase_portrait

    fig = widgets._ui.canvas_figure()
    ax = fig.add_subplot()
    out = []
    n_out, n_in = INTERACTIVE_BUDGET
    for v in values:
        t0 = time.perf_counter()
        m = GT16.set_param("A[0,0]", float(v))
        words, _ = numpy_find_cycles(m, range(1, MAX_ORDER + 1), n_out, n_in, seed=0)
        cycles = pe.CycleSet(list(range(1, MAX_ORDER + 1)),
                             {k: [pe.cycle_from_itinerary(m, w) for w in ws] for k, ws in words.items()})
        ax.clear()
        phase_portrait(m, cycles, ax=ax)
        render(fig)
        out.append(time.perf_counter() - t0)
    return out


def search_only(values: np.ndarray) -> tuple[list[float], list[float]]:
    """The same SCYFI search up to MAX_ORDER in numba (strategy="scyfi") and in plain NumPy."""
    n_out, n_in = INTERACTIVE_BUDGET
    t_nb, t_np = [], []
    for v in values:
        m = GT16.set_param("A[0,0]", float(v))
        t = time.perf_counter()
        pe.find_cycles(m, MAX_ORDER, outer_loop_iterations=n_out, inner_loop_iterations=n_in, seed=0,
                       strategy="scyfi")
        t_nb.append(time.perf_counter() - t)
        t = time.perf_counter()
        numpy_find_cycles(m, range(1, MAX_ORDER + 1), n_out, n_in, seed=0)
        t_np.append(time.perf_counter() - t)
    return t_nb, t_np


def numpy_basins(model, cycles, xs, ys, max_steps, tol, escape):
    """Vectorised plain-NumPy reference of the basins kernel: all starts iterate together."""
    cf = model.canonical
    X, Y = np.meshgrid(xs, ys)
    z = np.stack([X.ravel(), Y.ravel()], axis=1)
    stable = cycles.stable
    targets = np.concatenate([c.points for c in stable])
    labels = np.concatenate([np.full(c.order, i) for i, c in enumerate(stable)])
    out = np.full(len(z), -1)
    active = np.ones(len(z), bool)
    for _ in range(max_steps + 1):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        d2 = ((z[idx, None, :] - targets[None]) ** 2).sum(-1)
        hit = d2 <= tol * tol
        got = hit.any(1)
        out[idx[got]] = labels[np.argmax(hit[got], axis=1)]
        active[idx[got]] = False
        idx = idx[~got]
        zi = z[idx]
        zn = zi @ cf.A.T + np.maximum(zi @ cf.W_in.T + cf.b_in, 0) @ cf.W_out.T + cf.h
        z[idx] = zn
        active[idx[~np.all(np.abs(zn) <= escape, axis=1)]] = False
    return out.reshape(len(ys), len(xs))


def cancel_latency(make_job, wait_before: float = 1.0) -> tuple[float, float]:
    """(UI released, worker stopped) seconds after Cancel, for ``make_job() -> JobControls`` started."""
    jc = make_job()
    time.sleep(wait_before)
    t0 = time.perf_counter()
    jc.cancel()
    released = time.perf_counter() - t0
    jc.job.join(600)
    return released, time.perf_counter() - t0


def cancel_table() -> None:
    map_panel = widgets.BifurcationMapPanel(GT16, ["A[0,0]", "A[1,1]"], n=60, max_order=16)
    ckpts = [GT16.set_param("A[0,0]", a) for a in np.linspace(0.3, 0.9, 200)]
    training = widgets.TrainingPanel(ckpts, max_order=16)
    training.state.budget = None  # the paper's budgets: a long analysis

    def start(panel):
        panel.jobs.start()
        return panel.jobs

    small_map = widgets.BifurcationMapPanel(GT16, ["A[0,0]", "A[1,1]"], n=3, max_order=16)
    small_training = widgets.TrainingPanel(ckpts[:3], max_order=16)
    small_training.state.budget = None
    for panel in (small_map, small_training):  # compile the kernels on small problems
        start(panel).wait(600)
    rows = []
    for name, panel in (("bifurcation map 60x60, orders <= 16", map_panel),
                        ("training analysis, 200 checkpoints, paper's budgets", training)):
        rows.append((name, cancel_latency(lambda: start(panel))))
    from plrnn_explorer.attraction import basins_coarse_to_fine

    cycles = pe.find_cycles(GT16, 16, seed=0)
    stop = {"t": None}

    def cancelled():
        return stop["t"] is not None

    import threading

    def run_basins():
        for _ in basins_coarse_to_fine(GT16, cycles, (-4.0, 6.0), (-6.0, 4.0), (400, 800), budget=None,
                                       cancelled=cancelled):
            pass

    th = threading.Thread(target=run_basins)
    th.start()
    time.sleep(0.5)
    t0 = time.perf_counter()
    stop["t"] = t0
    th.join()
    basins_stop = time.perf_counter() - t0
    rows.append(("basins 400x400 -> 800x800 (coarse to fine)", (basins_stop, basins_stop)))
    print("## Cancel latency (target <= 1 s)\n")
    print("| job | UI released ms | worker stopped ms |")
    print("|---|---:|---:|")
    for name, (ui, worker) in rows:
        print(f"| {name} | {1e3 * ui:.0f} | {1e3 * worker:.0f} |")
    print()


BROWSER_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {}, "outputs": [],
               "source": "import plrnn_explorer as pe\nfrom plrnn_explorer import widgets\n"
                         "widgets.Explorer(pe.systems.gt16(), max_order=16, params=['A[0,0]'])"}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5}


#: injected before the page loads: timestamps of key presses and of frames painted on the portrait's canvas
FRAME_PROBE = """
window.__plrnn = {keys: [], frames: []};
document.addEventListener('keydown', () => window.__plrnn.keys.push(performance.now()), true);
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
  const out = drawImage.apply(this, args);
  const c = this.canvas;   // ipympl paints each received frame onto the visible canvas of every view
  if (c && c.isConnected && c.closest('.plrnn-phase-portrait') && args[0] instanceof HTMLCanvasElement)
    window.__plrnn.frames.push(performance.now());
  return out;
};
"""


def browser_latency(repeats: int) -> dict[str, list[float]]:
    """Arrow-key slider steps in Voila (headless Debian Chromium): key press -> portrait frames painted.

    ``first``: the first frame (the previous cycles continued to the new parameters); ``last``: the last
    frame of the step (the full cycle search's result).

    Both times are taken in the page (``performance.now()``): the key press by a keydown listener, the frame by
    a wrapper around ``drawImage`` that sees ipympl paint a received frame onto the portrait's canvas. Nothing
    polls or re-encodes the canvas, so the measurement itself costs the browser almost nothing.
    """
    import json
    import socket
    import subprocess
    import tempfile
    import urllib.request

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as root, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with open(os.path.join(root, "bench.ipynb"), "w") as f:
            json.dump(BROWSER_NOTEBOOK, f)
        proc = subprocess.Popen([sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1",
                                 f"--port={port}", "--Voila.port_retries=0", f"--Voila.root_dir={root}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(base + "/voila/static/voila.js", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.add_init_script(FRAME_PROBE)
                page.route("**/*", lambda r: r.abort() if not r.request.url.startswith(base) else r.continue_())
                page.goto(base + "/voila/render/bench.ipynb")
                canvas = page.locator(".plrnn-phase-portrait .jupyter-matplotlib canvas").first
                canvas.wait_for(timeout=120_000)
                page.wait_for_function("window.__plrnn.frames.length > 0", timeout=120_000)
                page.wait_for_timeout(3000)
                slider = page.locator(".plrnn-parameter-panel").get_by_role("slider").first
                slider.focus()
                out: dict[str, list[float]] = {"first": [], "last": []}
                for _ in range(repeats):
                    n = page.evaluate("window.__plrnn.frames.length")
                    slider.press("ArrowRight")
                    page.wait_for_function(f"window.__plrnn.frames.length > {n}", timeout=30_000, polling="raf")
                    page.wait_for_timeout(600)  # let the step settle: the full search's frame follows the first
                    first, last = page.evaluate(f"(() => {{ const p = window.__plrnn, k = p.keys[p.keys.length - 1]; "
                                                f"return [p.frames[{n}] - k, p.frames[p.frames.length - 1] - k]; }})()")
                    out["first"].append(first / 1000)
                    out["last"].append(last / 1000)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(15)
    return out


def ms(xs) -> str:
    return f"{1e3 * statistics.median(xs):.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=25, help="slider positions per configuration")
    ap.add_argument("--max-order", type=int, default=MAX_ORDER, help="highest cycle order searched")
    ap.add_argument("--browser", action="store_true",
                    help="also time slider steps in Voila in headless Chromium (needs voila, playwright, chromium)")
    args = ap.parse_args()
    if args.browser:
        lat = browser_latency(args.repeats)
        print(f"## Browser: arrow-key slider step -> portrait frame painted (Voila, GT16, orders <= 16), "
              f"median of {args.repeats}\n")
        print("| frame | median ms | min ms | max ms |")
        print("|---|---:|---:|---:|")
        for name, label in (("first", "first frame (cycles continued)"), ("last", "last frame (full search)")):
            print(f"| {label} | {ms(lat[name])} | {1e3 * min(lat[name]):.0f} | {1e3 * max(lat[name]):.0f} |")
        print()
    globals()["MAX_ORDER"] = args.max_order
    row = widgets.ParameterPanel(GT16, ["A[0,0]"]).rows["A[0,0]"]
    start = row.index_of(GT16.get_param("A[0,0]"))
    values = np.array([row.value_at(start + 1 + i) for i in range(args.repeats)])  # one slider step each
    slider_latency(values[:3], INTERACTIVE_BUDGET)             # compile and warm caches
    fast = slider_latency(values, INTERACTIVE_BUDGET)
    paper = slider_latency(values, None)
    ref = numpy_pipeline_latency(values)
    print(f"## Slider change -> cycles up to order {MAX_ORDER} (2-D GT16) -> portrait frame sent (browser emulated), "
          f"median over {args.repeats} positions\n")
    print("| pipeline | search budgets | search ms | total ms | vs NumPy |")
    print("|---|---|---:|---:|---:|")
    print(f"| widgets (numba, strategy='auto', warm start) | interactive {INTERACTIVE_BUDGET} | {ms(fast['search'])} | "
          f"{ms(fast['total'])} | {statistics.median(ref) / statistics.median(fast['total']):.1f}x |")
    print(f"| widgets (numba, strategy='auto', warm start) | paper's defaults | {ms(paper['search'])} | {ms(paper['total'])} | "
          f"{statistics.median(ref) / statistics.median(paper['total']):.1f}x |")
    print(f"| plain-NumPy SCYFI reference | interactive {INTERACTIVE_BUDGET} | - | {ms(ref)} | 1.0x |")
    print(f"\nkernel side of the browser target <= 150 ms (without the continued-cycles preview, which only a "
          f"running event loop gives: see --browser): {'met' if statistics.median(fast['total']) < 0.15 else 'NOT met'}"
          f"; frame minus search: {1e3 * (statistics.median(fast['total']) - statistics.median(fast['search'])):.1f} ms\n")
    t_nb, t_np = search_only(values)
    print(f"## The search alone: SCYFI up to order {MAX_ORDER}, budgets {INTERACTIVE_BUDGET}, no warm start\n")
    print("| implementation | ms | speed-up |")
    print("|---|---:|---:|")
    print(f"| numba, strategy='scyfi' | {ms(t_nb)} | {statistics.median(t_np) / statistics.median(t_nb):.1f}x |")
    print(f"| plain NumPy reference | {ms(t_np)} | 1.0x |\n")

    cycles = pe.find_cycles(GT16, 16, seed=0)
    xl, yl, n = (-4.0, 6.0), (-6.0, 4.0), 200
    xs, ys = np.linspace(*xl, n), np.linspace(*yl, n)
    scale = 1 + max(np.abs(c.points).max() for c in cycles.stable)
    pe.basins(GT16, cycles, xl, yl, 8)
    t_nb, t_np = [], []
    for _ in range(3):
        t = time.perf_counter()
        lab = pe.basins(GT16, cycles, xl, yl, n)
        t_nb.append(time.perf_counter() - t)
        t = time.perf_counter()
        ref_lab = numpy_basins(GT16, cycles, xs, ys, 5000, 1e-4 * scale, 1e8 * scale)
        t_np.append(time.perf_counter() - t)
    assert np.array_equal(lab, ref_lab), "numba and NumPy basins differ"
    print(f"## Basins of attraction, {n} x {n} grid, GT16 (stable 16-cycle), median of 3\n")
    print("| implementation | ms | speed-up |")
    print("|---|---:|---:|")
    print(f"| numba kernel (parallel) | {ms(t_nb)} | {statistics.median(t_np) / statistics.median(t_nb):.1f}x |")
    print(f"| plain NumPy, vectorised | {ms(t_np)} | 1.0x |\n")
    from plrnn_explorer.attraction import basins_coarse_to_fine
    from plrnn_explorer.widgets.phase_portrait import BASIN_BUDGET, BASIN_SIZES

    firsts, totals, finest = [], [], []
    for _ in range(3):
        t = time.perf_counter()
        levels = []
        for lv in basins_coarse_to_fine(GT16, cycles, xl, yl, BASIN_SIZES, budget=BASIN_BUDGET):
            levels.append(time.perf_counter() - t)
            finest.append(lv.shape[0])
        firsts.append(levels[0])
        totals.append(levels[-1])
    assert np.array_equal(lv, lab) or lv.shape != lab.shape
    print(f"panel's coarse-to-fine basins {BASIN_SIZES} (budget {BASIN_BUDGET} s, on a worker thread): "
          f"first picture after {ms(firsts)} ms, finest ({max(finest)}x{max(finest)}) after {ms(totals)} ms\n")
    cancel_table()


if __name__ == "__main__":
    main()
