"""Reliability: one spelling per parameter entry, atomic saves, interruptible long calls, cost limits."""

from __future__ import annotations

import json

import numpy as np
import pytest

import plrnn_explorer as pe

TENT = dict(A=[0.2], W=[[-1.7]], h=[1.0])


# -- one canonical path per entry ------------------------------------------------
@pytest.mark.parametrize("a,b", [("A[0]", "A[0,0]"), ("W[0,0]", "W[-1,-1]"), ("A[0, 0]", " A[0,0] "),
                                 ("h[0]", "h[-1]")])
def test_two_spellings_of_one_entry_are_rejected_by_map(a, b):
    m = pe.PLRNN(**TENT)
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.bifurcation_map(m, (a, [0.1, 0.2]), (b, [0.3, 0.4]), 1, seed=0)


def test_two_spellings_of_one_entry_are_rejected_by_landscape():
    m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2])
    data = m.simulate([0.1, 0.2], 20)
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.loss_landscape(m, data, ("A[0]", [0.1, 0.2]), ("A[0,0]", [0.3, 0.4]))
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.loss_landscape(m, data, ("W[0,1]", [0.1, 0.2]), ("W[-2,-1]", [0.3, 0.4]))


def test_map_labels_are_canonical():
    m = pe.PLRNN([0.2, 0.3], [[0, 1], [1, 0]], [1.0, 0.0])
    bm = pe.bifurcation_map(m, ("A[-1]", [0.1, 0.2]), (" W[0, -1] ", [0.3, 0.4]), 1, seed=0, boundaries=False)
    assert (bm.param_x, bm.param_y) == ("A[1,1]", "W[0,1]")
    assert bm.model_at(1, 0).get_param("A[1,1]") == 0.1 and bm.model_at(1, 0).get_param("W[0,1]") == 0.4
    sw = pe.sweep(m, "A[-1]", [0.1, 0.2], 1, seed=0)
    assert sw.param == "A[1,1]"


def test_canonical_path_forms():
    m = pe.ShallowPLRNN([0.5, 0.5], np.ones((2, 3)), np.ones((3, 2)), [0, 0], [0, 0, 0])
    assert m.canonical_path("W1[-1,-1]") == "W1[1,2]"
    assert m.canonical_path("A[1]") == "A[1,1]"
    assert m.canonical_path("h2 [ -1 ]") == "h2[2]"
    with pytest.raises(ValueError, match=r"W1\[i,j\]' with 0 <= i < 2, 0 <= j < 3"):
        m.canonical_path("W1[2,0]")


# -- atomic saves ------------------------------------------------------------------
def _savers():
    m = pe.PLRNN(**TENT)
    run = pe.train(m, m.replace(h=[0.5]).simulate([0.0], 20), 2, lr=0.01, seed=0)
    cs = pe.find_cycles(m, 2, seed=0)
    bm = pe.bifurcation_map(m, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-1.9, -1.0]), 1, seed=0)
    sw = pe.sweep(m, "W[0,0]", [-1.9, -1.0], 1, seed=0)
    out = [("model.json", lambda p: pe.save_model(m, p)), ("model.npz", lambda p: pe.save_model(m, p)),
           ("run.json", run.save), ("run.npz", run.save), ("cycles.json", cs.save),
           ("map.npz", bm.to_npz), ("sweep.npz", sw.to_npz)]
    try:
        import netCDF4  # noqa: F401
        out += [("map.nc", bm.to_netcdf), ("sweep.nc", sw.to_netcdf)]
    except ImportError:  # pragma: no cover
        pass
    return out


def test_a_failing_save_keeps_the_previous_file(tmp_path, monkeypatch):
    import os

    savers = _savers()
    for name, save in savers:
        path = tmp_path / name
        save(path)
        before = path.read_bytes()

        def disk_full(fd):
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as mp:
            mp.setattr(os, "fsync", disk_full)
            with pytest.raises(OSError, match="No space left"):
                save(path)
        assert path.read_bytes() == before, name
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(n for n, _ in savers[: savers.index((name, save)) + 1])


