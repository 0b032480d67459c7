"""Bifurcation maps: counts against exhaustive search, GT16, Dask, progress/cancel, saving, CLI."""

from __future__ import annotations

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer.cli import main

GT16_A = (0.8377689, 0.96461297)


@pytest.fixture(scope="module")
def gt16_map(request):
    m = pe.PLRNN(list(GT16_A), [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
    xs = GT16_A[0] + np.linspace(-0.3, 0.3, 7)
    ys = GT16_A[1] + np.linspace(-0.3, 0.3, 7)
    return m, xs, ys, pe.bifurcation_map(m, ("A[0,0]", xs), ("A[1,1]", ys), 8, seed=2)


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as lc, \
            distributed.Client(lc) as c:
        yield c


def test_counts_equal_exhaustive_search_at_sampled_cells(gt16_map):
    m, xs, ys, bm = gt16_map
    assert bm.counts.shape == (7, 7, 8) and bm.counts.dtype.kind == "i"
    for iy, ix in [(0, 0), (3, 3), (6, 2), (1, 5), (6, 6), (4, 0)]:
        ex = pe.exhaustive_cycles(m.set_param("A[0,0]", xs[ix]).set_param("A[1,1]", ys[iy]), 8)
        assert bm.counts[iy, ix].tolist() == [len(ex[k]) for k in range(1, 9)], (iy, ix)
        assert bm.stable_counts[iy, ix].tolist() == [sum(c.stable for c in ex[k]) for k in range(1, 9)]
        assert bm.cycles_at(iy, ix).keys() == ex.keys()


def test_counts_equal_exhaustive_search_everywhere_with_cycles_of_many_orders():
    # the S7 family over (a_l, W[0,0] = a_r - a_l): fixed points, 2-, 4- and 6-cycles, flips, folds
    m = pe.PLRNN(np.array([[0.0, 0.8], [-0.4, 0.2]]), np.array([[-1.5, 0], [0.9, 0]]), np.array([0.214, 0.0]))
    bm = pe.bifurcation_map(m, ("A[0,0]", np.linspace(0.2, 0.9, 6)), ("W[0,0]", np.linspace(-2.6, -1.2, 6)), 6,
                            seed=1)
    assert (bm.counts[..., [1, 3, 5]] > 0).any(axis=(0, 1)).all()
    for iy in range(6):
        for ix in range(6):
            ex = pe.exhaustive_cycles(bm.model_at(iy, ix), 6)
            assert bm.cycles_at(iy, ix).keys() == ex.keys(), (iy, ix)
    kinds = {s.kind for s in bm.boundaries}
    assert {"degenerate_flip", "border_collision", "fold"} <= kinds


def test_boundaries_separate_cells_that_differ(gt16_map):
    _, xs, ys, bm = gt16_map
    assert bm.boundaries
    for s in bm.boundaries:
        (ay, ax), (by, bx) = s.cells
        assert abs(ay - by) + abs(ax - bx) == 1
        differ = (bm.counts[ay, ax] != bm.counts[by, bx]).any() or \
            (bm.stable_counts[ay, ax] != bm.stable_counts[by, bx]).any() or \
            bm.cycles_at(ay, ax).keys() != bm.cycles_at(by, bx).keys()
        assert differ
        lo, hi = sorted((xs[ax], xs[bx]) if s.axis == "x" else (ys[ay], ys[by]))
        assert lo <= s.value <= hi


def test_stable_16_cycle_at_the_gt16_cell():
    m = pe.PLRNN(list(GT16_A), [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
    xs, ys = GT16_A[0] + np.array([-0.01, 0.0, 0.01]), GT16_A[1] + np.array([-0.01, 0.0, 0.01])
    bm = pe.bifurcation_map(m, ("A[0,0]", xs), ("A[1,1]", ys), 16, seed=0)
    assert bm.stable_counts[1, 1, 15] == 1
    assert [c.order for c in bm.cycles_at(1, 1).stable] == [16]
    assert bm.counts[1, 1].sum() == 3     # the FP, the stable 16-cycle and its saddle partner


def test_same_seed_same_map_and_dask_identical(gt16_map, client):
    m, xs, ys, bm = gt16_map
    again = pe.bifurcation_map(m, ("A[0,0]", xs), ("A[1,1]", ys), 8, seed=2, chunk_size=5)
    viadask = pe.bifurcation_map(m, ("A[0,0]", xs), ("A[1,1]", ys), 8, seed=2, client=client, chunk_size=9)
    for other in (again, viadask):
        assert np.array_equal(other.counts, bm.counts) and np.array_equal(other.stable_counts, bm.stable_counts)
        assert [(s.kind, s.value, s.cells) for s in other.boundaries] == [(s.kind, s.value, s.cells)
                                                                         for s in bm.boundaries]


def test_sweep_with_dask_identical(client):
    m = pe.PLRNN(list(GT16_A), [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
    vals = np.linspace(0.6, 1.0, 9)
    a = pe.sweep(m, "A[0,0]", vals, 6, seed=4, budgets=(5, 10))
    b = pe.sweep(m, "A[0,0]", vals, 6, seed=4, budgets=(5, 10), client=client)
    assert np.array_equal(a.counts, b.counts)
    assert [(e.kind, e.value) for e in a.events] == [(e.kind, e.value) for e in b.events]


def test_progress_and_cancel_keep_what_was_computed():
    m = pe.PLRNN([0.2], [[-1.7]], [1.0])
    calls = []
    full = pe.bifurcation_map(m, ("A[0,0]", np.linspace(-0.5, 0.5, 6)), ("W[0,0]", np.linspace(-2, 1, 5)), 2,
                              seed=0, chunk_size=4, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (30, 30) and [d for d, _ in calls] == sorted(d for d, _ in calls) and full.complete
    n = []
    part = pe.bifurcation_map(m, ("A[0,0]", np.linspace(-0.5, 0.5, 6)), ("W[0,0]", np.linspace(-2, 1, 5)), 2,
                              seed=0, chunk_size=4, progress=lambda d, t: n.append(d), cancel=lambda: len(n) >= 2)
    assert not part.complete and part.computed.sum() == 8
    assert (part.counts[~part.computed] == -1).all()
    done = part.computed
    assert np.array_equal(part.counts[done], full.counts[done])
    assert all(part.computed[c] for s in part.boundaries for c in s.cells)
    with pytest.raises(ValueError, match="not computed"):
        part.cycles_at(4, 5)


def test_netcdf_npz_xarray_dataframe_roundtrip(gt16_map, tmp_path):
    _, xs, ys, bm = gt16_map
    ds = bm.to_xarray()
    assert ds["counts"].dims == ("A_1_1", "A_0_0", "order") and np.array_equal(ds["A_0_0"].values, xs)
    assert list(ds["boundary_kind"].values) == [s.kind for s in bm.boundaries]
    df = bm.to_dataframe()
    assert len(df) == bm.counts.size and df["count"].sum() == bm.counts.sum()
    for name in ("map.nc", "map.npz"):
        path = tmp_path / name
        (bm.to_netcdf if name.endswith(".nc") else bm.to_npz)(path)
        back = pe.load_bifurcation_map(path)
        assert np.array_equal(back.counts, bm.counts) and np.array_equal(back.stable_counts, bm.stable_counts)
        assert [(s.kind, s.order, s.start, s.end) for s in back.boundaries] == \
            [(s.kind, s.order, s.start, s.end) for s in bm.boundaries]
        assert (back.param_x, back.param_y) == ("A[0,0]", "A[1,1]")
    with pytest.raises(ValueError, match=".npz or .nc"):
        pe.load_bifurcation_map(tmp_path / "map.txt")


def test_sweep_xarray_and_plots(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    m = pe.PLRNN([0.2], [[0.0]], [1.0])
    sw = pe.sweep(m, "W[0,0]", np.linspace(-2, 1, 13), 2, seed=0)
    ds = sw.to_xarray()
    assert ds["counts"].dims == ("W_0_0", "order") and list(ds["event_kind"].values) == [e.kind for e in sw.events]
    sw.to_netcdf(tmp_path / "s.nc")
    sw.to_npz(tmp_path / "s.npz")
    assert len(sw.to_dataframe()) == sum(c.order for cs in sw.cycles for c in cs)
    ax = sw.plot()
    stable = next(ln for ln in ax.lines if ln.get_gid() == "stable")
    assert len(stable.get_xdata()) == sum(c.order for cs in sw.cycles for c in cs if c.stable)
    bm = pe.bifurcation_map(m, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    ax = bm.plot(order=2)
    assert np.nansum(ax.collections[0].get_array()) == bm.counts[:, :, 1].sum()


def test_map_bad_input():
    m = pe.PLRNN([0.2], [[-1.7]], [1.0])
    with pytest.raises(ValueError, match="has no parameter 'B'"):
        pe.bifurcation_map(m, ("B[0,0]", [0, 1]), ("W[0,0]", [0, 1]), 2)
    with pytest.raises(ValueError, match="two different parameters"):
        pe.bifurcation_map(m, ("W[0,0]", [0, 1]), ("W[0,0]", [0, 1]), 2)
    with pytest.raises(ValueError, match="must not be empty"):
        pe.bifurcation_map(m, ("A[0,0]", []), ("W[0,0]", [0, 1]), 2)
    with pytest.raises(ValueError, match="strictly increasing or strictly decreasing"):
        pe.bifurcation_map(m, ("A[0,0]", [0, 1]), ("W[0,0]", [0, 2, 1]), 2)
    with pytest.raises(TypeError, match="pair"):
        pe.bifurcation_map(m, "A[0,0]", ("W[0,0]", [0, 1]), 2)
    with pytest.raises(ValueError, match="max_order must be >= 1"):
        pe.bifurcation_map(m, ("A[0,0]", [0, 1]), ("W[0,0]", [0, 1]), 0)


def test_cli_sweep_and_map(tmp_path, capsys):
    path = tmp_path / "tent.json"
    pe.save_model(pe.PLRNN([0.2], [[0.0]], [1.0]), path)
    assert main(["sweep", str(path), "--param", "W[0,0]", "--values=-2:1:13", "--max-order", "2", "--seed", "0",
                 "--npz", str(tmp_path / "s.npz")]) == 0
    out = capsys.readouterr().out
    assert "degenerate_flip" in out and "degenerate_transcritical" in out and (tmp_path / "s.npz").exists()
    assert main(["map", str(path), "--x", "A[0,0]=-0.5:0.5:5", "--y", "W[0,0]=-2:1:5", "--max-order", "2",
                 "--seed", "0", "--out", str(tmp_path / "map.png"), "--netcdf", str(tmp_path / "map.nc"),
                 "--npz", str(tmp_path / "map.npz")]) == 0
    assert (tmp_path / "map.png").stat().st_size > 1000
    assert pe.load_bifurcation_map(tmp_path / "map.npz").counts.shape == (5, 5, 2)
    assert main(["map", str(path), "--x", "B[0,0]=0:1:3", "--y", "W[0,0]=0:1:3", "--max-order", "2"]) == 2
    err = capsys.readouterr().err
    assert "no parameter 'B'" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["map", str(path), "--x", "A[0,0]", "--y", "W[0,0]=0:1:3", "--max-order", "2"])
    assert exc.value.code == 2
