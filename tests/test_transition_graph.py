"""The transition graph's closed-walk search against exhaustive enumeration, and its LP certificate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import plrnn_explorer as pe
from plrnn_explorer import _graph_kernels, scyfi, transition_graph
from plrnn_explorer.certified import lp_point
from plrnn_explorer.transition_graph import TransitionGraph
from conftest import MODEL_KINDS, coupled_tents, random_model


@njit(cache=False)
def _farkas(G, h, R):
    m, n = G.shape
    return _graph_kernels.farkas_empty(G, h, m, R, np.empty((n + 2, m + n + 2)), np.empty(n + 1, np.int64),
                                       np.empty(m))


@st.composite
def polyhedra(draw):
    """Random {z : G z <= h} with unit rows, empty or not, some through the origin, some thin."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n, m = draw(st.integers(1, 8)), draw(st.integers(1, 24))
    G = rng.normal(size=(m, n))
    G /= np.linalg.norm(G, axis=1, keepdims=True)
    h = rng.normal(size=m) * draw(st.sampled_from([0.0, 1e-9, 0.01, 1.0, 100.0]))
    return G, h


@given(polyhedra())
@settings(max_examples=400, derandomize=True)
def test_certificate_never_calls_a_nonempty_polyhedron_empty(poly):
    """An independent witness (HiGHS' point, checked here) always beats the certificate; emptiness agrees with HiGHS."""
    G, h = poly
    empty = _farkas(G, h, 1e8)
    feasible, x = lp_point(G, h)
    if x is not None:
        assert np.all(G @ x <= h + 1e-6 * (1 + np.abs(h))), "HiGHS' point is not in the polyhedron"
    if empty:
        assert not feasible, "certified empty, but HiGHS finds a point"
        # the certificate's claim, checked in plain NumPy on a box of random points
        pts = np.random.default_rng(0).uniform(-1e3, 1e3, size=(2000, G.shape[1]))
        assert not np.any(np.all(pts @ G.T <= h, axis=1))
    elif not feasible:
        # not certified although HiGHS says empty: allowed only for near-degenerate cases (kept edge = safe)
        assert np.min(np.abs(h)) < 1e-6 or G.shape[0] > G.shape[1]


def test_certificate_rejects_a_wrong_sign():
    """z <= -1 and z >= 0 is empty; z <= 1 and z >= 0 is not: the check itself must tell them apart."""
    G = np.array([[1.0], [-1.0]])
    assert _farkas(G, np.array([-1.0, 0.0]), 1e8)
    assert not _farkas(G, np.array([1.0, 0.0]), 1e8)
    # x <= -1 and x >= 1e-12 y - 1e-3: points only at y <= -1e12. Empty within the box |z| <= 1e8 (and the
    # certificate may say so), not within |z| <= 1e13 (and it must not)
    G2, h2 = np.array([[1.0, 0.0], [-1.0, 1e-12]]), np.array([-1.0, 1e-3])
    assert _farkas(G2, h2, 1e8)
    assert not _farkas(G2, h2, 1e13)


@st.composite
def models(draw):
    kind = draw(st.sampled_from(MODEL_KINDS))
    M = draw(st.integers(1, 4))
    H = draw(st.integers(1, 2 if kind == "ClippedShallowPLRNN" else 4))
    scale = draw(st.sampled_from([0.5, 1.0, 3.0, 10.0]))
    seed = draw(st.integers(0, 2**32 - 1))
    model = random_model(np.random.default_rng(seed), kind, M, H, scale=scale)
    if model.n_gates > 5:
        model = random_model(np.random.default_rng(seed), "PLRNN", 3, scale=scale)
    return model


