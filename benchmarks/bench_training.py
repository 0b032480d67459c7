"""Benchmark: numba BPTT vs a plain-NumPy reference, the Fig. 3 landscape and training.

Run: ``python benchmarks/bench_training.py``. Prints a markdown table of
median wall times (after JIT warm-up) and speed-ups.
"""

from __future__ import annotations

import os
import sys
import time

import numba
import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.training.objective import Objective

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from naive_bptt import naive_loss_grad  # noqa: E402  (the same oracle the tests use)


def median_time(fn, repeat=5):
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def bptt_case(label, model, data, **kw):
    obj = Objective.create(model, data, **kw)
    theta = obj.layout.theta(model)
    starts = np.array([0])
    t_numba = median_time(lambda: obj.canonical(theta, starts))
    t_numpy = median_time(lambda: naive_loss_grad(*model.canonical.arrays, data, alpha=obj.alpha, tau=obj.tau),
                          repeat=3)
    return f"| BPTT loss+gradient, {label} | {t_numpy * 1e3:.2f} ms | {t_numba * 1e3:.3f} ms | {t_numpy / t_numba:.0f}x |"


def main():
    gt = pe.systems.gt16()
    data = gt.simulate([0.5, -1.0], 500)
    rng = np.random.default_rng(0)
    sh = pe.ShallowPLRNN(rng.uniform(0.3, 0.9, 6), rng.normal(0, 0.2, (6, 20)), rng.normal(0, 0.5, (20, 6)),
                         rng.normal(0, 0.1, 6), rng.normal(0, 0.5, 20))
    sh_data = sh.simulate(rng.normal(size=6), 200)[:, :1]
    rows = [
        "| task | plain NumPy | numba | speed-up |",
        "|---|---|---|---|",
        bptt_case("2-D PLRNN, T = 500 (Fig. 3)", gt.replace(A=[0.6, 0.9]), data),
        bptt_case("shPLRNN M = 6, H = 20, T = 200, GTF (Fig. 4)", sh, sh_data, method="gtf", alpha=0.07),
    ]
    xs = np.linspace(-1, 1, 200)
    pe.loss_landscape(gt, data, ("A[0,0]", xs[:3]), ("A[1,1]", xs[:3]), relative=True)  # compile
    t = time.perf_counter()
    pe.loss_landscape(gt, data, ("A[0,0]", xs), ("A[1,1]", xs), relative=True)
    t_land = time.perf_counter() - t
    rows.append(f"| loss landscape 200 x 200, T = 500 (Fig. 3; target < 30 s) | | {t_land:.2f} s | |")
    pe.train(gt.replace(A=[0.6, 0.9]), data, 5)
    t = time.perf_counter()
    pe.train(gt.replace(A=[0.6, 0.9]), data, 3000, lr=1e-3, seed=0, checkpoint_every=5)
    t_train = time.perf_counter() - t
    rows.append(f"| train 3000 epochs, 2-D PLRNN, T = 500 (Fig. 3; target < 60 s) | | {t_train:.2f} s | |")
    print(f"numba threads: {numba.get_num_threads()}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
