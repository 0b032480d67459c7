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


def _shallow(M, H, seed=0):
    rng = np.random.default_rng(seed)
    return pe.ShallowPLRNN(rng.uniform(0.3, 0.9, M), rng.normal(0, 0.1, (M, H)), rng.normal(0, 0.3, (H, M)),
                           rng.normal(0, 0.1, M), rng.normal(0, 0.5, H))


def layout_rows():
    """Training set-up: the three-probe chain rule against one probe per parameter entry."""
    from plrnn_explorer.training import _layout

    rows = []
    for M, H in ((10, 100), (20, 1000), (50, 2000)):
        model = _shallow(M, H)
        t_new = median_time(lambda: _layout.ParamLayout(model), repeat=3)
        if M * H <= 20_000:
            zero = {n: np.zeros_like(a) for n, a in model._params.items()}
            base = _layout._canonical_vector(model, zero)
            t = time.perf_counter()
            for n in model.param_names:
                _layout._unit_entries(model, zero, base, n)
            t_old = time.perf_counter() - t
            old, ratio = f"{t_old:.2f} s", f"{t_old / t_new:.0f}x"
        else:
            old, ratio = "(not run: minutes)", ""
        rows.append(f"| training set-up (ParamLayout), shPLRNN M = {M}, H = {H} | {old} | {t_new * 1e3:.1f} ms | {ratio} |")
    model = _shallow(50, 2000)
    data = model.simulate(np.zeros(50), 201)[:, :5]
    pe.training.loss_and_gradient(_shallow(2, 3), _shallow(2, 3).simulate(np.zeros(2), 20)[:, :1])  # compile
    t = time.perf_counter()
    pe.training.loss_and_gradient(model, data)
    rows.append(f"| first loss+gradient, shPLRNN M = 50, H = 2000, T = 200 (target < 2 s) | | "
                f"{time.perf_counter() - t:.2f} s | |")
    return rows


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
    rows += layout_rows()
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
