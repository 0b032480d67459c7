"""Regenerate the S10 run of notebook 12: a dendPLRNN trained with sparse teacher forcing on neuron data.

Writes, next to this script,
    12_s10_data.npz  the training data (voltage and gating variable, z-scored) and how they were made;
    12_s10_run.npz   the TrainingRun (pe.TrainingRun.load), a checkpoint every 6 epochs.

Data (a substitute for the paper's unpublished biophysical-neuron simulation): the Hodgkin-Huxley neuron of
``pe.systems.hodgkin_huxley`` (I = 10 uA/cm^2, regular spiking), membrane voltage V and potassium gating variable
n, sampled every 0.7 ms (every 7th point of the 0.1 ms grid) so that one spike cycle is about 21 samples;
1000 samples, each variable z-scored.

Model: a dendPLRNN with M = 9 units and B = 2 bases per unit,
    z' = diag(A) z + W sum_b alpha_{m,b} relu(z - theta_{m,b}) + h,
built as the exactly equivalent ShallowPLRNN with H = M B = 18 gates
(``plrnn_explorer.dendritic.dend_plrnn``); its first two units are read out as (V, n). Initialisation
(numpy default_rng(0)): A ~ U(0.5, 0.9), W ~ N(0, 0.1^2 / M), h = 0, alpha ~ U(0.5, 1), theta ~ N(0, 1).

Training: sparse teacher forcing with interval tau = 75 (as in the paper's S10 run label), windows of 200 steps,
batch 8 (one update per epoch), Adam lr 1e-3, 600 epochs. Trained parameters: A, W1, h1, h2; W2 stays the
dendritic selector structure, so every checkpoint is a ShallowPLRNN whose gate (m, b) is relu(z_m - theta_{m,b}).
W1 is trained freely: it contains the dendPLRNN's W diag(alpha) as a special case (a per-basis output weight),
so the trained model class is slightly larger than the dendPLRNN proper.

Run:  python notebooks/data/make_12_s10_dendplrnn.py     (about 10 s)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.dendritic import dend_plrnn

HERE = Path(__file__).parent
M, B, TAU, SEQ_LEN, BATCH, LR, EPOCHS, EVERY, SEED = 9, 2, 75, 200, 8, 1e-3, 600, 6, 0


def make_data() -> np.ndarray:
    """(1000, 2) z-scored voltage and gating variable n of the Hodgkin-Huxley neuron, dt = 0.7 ms."""
    raw = pe.systems.hodgkin_huxley(7000, variables=("V", "n"))[::7]
    return (raw - raw.mean(axis=0)) / raw.std(axis=0)


def initial_model() -> pe.ShallowPLRNN:
    rng = np.random.default_rng(SEED)
    A = rng.uniform(0.5, 0.9, M)
    W = rng.normal(0.0, 0.1 / np.sqrt(M), (M, M))
    alphas = rng.uniform(0.5, 1.0, (M, B))
    thetas = rng.normal(0.0, 1.0, (M, B))
    return dend_plrnn(A, W, np.zeros(M), alphas, thetas)


def main() -> None:
    data = make_data()
    np.savez_compressed(HERE / "12_s10_data.npz", data=data, columns=np.array(["V", "n"]), dt_ms=0.7,
                        current=10.0)
    run = pe.train(initial_model(), data, EPOCHS, method="stf", tau=TAU, seq_len=SEQ_LEN, batch_size=BATCH,
                   lr=LR, checkpoint_every=EVERY, seed=SEED, params=["A", "W1", "h1", "h2"])
    run.save(HERE / "12_s10_run.npz")
    print(run, f"-> {HERE / '12_s10_run.npz'}")


if __name__ == "__main__":
    main()
