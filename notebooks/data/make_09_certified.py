"""Regenerate 09_certified_*.json: certified (provably complete) cycle counts at every training snapshot.

Run from the repository root (one core):

    OPENBLAS_NUM_THREADS=1 python notebooks/data/make_09_certified.py [--m8 PATH_TO_M8_H10.mat] [--only PART ...]

Parts (default: all that have their data file):

- ``M3_H8`` (about 20-30 min): orders 1..4 at all 150 snapshots of the packaged M = 3, H = 8 model.
- ``M8_H10`` (about 40-60 min, needs ``--m8``): orders 1..3 at all 150 snapshots of the M = 8, H = 10 model
  (order 3 by the closed walks of the region transition graph).
- ``M8_H10_order4`` (about 1.5-2.5 min per snapshot on 2 cores, needs ``--m8``; resumable): order 4 at every
  snapshot. First ``SPREAD`` = 11 snapshots in bisection order (0, 149, 74, 37, 111, ...), so that they spread over
  training, by ``find_cycles(m, orders=[4], strategy="certified")``, which picks the transition graph's closed
  walks filtered by realised 3-words; then the others in increasing order by the same method called directly
  (``TransitionGraph.build``, ``build_triples(hint=...)``, ``cycles(4)``), each snapshot's 3-words the hint for the
  next one (consecutive snapshots differ by about 0.2 %: the hint saves about 60 % of the LPs; the result is
  complete with any hint). The file is rewritten (atomically) after every snapshot, and a rerun skips the
  snapshots it holds; ``--hours`` stops starting new snapshots after that long. Per snapshot it stores the count
  of 4-cycles, whether the order is proven complete, the method, LPs, 3-words kept, walks solved, the hint's
  snapshot and seconds, and what SCYFI (seed 0) finds at order 4 and misses.
- ``M8_H10_reach`` (about 5 min, needs ``--m8``): why order 4 was out of reach with the plain graph: at three
  snapshots, the transition graph (regions, edges, LPs, seconds), its closed walks of lengths 1..4, the measured
  order-3 search and the order-4 time it implies, the number of words plain enumeration would solve, and what
  ``find_cycles(..., strategy="certified", budget_seconds=60)`` returns for orders 1..4.

For every snapshot the first two parts store, per order, the number of cycles, whether the order is proven
complete, the method the certified search chose, and the seconds; and the same for the SCYFI heuristic
(strategy="scyfi", seed=0) with the cycles it missed. Times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import plrnn_explorer as pe
from plrnn_explorer._atomic import atomic_write_text
from plrnn_explorer.certified import plain_seconds, search_costs
from plrnn_explorer.exhaustive import n_lyndon_words
from plrnn_explorer.transition_graph import TransitionGraph

HERE = Path(__file__).resolve().parent
REACH_SNAPSHOTS = (0, 75, 149)
#: order 4: this many snapshots first, in bisection order, by find_cycles; then the rest in increasing order
SPREAD = 11


def analyse(snapshots, orders, name):
    rows = []
    for i, m in enumerate(snapshots):
        t = time.perf_counter()
        exact = pe.find_cycles(m, orders=orders, strategy="certified")
        t_exact = time.perf_counter() - t
        t = time.perf_counter()
        heur = pe.find_cycles(m, orders=orders, strategy="scyfi", seed=0)
        t_heur = time.perf_counter() - t
        rows.append({
            "snapshot": i,
            "certified": {"counts": exact.counts(), "stable_counts": exact.stable_counts(),
                          "complete": exact.complete, "seconds": t_exact,
                          "methods": {k: s["strategy"] for k, s in exact.stats["per_order"].items()}},
            "scyfi": {"counts": heur.counts(), "seconds": t_heur,
                      "missed": len(exact.keys() - heur.keys()), "extra": len(heur.keys() - exact.keys())},
        })
        print(name, i, f"{t_exact:.1f}s", exact.counts(), exact.complete, file=sys.stderr, flush=True)
    out = HERE / f"09_certified_{name}.json"
    out.write_text(json.dumps({"orders": orders, "snapshots": rows}, indent=1))


def bisection_order(n):
    """0, n-1, then midpoints of ever finer halvings: every prefix is spread over range(n).

    >>> bisection_order(9)
    [0, 8, 4, 2, 6, 1, 3, 5, 7]
    """
    order, seen, spans = [0, n - 1], {0, n - 1}, [(0, n - 1)]
    while spans:
        nxt = []
        for lo, hi in spans:
            mid = (lo + hi) // 2
            if mid not in seen:
                seen.add(mid)
                order.append(mid)
            if mid - lo > 1:
                nxt.append((lo, mid))
            if hi - mid > 1:
                nxt.append((mid, hi))
        spans = nxt
    return [i for i in order if i < n]


def order4(snapshots, name, hours):
    """Order 4 at every snapshot, resumable (see the module docstring)."""
    out = HERE / f"09_certified_{name}_order4.json"
    rows = json.loads(out.read_text())["snapshots"] if out.exists() else []
    done = {r["snapshot"] for r in rows}
    t_start = time.perf_counter()
    order = bisection_order(len(snapshots))
    previous = None         # (index, graph with 3-words) of the last snapshot done by the chain
    for i in order[:SPREAD] + sorted(order[SPREAD:]):
        if i in done:
            continue
        if time.perf_counter() - t_start > 3600 * hours:
            break
        t = time.perf_counter()
        if i in order[:SPREAD]:
            exact = pe.find_cycles(snapshots[i], orders=[4], strategy="certified")
            s4 = exact.stats["per_order"][4]
            cycles4 = exact[4]
            cert = {"complete": exact.order_complete(4), "method": s4.get("method", s4["strategy"]),
                    "lps": s4.get("lps"), "three_words": s4.get("graph_3_words"),
                    "walks_solved": s4["candidates_solved"], "hint": None}
        else:
            graph = TransitionGraph.build(snapshots[i].canonical)
            hint = previous[1] if previous is not None else None
            complete = graph.complete and graph.build_triples(hint=hint)
            found = graph.cycles(4)
            cycles4 = found.cycles
            cert = {"complete": complete and not found.stopped, "method": "transition graph, 3-words",
                    "lps": graph.lps + graph.triple_lps, "three_words": graph.n_triples,
                    "walks_solved": found.solved, "hint": None if hint is None else previous[0]}
            previous = (i, graph)
        t_exact = time.perf_counter() - t
        t = time.perf_counter()
        heur = pe.find_cycles(snapshots[i], orders=[4], strategy="scyfi", seed=0)
        t_heur = time.perf_counter() - t
        exact_keys = {c.key for c in cycles4}
        row = {
            "snapshot": i,
            "certified": {"count": len(cycles4), "stable": sum(c.stable for c in cycles4), **cert,
                          "seconds": t_exact},
            "scyfi": {"count": len(heur[4]), "seconds": t_heur,
                      "missed": len(exact_keys - {c.key for c in heur[4]})},
        }
        rows = sorted(rows + [row], key=lambda r: r["snapshot"])
        atomic_write_text(out, json.dumps({"order": 4, "snapshots": rows}, indent=1))
        print(name, "order 4", i, f"{t_exact:.1f}s", row, file=sys.stderr, flush=True)


def reach(snapshots, name, budget_seconds=60.0):
    """Order 4 at M = 8, H = 10: the size of the work, measured at a few snapshots (see the module docstring)."""
    rows = []
    for i in REACH_SNAPSHOTS:
        cf = snapshots[i].canonical
        t = time.perf_counter()
        graph = TransitionGraph.build(cf)
        t_build = time.perf_counter() - t
        t = time.perf_counter()
        solved3 = graph.cycles(3).solved
        t3 = time.perf_counter() - t
        walks = {k: graph.closed_walks(k) for k in (1, 2, 3, 4)}
        costs = search_costs(cf)
        plain = {k: {"words": n_lyndon_words(2 ** cf.n_gates, k), "estimated_seconds": plain_seconds(cf, k, costs)}
                 for k in (1, 2, 3, 4)}
        t = time.perf_counter()
        res = pe.find_cycles(snapshots[i], 4, strategy="certified", budget_seconds=budget_seconds)
        run = {"budget_seconds": budget_seconds, "seconds": time.perf_counter() - t, "counts": res.counts(),
               "complete": {k: res.order_complete(k) for k in res.orders}, "stopped": res.stats.get("stopped"),
               "methods": {k: s.get("method", s["strategy"]) for k, s in res.stats["per_order"].items()}}
        rows.append({"snapshot": i,
                     "graph": {"regions": graph.n_regions, "edges": graph.n_edges, "lps": graph.lps,
                               "seconds": t_build, "closed_walks": walks, "order3_walks_solved": solved3,
                               "order3_seconds": t3,
                               "order4_estimated_seconds": walks[4] / 4 * t3 / max(solved3, 1)},
                     "plain_enumeration": plain, "budgeted_run": run})
        print(name, "reach", i, rows[-1]["graph"], run, file=sys.stderr, flush=True)
    (HERE / f"09_certified_{name}_reach.json").write_text(json.dumps({"snapshots": rows}, indent=1))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--m8", type=Path, help="path of shplrnn_150_snapshots_M8_H10.mat")
    ap.add_argument("--only", nargs="+", choices=["M3_H8", "M8_H10", "M8_H10_order4", "M8_H10_reach"])
    ap.add_argument("--hours", type=float, default=float("inf"),
                    help="M8_H10_order4: start no new snapshot after this many hours")
    args = ap.parse_args()
    parts = set(args.only or ["M3_H8", "M8_H10", "M8_H10_order4", "M8_H10_reach"])
    if "M3_H8" in parts:
        small = pe.io.load_mat_snapshots(pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat"),
                                         mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
        analyse(small, [1, 2, 3, 4], "M3_H8")
    if parts & {"M8_H10", "M8_H10_order4", "M8_H10_reach"}:
        if args.m8 is None:
            sys.exit("--m8 PATH is needed for the M8_H10 parts")
        big = pe.io.load_mat_snapshots(args.m8, mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
        if "M8_H10" in parts:
            analyse(big, [1, 2, 3], "M8_H10")
        if "M8_H10_order4" in parts:
            order4(big, "M8_H10", args.hours)
        if "M8_H10_reach" in parts:
            reach(big, "M8_H10")
