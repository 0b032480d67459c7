"""Regenerate ``08_flip_run.npz``, the training run analysed in notebook 08.

A 3-D PLRNN that starts with a stable fixed point is trained by BPTT (Adam,
lr 0.01, windows of 50 steps, 150 epochs, a checkpoint every epoch) on the
stable 2-cycle of the skew tent map x' = 0.2 x + 1 (x <= 0), -1.5 x + 1
(x > 0), observed as its first unit. To learn the alternating signal the
fixed point has to lose stability in a flip. Training is deterministic for a
seed on one machine, but its last bits depend on the BLAS kernel, CPU and
thread count; notebook 08 analyses the run saved here so that its checked
outputs are the same everywhere.

Usage::

    python notebooks/data/make_08_run.py            # overwrite the shipped file
    python notebooks/data/make_08_run.py out.npz    # write elsewhere

Examples
--------
>>> data = period_two_data()
>>> data[:4, 0].round(3).tolist()
[-0.385, 0.923, -0.385, 0.923]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import plrnn_explorer as pe

#: default output, next to this script
RUN_FILE = Path(__file__).with_name("08_flip_run.npz")


def period_two_data() -> np.ndarray:
    """(200, 1) observations: the skew tent map (a_l = 0.2, a_r = -1.5, mu = 1) on its stable 2-cycle."""
    truth = pe.systems.skew_tent(0.2, -1.5, 1.0)
    return pe.systems.simulate_data(truth, 200, z0=[0.3], burn_in=100)


def initial_model() -> pe.PLRNN:
    """The seeded random initial 3-D PLRNN (it has a single, stable fixed point)."""
    rng = np.random.default_rng(0)
    return pe.PLRNN(rng.uniform(0.2, 0.6, 3), rng.normal(0.0, 0.3, (3, 3)), rng.normal(0.3, 0.2, 3))


def make_run() -> pe.TrainingRun:
    """Train the run of notebook 08 (a few seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pe.train(initial_model(), period_two_data(), 150, lr=0.01, seq_len=50, checkpoint_every=1, seed=0)


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