def test_saves_write_standard_json(tmp_path):
    m = pe.PLRNN([1.5], [[0.0]], [1.0])
    with pytest.warns(RuntimeWarning, match="diverged"):
        run = pe.train(m, np.linspace(0, 1e300, 30)[:, None], 2, lr=1.0, seed=0)
    assert not np.all(np.isfinite(run.losses))
    run.save(tmp_path / "run.json")
    json.loads((tmp_path / "run.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
    back = pe.TrainingRun.load(tmp_path / "run.json")
    np.testing.assert_array_equal(back.losses, run.losses)


def test_savers_check_the_folder_first(tmp_path):
    m = pe.PLRNN(**TENT)
    with pytest.raises(FileNotFoundError, match="folder .* does not exist"):
        pe.save_model(m, tmp_path / "nope" / "m.json")


# -- loaders: every broken file is a ValueError naming it ------------------------------
def test_broken_files_give_value_errors(tmp_path):
    m = pe.PLRNN(**TENT)
    run = pe.train(m, m.replace(h=[0.5]).simulate([0.0], 20), 2, lr=0.01, seed=0)
    (tmp_path / "deep.json").write_text("[" * 100000 + "]" * 100000)
    (tmp_path / "empty.mat").write_bytes(b"")
    np.save(tmp_path / "arr.npy", np.zeros(3))
    (tmp_path / "arr.npy").rename(tmp_path / "renamed.npz")
    np.savez(tmp_path / "nokeys.npz", a=np.zeros(2))
    (tmp_path / "cs.json").write_text(json.dumps({"orders": [1], "cycles": [{"order": 1}]}))
    calls = [
        lambda: pe.load_model(tmp_path / "deep.json"),
        lambda: pe.CycleSet.load(tmp_path / "deep.json"),
        lambda: pe.CycleSet.load(tmp_path / "cs.json"),
        lambda: pe.TrainingRun.load(tmp_path / "deep.json"),
        lambda: pe.io.load_mat(tmp_path / "empty.mat", mapping=pe.io.SCYFI_SPEEDUP_MAPPING),
        lambda: pe.load_model(tmp_path / "renamed.npz"),
        lambda: pe.TrainingRun.load(tmp_path / "renamed.npz"),
        lambda: pe.bifurcations.load_bifurcation_map(tmp_path / "renamed.npz"),
        lambda: pe.bifurcations.load_bifurcation_map(tmp_path / "nokeys.npz"),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="path|file"):
            call()
    # a run whose arrays disagree in length
    run.save(tmp_path / "run.npz")
    with np.load(tmp_path / "run.npz") as z:
        d = {k: z[k] for k in z.files}
    d["losses"] = d["losses"][:-1]
    np.savez(tmp_path / "bad_run.npz", **d)
    with pytest.raises(ValueError, match="not a consistent training run"):
        pe.TrainingRun.load(tmp_path / "bad_run.npz")


def test_load_mat_refuses_complex_data(tmp_path):
    from scipy.io import savemat

    mapping = {"A": "A", "W": "W", "h": "h"}
    savemat(tmp_path / "c.mat", {"A": np.array([0.5 + 1j]), "W": np.zeros((1, 1)), "h": np.zeros(1)})
    with pytest.raises(ValueError, match="must hold real numbers"):
        pe.io.load_mat(tmp_path / "c.mat", mapping=mapping, model_type="PLRNN")


# -- interrupts keep finished work, flagged partial ------------------------------------
def _gt_map(**kw):
    gt = pe.systems.gt16()
    return pe.bifurcation_map(gt, ("A[0,0]", np.linspace(0.7, 0.95, 6)), ("A[1,1]", np.linspace(0.7, 0.95, 5)),
                              4, seed=0, **kw)


def test_map_interrupted_in_the_search_phase_keeps_done_cells():
    calls = []

    def progress(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    bm = _gt_map(progress=progress, chunk_size=4)
    assert not bm.complete and bm.stats["interrupted"]
    assert bm.computed.sum() == 8 and np.all(bm.counts[~bm.computed] == -1)
    full = _gt_map()
    assert full.complete
    # cells computed before the interrupt hold the search results (continuation spreads only among them)
    assert np.all(bm.counts[bm.computed] >= 0)


def test_map_interrupted_during_boundaries_keeps_the_map(monkeypatch):
    from plrnn_explorer.bifurcations import grid

    full = _gt_map()
    assert len(full.boundaries) > 3
    real, n = grid.detect_events, []

    def flaky(*a, **k):
        n.append(1)
        if len(n) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(grid, "detect_events", flaky)
    bm = _gt_map()
    assert not bm.complete and bm.stats["boundaries_complete"] is False
    np.testing.assert_array_equal(bm.counts, full.counts)       # nothing of the finished phases is lost
    assert 0 < len(bm.boundaries) < len(full.boundaries)


def test_map_interrupted_during_continuation_keeps_verified_cycles(monkeypatch):
    from plrnn_explorer.bifurcations import _batch

    full = _gt_map()
    real, n = _batch.check_words, []

    def flaky(*a, **k):
        n.append(1)
        if len(n) == 3:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(_batch, "check_words", flaky)
    bm = _gt_map()
    assert not bm.complete and bm.stats["continuation_complete"] is False
    ok = bm.computed
    assert ok.any() and np.all(bm.counts[ok] <= full.counts[ok]) and np.all(bm.counts[ok] >= 0)


def test_sweep_cancel_keeps_values_and_is_flagged():
    gt = pe.systems.gt16()
    k = []
    sw = pe.sweep(gt, "A[0,0]", np.linspace(0.7, 0.95, 40), 3, seed=0,
                  cancel=lambda: len(k) > 0, progress=lambda d, t: k.append(d))
    assert not sw.complete and 0 < sw.computed.sum() < 40
    assert np.all(sw.counts[~sw.computed] == -1)


def test_sigint_stops_a_long_map_within_seconds():
    """A real SIGINT (as Ctrl-C) from another thread during the search: the map returns partial, quickly."""
    import os
    import signal
    import threading
    import time

    gt = pe.systems.gt16()
    pe.bifurcation_map(gt, ("A[0,0]", [0.8, 0.9]), ("A[1,1]", [0.8, 0.9]), 3, seed=0)   # compile first
    sent = []

    def send():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.5, send)

    def progress(done, total):
        if not timer.is_alive() and not sent:
            timer.start()

    bm = pe.bifurcation_map(gt, ("A[0,0]", np.linspace(0.5, 0.99, 60)), ("A[1,1]", np.linspace(0.5, 0.99, 60)),
                            12, seed=0, progress=progress)
    returned = time.perf_counter()
    timer.cancel()
    assert sent and not bm.complete and 0 < bm.computed.sum() < bm.computed.size
    assert returned - sent[0] < 5.0, returned - sent[0]     # slices of ~0.3 s: typically well under 1 s


def test_landscape_interrupt_keeps_rows():
    m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2])
    data = m.simulate([0.1, 0.2], 50)
    n = []

    def cancel():
        n.append(1)
        return len(n) > 2

    ls = pe.loss_landscape(m, data, ("A[0,0]", np.linspace(0, 1, 5)), ("W[0,1]", np.linspace(0, 1, 30)),
                           cancel=cancel)
    assert not ls.complete and 0 < ls.computed.sum() < 30
    assert np.all(np.isnan(ls.loss[~ls.computed])) and np.all(np.isfinite(ls.loss[ls.computed]))


