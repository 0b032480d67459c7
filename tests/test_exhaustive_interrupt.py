"""Plain exhaustive enumeration runs in slices: Cancel and Ctrl-C stop it within about a second, keeping what it found."""
from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import plrnn_explorer as pe
from plrnn_explorer import _kernels
from plrnn_explorer.exhaustive import n_lyndon_words, search_order_exhaustively
from plrnn_explorer.itineraries import SINGULAR_RTOL
from conftest import coupled_tents

# 3-D PLRNN without 8-cycles: its order-8 enumeration checks 2.1e6 Lyndon words (several seconds)
SLOW = pe.PLRNN([0.5, 0.4, 0.3], [[0, -2.5, 1], [2.0, 0, -1], [1.5, 1, 0]], [0.2, -0.3, 0.1])


@pytest.mark.parametrize("G, k", [(1, 1), (1, 6), (2, 4), (3, 3), (2, 6)])
def test_one_step_per_lyndon_word_of_length_at_most_k(G, k):
    """The slices are counted in Duval steps: the enumeration ends after exactly sum_d<=k L(2^G, d) of them."""
    cf = pe.PLRNN(np.full(G, 0.5), np.eye(G), np.zeros(G)).canonical
    letters, pos = np.full(k, -1, np.int64), np.ones(1, np.int64)
    found, singular = np.zeros((4096, k, G), np.uint8), np.zeros((4096, k, G), np.uint8)
    counts = np.zeros(4, np.int64)
    n = sum(n_lyndon_words(2**G, d) for d in range(1, k + 1))
    steps = _kernels.exhaustive_order(*cf.arrays, k, SINGULAR_RTOL, letters, pos, found, singular, counts, n - 1, None)
    assert steps == n - 1
    assert pos[0] > 0
    steps = _kernels.exhaustive_order(*cf.arrays, k, SINGULAR_RTOL, letters, pos, found, singular, counts, 2**62, None)
    assert steps == 1
    assert pos[0] == 0 and counts[2] == n_lyndon_words(2**G, k)


def test_slices_and_grown_buffers_find_exactly_what_one_call_finds():
    """Resuming across many small slices and full buffers loses and repeats nothing (a chaotic system, 79 4-cycles)."""
    cf = coupled_tents(3, 1, coupling=0.05).canonical
    k, G = 4, cf.n_gates
    big = [np.zeros((2**14, k, G), np.uint8), np.zeros((2**14, k, G), np.uint8), np.zeros(4, np.int64)]
    letters, pos = np.full(k, -1, np.int64), np.ones(1, np.int64)
    _kernels.exhaustive_order(*cf.arrays, k, SINGULAR_RTOL, letters, pos, *big, 2**62, None)
    want = {w.tobytes() for w in big[0][: big[2][0]]}
    cycles, _, tried, stopped = search_order_exhaustively(cf, k)     # starts with 64-word buffers, slices of 1, 4, ...
    assert stopped == "" and tried == big[2][2] and len(want) > 64     # more than the first buffer holds
    assert {c.itinerary.astype(np.uint8).tobytes() for c in cycles} == want


def test_cancel_stops_exhaustive_cycles_within_a_second_and_keeps_what_it_found():
    t_cancel = []

    def cancel():
        if time.perf_counter() - t0 > 0.5:
            t_cancel.append(time.perf_counter())
            return True
        return False

    full = pe.exhaustive_cycles(SLOW, orders=[1, 2])      # also loads the kernel, so the clock sees no compile
    t0 = time.perf_counter()
    res = pe.exhaustive_cycles(SLOW, orders=[1, 2, 8, 9], cancel=cancel, max_words=2**28)
    late = time.perf_counter() - t_cancel[0]
    assert late < 1.0, f"returned {late:.2f} s after cancel() said True"
    assert res.stats["stopped"] == "cancelled" and res.stats["interrupted"] and not res.complete
    assert res.order_complete(1) and res.order_complete(2) and not res.order_complete(8)
    assert res.stats["per_order"][9]["stopped"] == "not searched" and not res.order_complete(9)
    assert all([c.key for c in res[k]] == [c.key for c in full[k]] for k in (1, 2))


def test_a_cancelled_order_keeps_real_cycles_only():
    m = coupled_tents(3, 1, coupling=0.05)
    full = {c.key for c in pe.exhaustive_cycles(m, orders=[5])[5]}
    calls = []
    # stopped after 7 slices (of 1, 4, ..., 4096 steps at most: 5,461 of the 7,764 steps)
    part = pe.exhaustive_cycles(m, orders=[5], cancel=lambda: calls.append(1) or len(calls) > 7)
    kept = {c.key for c in part[5]}
    assert not part.complete and part.stats["stopped"] == "cancelled"
    assert 0 < len(kept) < len(full) and kept <= full


def test_ctrl_c_stops_find_cycles_in_plain_enumeration(monkeypatch):
    """A real SIGINT while auto enumerates an order plainly (6 chaotic tents, 28,948 3-cycles): back within a second,
    the order flagged, the cycles found so far kept."""
    from plrnn_explorer import scyfi

    m = coupled_tents(6, 0, coupling=0.05)
    pe.find_cycles(m, orders=[1])                       # compiled, cost model measured
    real, entered = scyfi.search_order_exhaustively, []

    def enumerate_and_signal(cf, k, cancel=None):
        if k == 3:
            entered.append(time.perf_counter())
            threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return real(cf, k, cancel)

    monkeypatch.setattr(scyfi, "search_order_exhaustively", enumerate_and_signal)
    res = pe.find_cycles(m, orders=[1, 3])
    took = time.perf_counter() - entered[0]
    assert took < 1.3, f"returned {took:.2f} s after plain enumeration began (SIGINT at 0.3 s)"
    assert res.stats["per_order"][3]["strategy"] == "exhaustive" and res.stats["interrupted"]
    assert res.order_complete(1) and not res.order_complete(3) and 0 < len(res[3]) < 28948
