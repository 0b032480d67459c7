"""Compile and cache plrnn_explorer's numba kernels at image build time.

Run by ``binder/postBuild``. Every kernel is ``@njit(cache=True)``, so the
machine code written here is reused by the notebooks' first calls; without it
the first cell that searches cycles waits for the compiler.
"""

import numpy as np

import plrnn_explorer as pe
from plrnn_explorer import widgets  # noqa: F401  (imports the panels and their plotting code)

gt16 = pe.systems.gt16()
pe.find_cycles(gt16, 3, seed=0)                                # exhaustive path (small orders)
pe.find_cycles(gt16, orders=[16], seed=0, strategy="scyfi")    # the randomised search
pe.exhaustive_cycles(gt16, 2)
pe.find_cycles(pe.ShallowPLRNN([0.5], [[1.0, -1.0]], [[1.0], [-1.0]], [1.0], [0.0, 0.0]), 2, seed=0)  # region pool
pe.sweep(pe.systems.skew_tent(0.2, 0.0, 1.0), "W[0,0]", np.linspace(-2.0, 0.5, 6), 2, seed=0)
pe.bifurcation_map(gt16, ("A[0,0]", [0.8, 0.85]), ("A[1,1]", [0.9, 0.95]), 2, seed=0)
pe.basins(gt16, pe.find_cycles(gt16, 16, seed=0), (-1.0, 3.0), (-1.0, 1.0), n=8)
pe.systems.simulate_data(gt16, 10, seed=0)
pe.train(gt16, pe.systems.simulate_data(gt16, 40, seed=0), 2, seq_len=20, seed=0)
print("numba cache warmed")
