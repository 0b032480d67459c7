"""The cycle heuristic (strategy="scyfi"): recall against the exact search, determinism, interrupts, auto's choice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings

import plrnn_explorer as pe
from conftest import MODEL_KINDS, coupled_tents, random_model, small_models
from plrnn_explorer import scyfi
from plrnn_explorer._heuristic import search_order


def _keys(res, k):
    return {c.key for c in res[k]}


# -- the paper's loop is unchanged, and nothing it finds is lost -------------------------------------------------


def test_first_phase_is_the_papers_loop_word_for_word():
    """The sliced kernel's first phase reproduces the paper's SCYFI kernel (same words, same counters)."""
    rng = np.random.default_rng(0)
    for trial in range(60):
        m = random_model(rng, MODEL_KINDS[trial % 4], int(rng.integers(1, 4)), int(rng.integers(1, 4)),
                         scale=float(rng.choice([0.5, 1.0, 3.0, 10.0])))
        cf = m.canonical
        pool = scyfi.region_pool(m, seed=trial)
        for k in (1, 2, 4):
            n_out, n_in = scyfi.adapted_budgets(k, len(pool) if len(pool) else 2**cf.n_gates)
            words, _, st = scyfi._search_order(cf, k, n_out, n_in, pool, trial, [])
            run = search_order(cf, k, n_out, n_in, pool, trial, [], {}, enrich=False)
            assert np.array_equal(words, run.words)
            assert np.array_equal(st[[0, 2, 3, 4, 5, 6, 8]], run.stats[[0, 2, 3, 4, 5, 6, 8]])


@given(small_models(max_gates=4))
@settings(max_examples=60, derandomize=True)
def test_heuristic_keeps_what_the_papers_loop_finds_and_invents_nothing(model):
    K = max(1, min(5, 12 // max(model.n_gates, 1)))
    exact = pe.exhaustive_cycles(model, K)
    res = pe.find_cycles(model, K, strategy="scyfi", seed=3)
    paper = scyfi._paper_scyfi(model, K, seed=3)
    for k in range(1, K + 1):
        assert paper[k] <= _keys(res, k) <= _keys(exact, k)
        assert res.stats["per_order"][k]["found_by_paper_loop"] == len(paper[k])


# -- recall on chaotic systems -------------------------------------------------------------------------------


CHAOTIC = [("PLRNN", 3, 0, 5), ("PLRNN", 4, 1, 4), ("ShallowPLRNN", 3, 2, 4), ("ALRNN", 4, 3, 4)]


def _chaotic(kind: str, M: int, seed: int):
    """Coupled skew tents as a PLRNN (coupling in A), a ShallowPLRNN (coupling in W1, identity W2) or on the
    ReLU units of an ALRNN (plus one linear unit driven by them)."""
    rng = np.random.default_rng(seed)
    a_l, a_r = rng.uniform(0.85, 0.95, M), rng.uniform(-3.0, -2.3, M)
    C = 0.2 * rng.normal(size=(M, M)) * (1 - np.eye(M))
    if kind == "PLRNN":
        return pe.PLRNN(np.diag(a_l) + C, np.diag(a_r - a_l), np.ones(M))
    if kind == "ShallowPLRNN":
        return pe.ShallowPLRNN(a_l, np.diag(a_r - a_l) + C, np.eye(M), np.ones(M), np.zeros(M))
    W = np.diag(a_r - a_l) + C
    W[0] = 0.0
    W[0, 1:] = 0.5
    return pe.ALRNN(np.concatenate([[0.3], a_l[1:]]), W, np.concatenate([[0.0], np.ones(M - 1)]), M - 1)


def test_recall_on_chaotic_systems_beats_the_papers_loop():
    """Against exhaustive enumeration: the heuristic finds every cycle of these chaotic systems; the paper's
    loop alone (same seed, same budgets) misses many of them."""
    missed_old = missed_new = total = 0
    for kind, M, seed, K in CHAOTIC:
        m = _chaotic(kind, M, seed)
        exact = pe.exhaustive_cycles(m, K)
        res = pe.find_cycles(m, K, strategy="scyfi", seed=0)
        paper = scyfi._paper_scyfi(m, K, seed=0)
        for k in range(1, K + 1):
            true_k = _keys(exact, k)
            assert _keys(res, k) <= true_k and paper[k] <= true_k
            missed_new += len(true_k - _keys(res, k))
            missed_old += len(true_k - paper[k])
            total += len(true_k)
    print(f"missed: paper's loop {missed_old}, heuristic {missed_new} of {total}")
    assert total > 2000
    assert missed_new == 0
    assert missed_old >= MISSED_BY_PAPER_LOOP


#: the paper's loop alone misses 98 of the cycles of CHAOTIC with seed 0 (measured); the heuristic misses none
MISSED_BY_PAPER_LOOP = 50


# -- determinism ----------------------------------------------------------------------------------------------


def test_same_seed_same_result():
    m = coupled_tents(3, 0)
    a = pe.find_cycles(m, 4, strategy="scyfi", seed=7)
    b = pe.find_cycles(m, 4, strategy="scyfi", seed=7)
    assert a.keys() == b.keys()
    for k in range(1, 5):
        sa, sb = a.stats["per_order"][k], b.stats["per_order"][k]
        assert {x: sa[x] for x in sa if x != "seconds"} == {x: sb[x] for x in sb if x != "seconds"}


_DIGEST = """
import hashlib, json, sys
import numpy as np
import plrnn_explorer as pe
rng = np.random.default_rng(0)
a_l, a_r = rng.uniform(0.85, 0.95, 3), rng.uniform(-3.0, -2.3, 3)
m = pe.PLRNN(np.diag(a_l) + 0.2 * rng.normal(size=(3, 3)) * (1 - np.eye(3)), np.diag(a_r - a_l), np.ones(3))
res = pe.find_cycles(m, 4, strategy="scyfi", seed=11)
keys = sorted(repr(k) for k in res.keys())
solves = [res.stats["per_order"][k]["candidates_solved"] for k in range(1, 5)]
print(json.dumps([hashlib.sha256("".join(keys).encode()).hexdigest(), len(keys), solves]))
"""


def test_result_does_not_depend_on_the_thread_count():
    outs = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
        p = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True, timeout=600, check=False)
        assert p.returncode == 0, p.stderr
        outs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    assert outs[0] == outs[1] and outs[0][1] > 50


# -- interrupts and cancel ---------------------------------------------------------------------------------------


def _long_search_model():
    return coupled_tents(3, 0)


def test_sigint_stops_a_huge_single_order_search_within_a_second():
    m = _long_search_model()
    pe.find_cycles(m, orders=[2], strategy="scyfi", seed=0)              # compile first
    exact = pe.exhaustive_cycles(m, orders=[5])
    sent: list[float] = []

    def send():
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(1.0, send)
    timer.start()
    try:
        res = pe.find_cycles(m, orders=[5], strategy="scyfi", seed=0, outer_loop_iterations=10**6)
    finally:
        timer.cancel()
    returned = time.perf_counter()
    assert sent, "the search ended before the interrupt (make it longer)"
    assert returned - sent[0] < 1.5, returned - sent[0]
    st = res.stats["per_order"][5]
    assert res.stats["interrupted"] and res.stats["stopped"] == "interrupted" and st["stopped"] == "interrupted"
    assert not res.complete and "may be incomplete" in res.table()
    # what was found before the interrupt is kept, and it is real
    assert 0 < len(res[5]) == st["found"] and _keys(res, 5) <= _keys(exact, 5)


def test_cancel_stops_within_a_second_and_keeps_the_found_cycles():
    m = _long_search_model()
    pe.find_cycles(m, orders=[2], strategy="scyfi", seed=0)
    exact = pe.exhaustive_cycles(m, 5)
    t0 = time.perf_counter()
    asked: list[float] = []

    def cancel():
        if time.perf_counter() - t0 > 1.0:
            asked.append(time.perf_counter())
            return True
        return False

    res = pe.find_cycles(m, 5, strategy="scyfi", seed=0, outer_loop_iterations=10**6, cancel=cancel)
    returned = time.perf_counter()
    assert asked and returned - asked[0] < 1.5 and returned - t0 < 2.5
    assert res.stats["stopped"] == "cancelled" and res.stats["interrupted"] and not res.complete
    stopped_at = min(k for k in res.orders if res.stats["per_order"][k].get("stopped"))
    for k in res.orders:
        assert _keys(res, k) <= _keys(exact, k)
        if k > stopped_at:
            assert res.stats["per_order"][k]["stopped"] == "cancelled" and not res[k]
    assert len(res[stopped_at]) > 0


def test_cancel_stops_the_certified_search_too():
    m = coupled_tents(3, 1)
    pe.find_cycles(m, 2, strategy="certified")
    t0 = time.perf_counter()
    res = pe.find_cycles(m, 14, strategy="certified", cancel=lambda: time.perf_counter() - t0 > 0.5)
    assert time.perf_counter() - t0 < 2.5
    assert res.stats["stopped"] == "cancelled" and not res.complete
    done = [k for k in res.orders if res.order_complete(k)]
    assert done and done == list(range(1, len(done) + 1)) and len(done) < 14
    exact = pe.exhaustive_cycles(m, min(max(done), 4))
    assert all(_keys(res, k) == _keys(exact, k) for k in exact.orders)


def test_cancel_must_be_callable():
    with pytest.raises(TypeError, match="cancel must be None or a callable"):
        pe.find_cycles(coupled_tents(2, 0), 2, cancel=True)


# -- auto's cost model -----------------------------------------------------------------------------------------


def test_auto_enumerates_when_the_heuristic_would_collect_thousands_of_cycles():
    """Coupled tents, M = 5, order 3: over a thousand 3-cycles. The heuristic's minimum work is below plain
    enumeration, but collecting that many cycles is not; auto must take a complete method and find them all."""
    m = coupled_tents(5, 0, coupling=0.05)
    exact = pe.exhaustive_cycles(m, orders=[3])
    res = pe.find_cycles(m, orders=[3], seed=0)
    st = res.stats["per_order"][3]
    assert len(exact[3]) > 1000
    assert st["strategy"] in ("exhaustive", "certified") and res.complete
    assert res.keys() == exact.keys()


@given(small_models(max_gates=4))
@settings(max_examples=60, derandomize=True)
def test_auto_equals_exhaustive_where_enumeration_is_cheap(model):
    K = max(1, min(5, 10 // max(model.n_gates, 1)))
    exact = pe.exhaustive_cycles(model, K)
    res = pe.find_cycles(model, K, seed=0)
    assert res.complete and res.keys() == exact.keys()
