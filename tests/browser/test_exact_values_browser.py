"""The panels in a real browser keep the model exact, never block, and their map and diagram work.

Each check reads the model back from the kernel: the probe notebook shows
``repr`` of every parameter entry of ``ex.model`` in a label, and executes
code submitted in a text box (to set ``ex.model`` from code). Values are
compared exactly, and again after a pause long enough for any late echo of a
slider from the browser to arrive.
"""

from __future__ import annotations

import contextlib
import json
import re
import time

import numpy as np
import pytest

PAINTED = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) return true;
  return false; }"""
CANVAS = ".plrnn-phase-portrait .jupyter-matplotlib canvas"

pytestmark = pytest.mark.browser

GT16 = {"A[0,0]": 0.8377689, "A[1,1]": 0.96461297, "W[0,0]": 0.0, "W[0,1]": -0.64375, "W[1,0]": 0.52505308,
        "W[1,1]": 0.0, "h[0]": 0.37298253, "h[1]": -0.97931491}
#: a late echo from the browser would arrive well within this many seconds
ECHO_WAIT = 2.5


def _model(page) -> dict:
    return json.loads(page.locator(".model-probe").first.inner_text())


def _wait_param(page, path: str, want: str, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if _model(page)["params"].get(path) == want:
                return
        except (json.JSONDecodeError, KeyError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{path} never became {want}: {_model(page)['params'].get(path)}")


def _stays(page, path: str, want: str) -> None:
    time.sleep(ECHO_WAIT)
    assert _model(page)["params"][path] == want, "a rounded echo changed the model"


def _type(page, row: int, text: str) -> None:
    box = page.locator(".plrnn-param-row").nth(row).locator(".plrnn-param-box input")
    box.fill(text)
    box.press("Enter")


def _run(page, code: str) -> None:
    from playwright.sync_api import expect

    runner = page.locator(".code-runner input")
    runner.fill(code)
    runner.press("Enter")
    expect(page.locator(".code-ran")).to_have_text(code, timeout=60_000)


def _tab(page, title: str) -> None:
    page.locator(".plrnn-explorer .lm-TabBar-tab", has_text=re.compile(f"^{title}$")).click()


def _scenario(page, shots, name: str) -> None:
    from playwright.sync_api import expect

    canvas = page.locator(CANVAS).first
    expect(canvas).to_be_visible(timeout=90_000)
    page.wait_for_function(PAINTED, arg=canvas.element_handle(), timeout=60_000)
    expect(page.locator(".model-probe")).to_contain_text('"dim": 2', timeout=30_000)
    assert _model(page)["params"] == {p: repr(v) for p, v in GT16.items()}

    # typed values reach the model bit for bit, also outside the slider's range
    _type(page, 0, "0.5")
    _wait_param(page, "A[0,0]", "0.5")
    _stays(page, "A[0,0]", "0.5")
    _type(page, 0, "-5")
    _wait_param(page, "A[0,0]", "-5.0")
    slider = page.locator(".plrnn-param-row").nth(0).get_by_role("slider")
    expect(slider).to_have_attribute("aria-valuenow", re.compile(r"^0(\.0)?$"))          # the range grew down to -5
    _stays(page, "A[0,0]", "-5.0")
    _type(page, 0, "abc")                                           # refused, with a message next to the box
    expect(page.locator(".plrnn-param-message").first).to_contain_text("is not a number")
    assert _model(page)["params"]["A[0,0]"] == "-5.0"

    # a real slider move: one step from the bottom of the grown range
    slider.focus()
    slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuenow", re.compile(r"^1(\.0)?$"))
    t0 = time.monotonic()
    while _model(page)["params"]["A[0,0]"] == "-5.0" and time.monotonic() - t0 < 30:
        time.sleep(0.05)
    moved = float(_model(page)["params"]["A[0,0]"])
    assert -5.0 < moved < -4.9

    # set from code, also a quick loop of updates: the last one wins, exactly
    _run(page, 'ex.model = gt16.set_param("A[0,0]", 0.9)')
    _wait_param(page, "A[0,0]", "0.9")
    _stays(page, "A[0,0]", "0.9")
    _run(page, '[setattr(ex, "model", gt16.set_param("A[0,0]", float(v))) for v in np.linspace(0.8, 0.9, 9)]; '
               'ex.model = gt16.set_param("A[0,0]", 0.8997689)')
    _wait_param(page, "A[0,0]", "0.8997689")
    _stays(page, "A[0,0]", "0.8997689")

    # an epoch of the training run: the checkpoint exactly
    _tab(page, "training")
    epoch = page.locator(".plrnn-training-panel").get_by_role("slider")
    epoch.focus()
    epoch.press("Home")
    _wait_param(page, "A[0,0]", "0.6")
    _stays(page, "A[0,0]", "0.6")

    # Reset: the initial model exactly, every entry
    page.locator(".plrnn-parameter-panel button", has_text="Reset").click()
    _wait_param(page, "A[0,0]", repr(GT16["A[0,0]"]))
    time.sleep(ECHO_WAIT)
    assert _model(page)["params"] == {p: repr(v) for p, v in GT16.items()}
    page.screenshot(path=str(shots / f"{name}-exact.png"))

    # a bifurcation map: Compute, then Cancel acts within 2 s
    _tab(page, "bifurcation map")
    grid = page.locator(".plrnn-map-grid input")
    grid.fill("150")
    grid.press("Enter")
    mp = page.locator(".plrnn-bifurcation-map")
    mp.locator(".plrnn-job-run").click()
    expect(mp.locator(".plrnn-job-status")).to_contain_text("bifurcation map", timeout=10_000)
    time.sleep(1.0)
    t0 = time.monotonic()
    mp.locator(".plrnn-job-cancel").click()
    expect(mp.locator(".plrnn-job-run")).to_be_enabled(timeout=2_000)
    assert time.monotonic() - t0 < 2.0
    expect(mp.locator(".plrnn-job-status")).to_contain_text("cancel")
    page.screenshot(path=str(shots / f"{name}-map-cancelled.png"))

    # the diagram panel: compute, click, the model moves to a computed value
    _tab(page, "bifurcation diagram")
    dg = page.locator(".plrnn-bifurcation-diagram")
    dg.locator(".plrnn-job-run").click()
    expect(dg.locator(".plrnn-job-status")).to_contain_text("done", timeout=180_000)
    dcanvas = dg.locator(".jupyter-matplotlib canvas").first
    page.wait_for_function(PAINTED, arg=dcanvas.element_handle(), timeout=30_000)
    dcanvas.scroll_into_view_if_needed()
    box = dcanvas.bounding_box()
    page.mouse.click(box["x"] + 0.35 * box["width"], box["y"] + 0.5 * box["height"])
    t0 = time.monotonic()
    while _model(page)["params"]["A[0,0]"] == repr(GT16["A[0,0]"]) and time.monotonic() - t0 < 30:
        time.sleep(0.1)
    a = float(_model(page)["params"]["A[0,0]"])
    v = GT16["A[0,0]"]
    values = np.linspace(v - max(1.0, abs(v)), v + max(1.0, abs(v)), 101)
    assert a in values.tolist() and a != v
    page.screenshot(path=str(shots / f"{name}-diagram.png"))

    # another dimension: the portrait redraws, clicks start trajectories in 3-D
    summary = page.locator(".plrnn-phase-portrait .plrnn-cycle-summary").first
    _run(page, "ex.model = pe.PLRNN([0.5, 0.4, 0.3], np.zeros((3, 3)), [1.0, 0.0, -1.0])")
    expect(page.locator(".model-probe")).to_contain_text('"dim": 3', timeout=30_000)
    expect(summary).to_contain_text("stable: order 1", timeout=30_000)
    canvas.scroll_into_view_if_needed()
    old = canvas.evaluate("c => c.toDataURL()")
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.4 * box["height"])
    page.wait_for_function("([c, old]) => c.toDataURL() !== old", arg=[canvas.element_handle(), old],
                           timeout=30_000)
    expect(page.locator(".plrnn-phase-portrait .plrnn-portrait-notice").first).not_to_contain_text("z0 must")
    page.screenshot(path=str(shots / f"{name}-3d.png"))


def test_jupyterlab_keeps_the_model_exact(page, lab_url, token, artifacts):
    from playwright.sync_api import expect

    page.goto(f"{lab_url}/lab/tree/probe.ipynb?token={token}")
    kernel = page.locator('.jp-StatusBar-TextItem[title^="Change kernel"]')
    expect(kernel).to_have_text(re.compile(r"^(?!No Kernel).*\| Idle$"), timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        _scenario(page, artifacts, "lab-probe")
    except Exception:
        page.screenshot(path=str(artifacts / "lab-probe-failed.png"))
        raise
    finally:
        _delete_sessions(lab_url, token)


def _delete_sessions(base: str, token: str) -> None:
    import urllib.request

    req = urllib.request.Request(f"{base}/api/sessions", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/sessions/{s['id']}", method="DELETE", headers={"Authorization": f"token {token}"}),
            timeout=10)


def test_voila_keeps_the_model_exact(page, voila_url, artifacts):
    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
    page.goto(f"{voila_url}/voila/render/probe.ipynb")
    try:
        _scenario(page, artifacts, "voila-probe")
    except Exception:
        page.screenshot(path=str(artifacts / "voila-probe-failed.png"))
        raise
    finally:
        page.goto("about:blank")


@contextlib.contextmanager
def _voila_page(page, voila_url, notebook):
    """Voila's rendering of ``notebook`` (requests outside 127.0.0.1 blocked), once its first portrait is painted;
    yields the portrait's canvas and leaves the page afterwards."""
    from playwright.sync_api import expect

    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
    page.goto(f"{voila_url}/voila/render/{notebook}")
    try:
        canvas = page.locator(CANVAS).first
        expect(canvas).to_be_visible(timeout=90_000)
        page.wait_for_function(PAINTED, arg=canvas.element_handle(), timeout=60_000)
        yield canvas
    finally:
        page.goto("about:blank")


