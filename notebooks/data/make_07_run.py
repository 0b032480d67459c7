"""Regenerate ``07_neuron_gtf_run.npz``, the training run analysed in notebook 07.

The run is a shallow PLRNN (M = 6, H = 20) trained with generalized teacher
forcing (alpha = 0.07) on the z-scored membrane potential of a simulated
Hodgkin-Huxley neuron, 900 epochs, a checkpoint every 10 epochs. This training
is chaotic: the same seed gives different epochs of its loss spikes with a
different BLAS kernel, CPU or thread count. Notebook 07 therefore analyses the
run saved here, and this script shows exactly how it was made. Re-running it
on another machine may give a different run (with its own loss spikes and
bifurcation epochs); the notebook then analyses that one, but its checked
outputs were recorded for the shipped file.

Usage::

    python notebooks/data/make_07_run.py            # overwrite the shipped file
    python notebooks/data/make_07_run.py out.npz    # write elsewhere

Examples
--------
>>> x = neuron_data()
>>> x.shape, bool(abs(x.mean()) < 1e-12)
((3000, 1), True)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import plrnn_explorer as pe

#: default output, next to this script
RUN_FILE = Path(__file__).with_name("07_neuron_gtf_run.npz")
#: inter-spike interval of the driven HH neuron (ms); sampled at 20 points per interval
INTER_SPIKE_INTERVAL = 14.598


def neuron_data(n_samples: int = 3000) -> np.ndarray:
    """(n_samples, 1) z-scored HH membrane potential, 20 samples per inter-spike interval."""
    v = pe.systems.hodgkin_huxley(n_samples, dt=INTER_SPIKE_INTERVAL / 20)[:, 0]
    return ((v - v.mean()) / v.std())[:, None]


def initial_model() -> pe.ShallowPLRNN:
    """The seeded random initial shallow PLRNN (M = 6, H = 20)."""
    rng = np.random.default_rng(1)
    M, H = 6, 20
    return pe.ShallowPLRNN(rng.uniform(0.5, 0.9, M), rng.normal(0, 0.05, (M, H)), rng.normal(0, 0.5, (H, M)),
                           np.zeros(M), rng.normal(0, 0.5, H))


def make_run() -> pe.TrainingRun:
    """Train the run of notebook 07 (a few seconds)."""
    return pe.train(initial_model(), neuron_data(), 900, method="gtf", alpha=0.07, seq_len=200, batch_size=16,
                    steps_per_epoch=1, lr=2e-3, checkpoint_every=10, seed=0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", default=str(RUN_FILE), help="path of the .npz file to write")
    args = parser.parse_args(argv)
    if not args.output.endswith(".npz"):
        parser.error(f"output must end in .npz, got {args.output!r}")
    run = make_run()
    run.save(args.output)
    print(f"{run} -> {args.output}")


if __name__ == "__main__":
    main()