@given(models())
@settings(max_examples=150, derandomize=True, deadline=None)
def test_closed_walks_find_exactly_the_exhaustive_cycles(model):
    K = max(1, min(4, 12 // max(model.n_gates, 1)))
    exact = pe.exhaustive_cycles(model, K)
    graph = TransitionGraph.build(model)
    assert graph.complete
    for k in range(1, K + 1):
        cycles, degenerate, solved, singular, stopped = graph.cycles(k)
        assert stopped == "" and 0 <= singular <= solved
        assert {c.key for c in cycles} == {c.key for c in exact[k]}, f"order {k}"
        assert {d.itinerary.tobytes() for d in degenerate} == \
            {d.itinerary.tobytes() for d in exact.degenerate if d.order == k}, f"degenerate words of order {k}"
        assert solved <= graph.closed_walks(k)


@given(models())
@settings(max_examples=150, derandomize=True, deadline=None)
def test_walks_filtered_by_realised_3_words_find_exactly_the_exhaustive_cycles(model):
    """The 3-word flags only drop walks that are no cycle: the same cycles and continua as plain enumeration."""
    K = max(2, min(5, 14 // max(model.n_gates, 1)))
    exact = pe.exhaustive_cycles(model, K)
    graph = TransitionGraph.build(model)
    unfiltered = [graph.cycles(k).solved for k in range(1, K + 1)]
    assert graph.build_triples()
    assert graph.n_triples <= graph.n_candidate_triples()
    for k in range(1, K + 1):
        found = graph.cycles(k)
        assert found.stopped == ""
        assert {c.key for c in found.cycles} == {c.key for c in exact[k]}, f"order {k}"
        assert {d.itinerary.tobytes() for d in found.degenerate} == \
            {d.itinerary.tobytes() for d in exact.degenerate if d.order == k}, f"degenerate words of order {k}"
        assert found.solved <= unfiltered[k - 1]


@given(models(), st.sampled_from([1e-3, 0.1, 1.0]))
@settings(max_examples=60, derandomize=True, deadline=None)
def test_3_words_carried_from_another_model_keep_the_search_exact(model, change):
    """A hint from a perturbed model (a small change, or an unrelated one) only skips LPs: still exactly the cycles."""
    K = max(2, min(4, 12 // max(model.n_gates, 1)))
    near = TransitionGraph.build(_perturbed(model, change, np.random.default_rng(model.n_gates)))
    assert near.build_triples()
    exact = pe.exhaustive_cycles(model, K)
    graph = TransitionGraph.build(model)
    assert graph.build_triples(hint=near)
    for k in range(1, K + 1):
        assert {c.key for c in graph.cycles(k).cycles} == {c.key for c in exact[k]}, f"order {k}"
    if change == 1e-3 and graph.n_edges > 4:
        alone = TransitionGraph.build(model)
        assert alone.build_triples()
        assert graph.triple_lps <= alone.triple_lps


def test_a_hint_that_keeps_3_words_saves_their_lps():
    """A hint is used: every 3-word it kept is kept without an LP, so strictly fewer LPs, the same cycles."""
    model = coupled_tents(3, 0, coupling=0.05)
    alone = TransitionGraph.build(model)
    assert alone.build_triples() and alone.n_triples > 0
    again = TransitionGraph.build(model)
    assert again.build_triples(hint=alone)
    assert again.n_triples == alone.n_triples and again.triple_lps < alone.triple_lps
    near_model = _perturbed(model, 1e-3, np.random.default_rng(1))
    near = TransitionGraph.build(near_model)
    assert near.build_triples(hint=alone)
    fresh = TransitionGraph.build(near_model)
    assert fresh.build_triples() and near.triple_lps < fresh.triple_lps
    exact = pe.exhaustive_cycles(near_model, 4)
    for k in range(1, 5):
        assert {c.key for c in near.cycles(k).cycles} == {c.key for c in exact[k]}, f"order {k}"


def _perturbed(model, change, rng):
    """The model with every parameter array changed by ``change`` relative to its size."""
    return model.replace(**{name: np.asarray(a, float)
                            + change * (np.abs(a).max() + 1e-3) * rng.normal(size=np.shape(a))
                            for name, a in model.params.items()})


@pytest.mark.parametrize("M, coupling, K", [(3, 0.05, 5), (4, 0.3, 4), (5, 0.05, 3)])
def test_3_word_filter_on_chaotic_expanding_models_equals_exhaustive_search(M, coupling, K):
    """Coupled skew tents (every piece expanding, full A): thousands of cycles, none lost to the filter."""
    model = coupled_tents(M, 0, coupling=coupling)
    exact = pe.exhaustive_cycles(model, K)
    graph = TransitionGraph.build(model)
    plain = graph.cycles(K).solved
    assert graph.build_triples()
    for k in range(1, K + 1):
        assert {c.key for c in graph.cycles(k).cycles} == {c.key for c in exact[k]}, f"order {k}"
    assert sum(len(exact[k]) for k in range(1, K + 1)) > 10
    assert graph.cycles(K).solved <= plain


def test_3_words_agree_with_orbits_and_with_highs():
    """Every 3-word an orbit follows is kept; dropped 3-words are empty for HiGHS too; the sample agrees."""
    rng = np.random.default_rng(5)
    model = random_model(rng, "ShallowPLRNN", 3, 6, scale=1.0)
    cf = model.canonical
    graph = TransitionGraph.build(model)
    assert graph.build_triples()
    codes = {r.tobytes(): i for i, r in enumerate(graph.regions)}
    adj_pos = {(int(a), int(b)): e for e, (a, b) in enumerate(zip(*np.nonzero(graph.adj)))}
    out_ptr, out_idx = graph._out_lists()

    def flag(a, b, c):
        e = adj_pos[(a, b)]
        j = int(np.searchsorted(out_idx[out_ptr[b]:out_ptr[b + 1]], c))
        return graph.triples[graph._tri_ptr[e] + j]

    z = rng.normal(size=(500, 3)) * 5
    orbit = [z]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(12):
            z = z @ cf.A.T + np.maximum(z @ cf.W_in.T + cf.b_in, 0) @ cf.W_out.T + cf.h      # the map, in NumPy
            orbit.append(z)
    orbit = np.array(orbit)
    orbit = orbit[:, np.all(np.abs(orbit) < 1e6, axis=(0, 2))]        # orbits that stay in the graph's box
    assert orbit.shape[1] > 100
    letters = np.array([[codes[r.tobytes()] for r in (zt @ cf.W_in.T + cf.b_in > 0).astype(np.uint8)]
                        for zt in orbit])
    for t in range(len(letters) - 2):
        for a, b, c in zip(*letters[t:t + 3]):
            assert flag(a, b, c) == _graph_kernels.KEPT, f"orbit's 3-word {a, b, c} dropped"
    J, c0 = graph._Jr, graph._cr
    checked = 0
    for e, (a, b) in enumerate(zip(*np.nonzero(graph.adj))):
        for j, c in enumerate(out_idx[out_ptr[b]:out_ptr[b + 1]]):
            if graph.triples[graph._tri_ptr[e] + j] == _graph_kernels.KEPT or checked >= 80:
                continue
            s = [np.where(graph.regions[r], -1.0, 1.0) for r in (a, b, c)]
            J2, c2 = J[b] @ J[a], J[b] @ c0[a] + c0[b]
            rows = np.vstack([s[0][:, None] * cf.W_in, s[1][:, None] * (cf.W_in @ J[a]),
                              s[2][:, None] * (cf.W_in @ J2)])
            rhs = np.concatenate([-s[0] * cf.b_in, -s[1] * (cf.W_in @ c0[a] + cf.b_in),
                                  -s[2] * (cf.W_in @ c2 + cf.b_in)])
            norms = np.linalg.norm(rows, axis=1)
            keep = norms > 1e-12
            feasible, _ = lp_point(rows[keep] / norms[keep, None], rhs[keep] / norms[keep])
            assert not feasible, f"3-word {a, b, c} dropped but HiGHS finds a point"
            checked += 1
    assert checked >= 80
    per_edge, kept = graph.sample_triples(64)
    assert per_edge > 0 and abs(kept - graph.n_triples / graph.n_candidate_triples()) < 0.25


def test_filtered_walks_rejects_impossible_input():
    assert transition_graph.filtered_walks(100.0, 0.5, 3) == 25.0
    with pytest.raises(ValueError, match="kept must be <= 1.0"):
        transition_graph.filtered_walks(100.0, 1.5, 3)
    assert transition_graph.filtered_walks(float("inf"), 0.5, 3) == float("inf")   # an overflowed count
    assert transition_graph.filtered_walks(float("inf"), 0.0, 3) == 0.0            # nothing kept: no walk
    with pytest.raises(ValueError, match="closed_walks must be a number"):
        transition_graph.filtered_walks(float("nan"), 0.5, 3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        transition_graph.filtered_walks(100.0, 0.5, 0)
    with pytest.raises(TypeError, match="kept must be a real number"):
        transition_graph.filtered_walks(100.0, "half", 3)


def test_a_hint_must_be_a_built_graph_of_the_same_gates():
    model = random_model(np.random.default_rng(1), "ShallowPLRNN", 2, 3)
    graph = TransitionGraph.build(model)
    with pytest.raises(TypeError, match="hint must be a TransitionGraph whose 3-words are built"):
        graph.build_triples(hint=TransitionGraph.build(model))
    with pytest.raises(TypeError, match="hint must be a TransitionGraph"):
        graph.build_triples(hint="previous")
    other = TransitionGraph.build(random_model(np.random.default_rng(1), "ShallowPLRNN", 2, 4))
    assert other.build_triples()
    with pytest.raises(ValueError, match="same 3 gates"):
        graph.build_triples(hint=other)


def test_edges_agree_with_highs_and_with_orbits():
    """Every transition seen along orbits is an edge; every dropped edge is empty for HiGHS too."""
    rng = np.random.default_rng(3)
    model = random_model(rng, "ShallowPLRNN", 3, 5, scale=3.0)
    cf = model.canonical
    graph = TransitionGraph.build(model)
    codes = {r.tobytes(): i for i, r in enumerate(graph.regions)}
    z = rng.normal(size=(400, 3)) * 5
    for _ in range(20):
        a = (z @ cf.W_in.T + cf.b_in > 0).astype(np.uint8)
        z = z @ cf.A.T + np.maximum(z @ cf.W_in.T + cf.b_in, 0) @ cf.W_out.T + cf.h      # the map, in NumPy
        b = (z @ cf.W_in.T + cf.b_in > 0).astype(np.uint8)
        ok = np.all(np.isfinite(z), axis=1) & (np.abs(z).max(axis=1) < 1e6)
        for ra, rb in zip(a[ok], b[ok]):
            assert graph.adj[codes[ra.tobytes()], codes[rb.tobytes()]] == 1
        z = z[ok]
    J = graph._Jr
    c = graph._cr
    checked = 0
    for ia, ib in zip(*np.nonzero(graph.adj == 0)):
        if checked >= 60:
            break
        ra, rb = graph.regions[ia], graph.regions[ib]
        sa, sb = np.where(ra, -1.0, 1.0), np.where(rb, -1.0, 1.0)
        rows = np.vstack([sa[:, None] * cf.W_in, sb[:, None] * (cf.W_in @ J[ia])])
        rhs = np.concatenate([-sa * cf.b_in, -sb * (cf.W_in @ c[ia] + cf.b_in)])
        norms = np.linalg.norm(rows, axis=1)
        keep = norms > 1e-12
        feasible, _ = lp_point(rows[keep] / norms[keep, None], rhs[keep] / norms[keep])
        assert not feasible, f"edge {ia}->{ib} dropped but HiGHS finds a point"
        checked += 1
    assert checked > 0


def test_find_cycles_uses_the_graph_when_it_is_cheapest_and_stays_complete(monkeypatch):
    """A 7-gate chaotic model at order 3: the graph is built, and the result equals plain enumeration.

    The graph's one-time compile cost is set aside, so that a model this small already makes the graph cheapest.
    """
    monkeypatch.setattr(transition_graph, "FIRST_USE_SECONDS", 0.0)
    rng = np.random.default_rng(11)
    model = random_model(rng, "ShallowPLRNN", 4, 7, scale=3.0)
    exact = pe.exhaustive_cycles(model, 3)
    res = pe.find_cycles(model, 3, strategy="certified")
    assert res.complete and res.keys() == exact.keys()
    methods = {k: s.get("method", s["strategy"]) for k, s in res.stats["per_order"].items()}
    assert "transition graph" in methods.values(), methods


def test_find_cycles_filters_by_3_words_when_that_is_cheapest_and_stays_complete(monkeypatch):
    """Chaotic tents (16 regions, hundreds of cycles) at orders 1-4, with the graph's and the 3-words' thresholds
    set aside and plain enumeration and all closed walks made dear from order 3 on: the 3-words are built once,
    used at orders 3 and 4, their LPs counted once, and the result equals plain enumeration."""
    monkeypatch.setattr(transition_graph, "FIRST_USE_SECONDS", 0.0)
    monkeypatch.setattr(transition_graph, "GRAPH_MIN_REGIONS", 1)
    monkeypatch.setattr(scyfi, "TRIPLES_MIN_SECONDS", 0.0)
    monkeypatch.setattr(scyfi._Search, "_walks_estimate", lambda self, k: 1e9)
    monkeypatch.setattr(scyfi, "plain_seconds", lambda cf, k, costs: 1e9 if k >= 3 else 0.0)
    model = coupled_tents(4, 0, coupling=0.3)
    exact = pe.exhaustive_cycles(model, 4)
    res = pe.find_cycles(model, 4, strategy="certified")
    assert res.complete and res.keys() == exact.keys() and len(exact[4]) > 20
    per = res.stats["per_order"]
    methods = {k: s.get("method", s["strategy"]) for k, s in per.items()}
    assert methods[3] == methods[4] == "transition graph, 3-words", methods
    assert per[3]["graph_3_words"] == per[4]["graph_3_words"] > 0
    assert per[3]["lps"] > 0 and per[4]["lps"] == 0       # built once, counted where it was built


def test_the_method_auto_picks_does_not_depend_on_what_ran_before():
    """6 chaotic tents (64 regions) at order 3: the same choice before and after the graph's kernels ran."""
    model = coupled_tents(6, 0, coupling=0.05)
    methods = []
    for _ in range(2):
        res = pe.find_cycles(model, orders=[3])
        methods.append(res.stats["per_order"][3].get("method", res.stats["per_order"][3]["strategy"]))
        TransitionGraph.build(pe.systems.gt16()).cycles(2)     # the graph's kernels have now run in this process
    assert methods[0] == methods[1] == "exhaustive"
    assert len(res[3]) == 28948 and res.complete


def test_incomplete_graph_refuses_to_search():
    model = random_model(np.random.default_rng(0), "ShallowPLRNN", 3, 6, scale=3.0)
    graph = TransitionGraph.build(model, deadline=0.0)
    assert not graph.complete
    with pytest.raises(ValueError, match="incomplete"):
        graph.cycles(2)


@pytest.mark.parametrize("model, K, continua", [
    (pe.systems.skew_tent(0.5, -1.0, 1.0), 2, True),                            # degenerate flip
    (pe.PLRNN([[np.cos(2 * np.pi / 5), -np.sin(2 * np.pi / 5)], [np.sin(2 * np.pi / 5), np.cos(2 * np.pi / 5)]],
              np.zeros((2, 2)), [0.0, 0.0]), 5, True),                          # rotation by 2 pi / 5
    (pe.PLRNN([1.0, 0.5], [[-1.5, 0.0], [1.0, 0.0]], [0.0, 1.0]), 2, True),      # half-line of fixed points
    (pe.PLRNN([1.0], [[0.0]], [0.0]), 2, True),                                 # identity: two half-lines
    (pe.PLRNN([1.0], [[0.0]], [1.0]), 2, False),                                # singular, no continuum
])
def test_degenerate_words_match_exhaustive_enumeration(model, K, continua):
    exact = pe.exhaustive_cycles(model, K)
    graph = TransitionGraph.build(model)
    for k in range(1, K + 1):
        cycles, degenerate, _, singular, _ = graph.cycles(k)
        assert singular >= len(degenerate)
        assert {c.key for c in cycles} == {c.key for c in exact[k]}
        assert {d.itinerary.tobytes() for d in degenerate} == \
            {d.itinerary.tobytes() for d in exact.degenerate if d.order == k}
    assert (len(exact.degenerate) > 0) == continua


def test_bad_input_gets_clear_errors():
    m = pe.systems.gt16()
    with pytest.raises(TypeError, match="model"):
        TransitionGraph.build("gt16")
    with pytest.raises(ValueError, match=r"regions must be an \(n, G\) array"):
        TransitionGraph.build(m, regions=[[1, 0, 1]])
    with pytest.raises(ValueError, match="0/1"):
        TransitionGraph.build(m, regions=[[2, 0]])
    with pytest.raises(ValueError, match="at least one gate pattern"):
        TransitionGraph.build(m, regions=np.zeros((0, 2)))
    with pytest.raises(TypeError, match="cancel"):
        TransitionGraph.build(m, cancel=True)
    g = TransitionGraph.build(m)
    with pytest.raises(ValueError, match="k must be"):
        g.cycles(0)
    with pytest.raises(ValueError, match="k must be"):
        g.closed_walks(-1)
    with pytest.raises(ValueError, match="max_order"):
        g.cycles(10**6)


def test_cancel_stops_and_a_given_region_list_is_used():
    m = random_model(np.random.default_rng(5), "ShallowPLRNN", 3, 6, scale=3.0)
    full = TransitionGraph.build(m)
    sub = TransitionGraph.build(m, regions=full.regions[::-1][:5])       # order does not matter; sorted inside
    assert np.array_equal(sub.regions, full.regions[-5:])
    assert np.array_equal(sub.adj, full.adj[-5:, -5:])
    calls = []
    stopped = TransitionGraph.build(m, cancel=lambda: calls.append(1) is None and len(calls) > 1)
    assert not stopped.complete and stopped.stop_reason == "cancelled"
    assert full.cycles(3, cancel=lambda: True).stopped == "cancelled"


def test_many_cycles_overflow_the_kernels_buffers_and_nothing_is_lost():
    """Chaotic coupled tents: thousands of cycles per order, more than a kernel call's first buffer (256) holds."""
    from test_certified import coupled_skew_tents

    model = coupled_skew_tents(3, 0)
    exact = pe.exhaustive_cycles(model, orders=[6])
    graph = TransitionGraph.build(model)
    found = graph.cycles(6)
    assert len(exact[6]) > 1000
    assert {c.key for c in found.cycles} == {c.key for c in exact[6]}
