"""Labelled, self-describing results: to_xarray / netCDF round trips, seed= and progress= conventions."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

import plrnn_explorer as pe

xr = pytest.importorskip("xarray")
pytest.importorskip("netCDF4")
matplotlib.use("Agg")

TENT = pe.PLRNN([0.2], [[0.0]], [1.0])  # skew tent map: a_l = A, a_r = A + W


def _stop_after(n_calls: int):
    calls = [0]

    def cancel() -> bool:
        calls[0] += 1
        return calls[0] > n_calls
    return cancel


@pytest.fixture(scope="module")
def tent_map():
    return pe.bifurcation_map(TENT, ("A[0,0]", [0.1, 0.2, 0.3]), ("W[0,0]", [-2.0, -1.5, -1.0, 0.0]), 2, seed=3)


def test_map_netcdf_opens_in_plain_xarray_with_labels_and_provenance(tent_map, tmp_path):
    bm = tent_map
    path = tmp_path / "map.nc"
    bm.to_netcdf(path)
    with xr.open_dataset(path) as ds:
        assert ds["counts"].dims == ("W_0_0", "A_0_0", "order")
        assert ds["A_0_0"].attrs["path"] == "A[0,0]" and ds["A_0_0"].attrs["long_name"] == "A[0,0]"
        assert ds["W_0_0"].attrs["path"] == "W[0,0]"
        np.testing.assert_array_equal(ds["A_0_0"].values, bm.xs)
        np.testing.assert_array_equal(ds["counts"].values, bm.counts)     # complete map: no NaN
        for var in ("counts", "stable_counts", "computed", "boundary_kind", "boundary_value"):
            assert ds[var].attrs["long_name"] and ds[var].attrs["description"], var
        a = ds.attrs
        assert a["seed"] == 3 and a["max_order"] == 2 and a["plrnn_explorer_version"] == pe.__version__
        assert a["created"].endswith("+00:00") and a["complete"] == 1
        assert json.loads(a["budgets"]) == {str(k): list(v) for k, v in bm.stats["budgets"].items()}
        assert pe.Model.from_dict(json.loads(a["model"])) == TENT
        ax = ds["counts"].sel(order=2).plot().axes
        assert "A[0,0]" in ax.get_xlabel() and "W[0,0]" in ax.get_ylabel()
        assert "number of cycles" in ax.figure.axes[-1].get_ylabel()           # the colour bar
        matplotlib.pyplot.close("all")


@pytest.mark.parametrize("name", ["map.nc", "map.npz"])
def test_saved_map_reloads_with_model(tent_map, tmp_path, name):
    bm = tent_map
    path = tmp_path / name
    (bm.to_netcdf if name.endswith(".nc") else bm.to_npz)(path)
    back = pe.load_bifurcation_map(path)
    np.testing.assert_array_equal(back.counts, bm.counts)
    np.testing.assert_array_equal(back.stable_counts, bm.stable_counts)
    assert back.counts.dtype == np.int64 and back.complete
    assert back.model_at(2, 1) == bm.model_at(2, 1) and back.model_at(2, 1).get_param("W[0,0]") == -1.0
    assert back.stats["seed"] == 3 and back.stats["budgets"] == bm.stats["budgets"]
    # recomputing from what the file says gives the same map
    again = pe.bifurcation_map(back.model, (back.param_x, back.xs), (back.param_y, back.ys),
                               len(back.orders), seed=back.stats["seed"], budgets=back.stats["budgets"].get)
    np.testing.assert_array_equal(again.counts, bm.counts)


def test_cancelled_map_marks_missing_cells(tmp_path):
    bm = pe.bifurcation_map(TENT, ("A[0,0]", np.linspace(0.1, 0.3, 6)), ("W[0,0]", np.linspace(-2, 0, 6)), 2,
                            seed=0, cancel=_stop_after(1), chunk_size=6)
    missing = ~bm.computed
    assert not bm.complete and missing.any() and bm.computed.any()
    ds = bm.to_xarray()
    assert np.array_equal(ds["counts"].isnull().values.any(axis=2), missing)
    assert np.array_equal(ds["counts"].isnull().values.all(axis=2), missing)
    path = tmp_path / "partial.nc"
    bm.to_netcdf(path)
    with xr.open_dataset(path) as back:
        assert back["counts"].encoding["dtype"] == np.int32 and back["counts"].encoding["_FillValue"] == -1
        assert np.array_equal(np.isnan(back["counts"].values).all(axis=2), missing)
        np.testing.assert_array_equal(back["counts"].values[~missing], bm.counts[~missing])
        mesh = back["counts"].sel(order=1).plot()
        assert np.ma.getmaskarray(mesh.get_array()).sum() == missing.sum()    # the plot skips them
        matplotlib.pyplot.close("all")
        assert back.attrs["complete"] == 0
    loaded = pe.load_bifurcation_map(path)
    np.testing.assert_array_equal(loaded.counts, bm.counts)                   # -1 again in the package
    assert not loaded.complete


def test_files_of_the_previous_format_still_load(tent_map, tmp_path):
    bm = tent_map
    d = bm._arrays()
    np.savez(tmp_path / "old.npz", param_x=np.asarray(bm.param_x), param_y=np.asarray(bm.param_y), **d)
    old = xr.Dataset({"counts": (("y", "x", "order"), d["counts"]),
                      "stable_counts": (("y", "x", "order"), d["stable_counts"]),
                      "computed": (("y", "x"), d["computed"]),
                      "boundary_start": (("segment", "xy"), d["boundary_start"]),
                      "boundary_end": (("segment", "xy"), d["boundary_end"]),
                      "boundary_kind": (("segment",), d["boundary_kind"]),
                      "boundary_order": (("segment",), d["boundary_order"]),
                      "boundary_value": (("segment",), d["boundary_value"]),
                      "boundary_axis": (("segment",), d["boundary_axis"]),
                      "boundary_cells": (("segment", "end", "yx"), d["boundary_cells"])},
                     coords={"x": d["xs"], "y": d["ys"], "order": d["orders"]},
                     attrs={"param_x": bm.param_x, "param_y": bm.param_y})
    old.to_netcdf(tmp_path / "old.nc")
    for name in ("old.npz", "old.nc"):
        back = pe.load_bifurcation_map(tmp_path / name)
        np.testing.assert_array_equal(back.counts, bm.counts)
        assert len(back.boundaries) == len(bm.boundaries)
        with pytest.raises(ValueError, match="needs the map.s model, and this map has none"):
            back.model_at(0, 0)


def test_sweep_xarray_labels_and_missing_values(tmp_path):
    sw = pe.sweep(TENT, "W[0,0]", np.linspace(-2.0, 1.0, 7), 2, seed=1)
    ds = sw.to_xarray()
    assert ds["counts"].dims == ("W_0_0", "order") and ds["W_0_0"].attrs["path"] == "W[0,0]"
    assert [str(k) for k in ds["event_kind"].values] == [e.kind for e in sw.events]
    np.testing.assert_allclose(ds["event_value"].values, [e.value for e in sw.events])
    assert ds.attrs["seed"] == 1 and pe.Model.from_dict(json.loads(ds.attrs["model"])) == TENT
    sw.to_netcdf(tmp_path / "s.nc")
    with xr.open_dataset(tmp_path / "s.nc") as back:
        np.testing.assert_array_equal(back["counts"].values, sw.counts)
        assert back["counts"].attrs["long_name"] == "number of cycles"
    part = pe.sweep(TENT, "W[0,0]", np.linspace(-2.0, 1.0, 40), 2, seed=1, cancel=_stop_after(0))
    assert not part.computed.all()
    assert np.array_equal(part.to_xarray()["counts"].isnull().values.all(axis=1), ~part.computed)


def test_landscape_xarray_labels_and_netcdf(tmp_path):
    gt = pe.systems.gt16()
    ls = pe.loss_landscape(gt, gt.simulate([0.5, -1.0], 40), ("A[0,0]", [-0.1, 0.0, 0.1]), ("W[0,1]", [0.0, 0.1]),
                           relative=True)
    ds = ls.to_xarray()
    assert ds["loss"].dims == ("W_0_1", "A_0_0") and ds["A_0_0"].attrs["path"] == "A[0,0]"
    assert ds["grad_x"].attrs["long_name"] == "∂loss/∂A[0,0]" and ds.attrs["relative"] == 1
    assert pe.Model.from_dict(json.loads(ds.attrs["model"])) == gt
    assert json.loads(ds.attrs["settings"])["method"] == "bptt"
    ls.to_xarray().to_netcdf(tmp_path / "ls.nc")
    with xr.open_dataset(tmp_path / "ls.nc") as back:
        np.testing.assert_array_equal(back["loss"].values, ls.loss)


def test_training_run_to_xarray_matches_the_run(tmp_path):
    truth = pe.PLRNN([0.5, 0.3], [[0, -0.4], [0.6, 0]], [0.5, -0.2])
    run = pe.train(truth.replace(h=[0.0, 0.0]), truth.simulate([1.0, 0.0], 30), 6, lr=0.02, seed=4,
                   checkpoint_every=2)
    ds = run.to_xarray()
    np.testing.assert_array_equal(ds["checkpoint"].values, run.epochs)
    np.testing.assert_array_equal(ds["epoch"].values, np.arange(1, 7))
    np.testing.assert_array_equal(ds["loss"].values, run.losses)
    np.testing.assert_array_equal(ds["grad_norm"].values, run.grad_norms)
    np.testing.assert_array_equal(ds["epoch_loss"].values, run.epoch_losses)
    np.testing.assert_array_equal(ds["epoch_grad_norm"].values, run.epoch_grad_norms)
    for i, m in enumerate(run.checkpoints):
        for k in m.param_names:
            np.testing.assert_array_equal(ds[f"param_{k}"].values[i], getattr(m, k))
    assert ds["param_W"].dims == ("checkpoint", "W_dim0", "W_dim1")
    assert json.loads(ds.attrs["settings"]) == run.settings and ds.attrs["seed"] == 4
    assert ds.attrs["status"] == "completed" and ds.attrs["model_type"] == "PLRNN"
    ds.to_netcdf(tmp_path / "run.nc")
    with xr.open_dataset(tmp_path / "run.nc") as back:
        np.testing.assert_array_equal(back["param_A"].values, np.stack([m.A for m in run.checkpoints]))


def test_training_analysis_to_xarray_matches_the_analysis(tmp_path):
    ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3, -0.5)]
    ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, 1.0, np.inf], epochs=[0, 10, 20, 30], seed=0)
    ds = ta.to_xarray()
    assert ds.sizes["event"] == len(ta.events) >= 3
    assert [str(k) for k in ds["event_kind"].values] == [e.kind for e in ta.events]
    np.testing.assert_array_equal(ds["event_epoch"].values, [e.epoch for e in ta.events])
    np.testing.assert_array_equal(ds["event_order"].values, [e.order for e in ta.events])
    np.testing.assert_array_equal(ds["event_value"].values, [e.value for e in ta.events])
    np.testing.assert_array_equal(ds["loss"].values, ta.losses)
    np.testing.assert_array_equal(ds["epoch"].values, ta.epochs)
    np.testing.assert_array_equal(ds["counts"].values, [[cs.counts()[k] for k in (1, 2)] for cs in ta.cycles])
    ds.to_netcdf(tmp_path / "ta.nc")
    assert "loss" not in pe.analyze_training(ckpts[:2], 1, seed=0).to_xarray()


# -- seed= -------------------------------------------------------------------
def test_seed_accepts_a_generator_reproducibly():
    m = pe.systems.gt16()
    a = pe.find_cycles(m, 4, seed=np.random.default_rng(7))
    b = pe.find_cycles(m, 4, seed=np.random.default_rng(7))
    assert a.to_dict()["cycles"] == b.to_dict()["cycles"]
    drawn = int(np.random.default_rng(7).integers(0, 2**63, dtype=np.int64))
    sw1 = pe.sweep(TENT, "W[0,0]", [-2.0, -1.0], 2, seed=np.random.default_rng(7))
    sw2 = pe.sweep(TENT, "W[0,0]", [-2.0, -1.0], 2, seed=drawn)
    assert sw1.stats["seed"] == sw2.stats["seed"] == drawn
    truth = pe.PLRNN([0.5], [[0.0]], [0.5])
    data = truth.simulate([0.0], 40)

    def fit(seed):
        return pe.train(truth.replace(h=[0.0]), data, 3, lr=0.05, seq_len=5, seed=seed)
    r1, r2, r3 = fit(np.random.default_rng(11)), fit(np.random.default_rng(11)), fit(np.random.default_rng(12))
    np.testing.assert_array_equal(r1.epoch_losses, r2.epoch_losses)
    assert isinstance(r1.settings["seed"], int) and r1.settings["seed"] != r3.settings["seed"]
    assert not np.array_equal(r1.epoch_losses, r3.epoch_losses)   # the windows drawn depend on the Generator
    np.testing.assert_array_equal(fit(r1.settings["seed"]).epoch_losses, r1.epoch_losses)


@pytest.mark.parametrize("seed, exc, msg", [
    ("1", TypeError, "seed must be None, a non-negative integer or a numpy.random.Generator"),
    (1.5, TypeError, "numpy.random.Generator"),
    (True, TypeError, "numpy.random.Generator"),
    (np.random.RandomState(0), TypeError, "numpy.random.Generator"),
    (-1, ValueError, "seed must be >= 0"),
])
def test_bad_seed_is_refused_everywhere(seed, exc, msg):
    truth = pe.PLRNN([0.5], [[0.0]], [0.5])
    calls = [lambda: pe.find_cycles(TENT, 2, seed=seed),
             lambda: pe.sweep(TENT, "W[0,0]", [-2.0, -1.0], 2, seed=seed),
             lambda: pe.bifurcation_map(TENT, ("A[0,0]", [0.1, 0.2]), ("W[0,0]", [-2.0, -1.0]), 1, seed=seed),
             lambda: pe.analyze_training([TENT], 1, seed=seed),
             lambda: pe.train(truth, truth.simulate([0.0], 10), 1, seed=seed)]
    for call in calls:
        with pytest.raises(exc, match=msg):
            call()


# -- progress= ----------------------------------------------------------------
def test_progress_callable_means_the_same_in_train_and_maps():
    truth = pe.PLRNN([0.5], [[0.0]], [0.5])
    seen = []
    pe.train(truth.replace(h=[0.0]), truth.simulate([0.0], 20), 3, lr=0.05, seed=0,
             progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    seen.clear()
    pe.bifurcation_map(TENT, ("A[0,0]", [0.1, 0.2]), ("W[0,0]", [-2.0, -1.0, 0.0]), 1, seed=0,
                       progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (6, 6) and all(t == 6 for _, t in seen)
    seen.clear()
    pe.analyze_training([TENT, TENT.replace(W=[[-1.5]])], 1, seed=0,
                        progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2, 2)


def test_progress_true_and_bad_progress(capsys):
    truth = pe.PLRNN([0.5], [[0.0]], [0.5])
    run = pe.train(truth, truth.simulate([0.0], 10), 2, seed=0, progress=True)
    assert run.status == "completed"
    for call in (lambda: pe.train(truth, truth.simulate([0.0], 10), 1, progress="yes"),
                 lambda: pe.sweep(TENT, "W[0,0]", [-2.0, -1.0], 1, progress="yes")):
        with pytest.raises(TypeError, match=r"progress must be True, False, None or a callable progress\(done"):
            call()