def test_non_callable_cancel_is_refused():
    m = pe.PLRNN(**TENT)
    with pytest.raises(TypeError, match="cancel must be None or a callable"):
        pe.bifurcation_map(m, ("A[0,0]", [0.1, 0.2]), ("W[0,0]", [0.3, 0.4]), 1, cancel=True)
    with pytest.raises(TypeError, match="cancel must be None or a callable"):
        pe.sweep(m, "A[0,0]", [0.1, 0.2], 1, cancel=1)


@pytest.mark.parametrize("bad,exc", [(-1, ValueError), (0, ValueError), (1.5, TypeError)])
def test_chunk_size_is_validated(bad, exc):
    m = pe.PLRNN(**TENT)
    with pytest.raises(exc, match="chunk_size"):
        pe.bifurcation_map(m, ("A[0,0]", [0.1, 0.2]), ("W[0,0]", [0.3, 0.4]), 1, chunk_size=bad)


def test_analyze_training_accepts_a_diverged_last_loss():
    ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]
    ta = pe.analyze_training(ckpts, 2, losses=[3.0, 2.0, np.inf], seed=0)
    assert np.isinf(ta.losses[-1]) and len(ta.events) == 2


def test_root_finding_survives_entries_near_the_float_limit():
    from plrnn_explorer.bifurcations.events import _root

    assert _root(lambda v: np.inf if v < 0.5 else -1.0, 0.0, 1.0) is None
    assert _root(lambda v: None, 0.0, 1.0) is None

    def singular(v):
        raise np.linalg.LinAlgError("SVD did not converge")
    assert _root(singular, 0.0, 1.0) is None
    r = _root(lambda v: v - 0.25, 0.0, 1.0)
    assert abs(r - 0.25) < 1e-12


def test_sweep_towards_huge_values_reports_unrefined_events_instead_of_failing():
    tent = pe.PLRNN([0.2], [[-1.7]], [1.0])
    with np.errstate(all="ignore"):
        sw = pe.sweep(tent, "W[0,0]", [-1.7, 1e308], 3, seed=0)   # was: "f(a) and f(b) must have different signs"
    assert sw.complete and all(np.isfinite(e.value) for e in sw.events)


