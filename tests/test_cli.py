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
