"""Every cycle search states whether it is complete, and the flag survives serialisation."""

from __future__ import annotations

import json

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.cli import main


def _tent():
    return pe.PLRNN([0.2], [[-1.7]], [1.0])


def test_exhaustive_search_is_complete_per_order():
    res = pe.exhaustive_cycles(_tent(), 3)
    assert res.complete
    assert all(res.stats["per_order"][k]["complete"] for k in (1, 2, 3))
    assert "search: complete" in res.table() and "complete" in res._repr_html_()


def test_heuristic_is_flagged_incomplete():
    res = pe.find_cycles(_tent(), 3, seed=0, strategy="scyfi")
    assert not res.complete
    assert all(res.stats["per_order"][k]["complete"] is False for k in (1, 2, 3))
    assert "heuristic: may be incomplete" in res.table()
    assert "may be incomplete" in repr(res) and "may be incomplete" in res._repr_html_()


def test_sets_without_statistics_are_not_complete():
    assert not pe.CycleSet([1], {1: []}).complete
    assert not pe.CycleSet([], {}).complete


def test_completeness_round_trips_through_dict_and_file(tmp_path):
    for res in (pe.exhaustive_cycles(_tent(), 2), pe.find_cycles(_tent(), 2, seed=0, strategy="scyfi")):
        d = json.loads(json.dumps(res.to_dict()))
        assert d["complete"] is res.complete
        again = pe.CycleSet.from_dict(d)
        assert again.complete is res.complete
        assert again.stats["per_order"][2]["complete"] is res.stats["per_order"][2]["complete"]
        path = tmp_path / "res.json"
        res.save(path)
        assert pe.CycleSet.load(path).complete is res.complete


def test_cli_reports_completeness(tmp_path, capsys):
    path = str(tmp_path / "tent.json")
    pe.save_model(_tent(), path)
    assert main(["cycles", path, "--max-order", "2", "--exhaustive", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["complete"] is True
    assert main(["cycles", path, "--max-order", "2", "--seed", "0", "--strategy", "scyfi"]) == 0
    assert "heuristic: may be incomplete" in capsys.readouterr().out


def test_neutral_cycle_is_not_stable():
    # a fixed point with multiplier exactly -1 (within rounding) ends a neutral continuum: not stable
    c = pe.cycles.Cycle(order=1, points=np.zeros((1, 1)), eigenvalues=np.array([1.0 - 1e-13 + 0j]),
                        itinerary=np.zeros((1, 1), bool))
    assert not c.stable and c.kind == "non-hyperbolic"
