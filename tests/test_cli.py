"""The plrnn-explorer command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.cli import main


@pytest.fixture
def model_file(tmp_path, gt16):
    path = tmp_path / "model.json"
    pe.save_model(gt16, path)
    return path


def test_cycles_table(model_file, capsys):
    assert main(["cycles", str(model_file), "--max-order", "16", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "stable spiral" in out and "unstable spiral" in out
    assert "CycleSet: 3 cycle(s)" in out


def test_cycles_json(model_file, capsys):
    assert main(["cycles", str(model_file), "--max-order", "16", "--seed", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    cycles = doc["cycles"]
    assert sorted(c["order"] for c in cycles) == [1, 16, 16]
    stable = [c for c in cycles if c["stable"]]
    assert len(stable) == 1 and stable[0]["kind"] == "stable spiral"
    assert all(len(pair) == 2 for pair in stable[0]["eigenvalues"])
    assert np.array(stable[0]["points"]).shape == (16, 2)


def test_cycles_orders_and_exhaustive(model_file, capsys):
    assert main(["cycles", str(model_file), "--orders", "1-2", "--exhaustive", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["orders"] == [1, 2] and len(doc["cycles"]) == 1


@pytest.mark.parametrize("argv,message", [
    (["cycles", "missing.json", "--max-order", "3"], "does not exist"),
    (["cycles", "{model}", "--max-order", "0"], "max_order must be >= 1"),
    (["cycles", "{model}"], "give --max-order"),
    (["cycles", "{model}", "--max-order", "2", "--outer", "-1"], "outer_loop_iterations must be >= 0"),
    (["cycles", "{model}", "--max-order", "x"], "invalid int value"),
])
def test_bad_arguments_exit_nonzero_with_one_line(model_file, capsys, argv, message):
    argv = [a.format(model=model_file) for a in argv]
    with pytest.raises(SystemExit) if "x" in argv else _no_exit():
        code = main(argv)
        assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_corrupt_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert main(["cycles", str(bad), "--max-order", "2"]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_console_script_runs(model_file):
    proc = subprocess.run([sys.executable, "-m", "plrnn_explorer.cli", "cycles", str(model_file),
                           "--max-order", "1", "--json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cycles"][0]["kind"] == "unstable spiral"


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# -- reliability of the command line -------------------------------------------------
@pytest.fixture
def tent_file(tmp_path):
    path = tmp_path / "tent.json"
    pe.save_model(pe.PLRNN([0.2], [[-1.7]], [1.0]), path)
    return path


@pytest.mark.parametrize("values", [["--values", "-2.2:1.3:5"], ["--values=-2.2:1.3:5"], ["--values", "-2,-1.5,.5"]])
def test_negative_values(tent_file, capsys, values):
    assert main(["sweep", str(tent_file), "--param", "W[0,0]", *values, "--max-order", "1", "--seed", "0"]) == 0
    assert "<Sweep over W[0,0]" in capsys.readouterr().out


def test_version_bare_command_and_defaults_in_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("plrnn-explorer ")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("cycles", "train", "sweep", "map"))
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "(default: 0.001)" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["train", "{model}", "{data}", "--epochs", "1000000", "--out", "run.pkl"], "--out must end in .npz or .json"),
    (["map", "{model}", "--x", "A[0,0]=0:1:3", "--y", "W[0,0]=-2:0:3", "--max-order", "1", "--out",
      "/no/such/dir/map.png"], "folder '/no/such/dir' does not exist"),
    (["map", "{model}", "--x", "A[0,0]=0:1:3", "--y", "W[0,0]=-2:0:3", "--max-order", "1", "--out", "{tmp}/m.xyz"],
     "--out must end in"),
    (["sweep", "{model}", "--param", "W[0,0]", "--values", "0:1:3", "--max-order", "1", "--npz", "{tmp}/s.txt"],
     "--npz must end in .npz"),
    (["cycles", "{model}", "--orders", "1-10000000000"], "limits.max_order"),
    (["sweep", "{model}", "--param", "W[0,0]", "--values", "0:1:10000000000", "--max-order", "1"],
     "limits.max_grid_points"),
    (["sweep", "{model}", "--param", "W[0,0]", "--values", "0:1:1e10", "--max-order", "1"], "whole number"),
    (["cycles", "{model}", "--max-order", "100000"], "limits.max_order"),
    (["map", "{model}", "--x", "A[0]=0:1:3", "--y", "A[0,0]=-2:0:3", "--max-order", "1"],
     "address the same parameter entry"),
])
def test_bad_requests_fail_fast_with_one_line(tent_file, tmp_path, capsys, argv, message):
    import time

    np.save(tmp_path / "data.npy", np.zeros((20, 1)))
    argv = [a.format(model=tent_file, data=tmp_path / "data.npy", tmp=tmp_path) for a in argv]
    t0 = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as e:  # argparse type errors
        code = e.code
    assert code == 2 and time.perf_counter() - t0 < 20
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1, err


def test_interrupted_map_exits_130_and_saves_the_partial_result(tent_file, tmp_path, capsys, monkeypatch):
    from plrnn_explorer.bifurcations import _engine

    real, n = _engine.search_chunk, []

    def flaky(*a, **k):
        n.append(1)
        if len(n) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(_engine, "search_chunk", flaky)
    out = tmp_path / "map.npz"
    code = main(["map", str(tent_file), "--x", "A[0,0]=0:1:20", "--y", "W[0,0]=-2:0:20", "--max-order", "2",
                 "--npz", str(out)])
    assert code == 130
    assert "interrupted; partial result saved to" in capsys.readouterr().err
    bm = pe.bifurcations.load_bifurcation_map(out)
    assert 0 < bm.computed.sum() < 400


def test_scheduler_without_distributed(tent_file, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code = main(["sweep", str(tent_file), "--param", "W[0,0]", "--values", "0:1:3", "--max-order", "1",
                 "--scheduler", "tcp://127.0.0.1:1"])
    assert code == 2 and "plrnn-explorer[dask]" in capsys.readouterr().err


def test_cycles_json_is_standard_json(tmp_path, capsys):
    path = tmp_path / "lin.json"
    pe.save_model(pe.ALRNN([0.5], [[0.0]], [1.0], n_relu=0), path)
    assert main(["cycles", str(path), "--max-order", "1", "--json"]) == 0
    text = capsys.readouterr().out
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
