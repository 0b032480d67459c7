"""Servers and browser for the real-browser tests (JupyterLab and Voila in headless Debian Chromium).

Follows the verified recipe of the project's browser-testing notes: servers
started with ``subprocess.Popen`` on free localhost ports and polled until
they answer, Debian's ``/usr/bin/chromium`` driven by Playwright's sync API,
a fresh context per test. Servers and browser are module-scoped: Playwright's
sync API keeps an asyncio loop marked running while it lives, which would break
later tests on the same pytest worker that start their own loop. Without Chromium or Playwright the tests skip with
the reason, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TOKEN = "plrnn-explorer-browser-test"
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "explorer.ipynb"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run on CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def _server(args: list[str], ready_path: str, log_path: Path):
    """Run ``python -m <args>`` with a free ``{port}`` on localhost; yield its base URL once ``ready_path`` answers."""
    port = _free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", *(a.format(port=port) for a in args)],
                                stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base + ready_path, proc)
            yield base
        finally:
            _stop(proc)


@pytest.fixture(scope="module")
def token() -> str:
    """The Lab server's token."""
    return TOKEN


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """Folder for screenshots: ``$PLRNN_TEST_ARTIFACTS`` (e.g. for CI uploads), else a temporary folder."""
    where = os.environ.get("PLRNN_TEST_ARTIFACTS")
    if not where:
        return tmp_path_factory.mktemp("screenshots")
    path = Path(where)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install playwright; never 'playwright install')")
    return CHROMIUM


#: the probe notebook: an Explorer, a label showing the kernel's model exactly (repr of every entry) and a
#: text box whose submitted text the kernel executes (so Lab and Voila tests can set ex.model from code)
PROBE_CELLS = [
    """import json
import ipywidgets as W
import numpy as np
import plrnn_explorer as pe
from plrnn_explorer import widgets

gt16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
ckpts = [gt16.set_param("A[0,0]", a) for a in (0.6, 0.7, 0.8377689)]
run = type("Run", (), {"checkpoints": ckpts, "losses": [3.0, 2.0, 1.0], "epochs": [0, 10, 20]})()
ex = widgets.Explorer(gt16, max_order=16, params=["A[0,0]", "W[1,0]"], run=run)
probe = W.HTML().add_class("model-probe")
runner = W.Text(continuous_update=False, placeholder="code").add_class("code-runner")
ran = W.HTML().add_class("code-ran")


def show(_=None):
    m = ex.model
    probe.value = json.dumps({"dim": m.dim, "params": {p: repr(m.get_param(p)) for p in m.param_paths()}})


def run_code(change):
    exec(change["new"], globals())
    ran.value = change["new"]


ex.observe(show, names="model")
runner.observe(run_code, names="value")
show()""",
    "W.VBox([W.HBox([runner, ran]), probe, ex])",
]


#: seconds the first-search notebook's cycle searches sleep first (stands in for a first-use compile)
FIRST_SEARCH_SLEEP = 10.0
#: an Explorer whose first search takes FIRST_SEARCH_SLEEP s longer: the page must show the status meanwhile
FIRST_SEARCH_CELLS = [
    f"""import time
import plrnn_explorer as pe
import plrnn_explorer.widgets.state as S
from plrnn_explorer import widgets

_f = S.find_cycles
S.find_cycles = lambda *a, **k: (time.sleep({FIRST_SEARCH_SLEEP}), _f(*a, **k))[1]
gt16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
ex = widgets.Explorer(gt16, max_order=16, params=["A[0,0]", "W[1,0]"])""",
    "ex",
]


def probe_notebook(cells: list[str] = PROBE_CELLS) -> dict:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
              "source": src} for i, src in enumerate(cells)]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A temporary server root: the explorer, probe, first-search and app notebooks."""
    from plrnn_explorer.widgets.app import write_app_notebook

    r = tmp_path_factory.mktemp("nbroot")
    shutil.copy(NOTEBOOK, r / NOTEBOOK.name)
    (r / "probe.ipynb").write_text(json.dumps(probe_notebook()))
    (r / "first_search.ipynb").write_text(json.dumps(probe_notebook(FIRST_SEARCH_CELLS)))
    write_app_notebook(r)
    return r


@pytest.fixture(scope="module")
def lab_url(chromium_path, root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    args = ["jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1", "--ServerApp.port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
            f"--LabApp.workspaces_dir={tmp / 'ws'}", f"--LabApp.user_settings_dir={tmp / 'settings'}",
            "--LabApp.expose_app_in_browser=True"]
    with _server(args, f"/api/status?token={TOKEN}", tmp / "lab.log") as base:
        yield base


@pytest.fixture(scope="module")
def voila_url(chromium_path, root, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("voila")
    args = ["voila", "--no-browser", "--Voila.ip=127.0.0.1", "--port={port}", "--Voila.port_retries=0",
            f"--Voila.root_dir={root}", "--show_tracebacks=True", "--Voila.tornado_settings=disable_check_xsrf=True"]
    with _server(args, "/voila/static/voila.js", tmp / "voila.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh context and page; any uncaught page error fails the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"page errors: {errors}"
