"""The long numba kernels release the GIL (``nogil=True``).

Two checks:

* while one thread runs a kernel-bound SCYFI search, a second thread running
  pure Python keeps making progress (with the GIL held it is frozen for the
  whole kernel call). This holds even on a loaded machine.
* two searches in two threads take clearly less wall time than one after the
  other. The issue's target is 0.75x (checked by ``benchmarks/bench_threads.py``);
  the test asserts 0.85x on the best of five repeats, because a shared 2-core
  CI machine cannot reliably give more, and skips when /proc/stat shows other
  processes using the cores.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

import plrnn_explorer as pe


def _search(model) -> pe.CycleSet:
    return pe.find_cycles(model, orders=[3], strategy="scyfi", outer_loop_iterations=8000,
                          inner_loop_iterations=20, seed=0)


@pytest.fixture(scope="module")
def model():
    m = pe.systems.random_plrnn(8, "intermediate", seed=3)
    _search(m)  # compile outside the timings
    return m


def test_python_thread_progresses_while_kernel_runs(model):
    done = threading.Event()
    result = {}

    def worker():
        t0 = time.perf_counter()
        result["cycles"] = _search(model)
        result["seconds"] = time.perf_counter() - t0
        done.set()

    def spin(stop: threading.Event, seconds: float) -> int:
        """Count pure-Python loop iterations until ``stop`` is set or time is up."""
        n = 0
        t_end = time.perf_counter() + seconds
        while not stop.is_set():
            n += 1
            if n % 1024 == 0 and time.perf_counter() > t_end:
                break
        return n

    # calibrate: loop iterations per second with nothing else in this process
    t0 = time.perf_counter()
    rate_alone = spin(threading.Event(), 0.2) / (time.perf_counter() - t0)

    thread = threading.Thread(target=worker)
    t0 = time.perf_counter()
    thread.start()
    count = spin(done, 60.0)
    elapsed = time.perf_counter() - t0
    thread.join()
    assert result["seconds"] > 0.1, "search too short to measure; raise its budget"
    # with the GIL held during the kernel, the loop only runs before and after
    # the call (a few switch intervals); released, it runs for most of it (at
    # least a share of one core on a machine loaded by other processes).
    assert count / (rate_alone * elapsed) > 0.25, (count, rate_alone, elapsed)


def _idle_cores(seconds: float) -> float | None:
    """Idle cores over ``seconds`` from /proc/stat (None where it does not exist)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    try:
        idle0, total0 = sample()
        time.sleep(seconds)
        idle1, total1 = sample()
    except OSError:
        return None
    return (os.cpu_count() or 1) * (idle1 - idle0) / max(total1 - total0, 1)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs 2 cores")
def test_two_threads_run_in_parallel(model):
    # Other processes competing for the cores make any wall-time ratio
    # meaningless (two *processes* then also take ~1x): skip rather than flake.
    idle = _idle_cores(0.5)
    if idle is not None and idle < 1.8:
        pytest.skip(f"machine busy: {idle:.1f} idle cores")
    ratios = []
    for _ in range(5):
        t0 = time.perf_counter()
        _search(model)
        _search(model)
        sequential = time.perf_counter() - t0
        threads = [threading.Thread(target=_search, args=(model,)) for _ in range(2)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ratios.append((time.perf_counter() - t0) / sequential)
    # best of five: other processes only ever slow a run down, so the best
    # ratio is the one least disturbed (with the GIL held every ratio is ~1)
    assert min(ratios) <= 0.85, ratios
