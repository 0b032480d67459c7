"""Regenerate ``06_gtf_study.npz``: BPTT (GTF alpha = 0) against GTF (alpha = 0.1) over many seeds.

Used by notebook 06. Training runs are chaotic: their loss curves depend on the
BLAS build and CPU in the last digits and then diverge, so the notebook analyses
the shipped results of this script instead of re-training.

Per seed s (0..N_SEEDS-1) the start model is GT16 (the 16-cycle system of
Fig. 3 of Eisenmann et al., NeurIPS 2023) with
    diag(A) shifted by U([0, 0.3] x [-0.3, 0]),
    the off-diagonal W entries and h shifted by N(0, 0.05^2),
drawn from ``numpy.random.default_rng(s)``. From that start, one run with
alpha = 0 and one with alpha = 0.1 (the paper's value in Fig. 5): 200 epochs of
plain gradient descent (lr 0.002, gradient clipped to norm 1) on 500 steps of
GT16's 16-cycle, checkpoint every epoch. Each run is analysed with
``pe.analyze_training`` (cycles up to order 16, grid budgets, seed 0).

Run:  python notebooks/data/make_06_gtf_study.py      (about 5 min on one core)
"""

from __future__ import annotations

import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.bifurcations import map_budgets

N_SEEDS = 24
ALPHAS = (0.0, 0.1)
N_EPOCHS = 200
MAX_ORDER = 16
KINDS = ("border_collision", "degenerate_transcritical", "degenerate_flip", "flip", "neimark_sacker", "fold",
         "appearance", "disappearance")
OUT = Path(__file__).with_name("06_gtf_study.npz")


def start_model(seed: int) -> pe.PLRNN:
    """GT16 with a random perturbation (see the module docstring)."""
    gt = pe.systems.gt16()
    rng = np.random.default_rng(seed)
    d_a = rng.uniform([0.0, -0.3], [0.3, 0.0])
    d_w = rng.normal(0.0, 0.05, (2, 2)) * np.array([[0.0, 1.0], [1.0, 0.0]])
    d_h = rng.normal(0.0, 0.05, 2)
    return gt.replace(A=gt.A + d_a, W=gt.W + d_w, h=gt.h + d_h)


def main() -> None:
    data = pe.systems.gt16().simulate([0.5, -1.0], 500)
    n_ck = N_EPOCHS + 1
    losses = np.full((len(ALPHAS), N_SEEDS, n_ck), np.nan)
    grad_norms = np.full_like(losses, np.nan)
    status = np.empty((len(ALPHAS), N_SEEDS), dtype="U12")
    ev_rows = []   # alpha index, seed, epoch, kind index, order, stable before (-1 none), stable after
    t0 = time.time()
    for s in range(N_SEEDS):
        start = start_model(s)
        for ia, alpha in enumerate(ALPHAS):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                run = pe.train(start, data, N_EPOCHS, method="gtf", alpha=alpha, optimizer="sgd", lr=0.002,
                               clip_grad_norm=1.0, checkpoint_every=1, seed=0)
            status[ia, s] = run.status
            n = len(run.losses)
            losses[ia, s, :n] = run.losses
            grad_norms[ia, s, :n] = run.grad_norms
            ta = pe.analyze_training(run.checkpoints, MAX_ORDER, epochs=run.epochs, seed=0, budgets=map_budgets)
            for e in ta.events:
                sb = -1 if e.cycle_before is None else int(e.cycle_before.stable)
                sa = -1 if e.cycle_after is None else int(e.cycle_after.stable)
                ev_rows.append((ia, s, e.epoch, KINDS.index(e.kind), e.order, sb, sa))
            print(f"seed {s:2d} alpha {alpha}: {run.status}, loss {run.losses[0]:.3g} -> {run.losses[-1]:.3g}, "
                  f"{len(ta.events)} events  [{time.time() - t0:.0f} s]", flush=True)
    ev = np.array(ev_rows, dtype=float).reshape(-1, 7)
    np.savez_compressed(
        OUT, alphas=np.array(ALPHAS), seeds=np.arange(N_SEEDS), epochs=np.arange(n_ck), losses=losses,
        grad_norms=grad_norms, status=status, kinds=np.array(KINDS), max_order=MAX_ORDER,
        event_alpha=ev[:, 0].astype(np.int64), event_seed=ev[:, 1].astype(np.int64), event_epoch=ev[:, 2],
        event_kind=ev[:, 3].astype(np.int64), event_order=ev[:, 4].astype(np.int64),
        event_stable_before=ev[:, 5].astype(np.int64), event_stable_after=ev[:, 6].astype(np.int64),
        provenance=np.array(f"plrnn_explorer {pe.__version__}, numpy {np.__version__}, python "
                            f"{sys.version.split()[0]}, {platform.machine()}"))
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
