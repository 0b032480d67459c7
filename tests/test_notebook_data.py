"""The training runs shipped for notebooks 07 and 08, and the scripts that regenerate them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import plrnn_explorer as pe

DATA = Path(__file__).resolve().parent.parent / "notebooks" / "data"
#: keep the repository small: each shipped run stays well under this size
MAX_BYTES = 3_000_000


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, DATA / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("script, n_checkpoints, model_type", [
    ("make_07_run", 91, pe.ShallowPLRNN), ("make_08_run", 151, pe.PLRNN)])
def test_shipped_run_is_small_and_was_made_by_its_script(script, n_checkpoints, model_type):
    module = _script(script)
    path = module.RUN_FILE
    assert path.is_file() and path.stat().st_size < MAX_BYTES
    run = pe.TrainingRun.load(path)
    assert run.status == "completed" and len(run) == n_checkpoints
    assert all(type(m) is model_type for m in run.checkpoints)
    assert run.checkpoints[0] == module.initial_model()          # same seeded initialisation as the script
    assert np.all(np.isfinite(run.losses)) and np.array_equal(run.epochs, np.unique(run.epochs))


def test_scripts_reject_a_non_npz_output(capsys):
    with pytest.raises(SystemExit):
        _script("make_08_run").main(["out.json"])
    assert "must end in .npz" in capsys.readouterr().err


def test_make_08_run_regenerates_a_run_with_the_shipped_settings(tmp_path):
    module = _script("make_08_run")
    module.main([str(tmp_path / "run.npz")])
    fresh, shipped = pe.TrainingRun.load(tmp_path / "run.npz"), pe.TrainingRun.load(module.RUN_FILE)
    assert fresh.settings == shipped.settings and len(fresh) == len(shipped)
    # the last bits may differ between machines; the run itself must be close (training here is not chaotic)
    assert np.allclose(fresh.losses, shipped.losses, rtol=1e-6, atol=1e-9)
