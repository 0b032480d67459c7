"""Regenerate ``13_s12_lookahead.npz``: GTF (alpha = 0.05) with and without look-ahead, 6 runs each.

Used by notebook 13 (Fig. S12 of Eisenmann et al., NeurIPS 2023). The paper does not document its look-ahead;
we use the step control of ``pe.train(..., lookahead=L)``: every proposed update is shrunk (halved, at most 5
times) while the loss L steps further along it is more than 10 % above the current loss.

Problem and start models as in notebook 06 (``make_06_gtf_study.start_model(seed)``: GT16 perturbed at random,
data = 500 steps of GT16's 16-cycle). Training: GTF alpha = 0.05, plain gradient descent (lr 0.002, gradient
clipped to norm 1), 1000 epochs, checkpoint (loss) every epoch. Runs: the first 6 seeds, counting from 0, whose
run without look-ahead has a loss jump (a rise of more than 10 % from one epoch to the next); for each of them
one run with look-ahead L = 10 (the value of the paper's figure) and one without.

Run:  python notebooks/data/make_13_s12_lookahead.py      (about 20 s)
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

import plrnn_explorer as pe

HERE = Path(__file__).parent
ALPHA, LOOKAHEAD, N_RUNS, N_EPOCHS = 0.05, 10, 6, 1000
_spec = importlib.util.spec_from_file_location("make_06", HERE / "make_06_gtf_study.py")
make_06 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_06)


def train(seed: int, lookahead: int | None) -> pe.TrainingRun:
    data = pe.systems.gt16().simulate([0.5, -1.0], 500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return pe.train(make_06.start_model(seed), data, N_EPOCHS, method="gtf", alpha=ALPHA, optimizer="sgd",
                        lr=0.002, clip_grad_norm=1.0, checkpoint_every=1, seed=0, lookahead=lookahead)


def has_jump(losses: np.ndarray) -> bool:
    return bool(np.any(losses[1:] > 1.1 * losses[:-1]))


def main() -> None:
    seeds, plain, ahead, screened = [], [], [], 0
    seed = 0
    while len(seeds) < N_RUNS:
        run = train(seed, None)
        screened += 1
        if run.status == "completed" and has_jump(run.losses):
            seeds.append(seed)
            plain.append(run.losses)
            ahead.append(train(seed, LOOKAHEAD).losses)
            print(f"seed {seed}: loss jump without look-ahead; trained with look-ahead {LOOKAHEAD}", flush=True)
        seed += 1
    np.savez_compressed(HERE / "13_s12_lookahead.npz", seeds=np.array(seeds), screened=screened,
                        losses=np.array([plain, ahead]), lookahead=np.array([0, LOOKAHEAD]), alpha=ALPHA,
                        epochs=np.arange(N_EPOCHS + 1))
    print(f"wrote {HERE / '13_s12_lookahead.npz'} ({screened} seeds screened)")


if __name__ == "__main__":
    main()
