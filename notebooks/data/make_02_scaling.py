"""Regenerate ``02_scaling.json``, the study data of notebook 02 (the paper's Fig. 2).

Run: ``python notebooks/data/make_02_scaling.py`` (30-60 minutes on 2 cores). To spread
the work, run the parts separately, e.g. ``--part intermediate --out /tmp/i.json``
(parts: attracting, intermediate, expanding, k, diag), then
``--merge /tmp/a.json /tmp/i.json ...`` writes ``02_scaling.json``.

For every system we record the number of candidate solves (= linear subregions
visited) SCYFI needed until it had found the last object of the order searched,
``res.stats["per_order"][k]["solves_until_last_find"]``, with the randomised
heuristic forced (``strategy="scyfi"``), and what is needed to judge it: the
number of objects found, the exact number where an exhaustive search is
affordable, the length of the chain that made the last find, all solves and the
mean max |eigenvalue| over regions.

* M panel (fixed points): ``pe.systems.uniform_plrnn`` with the settings of
  ``pe.systems.FIG2_UNIFORM`` per regime; systems without a fixed point are
  skipped (nothing to find). Outer budget N_out = 1000 up to M = 30 (so that a
  complete search is the rule), the package's adapted default beyond.
* k panel (M = 2): systems with a verified attracting k-cycle (random 2-D
  PLRNNs and perturbations of GT16), default budgets.
* diagnosis (M = 6..14): the same count for the earlier generator
  ``pe.systems.random_plrnn`` (W scaled so that the mean max |eig| is 2.33 at
  every M) and for ``random_plrnn`` with the target set to the mean max |eig|
  the uniform expanding systems have at that M.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import plrnn_explorer as pe

HERE = Path(__file__).resolve().parent
OUT = HERE / "02_scaling.json"
N_SYSTEMS = 8
EXHAUSTIVE_UP_TO = 16            # exact fixed-point count for M <= this
M_GRID = {"attracting": [5, 10, 20, 30, 50, 75, 100, 127],
          "intermediate": [10, 20, 30, 50, 75, 100],
          "expanding": [6, 8, 10, 12, 14, 16, 18, 20, 25, 30]}
K_GRID = [1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 25, 30]
N_SYSTEMS_K = 6
GT16 = pe.systems.gt16()


DIAG_M = [6, 8, 10, 12, 14]


def fixed_point_records(regime: str, M: int, make=None, panel: str = "M") -> list[dict]:
    """Records of N_SYSTEMS systems with a fixed point; ``make(M, seed)`` draws a system (default: the regime's)."""
    if make is None:
        def make(M, seed):
            return pe.systems.uniform_plrnn(M, **pe.systems.FIG2_UNIFORM[regime], seed=seed)
    records, seed = [], 0
    max_draws = 200 if M <= 30 else 40
    while len(records) < N_SYSTEMS and seed < max_draws:
        model = make(M, 1000 * M + seed)
        n_out = 1000 if M <= 30 else None
        res = pe.find_cycles(model, orders=[1], seed=seed, strategy="scyfi", outer_loop_iterations=n_out)
        truth = len(pe.exhaustive_cycles(model, orders=[1])) if M <= EXHAUSTIVE_UP_TO else None
        seed += 1
        if not len(res) and not truth:
            continue                                   # no fixed point found: nothing to count
        st = res.stats["per_order"][1]
        records.append({"panel": panel, "regime": regime, "M": M, "k": 1, "seed": seed - 1,
                        "lambda_max": pe.systems.mean_max_eigenvalue(model, n_regions=64),
                        "found": len(res), "exact": truth, "n": st["solves_until_last_find"],
                        "chain": st["chain_length_at_last_find"], "all_solves": st["candidates_solved"],
                        "restarts": st["random_restarts"], "outer_budget": st["outer_loop_iterations"]})
    # how many draws it took to get these systems (the others: no fixed point found)
    records.append({"panel": "draws", "regime": regime, "M": M, "draws": seed, "with_fixed_point": len(records)})
    return records


def candidate_models(n: int, seed: int):
    """Alternately random 2-D PLRNNs (short periods) and GT16 perturbations (long periods)."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        if i % 2:
            yield pe.PLRNN(GT16.A + rng.uniform(-0.3, 0.15, 2), GT16.W * rng.uniform(0.5, 1.5, (2, 2)),
                           GT16.h * rng.uniform(0.5, 1.5, 2))
        else:
            yield pe.PLRNN(rng.uniform(-1, 1, 2), rng.normal(0, 1, (2, 2)), rng.normal(0, 1, 2))


def attracting_order(model: pe.PLRNN, k_max: int, n_steps: int = 3000) -> int | None:
    """Minimal period of the attracting cycle the orbit of (0.1, 0.1) settles on, verified exactly."""
    orbit = model.simulate([0.1, 0.1], n_steps)
    if not np.all(np.abs(orbit[-k_max - 1:]) < 1e12):
        return None
    z = orbit[-1]
    for k in range(1, k_max + 1):
        if np.max(np.abs(orbit[-1 - k] - z)) < 1e-9 * (1.0 + np.max(np.abs(z))):
            try:
                cyc = pe.cycle_from_itinerary(model, orbit[-k:] > 0)
            except ValueError:
                return None
            return k if cyc.stable and cyc.order == k else None
    return None


def cycle_records() -> list[dict]:
    found: dict[int, list[pe.PLRNN]] = {k: [] for k in K_GRID}
    for model in candidate_models(12000, seed=0):
        k = attracting_order(model, K_GRID[-1])
        if k in found and len(found[k]) < N_SYSTEMS_K:
            found[k].append(model)
    records = []
    for k, models in found.items():
        for i, m in enumerate(models):
            res = pe.find_cycles(m, orders=[k], seed=i, strategy="scyfi")
            st = res.stats["per_order"][k]
            records.append({"panel": "k", "regime": "2-D", "M": 2, "k": k, "seed": i,
                            "lambda_max": pe.systems.mean_max_eigenvalue(m), "found": len(res[k]), "exact": None,
                            "n": st["solves_until_last_find"], "chain": st["chain_length_at_last_find"],
                            "all_solves": st["candidates_solved"], "restarts": st["random_restarts"],
                            "outer_budget": st["outer_loop_iterations"],
                            "params": {"A": m.A.tolist(), "W": m.W.tolist(), "h": m.h.tolist()}})
    return records


def diagnosis_records() -> list[dict]:
    expanding = [r for M in DIAG_M for r in fixed_point_records("expanding", M)]
    records = []
    for M in DIAG_M:
        records += fixed_point_records("fixed 2.33", M, lambda M, s: pe.systems.random_plrnn(M, 2.33, seed=s), "diag")
        lam = float(np.mean([r["lambda_max"] for r in expanding if r["M"] == M and r["panel"] == "M"]))
        records += fixed_point_records("fixed, matched", M,
                                       lambda M, s: pe.systems.random_plrnn(M, lam, seed=s), "diag")
    return records


PARTS = ["attracting", "intermediate", "expanding", "k", "diag"]


def part_records(part: str) -> list[dict]:
    t0 = time.perf_counter()
    if part == "k":
        records = cycle_records()
    elif part == "diag":
        records = diagnosis_records()
    else:
        records = []
        for M in M_GRID[part]:
            rec = fixed_point_records(part, M)
            records += rec
            print(f"{part} M={M}: {rec[-1]['with_fixed_point']} of {rec[-1]['draws']} draws with a fixed point "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"{part} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    return records


def write(records: list[dict], path: Path) -> None:
    path.write_text(json.dumps({"description": __doc__.strip().splitlines()[0], "records": records}, indent=0))
    print(f"wrote {path} ({len(records)} systems)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=PARTS, help="compute one part only (default: all)")
    ap.add_argument("--out", type=Path, help="output file of --part")
    ap.add_argument("--merge", nargs="+", type=Path, help="merge part files (in the order of PARTS) into 02_scaling.json")
    args = ap.parse_args()
    if args.merge:
        parts = [json.loads(p.read_text())["records"] for p in args.merge]
        write([r for part in parts for r in part], OUT)
    elif args.part:
        write(part_records(args.part), args.out or HERE / f"02_scaling_{args.part}.json")
    else:
        write([r for part in PARTS for r in part_records(part)], OUT)


if __name__ == "__main__":
    main()
