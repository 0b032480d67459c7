"""The explorer notebook in a real browser: JupyterLab runs it, Voila serves it; a slider moves the cycles."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

pytestmark = pytest.mark.browser

PAINTED = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) return true;
  return false; }"""
CANVAS = ".plrnn-phase-portrait .jupyter-matplotlib canvas"
SUMMARY = ".plrnn-phase-portrait .plrnn-cycle-summary"


def _drag_first_slider_and_check(page, shots, name: str) -> None:
    """Wait for the painted portrait, push the A[0,0] slider to its maximum, see cycles and canvas change;
    then click into the portrait and see the trajectory drawn."""
    from playwright.sync_api import expect

    canvas = page.locator(CANVAS).first
    expect(canvas).to_be_visible(timeout=60_000)
    page.wait_for_function(PAINTED, arg=canvas.element_handle(), timeout=60_000)
    summary = page.locator(SUMMARY).first
    expect(summary).to_contain_text("stable: order 16", timeout=30_000)
    page.screenshot(path=str(shots / f"{name}-before.png"))
    old_image = canvas.evaluate("c => c.toDataURL()")
    slider = page.locator(".plrnn-parameter-panel").get_by_role("slider").first
    top = slider.get_attribute("aria-valuemax")
    slider.focus()
    slider.press("End")                                    # A[0,0] to the top of its range: the 16-cycle is lost
    expect(slider).to_have_attribute("aria-valuenow", top)
    try:
        expect(summary).not_to_contain_text("stable: order 16", timeout=30_000)
    except AssertionError:
        page.screenshot(path=str(shots / f"{name}-failed.png"))
        raise
    page.wait_for_function("([c, old]) => c.toDataURL() !== old", arg=[canvas.element_handle(), old_image],
                           timeout=30_000)
    page.screenshot(path=str(shots / f"{name}-after.png"))
    # a click inside the axes starts a trajectory there: the kernel redraws the portrait
    old_image = canvas.evaluate("c => c.toDataURL()")
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
    page.wait_for_function("([c, old]) => c.toDataURL() !== old", arg=[canvas.element_handle(), old_image],
                           timeout=30_000)
    page.screenshot(path=str(shots / f"{name}-click.png"))


def _delete_sessions(base: str, token: str) -> None:
    req = urllib.request.Request(f"{base}/api/sessions", headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        sessions = json.load(r)
    for s in sessions:
        urllib.request.urlopen(urllib.request.Request(
            f"{base}/api/sessions/{s['id']}", method="DELETE", headers={"Authorization": f"token {token}"}),
            timeout=10)


def test_jupyterlab_runs_explorer_and_slider_updates_portrait(page, lab_url, token, artifacts):
    from playwright.sync_api import expect

    page.goto(f"{lab_url}/lab/tree/explorer.ipynb?token={token}")
    kernel = page.locator('.jp-StatusBar-TextItem[title^="Change kernel"]')
    expect(kernel).to_have_text(re.compile(r"^(?!No Kernel).*\| Idle$"), timeout=60_000)
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    last_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").last
    expect(last_prompt).to_have_text(re.compile(r"\[\d+\]"), timeout=60_000)
    try:
        _drag_first_slider_and_check(page, artifacts, "lab")
    finally:
        _delete_sessions(lab_url, token)


def test_voila_serves_explorer_and_slider_updates_portrait(page, voila_url, artifacts):
    page.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda r: r.abort())
    page.goto(f"{voila_url}/voila/render/explorer.ipynb")
    try:
        _drag_first_slider_and_check(page, artifacts, "voila")
    finally:
        page.goto("about:blank")
