"""Cold start of the README's first example.

Runs ``pe.find_cycles(pe.systems.gt16(), max_order=16, seed=0)`` in fresh
processes that share one empty, temporary ``NUMBA_CACHE_DIR``:

1. cold: empty cache, so every kernel the example needs is compiled;
2. warm cache: a new process loads the kernels the first one cached;
3. the second call inside each process (everything compiled and loaded).

Run: ``python benchmarks/bench_cold_start.py``. Single-threaded BLAS
(the compile itself is single-threaded); figures depend on the machine's load.
"""

from __future__ import annotations

import json
import os
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


def run(cache_dir: str) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory() as cache_dir:
        for label in ("cold (empty cache)", "warm cache (new process)"):
            r = run(cache_dir)
            print(f"{label:26s} import {r['import']:5.1f} s   first call {r['first']:6.1f} s   "
                  f"second call {r['second']:5.2f} s   ({r['n_cycles']} cycles)")


if __name__ == "__main__":
    main()
