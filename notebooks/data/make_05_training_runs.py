"""Regenerate the two training runs of notebook 05 (Fig. 3): ``05_run_A.npz``, ``05_run_B.npz``.

Run from anywhere: ``python notebooks/data/make_05_training_runs.py`` (a few seconds).

Both runs train ALL parameters (A, W, h) of the GT16 PLRNN, started with the
diagonal of A shifted by ``START`` (W and h at the ground truth), on a 500-step
free run of GT16 with plain BPTT ("noTF"): the loss is the mean squared error
of the free run from the inverted first data point, with latent states clipped
to [-10, 10] (``state_clip=10``, the authors' training-code default). Adam,
learning rate 1e-3, gradients clipped to norm 10 (the authors' defaults), one
update per epoch on the whole sequence, 3000 epochs, a checkpoint every 5
epochs (as the paper logs its Fig. 3 runs).

Loss jumps sit at points where tiny parameter changes switch the free run
between qualitatively different attractors, so the epochs of the jumps depend
on the last bits of floating-point arithmetic (CPU, compiler). The notebook
therefore analyses the saved runs instead of re-training.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import plrnn_explorer as pe

HERE = Path(__file__).resolve().parent
#: run name -> start offset (delta a00, delta a11) from the ground truth
STARTS = {"A": (-0.5, 0.3), "B": (0.25, 0.6)}
SETTINGS = dict(lr=1e-3, optimizer="adam", clip_grad_norm=10.0, state_clip=10.0, checkpoint_every=5, seed=0)
N_EPOCHS = 3000


def training_data() -> np.ndarray:
    """500 steps of GT16 from (0.5, -1): the sequence of the loss landscape and of training."""
    return pe.systems.gt16().simulate([0.5, -1.0], 500)


def make_run(name: str) -> pe.TrainingRun:
    gt = pe.systems.gt16()
    start = gt.replace(A=gt.A + np.asarray(STARTS[name]))
    return pe.train(start, training_data(), N_EPOCHS, **SETTINGS)


if __name__ == "__main__":
    for name in STARTS:
        run = make_run(name)
        path = HERE / f"05_run_{name}.npz"
        run.save(path)
        print(f"{path.name}: {run}")
