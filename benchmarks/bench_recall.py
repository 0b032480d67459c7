"""Recall of the cycle heuristic (``strategy="scyfi"``) before and after its enrichment phase.

Run: ``python benchmarks/bench_recall.py [--systems N] [--dims 2-7] [--max-order K] [--truth-seconds S] [--kinds ...]``

For chaotic / strongly expanding random systems of every model type
(PLRNN, ALRNN, ShallowPLRNN, ClippedShallowPLRNN), M = 2..7 and orders
k = 1..6, the ground truth is exact: exhaustive enumeration of every Lyndon
word when an order has at most ``--truth-words`` of them, otherwise the
certified search (``strategy="certified"``, provably complete) with
``--truth-seconds`` per order. Orders without a ground truth (and the orders
above them) are shown as ``skip``; by default (certified time 0) the skipped
cells are the same on every machine. Each cell shows ``old / new / true``: the
cycles found by the paper's SCYFI alone (the heuristic before this change,
run from the same process through a private switch) and by the current
heuristic, same seed, against the true count. Both never report a cycle
the certified search does not have (checked).

Two families of systems (seeded, so every run sees the same ones). "tents":

- PLRNN: M coupled skew tents (slopes ~0.9 and ~-2.6, full A with coupling
  0.05..0.3), the issue's chaotic example;
- ALRNN: the same tents on the ReLU units, plus contracting linear units
  driven by them;
- ShallowPLRNN: tents through a hidden layer of M + 1 units (one extra,
  random unit adds gates and regions);
- ClippedShallowPLRNN: clipped tents, slope ~-2.6 inside the band
  -2 < z_i < 0 of each unit and ~0.9 outside (two gates per unit).

"random": random weights scaled x3 or x10 (strongly expanding pieces; many
orbits diverge, so sampled orbits help less), the first of up to 30 draws
with at least ``MIN_CYCLES`` cycles.

Times are seconds summed over the systems of a row; the machine may be
loaded, so compare the two columns of one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.exhaustive import n_lyndon_words
from plrnn_explorer.scyfi import _paper_scyfi

KINDS = ("PLRNN", "ALRNN", "ShallowPLRNN", "ClippedShallowPLRNN")


def _tents(M: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a_l, a_r = rng.uniform(0.85, 0.95, M), rng.uniform(-3.0, -2.3, M)
    coupling = rng.uniform(0.05, 0.3)
    return a_l, a_r, coupling * rng.normal(size=(M, M)) * (1 - np.eye(M))


def chaotic_system(kind: str, M: int, rng: np.random.Generator):
    """A seeded chaotic / strongly expanding system of ``kind`` with latent dimension M."""
    if kind == "PLRNN":
        a_l, a_r, C = _tents(M, rng)
        return pe.PLRNN(np.diag(a_l) + C, np.diag(a_r - a_l), np.ones(M))
    if kind == "ALRNN":
        n_relu = max(1, M - 1)
        a_l, a_r, C = _tents(n_relu, rng)
        n_lin = M - n_relu
        A = np.concatenate([rng.uniform(-0.5, 0.5, n_lin), a_l])
        W = np.zeros((M, M))
        W[n_lin:, n_lin:] = np.diag(a_r - a_l) + C
        W[:n_lin, n_lin:] = rng.normal(size=(n_lin, n_relu)) * 0.5        # linear units driven by the tents
        h = np.concatenate([np.zeros(n_lin), np.ones(n_relu)])
        return pe.ALRNN(A, W, h, n_relu)
    if kind == "ShallowPLRNN":
        a_l, a_r, C = _tents(M, rng)
        W1 = np.hstack([np.diag(a_r - a_l) + C, 0.3 * rng.normal(size=(M, 1))])
        W2 = np.vstack([np.eye(M), rng.normal(size=(1, M))])
        return pe.ShallowPLRNN(a_l, W1, W2, np.ones(M), np.concatenate([np.zeros(M), rng.normal(size=1)]))
    a_l, a_r, C = _tents(M, rng)          # clipped tents: slope a_r in the band -2 < z_i < 0, a_l outside
    return pe.ClippedShallowPLRNN(a_l, np.diag(a_r - a_l) + C, np.eye(M), np.full(M, 0.5), np.full(M, 2.0))


def random_expanding(kind: str, M: int, rng: np.random.Generator):
    """A random system of ``kind`` with weights scaled x3 or x10 (strongly expanding pieces, orbits may diverge)."""
    scale = float(rng.choice([3.0, 10.0]))
    A = rng.uniform(-1, 1, M)
    if kind == "PLRNN":
        return pe.PLRNN(A, scale * rng.normal(size=(M, M)), rng.normal(size=M))
    if kind == "ALRNN":
        return pe.ALRNN(A, scale * rng.normal(size=(M, M)), rng.normal(size=M), int(rng.integers(1, M + 1)))
    H = M if kind == "ShallowPLRNN" else M // 2 + 1
    cls = pe.ShallowPLRNN if kind == "ShallowPLRNN" else pe.ClippedShallowPLRNN
    return cls(A, scale * rng.normal(size=(M, H)), rng.normal(size=(H, M)), rng.normal(size=M), rng.normal(size=H))


#: the "random" family keeps a drawn system only if it has at least this many cycles (up to 30 draws)
MIN_CYCLES = 8


def ground_truth(model, max_order: int, max_words: int, seconds: float) -> tuple[dict[int, set], int]:
    """True cycle keys per order 1..top, and top: the highest k with 1..k all known exactly.

    An order is enumerated exhaustively when it has at most ``max_words``
    Lyndon words; above that the certified search gets ``seconds`` (0: skip).
    """
    truth: dict[int, set] = {}
    G = model.n_gates
    for k in range(1, max_order + 1):
        if n_lyndon_words(2**G, k) <= max_words:
            truth[k] = {c.key for c in pe.exhaustive_cycles(model, orders=[k], max_words=2**40)[k]}
            continue
        if seconds <= 0:
            break
        res = pe.find_cycles(model, orders=[k], strategy="certified", budget_seconds=seconds)
        if not res.complete:
            break
        truth[k] = {c.key for c in res[k]}
    return truth, len(truth)


def family_table(family: str, args: argparse.Namespace, dims: range) -> tuple[int, int, int, int]:
    """Print one table; returns (old, new, true, skipped cells) summed over it."""
    K = args.max_order
    print(f"### {family}: old (paper's SCYFI) / new (with enrichment) / true, seed {args.seed}, "
          f"{args.systems} system(s) per row\n")
    print("| model | M | G | " + " | ".join(f"k={k}" for k in range(1, K + 1)) + " | recall old | recall new | "
          "old s | new s |")
    print("|---|---|---|" + "---|" * K + "---|---|---|---|")
    tot = [0, 0, 0, 0]
    for kind in args.kinds.split(","):
        for M in dims:
            rng = np.random.default_rng([M, KINDS.index(kind), FAMILIES.index(family)])
            cells = {k: [0, 0, 0] for k in range(1, K + 1)}
            top_all = K
            t_old = t_new = 0.0
            G = 0
            for _ in range(args.systems):
                for _draw in range(30 if family == "random" else 1):
                    m = chaotic_system(kind, M, rng) if family == "tents" else random_expanding(kind, M, rng)
                    truth, top = ground_truth(m, K, args.truth_words, args.truth_seconds)
                    if family == "tents" or sum(len(v) for v in truth.values()) >= MIN_CYCLES:
                        break
                G = m.n_gates
                top_all = min(top_all, top)
                if top == 0:
                    continue
                t = time.perf_counter()
                old = _paper_scyfi(m, top, seed=args.seed)
                t_old += time.perf_counter() - t
                t = time.perf_counter()
                new = pe.find_cycles(m, top, strategy="scyfi", seed=args.seed)
                t_new += time.perf_counter() - t
                for k in range(1, top + 1):
                    new_k = {c.key for c in new[k]}
                    assert old[k] <= truth[k] and new_k <= truth[k], f"{kind} M={M} k={k}: a cycle the truth lacks"
                    cells[k][0] += len(old[k])
                    cells[k][1] += len(new_k)
                    cells[k][2] += len(truth[k])
            row = []
            for k in range(1, K + 1):
                if k > top_all:
                    row.append("skip")
                    tot[3] += 1
                    continue
                row.append("/".join(map(str, cells[k])))
            o, n, tr = (sum(cells[k][j] for k in range(1, top_all + 1)) for j in range(3))
            tot[0], tot[1], tot[2] = tot[0] + o, tot[1] + n, tot[2] + tr
            rec = (f"{100 * o / tr:.0f} %", f"{100 * n / tr:.0f} %") if tr else ("-", "-")
            print(f"| {kind} | {M} | {G} | " + " | ".join(row) + f" | {rec[0]} | {rec[1]} | {t_old:.2f} | "
                  f"{t_new:.2f} |", flush=True)
    o, n, tr, skipped = tot
    print(f"\n{family}: old {o} / new {n} / true {tr} cycles (recall {100 * o / max(tr, 1):.1f} % -> "
          f"{100 * n / max(tr, 1):.1f} %); {skipped} cells skipped (ground truth too expensive)\n")
    return o, n, tr, skipped


FAMILIES = ("tents", "random")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", type=int, default=1, help="systems per (model type, M) (default 1)")
    ap.add_argument("--dims", default="2-7", help="latent dimensions, e.g. 2-7 (default)")
    ap.add_argument("--max-order", type=int, default=6, help="highest order k (default 6)")
    ap.add_argument("--truth-words", type=int, default=60000,
                    help="enumerate an order exhaustively when it has at most this many Lyndon words (default 60000)")
    ap.add_argument("--truth-seconds", type=float, default=0.0,
                    help="above that, give the certified search this many seconds per order (default 0: skip)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the heuristic runs (default 0)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="model types, comma separated (default: all four)")
    ap.add_argument("--families", default=",".join(FAMILIES), help="system families: tents, random (default both)")
    args = ap.parse_args()
    lo, _, hi = args.dims.partition("-")
    dims = range(int(lo), int(hi or lo) + 1)
    pe.find_cycles(pe.systems.gt16(), 3, strategy="scyfi", seed=0)     # numba compile / cache load outside timings
    _paper_scyfi(pe.systems.gt16(), 3, seed=0)
    print(f"## Heuristic recall; ground truth: exhaustive up to {args.truth_words} Lyndon words per order, then "
          f"certified for {args.truth_seconds:g} s per order (0: skip)\n")
    t_start = time.perf_counter()
    for family in args.families.split(","):
        family_table(family, args, dims)
    print(f"total {time.perf_counter() - t_start:.0f} s (heuristic times per row in the tables)")


if __name__ == "__main__":
    main()
