"""Regenerate 09_certified_*.json: certified (provably complete) cycle counts at every training snapshot.

Run from the repository root (about 20-30 min on one core for M3_H8; M8_H10 needs the data file in
../shared/data and takes a few minutes more):

    OPENBLAS_NUM_THREADS=1 python notebooks/data/make_09_certified.py [PATH_TO_M8_H10.mat]

For every snapshot it stores, per order, the number of cycles, whether the order is proven complete,
the method the certified search chose, and the seconds; and the same for the SCYFI heuristic
(strategy="scyfi", seed=0) with the cycles it missed. Times depend on the machine.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import plrnn_explorer as pe

HERE = Path(__file__).resolve().parent


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


if __name__ == "__main__":
    small = pe.io.load_mat_snapshots(pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat"),
                                     mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
    analyse(small, [1, 2, 3, 4], "M3_H8")
    if len(sys.argv) > 1:
        big = pe.io.load_mat_snapshots(sys.argv[1], mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
        analyse(big, [1, 2], "M8_H10")