def test_cell_indices_are_checked_and_negative_ones_count_from_the_end():
    tent = pe.PLRNN([0.2], [[0.0]], [1.0])
    bm = pe.bifurcation_map(tent, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0)
    assert bm.cycles_at(-3, -1).counts() == bm.cycles_at(0, 1).counts() == {1: 1, 2: 1}
    assert bm.model_at(-1, -2) == bm.model_at(2, 0)
    for bad in [(3, 0), (0, 2), (-4, 0)]:
        with pytest.raises(ValueError, match=r"i[yx] must be"):
            bm.cycles_at(*bad)
        with pytest.raises(ValueError, match=r"i[yx] must be"):
            bm.model_at(*bad)
    with pytest.raises(TypeError, match="iy must be an integer"):
        bm.cycles_at(0.5, 0)


# -- sizes: refused up front, naming the limit --------------------------------------
def test_empty_models_are_refused():
    with pytest.raises(ValueError, match=r"A must have at least one unit \(M >= 1\)"):
        pe.PLRNN([], np.zeros((0, 0)), [])
    with pytest.raises(ValueError, match="H >= 1"):
        pe.ShallowPLRNN([0.5], np.zeros((1, 0)), np.zeros((0, 1)), [0.0], [])


@pytest.mark.parametrize("call", [
    lambda m: pe.find_cycles(m, 10**6),
    lambda m: pe.find_cycles(m, orders=[1, 10**9]),
    lambda m: pe.exhaustive_cycles(m, 10**6),
    lambda m: pe.sweep(m, "h[0]", np.linspace(0, 1, 10**8), 1),
    lambda m: pe.bifurcation_map(m, ("h[0]", np.arange(4000.0)), ("A[0,0]", np.arange(4000.0)), 1),
    lambda m: pe.find_cycles(m, 2, outer_loop_iterations=2**62, inner_loop_iterations=10, strategy="scyfi"),
    lambda m: pe.systems.random_plrnn(5000),
])
def test_huge_requests_are_refused_naming_the_limit(call):
    m = pe.PLRNN(**TENT)
    with pytest.raises(ValueError, match=r"exceeds the limit plrnn_explorer\.limits\.\w+ = .*; raise it with"):
        call(m)


def test_limits_can_be_raised(monkeypatch):
    monkeypatch.setattr(pe.limits, "max_order", 3)
    with pytest.raises(ValueError, match="limits.max_order = 3"):
        pe.find_cycles(pe.PLRNN(**TENT), 4)
    assert pe.find_cycles(pe.PLRNN(**TENT), 3, seed=0).orders == [1, 2, 3]


@pytest.mark.parametrize("call,exc,match", [
    (lambda m: pe.scyfi.region_pool(m, n_trajectories=1.5), TypeError, "n_trajectories must be an integer"),
    (lambda m: pe.scyfi.region_pool(m, max_vertices=0), ValueError, "max_vertices must be >= 1"),
    (lambda m: pe.find_cycles(m, 2, outer_loop_iterations=2**70, strategy="scyfi"), ValueError,
     "outer_loop_iterations must fit in a 64-bit integer"),
    (lambda m: pe.exhaustive_cycles(m, 2000, max_words=10), ValueError, "limits.max_order"),
])
def test_no_numba_typing_errors(call, exc, match):
    m = pe.ShallowPLRNN([0.5, 0.5], np.ones((2, 3)), np.ones((3, 2)), [0, 0], [1.0, -1.0, 0.5])
    with pytest.raises(exc, match=match):
        call(m)


def test_exhaustive_message_with_huge_word_counts():
    m = pe.ShallowPLRNN([0.5], np.ones((1, 300)), np.ones((300, 1)), [0.0], np.linspace(-1, 1, 300))
    with pytest.raises(ValueError, match=r"needs ~1e\d+ region words"):
        pe.exhaustive_cycles(m, 4)


def test_client_must_be_a_dask_client():
    m = pe.PLRNN(**TENT)
    with pytest.raises(TypeError, match=r"client must be None or a dask.distributed.Client .*\[dask\]"):
        pe.sweep(m, "A[0,0]", [0.1, 0.2], 1, client="tcp://127.0.0.1:8786")


def test_a_1000_dimensional_order_one_search_is_within_the_default_work_limit():
    """Trained models reach M = 1000; their order-1 search (about 50 s at BLAS speed) must not be refused."""
    from plrnn_explorer._validation import search_work
    from plrnn_explorer.scyfi import adapted_budgets

    assert search_work(1000, [1], *adapted_budgets(1, 2**62)) <= pe.limits.max_work
    assert search_work(5000, [1], *adapted_budgets(1, 2**62)) > pe.limits.max_work
