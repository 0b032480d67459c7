"""The certified (provably complete) cycle search: speed, reach, and the heuristic's recall against it.

Run: ``python benchmarks/bench_certified.py [--repeats N] [--budget S] [--quick] [--sections 1 2 ...] [--m8 PATH]``

``--budget 60 --sections 2`` measures only the certified reach on the 2-D test
systems with the issue's 60 s per system (about 7 min in all).

Sections (markdown tables on stdout, medians over ``--repeats`` runs):

1. GT16 (``pe.systems.gt16()``), orders 1..16, ``strategy="certified"``
   (target <= 30 s; plain enumeration would need 4^16 / 16 ~ 2.7e8 words).
2. How far the certified search gets on the published 2-D test systems
   (GT16, the single-FP and "holes" systems, the S7 map at the a_l of its
   reference table) within ``--budget`` seconds each (default 60), orders up to 83.
3. Order 3 of a chaotic 6-D PLRNN (full A, strongly expanding pieces):
   certified against exhaustive enumeration, equal sets (target <= 10 s),
   plus the LP-pruned tree alone.
4. Recall of the SCYFI heuristic (``strategy="scyfi"``, the paper's budgets)
   against the certified search on chaotic systems of every model type.
5. What ``strategy="auto"`` picks for an ALRNN with M = 100 and n_relu = 2..10
   (issue 15: the cost model multiplies the solves by the cost of one solve at
   this M, so it never takes the slower method).
6. Order 3 of the trained shallow PLRNN with M = 8, H = 10 (``--m8 PATH``,
   default ``../shared/data/shplrnn_150_snapshots_M8_H10.mat``; skipped when
   absent) at three snapshots: the transition graph (build, closed walks)
   against plain enumeration, whose 3.6e8 words are timed on a random sample
   of 200,000 in the same process and extrapolated.

7. Order 4 of the same model (``--m8 PATH``) at two consecutive snapshots:
   the closed walks filtered by realised 3-words (3-word LPs, kept 3-words,
   walks solved, seconds), the second snapshot once alone and once with
   the first one's 3-words as a hint; against the plain graph's closed
   walks, whose order-4 cost is estimated from their number and the
   measured seconds per order-3 walk (about 40 min per snapshot: not run).

Timings depend on the machine and its load; compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.certified import plain_seconds, pruned_cycles, search_costs
from plrnn_explorer.exhaustive import n_lyndon_words


def timed(fn, repeats=1):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def test_systems_2d() -> dict[str, pe.PLRNN]:
    single = pe.PLRNN([-0.0222311, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
    holes = pe.PLRNN([0.7, -0.7], [[0, -0.14375], [0.52505308, 0]], [0.37298253, -0.97931491])
    out = {"GT16": pe.systems.gt16(), "single FP": single, "holes": holes}
    for a_l in (-0.48, -0.3575, 0.0, 0.5):
        out[f"S7 a_l={a_l}"] = pe.systems.s7(a_l)
    return out


def chaotic_model(kind: str, M: int, rng: np.random.Generator):
    A = rng.normal(size=(M, M)) * 0.9 if kind in ("PLRNN", "ALRNN") else rng.uniform(-1, 1, M)
    h = rng.normal(size=M)
    if kind == "PLRNN":
        return pe.PLRNN(A, rng.normal(size=(M, M)) * 1.5, h)
    if kind == "ALRNN":
        return pe.ALRNN(A, rng.normal(size=(M, M)) * 1.5, h, max(1, M // 2))
    cls = pe.ShallowPLRNN if kind == "ShallowPLRNN" else pe.ClippedShallowPLRNN
    H = 2 if kind == "ClippedShallowPLRNN" else 3
    return cls(A, rng.normal(size=(M, H)) * 3.0, rng.normal(size=(H, M)), h, rng.normal(size=H))


def section_gt16(repeats: int) -> None:
    print("## 1. GT16, certified orders 1..16\n")
    sec, res = timed(lambda: pe.find_cycles(pe.systems.gt16(), 16, strategy="certified"), repeats)
    how = {k: s["strategy"] for k, s in res.stats["per_order"].items()}
    tree = res.stats.get("certified_tree", {})
    print("| median s | complete | cycles per order | methods | tree prefixes per level | LPs |")
    print("|---|---|---|---|---|---|")
    print(f"| {sec:.2f} | {res.complete} | {dict((k, n) for k, n in res.counts().items() if n)} | "
          f"{sorted(set(how.values()))} (tree from order {min([k for k, v in how.items() if v == 'certified'], default='-')}) | "
          f"{tree.get('prefixes')} | {tree.get('lps')} |\n")


def section_reach(seconds: float, max_order: int) -> None:
    print(f"## 2. Certified reach on the published 2-D test systems ({seconds:g} s each, orders up to {max_order})\n")
    print("| system | highest order complete | orders complete | stable cycles found (order) | seconds |")
    print("|---|---|---|---|---|")
    for name, m in test_systems_2d().items():
        t = time.perf_counter()
        res = pe.find_cycles(m, max_order, strategy="certified", budget_seconds=seconds)
        done = [k for k in res.orders if res.order_complete(k)]
        top = max(done) if done else 0
        first_gap = next((k for k in res.orders if not res.order_complete(k)), None)
        stable = sorted({c.order for c in res.stable})
        print(f"| {name} | {top} | 1..{first_gap - 1 if first_gap else max_order} | {stable} | "
              f"{time.perf_counter() - t:.1f} |")
    print()


def section_chaotic_6d(repeats: int) -> None:
    print("## 3. Chaotic 6-D PLRNN (six coupled skew tents: full A, expanding pieces), order 3\n")
    rng = np.random.default_rng(0)
    M = 6
    a_l, a_r = rng.uniform(0.85, 0.95, M), rng.uniform(-3.0, -2.3, M)
    m = pe.PLRNN(np.diag(a_l) + 0.05 * rng.normal(size=(M, M)) * (1 - np.eye(M)), np.diag(a_r - a_l), np.ones(M))
    t_e, ex = timed(lambda: pe.exhaustive_cycles(m, orders=[3]), repeats)
    t_c, ce = timed(lambda: pe.find_cycles(m, orders=[3], strategy="certified"), repeats)
    t_t, tr = timed(lambda: pruned_cycles(m, 3, budget_seconds=600), 1)
    t_h, he = timed(lambda: pe.find_cycles(m, orders=[3], strategy="scyfi", seed=0), repeats)
    print("| method | seconds | 3-cycles | equal to exhaustive | complete |")
    print("|---|---|---|---|---|")
    print(f"| exhaustive (all {n_lyndon_words(64, 3)} Lyndon words) | {t_e:.2f} | {len(ex[3])} | - | True |")
    print(f"| certified (chose {ce.stats['per_order'][3]['strategy']}) | {t_c:.2f} | {len(ce[3])} | "
          f"{ce.keys() == ex.keys()} | {ce.complete} |")
    tree = tr.stats["certified_tree"]
    print(f"| LP-pruned tree alone, orders 1..3 ({tree['prefixes'][-1]} realised prenecklaces at length 3, "
          f"{tree['lps']} LPs) | {t_t:.2f} | {len(tr[3])} | {({c.key for c in tr[3]} == ex.keys())} | "
          f"{tr.complete} |")
    print(f"| SCYFI heuristic | {t_h:.2f} | {len(he[3])} | {he.keys() == ex.keys()} | {he.complete} |\n")


def section_recall(n_systems: int, dims: range, max_order: int) -> None:
    print(f"## 4. Heuristic recall against the certified search (chaotic systems, M in {list(dims)}, "
          f"k = 1..{max_order}, {n_systems} systems per cell)\n")
    print("| model | M | cycles (certified) | found by SCYFI | recall | certified s | SCYFI s |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("PLRNN", "ShallowPLRNN", "ClippedShallowPLRNN", "ALRNN"):
        for M in dims:
            rng = np.random.default_rng(100 * M + len(kind))
            total = found = 0
            t_c = t_h = 0.0
            for s in range(n_systems):
                m = chaotic_model(kind, M, rng)
                t = time.perf_counter()
                exact = pe.find_cycles(m, max_order, strategy="certified", budget_seconds=120)
                t_c += time.perf_counter() - t
                if not exact.complete:
                    continue
                t = time.perf_counter()
                heur = pe.find_cycles(m, max_order, strategy="scyfi", seed=s)
                t_h += time.perf_counter() - t
                total += len(exact)
                found += len(heur.keys() & exact.keys())
            recall = f"{100 * found / total:.0f} %" if total else "-"
            print(f"| {kind} | {M} | {total} | {found} | {recall} | {t_c:.1f} | {t_h:.1f} |")
    print()


def section_auto_alrnn(n_relus: range, max_order: int) -> None:
    print(f"## 5. strategy='auto' on ALRNN M = 100, orders 1..{max_order}: cost model and choice\n")
    print("| n_relu | solve s (k=3) | plain words (k=3) | est. plain s (k=3) | chosen per order | seconds | complete |")
    print("|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    M = 100
    for n_relu in n_relus:
        m = pe.ALRNN(rng.uniform(0.3, 0.9, M), rng.normal(size=(M, M)) / np.sqrt(M), rng.normal(size=M), n_relu)
        costs = search_costs(m.canonical)
        t = time.perf_counter()
        res = pe.find_cycles(m, max_order, seed=0)
        sec = time.perf_counter() - t
        how = [res.stats["per_order"][k]["strategy"] for k in res.orders]
        print(f"| {n_relu} | {costs.solve(3):.2e} | {n_lyndon_words(2 ** n_relu, 3)} | "
              f"{plain_seconds(m.canonical, 3, costs):.2f} | {how} | {sec:.2f} | {res.complete} |")
    print()


def section_trained_m8(path: Path) -> None:
    if not path.is_file():
        print(f"section 6 skipped: {path} not found\n")
        return
    from plrnn_explorer import _kernels
    from plrnn_explorer.certified import random_words
    from plrnn_explorer.transition_graph import TransitionGraph

    snaps = pe.io.load_mat_snapshots(path, mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
    print("### Trained ShallowPLRNN M = 8, H = 10, order 3: transition graph vs plain enumeration\n")
    print("| snapshot | regions | edges | graph build s | closed walks solved | walks s | graph total s "
          "| plain: words | plain s (extrapolated from 200,000) | plain / graph | cycles |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for i in (0, 75, 149):
        cf = snaps[i].canonical
        t0 = time.perf_counter()
        graph = TransitionGraph.build(cf)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        cycles, _, solved, _, _ = graph.cycles(3)
        t_walks = time.perf_counter() - t0
        words = random_words(cf.n_gates, 3, 200_000, seed=i)
        status = np.zeros(len(words), np.int64)
        t0 = time.perf_counter()
        _kernels.check_words(*cf.arrays, words, 1e-12, status, cf.blas)
        n_plain = n_lyndon_words(2 ** cf.n_gates, 3)
        t_plain = (time.perf_counter() - t0) / len(words) * n_plain
        total = t_build + t_walks
        print(f"| {i} | {graph.n_regions:,} | {graph.n_edges:,} | {t_build:.1f} | {solved:,} | {t_walks:.1f} | "
              f"{total:.1f} | {n_plain:.2e} | {t_plain:.0f} | {t_plain / total:.0f}x | {len(cycles)} |")
    print()


def section_trained_m8_order4(path: Path, first: int = 75) -> None:
    if not path.is_file():
        print(f"section 7 skipped: {path} not found\n")
        return
    from plrnn_explorer.transition_graph import TransitionGraph

    snaps = pe.io.load_mat_snapshots(path, mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
    print("### Trained ShallowPLRNN M = 8, H = 10, order 4: closed walks filtered by realised 3-words\n")
    print("| snapshot | 3-words from | 3-word LPs | 3-words kept (of 2-step paths) | 3-words s | walks solved "
          "| walks s | 4-cycles | plain graph: closed 4-walks | plain graph s (estimated) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    previous = None
    for i, hint in ((first, None), (first + 1, None), (first + 1, "previous")):
        graph = TransitionGraph.build(snaps[i].canonical)
        t0 = time.perf_counter()
        found3 = graph.cycles(3)
        per_walk = (time.perf_counter() - t0) / max(found3.solved, 1)
        t0 = time.perf_counter()
        graph.build_triples(hint=previous if hint else None)
        t_tri = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = graph.cycles(4)
        t_walks = time.perf_counter() - t0
        walks4 = graph.closed_walks(4)
        print(f"| {i} | {'snapshot %d' % (i - 1) if hint else 'LPs only'} | {graph.triple_lps:.3g} | "
              f"{graph.n_triples:.3g} ({graph.n_triples / graph.n_candidate_triples():.1%}) | {t_tri:.0f} | "
              f"{found.solved:.3g} | {t_walks:.0f} | {len(found.cycles)} | {walks4:.3g} | "
              f"{walks4 / 4 * per_walk:.0f} |")
        if i == first:
            previous = graph
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", "--seconds", dest="budget", type=float, default=60.0,
                    help="seconds per 2-D test system in section 2 (default 60, the issue's budget)")
    ap.add_argument("--quick", action="store_true", help="smaller recall study and ALRNN range")
    ap.add_argument("--sections", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7], choices=range(1, 8),
                    help="which sections to run (default all)")
    ap.add_argument("--m8", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
                    / "shplrnn_150_snapshots_M8_H10.mat", help="the M = 8, H = 10 snapshots (sections 6, 7)")
    args = ap.parse_args()
    pe.find_cycles(pe.systems.gt16(), 2, strategy="certified")   # numba compile / cache load outside timings
    sections = set(args.sections)
    if 1 in sections:
        section_gt16(args.repeats)
    if 2 in sections:
        section_reach(args.budget, 83)
    if 3 in sections:
        section_chaotic_6d(args.repeats)
    if 4 in sections:
        if args.quick:
            section_recall(3, range(2, 5), 4)
        else:
            section_recall(5, range(2, 8), 6)
    if 5 in sections:
        section_auto_alrnn(range(2, 11, 2) if args.quick else range(2, 11), 3)
    if 6 in sections:
        section_trained_m8(args.m8)
    if 7 in sections:
        section_trained_m8_order4(args.m8)


if __name__ == "__main__":
    main()
