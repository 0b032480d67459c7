"""Cold start of the README's first example.

Runs ``pe.find_cycles(pe.systems.gt16(), max_order=16, seed=0)`` in fresh
processes that share one empty, temporary ``NUMBA_CACHE_DIR``:

1. cold: empty cache, so every kernel the example needs is compiled;
2. warm cache: a new process loads the kernels the first one cached;
3. the second call inside each process (everything compiled and loaded).

Compile speed varies between hosts (and on shared virtual machines from one
minute to the next) by up to 2x, so a fresh process beside each cold run
compiles a fixed reference function (plain loops and one ``np.linalg.solve``,
numba only, not cached), and the cold figure is printed as a ratio to it too.

Run: ``python benchmarks/bench_cold_start.py [--repeats N]``. Single-threaded
BLAS (the compile itself is single-threaded); medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import plrnn_explorer as pe
t1 = time.perf_counter()
cs = pe.find_cycles(pe.systems.gt16(), max_order=16, seed=0)
t2 = time.perf_counter()
pe.find_cycles(pe.systems.gt16(), max_order=16, seed=0)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2, "n_cycles": len(cs)}))
"""

REFERENCE = r"""
import json, time
import numpy as np
from numba import njit

@njit
def reference(a, b):            # a fixed yardstick of the host's compile speed
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            s += a[i, j] * b[j]
    return np.linalg.solve(a, b) * s

t0 = time.perf_counter()
reference(np.eye(2), np.ones(2))
print(json.dumps({"reference": time.perf_counter() - t0}))
"""


def run(cache_dir: str, script: str = SCRIPT) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"cold (empty cache)": [], "warm cache (new process)": []}
    reference = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache_dir:
            reference.append(run(cache_dir, REFERENCE)["reference"])
            for out in runs.values():
                out.append(run(cache_dir))
    for label, rs in runs.items():
        med = {key: statistics.median(r[key] for r in rs) for key in ("import", "first", "second")}
        print(f"{label:26s} import {med['import']:4.1f} s   first call {med['first']:5.1f} s   second call "
              f"{med['second']:4.2f} s   ({rs[0]['n_cycles']} cycles; median of {len(rs)})")
    ratio = statistics.median(r["first"] / ref for r, ref in zip(runs["cold (empty cache)"], reference))
    print(f"reference compile (fresh process, numba only): {statistics.median(reference):.2f} s; "
          f"cold first call = {ratio:.2f} x the reference (host-independent figure)")


if __name__ == "__main__":
    main()
