"""Compile and cache plrnn_explorer's numba kernels at image build time.

Run by ``binder/postBuild`` with ``NUMBA_CPU_NAME=generic`` (``binder/start``
sets the same at run time): numba keys its cache on the CPU name and
features, and Binder builds the image on one machine and runs it on others,
so machine code compiled for the build host's CPU would be rejected there.
With ``generic`` the key is the same everywhere.

Every kernel is ``@njit(cache=True)``. The calls below exercise each public
entry point the notebooks and the Explorer use, with the argument types they
use, so that their first calls load machine code instead of compiling.
``tests/binder/test_binder.py`` checks that a notebook then compiles nothing.
Prints the number of kernels compiled (first build) or loaded (rebuild).
"""

from __future__ import annotations

import os
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from numba.core import event  # noqa: E402

import plrnn_explorer as pe  # noqa: E402
from plrnn_explorer import widgets  # noqa: E402


class _CompileCounter(event.Listener):
    def __init__(self) -> None:
        self.count = 0

    def on_start(self, ev: event.Event) -> None:
        self.count += 1

    def on_end(self, ev: event.Event) -> None:
        pass


def warm() -> None:
    """One representative call of every public function that runs numba kernels."""
    gt16 = pe.systems.gt16()
    shallow = pe.ShallowPLRNN([0.5, 0.3], [[1.0, -1.0, 0.5], [0.2, 0.4, -1.0]], [[1.0, 0.0], [0.0, -1.0], [1.0, 1.0]],
                              [0.1, -0.2], [0.0, 0.5, -0.5])
    models = [gt16, shallow, pe.ClippedShallowPLRNN(shallow.A, shallow.W1, shallow.W2, shallow.h1, shallow.h2),
              pe.ALRNN([0.5, 0.4, 0.3], np.eye(3) * 0.1, [0.0, 0.1, -0.1], n_relu=2)]
    for m in models:                                                   # Model.step / simulate / jacobian
        z0 = np.zeros(m.dim)
        m.step(z0)
        m.jacobian(z0)
        m.simulate(z0, 10)
        m.simulate(np.zeros((3, m.dim)), 10)
        pe.find_cycles(m, 2, seed=0)                                    # exhaustive path (small orders)
    pe.find_cycles(gt16, orders=[16], seed=0, strategy="scyfi")         # the randomised search
    pe.find_cycles(gt16, 16, seed=0)
    pe.find_cycles(gt16, 8, seed=0, strategy="certified")              # the LP-pruned tree
    pe.exhaustive_cycles(gt16, 3)
    pe.region_pool(shallow, seed=0)
    pe.cycle_from_itinerary(gt16, np.array([[True, True]]))
    pe.systems.random_plrnn(4, seed=0)
    pe.sweep(pe.systems.skew_tent(0.2, 0.0, 1.0), "W[0,0]", np.linspace(-2.0, 0.5, 6), 2, seed=0)
    pe.bifurcation_map(gt16, ("A[0,0]", [0.8, 0.85]), ("A[1,1]", [0.9, 0.95]), 2, seed=0)
    pe.basins(gt16, pe.find_cycles(gt16, 16, seed=0), (-1.0, 3.0), (-1.0, 1.0), n=8)
    data = pe.systems.simulate_data(gt16, 60, seed=0)                   # noisy simulation kernel
    for method, alpha, tau in (("bptt", None, None), ("stf", None, 5), ("gtf", 0.2, None)):
        run = pe.train(gt16, data, 2, method=method, alpha=alpha, tau=tau, seq_len=20, seed=0)
    pe.analyze_training(run.checkpoints, 2, losses=run.losses, epochs=run.epochs)
    pe.loss_landscape(gt16, data, ("A[0,0]", [0.8, 0.9]), ("A[1,1]", [0.9, 0.95]), seq_len=20)
    pe.training.gt16_dtb_demo(n_points=3, n_steps=200)
    pe.io.load_mat_snapshots(pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat"),
                             mapping=pe.io.SCYFI_SPEEDUP_MAPPING)[0].simulate(np.zeros(3), 10)
    explorer = widgets.Explorer(gt16, max_order=4)                     # the panels' own calls
    explorer.model = gt16.set_param("A[0,0]", 0.5)


if __name__ == "__main__":
    if os.environ.get("NUMBA_CPU_NAME") != "generic":
        raise SystemExit("set NUMBA_CPU_NAME=generic (see binder/start), or the cache is tied to this CPU")
    counter = _CompileCounter()
    t0 = time.perf_counter()
    with event.install_listener("numba:compile", counter):
        warm()
    print(f"numba cache warmed: {counter.count} kernels compiled in {time.perf_counter() - t0:.0f} s "
          "(0 when the cache was already warm)")
