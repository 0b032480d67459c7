"""Regenerate 09_certified_*.json: certified (provably complete) cycle counts at every training snapshot.

Run from the repository root (one core):

    OPENBLAS_NUM_THREADS=1 python notebooks/data/make_09_certified.py [--m8 PATH_TO_M8_H10.mat] [--only PART ...]

Parts (default: all that have their data file):

- ``M3_H8`` (about 20-30 min): orders 1..4 at all 150 snapshots of the packaged M = 3, H = 8 model.
- ``M8_H10`` (about 40-60 min, needs ``--m8``): orders 1..3 at all 150 snapshots of the M = 8, H = 10 model
  (order 3 by the closed walks of the region transition graph).
- ``M8_H10_order4`` (about 2.5-3 min per snapshot on 2 cores, needs ``--m8``; resumable): order 4 at the
  snapshots in bisection order (0, 149, 74, 37, 111, ...), so that any prefix of the run covers training evenly.
  The file is rewritten (atomically) after every snapshot, and a rerun skips the snapshots it holds;
  ``--hours`` stops starting new snapshots after that long. Order 4 goes through the transition graph's closed
  walks filtered by realised 3-words (the certified search picks it by its estimate). Per snapshot it stores the
  counts, whether the order is proven complete, the method, LPs, 3-words kept, walks solved and seconds, and
  what SCYFI (seed 0) finds at order 4 and misses.
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
    """Order 4 at every snapshot, in bisection order, resumable (see the module docstring)."""
    out = HERE / f"09_certified_{name}_order4.json"
    rows = json.loads(out.read_text())["snapshots"] if out.exists() else []
    done = {r["snapshot"] for r in rows}
    t_start = time.perf_counter()
    for i in bisection_order(len(snapshots)):
        if i in done:
            continue
        if time.perf_counter() - t_start > 3600 * hours:
            break
        t = time.perf_counter()
        exact = pe.find_cycles(snapshots[i], orders=[4], strategy="certified")
        t_exact = time.perf_counter() - t
        s4 = exact.stats["per_order"][4]
        t = time.perf_counter()
        heur = pe.find_cycles(snapshots[i], orders=[4], strategy="scyfi", seed=0)
        t_heur = time.perf_counter() - t
        rows.append({
            "snapshot": i,
            "certified": {"count": len(exact[4]), "stable": sum(c.stable for c in exact[4]),
                          "complete": exact.order_complete(4), "method": s4.get("method", s4["strategy"]),
                          "lps": s4.get("lps"), "three_words": s4.get("graph_3_words"),
                          "walks_solved": s4["candidates_solved"], "seconds": t_exact},
            "scyfi": {"count": len(heur[4]), "seconds": t_heur, "missed": len(exact.keys() - heur.keys())},
        })
        rows.sort(key=lambda r: r["snapshot"])
        atomic_write_text(out, json.dumps({"order": 4, "snapshots": rows}, indent=1))
        print(name, "order 4", i, f"{t_exact:.1f}s", rows[-1], file=sys.stderr, flush=True)


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
