"""The app: model file loading and upload, the app notebook, and the ``plrnn-explorer app`` command."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.cli import main
from plrnn_explorer.widgets import app as app_module
from plrnn_explorer.widgets.app import MODEL_ENV, App, app_notebook, load_model_file

NOW = datetime.datetime.now(datetime.timezone.utc)
GT16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])


def test_upload_replaces_the_model_exactly_and_explains_bad_files(tmp_path):
    app = App(max_order=4)
    assert app.explorer.model == GT16 and "GT16" in app.source.value
    m3 = pe.PLRNN([0.5, 0.4, 0.123456789012345], np.eye(3) * 0.1, [1.0, 0.0, -1.0])
    path = tmp_path / "m3.npz"
    pe.save_model(m3, path)
    app.upload.value = ({"name": "m3.npz", "content": memoryview(path.read_bytes()), "size": path.stat().st_size,
                         "type": "", "last_modified": NOW},)
    assert app.explorer.model == m3 and app.explorer.model.get_param("A[2,2]") == 0.123456789012345
    assert "m3.npz" in app.source.value and "M = 3" in app.source.value
    app.upload.value = ({"name": "junk.json", "content": memoryview(b"{not json"), "size": 9, "type": "",
                         "last_modified": NOW},)
    assert "could not load junk.json" in app.source.value and app.explorer.model == m3
    assert str(tmp_path) not in app.source.value


def test_mat_snapshots_open_with_the_training_panel():
    snaps = load_model_file(pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat"))
    app = App(snaps[:5], max_order=2)
    assert app.explorer.training is not None and app.explorer.model == snaps[4]
    assert "5 snapshots" in app.source.value
    app.explorer.training.analyze()                                   # snapshots without losses
    assert app.explorer.training.jobs.wait(600)
    assert app.explorer.training.jobs.status.value.startswith("done"), app.explorer.training.jobs.status.value


def test_app_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "gt.json"
    pe.save_model(GT16.set_param("A[0,0]", 0.9), path)
    monkeypatch.setenv(MODEL_ENV, str(path))
    app = App.from_environment(max_order=4)
    assert app.explorer.model.get_param("A[0,0]") == 0.9 and "gt.json" in app.source.value
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "missing.json"))
    app = App.from_environment(max_order=4)
    assert "could not load" in app.source.value and app.explorer.model == GT16


def test_app_notebook_has_no_developer_text():
    nb = app_notebook()
    assert [c["cell_type"] for c in nb["cells"]] == ["code"]
    assert nb["cells"][0]["source"].splitlines()[-1] == "App.from_environment()"
    json.dumps(nb)


def test_cli_app_launches_voila_with_culling(tmp_path, monkeypatch):
    path = tmp_path / "gt.json"
    pe.save_model(GT16, path)
    calls = []

    def fake_call(cmd, env, cwd):
        calls.append((cmd, env, cwd))
        nb = json.loads(open(cmd[3]).read())
        assert nb == app_notebook()
        return 0

    monkeypatch.setattr("subprocess.call", fake_call)
    assert main(["app", str(path), "--port", "8899", "--no-browser"]) == 0
    (cmd, env, cwd), = calls
    assert cmd[1:3] == ["-m", "voila"] and "--port=8899" in cmd and "--no-browser" in cmd
    assert "--MappingKernelManager.cull_idle_timeout=600" in cmd
    assert env[MODEL_ENV] == str(path.resolve())


def test_cli_app_without_voila_or_with_a_bad_file(tmp_path, monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "voila" else real(name, *a))
    assert main(["app"]) == 2
    assert "the app needs Voila" in capsys.readouterr().err
    bad = tmp_path / "model.txt"
    bad.write_text("x")
    assert main(["app", str(bad)]) == 2
    assert "must end in .json" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        load_model_file(tmp_path / "none.json")
    assert app_module.ACCEPTED[0] == ".json"
