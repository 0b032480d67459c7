"""The certified search against exhaustive enumeration, the simulation, and its budgets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plrnn_explorer as pe
from plrnn_explorer.certified import PrefixTree, pruned_cycles
from conftest import MODEL_KINDS, random_model


@st.composite
def models_incl_chaotic(draw, max_gates: int = 4):
    """Random models of every type, M <= 3, G <= max_gates, weights scaled up to strongly expanding."""
    kind = draw(st.sampled_from(MODEL_KINDS))
    M = draw(st.integers(1, 3))
    H = draw(st.integers(1, max_gates // 2 if kind == "ClippedShallowPLRNN" else max_gates))
    scale = draw(st.sampled_from([0.5, 1.0, 3.0, 10.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    model = random_model(np.random.default_rng(seed), kind, M, H, scale=scale)
    if model.n_gates > max_gates:
        model = random_model(np.random.default_rng(seed), "PLRNN", min(M, max_gates), scale=scale)
    return model


def _max_order(model, bits: int = 12) -> int:
    return max(1, min(5, bits // max(model.n_gates, 1)))


def _degenerate_keys(res):
    return {(d.order, d.itinerary.tobytes()) for d in res.degenerate}


@given(models_incl_chaotic())
@settings(max_examples=150, derandomize=True)
def test_pruned_tree_equals_exhaustive_enumeration(model):
    K = _max_order(model)
    exact = pe.exhaustive_cycles(model, K)
    tree = pruned_cycles(model, K)
    assert tree.complete
    for k in range(1, K + 1):
        assert {c.key for c in tree[k]} == {c.key for c in exact[k]}, f"order {k}"
    assert _degenerate_keys(tree) == _degenerate_keys(exact)


@given(models_incl_chaotic(), st.integers(0, 2**31 - 1))
@settings(max_examples=100, derandomize=True)
def test_certified_strategy_equals_exhaustive_and_is_complete(model, seed):
    K = _max_order(model, 14)
    exact = pe.exhaustive_cycles(model, K)
    res = pe.find_cycles(model, K, strategy="certified", seed=seed)
    assert res.complete and res.keys() == exact.keys()
    for s in res.stats["per_order"].values():
        assert s["strategy"] in ("exhaustive", "certified")


@st.composite
def high_dim_models_few_gates(draw):
    """Latent dimension 5..9 with at most 4 gates (shallow and ALRNN; PLRNN at M = 5..6 has G = M),
    scaled up to strongly expanding: the size of the trained shallow models, where exhaustive search still fits."""
    kind = draw(st.sampled_from(MODEL_KINDS))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.5, 1.0, 3.0, 10.0]))
    rng = np.random.default_rng(seed)
    if kind == "PLRNN":
        return random_model(rng, kind, draw(st.integers(5, 6)), scale=scale)
    M = draw(st.integers(5, 9))
    if kind == "ALRNN":
        A = rng.uniform(-1, 1, M)
        return pe.ALRNN(A, scale * rng.normal(size=(M, M)), rng.normal(size=M), draw(st.integers(1, 4)))
    H = draw(st.integers(1, 2 if kind == "ClippedShallowPLRNN" else 4))
    return random_model(rng, kind, M, H, scale=scale)


@given(high_dim_models_few_gates())
@settings(max_examples=60, derandomize=True)
def test_certified_equals_exhaustive_in_high_dimension(model):
    K = _max_order(model, 12)
    exact = pe.exhaustive_cycles(model, K)
    tree = pruned_cycles(model, K)
    res = pe.find_cycles(model, K, strategy="certified")
    assert tree.complete and res.complete
    for k in range(1, K + 1):
        want = {c.key for c in exact[k]}
        assert {c.key for c in tree[k]} == want, f"tree, order {k}"
        assert {c.key for c in res[k]} == want, f"certified, order {k}"
    assert _degenerate_keys(tree) == _degenerate_keys(exact)


def coupled_skew_tents(M: int, seed: int) -> pe.PLRNN:
    """M chaotic skew-tent units (slopes ~0.9 and ~-2.6) with weak full coupling: many unstable cycles."""
    rng = np.random.default_rng(seed)
    a_l, a_r = rng.uniform(0.85, 0.95, M), rng.uniform(-3.0, -2.3, M)
    A = np.diag(a_l) + 0.05 * rng.normal(size=(M, M)) * (1 - np.eye(M))
    return pe.PLRNN(A, np.diag(a_r - a_l), np.ones(M))


def test_chaotic_coupled_tents_order_three():
    """Full A, strongly expanding pieces, thousands of unstable 3-cycles: certified = exhaustive."""
    m = coupled_skew_tents(4, 0)
    exact = pe.exhaustive_cycles(m, 3)
    res = pe.find_cycles(m, 3, strategy="certified")
    assert res.complete and res.keys() == exact.keys() and len(exact[3]) > 100
    tree = pruned_cycles(coupled_skew_tents(3, 1), 3, budget_seconds=120)    # the LP-pruned tree alone
    assert tree.complete and tree.keys() == pe.exhaustive_cycles(coupled_skew_tents(3, 1), 3).keys()


def test_direct_highs_call_agrees_with_linprog():
    from scipy.optimize import linprog

    from plrnn_explorer.certified import ROW_SLACK, lp_point

    rng = np.random.default_rng(1)
    n_feasible = n_thin = 0
    for trial in range(600):
        M, m = int(rng.integers(1, 9)), int(rng.integers(1, 80))
        A = rng.normal(size=(m, M))
        b = rng.normal(size=m) + rng.choice([-1.0, 1.0, 3.0])
        if trial % 3 == 0:        # thin polyhedra: a few rows pinned as equalities (cycles on borders)
            k = min(m // 2, M)
            A[k:2 * k], b[k:2 * k] = -A[:k], -b[:k] + rng.choice([0.0, 1e-12, -1e-6])
        A /= np.linalg.norm(A, axis=1, keepdims=True)
        ok, x = lp_point(A, b)
        ref = linprog(np.zeros(M), A_ub=A, b_ub=b + ROW_SLACK * (1 + abs(b)), bounds=(None, None), method="highs")
        assert ok == (ref.status != 2)
        if ok and x is not None:
            assert np.max(A @ x - b) < 1e-6
        n_feasible += ok
        n_thin += ok and trial % 3 == 0
    assert 100 < n_feasible < 500 and n_thin > 10      # both verdicts, and thin feasible sets, were exercised


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_complete_is_never_claimed_when_a_cycle_is_missing(kind):
    """Budgets of every size: an order flagged complete holds exactly the exhaustive cycles."""
    rng = np.random.default_rng(sum(map(ord, kind)) + 1)
    n_complete = n_incomplete = 0
    for trial in range(12):
        m = random_model(rng, kind, 3, 2, scale=4.0)
        K = _max_order(m, 12)
        exact = pe.exhaustive_cycles(m, K)
        for max_nodes in (3, 30, 300, None):
            for strategy in ("certified", "auto", "scyfi"):
                res = pe.find_cycles(m, K, strategy=strategy, max_nodes=max_nodes, seed=trial)
                assert res.keys() <= exact.keys()
                for k in range(1, K + 1):
                    if res.stats["per_order"][k]["complete"]:
                        n_complete += 1
                        assert {c.key for c in res[k]} == {c.key for c in exact[k]}
                    else:
                        n_incomplete += 1
                assert res.complete == all(res.stats["per_order"][k]["complete"] for k in res.orders)
                if strategy == "scyfi":
                    assert not res.complete
    assert n_complete > 0 and n_incomplete > 0


def _simulated_cycle(model, rng):
    """(period, itinerary) of a stable cycle of period 3..12 reached by simulation, or None."""
    z = model.simulate(rng.normal(size=model.dim), 3000)
    if not np.all(np.isfinite(z)):
        return None
    tail = z[-40:]
    for p in range(1, 13):
        if np.allclose(tail[p:], tail[:-p], atol=1e-10, rtol=0):
            return (p, np.array([model.region(x) for x in tail[:p]])) if p >= 3 else None
    return None


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_stable_long_cycles_found_by_simulation_are_found(kind):
    rng = np.random.default_rng(3 + sum(map(ord, kind)))
    checked = 0
    for _ in range(2000):
        m = random_model(rng, kind, 2, 2, scale=float(rng.uniform(0.5, 2.5)))
        sim = _simulated_cycle(m, rng)
        if sim is None:
            continue
        p, word = sim
        target = pe.cycle_from_itinerary(m, word)
        res = pe.find_cycles(m, orders=[p], strategy="certified", budget_seconds=60)
        assert res.complete
        got = res.find(target)
        assert got is not None and got.stable, f"stable {p}-cycle seen in simulation is missing"
        checked += 1
        if checked == 3:
            break
    assert checked == 3


def test_gt16_orders_1_to_16_certified(gt16):
    res = pe.find_cycles(gt16, 16, strategy="certified")
    assert res.complete
    assert res.counts() == {**{k: 0 for k in range(1, 17)}, 1: 1, 16: 2}
    assert [(c.order, c.kind) for c in res.stable] == [(16, "stable spiral")]


def test_budget_stops_with_what_was_found_and_says_so(gt16):
    res = pe.find_cycles(gt16, 16, strategy="certified", max_nodes=20)
    assert not res.complete
    assert "budget" in res.stats["stopped"]
    assert res[1] and res.stats["per_order"][1]["complete"]     # the cheap low orders are kept
    assert "heuristic: may be incomplete" in res.table()


def test_interrupt_keeps_what_was_found(gt16):
    calls = []

    def progress(done, total):
        calls.append((done, total))
        if done >= 12:
            raise KeyboardInterrupt

    res = pe.find_cycles(gt16, 16, strategy="certified", progress=progress)
    assert res.stats["interrupted"] and not res.complete
    assert calls and res[1] and not res.stats["per_order"][16]["complete"]


def test_progress_true_prints_to_stderr(gt16, capsys):
    pe.find_cycles(gt16, orders=[14], strategy="certified", progress=True)
    assert "cycle search" in capsys.readouterr().err


def test_bad_arguments():
    m = pe.PLRNN([0.5], [[0.0]], [1.0])
    with pytest.raises(ValueError, match="strategy"):
        pe.find_cycles(m, 1, strategy="exact")
    with pytest.raises(ValueError, match="budget_seconds"):
        pe.find_cycles(m, 1, strategy="certified", budget_seconds=-1)
    with pytest.raises(ValueError, match="max_nodes"):
        pe.find_cycles(m, 1, strategy="certified", max_nodes=0)
    with pytest.raises(TypeError, match="progress"):
        pe.find_cycles(m, 1, strategy="certified", progress="yes")


def test_tree_levels_of_a_model_without_gates():
    m = pe.ALRNN([0.5, 0.5], [[0.1, 0.0], [0.0, 0.1]], [1.0, 1.0], 0)
    t = PrefixTree(m.canonical)
    assert t.grow_to(3) and [len(lv) for lv in t.levels] == [1, 1, 1, 1]
    assert pe.find_cycles(m, 3, strategy="certified").counts() == {1: 1, 2: 0, 3: 0}


def test_certified_search_keeps_its_time_budget():
    """The probe that learns the tree's growth counts against budget_seconds (it used to run 4x its share)."""
    import time

    m = coupled_skew_tents(7, 0)          # 2^35 words of length 5; the tree cannot finish in a second
    t0 = time.perf_counter()
    res = pe.find_cycles(m, 5, strategy="certified", budget_seconds=1.0)
    elapsed = time.perf_counter() - t0
    assert not res.complete and not res.stats["per_order"][5]["complete"]
    assert elapsed < 1.6, f"a 1 s budget took {elapsed:.2f} s"


LP_THREADS_SCRIPT = """
import threading, numpy as np
from plrnn_explorer.certified import lp_point
rng = np.random.default_rng(0)
probs = []
for t in range(300):
    M, m = int(rng.integers(1, 6)), int(rng.integers(2, 40))
    A = rng.normal(size=(m, M)); A /= np.linalg.norm(A, axis=1, keepdims=True)
    probs.append((A, rng.normal(size=m)))
want = [lp_point(A, b)[0] for A, b in probs]
assert 0 < sum(want) < len(want)
bad = []
def run():
    for _ in range(3):
        bad.extend(i for i, (A, b) in enumerate(probs) if lp_point(A, b)[0] != want[i])
threads = [threading.Thread(target=run) for _ in range(4)]
[t.start() for t in threads]; [t.join() for t in threads]
print("mismatches", len(bad))
"""


def test_lps_from_many_threads_at_once_agree_and_do_not_crash():
    """Panels, Dask workers and user threads search concurrently: each thread needs its own HiGHS solver
    (one shared solver object crashed the process with a segmentation fault)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", LP_THREADS_SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, f"exit {out.returncode}: {out.stderr[-2000:]}"
    assert "mismatches 0" in out.stdout