def test_voila_serves_the_app(page, voila_url, artifacts):
    """The app notebook: no code, no raw outputs, the how-to line, a painted portrait."""
    from playwright.sync_api import expect

    with _voila_page(page, voila_url, "plrnn-explorer.ipynb"):
        expect(page.locator(".plrnn-app")).to_contain_text("type an exact value")
        expect(page.locator(".plrnn-app-source")).to_contain_text("GT16")
        assert "App.from_environment" not in page.content()
        assert not page.locator(".jp-OutputArea-output pre").count()      # no raw text output
        page.screenshot(path=str(artifacts / "voila-app.png"), full_page=True)


#: makes every cycle search in the kernel take 2 s longer (stands in for a first-use compile or a hard model)
SLOW_SEARCH = ("import time, plrnn_explorer.widgets.state as S; _f = S.find_cycles; "
               "S.find_cycles = lambda *a, **k: (time.sleep(2.0), _f(*a, **k))[1]")


def test_voila_slow_cycle_search_shows_status_and_keeps_the_kernel_free(page, voila_url, artifacts):
    """A slider step whose search is slow: the status line says so while it runs, the kernel keeps answering
    (a typed value is applied at once), and the newest model's cycles are shown in the end."""
    from playwright.sync_api import expect

    with _voila_page(page, voila_url, "probe.ipynb"):
        _run(page, SLOW_SEARCH)
        summary = page.locator(".plrnn-cycle-summary").first
        slider = page.locator(".plrnn-param-row").nth(0).get_by_role("slider")
        slider.focus()
        slider.press("ArrowRight")
        expect(summary).to_contain_text(re.compile(r"searching cycles up to order 16.*: \d+\.\d s"), timeout=10_000)
        _type(page, 1, "0.5")                                          # the kernel is free: applied at once
        _wait_param(page, "W[1,0]", "0.5", timeout=1.5)
        expect(summary).to_contain_text(re.compile(r"cycle\(s\) up to order 16"), timeout=30_000)
        page.screenshot(path=str(artifacts / "voila-slow-search.png"))


def test_voila_shows_the_page_and_a_status_while_the_first_search_runs(page, voila_url, artifacts):
    """The first search (slowed down, as by a first-use compile) runs while the page is already shown: the
    portrait is painted and says what runs, and draws the cycles when they arrive."""
    from playwright.sync_api import expect

    with _voila_page(page, voila_url, "first_search.ipynb") as canvas:
        summary = page.locator(".plrnn-cycle-summary").first
        expect(summary).to_contain_text(re.compile(r"searching cycles up to order 16.*: \d+\.\d s"), timeout=5_000)
        page.screenshot(path=str(artifacts / "voila-first-search.png"))
        old_image = canvas.evaluate("c => c.toDataURL()")
        expect(summary).to_contain_text("stable: order 16", timeout=60_000)
        page.wait_for_function("([c, old]) => c.toDataURL() !== old", arg=[canvas.element_handle(), old_image],
                               timeout=30_000)                      # the cycles are drawn
        page.screenshot(path=str(artifacts / "voila-first-search-done.png"))
