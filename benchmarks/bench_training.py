"""Benchmark: numba BPTT vs a plain-NumPy reference, the Fig. 3 landscape and training.

Run: ``python benchmarks/bench_training.py``. Prints a markdown table of
median wall times (after JIT warm-up) and speed-ups, then training rates with
and without per-epoch checkpoints, the scalar-vs-BLAS crossover of the batch
kernels and, if torch is installed, a batch-16 training step side by side with
the same loop in PyTorch (CPU, float64, one thread each).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads BLAS: one thread, like torch below

import sys
import time

import numba
import numpy as np

import plrnn_explorer as pe
from plrnn_explorer.training import _bptt
from plrnn_explorer.training.objective import Objective

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from naive_bptt import naive_loss_grad  # the same oracle the tests use


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
        t_new = median_time(lambda m=model: _layout.ParamLayout(m), repeat=3)
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


def _trainable(M, H, seed=0):
    """A shallow model with W1 scaled by 1/sqrt(H), so its free runs stay bounded at every size."""
    rng = np.random.default_rng(seed)
    return pe.ShallowPLRNN(rng.uniform(0.3, 0.9, M), rng.normal(0, 0.3 / np.sqrt(H), (M, H)),
                           rng.normal(0, 0.3, (H, M)), rng.normal(0, 0.1, M), rng.normal(0, 0.5, H))


def _waves(T, N):
    t = np.arange(T) * 0.05
    return np.stack([np.sin((1 + 0.3 * n) * t + n) for n in range(N)], axis=1)


GTF = {"method": "gtf", "alpha": 0.1, "seq_len": 100, "batch_size": 16, "lr": 1e-3, "seed": 0}


def checkpoint_rows():
    """Training rate with per-epoch checkpoints (the default), before and after they were deferred.

    "before" emulates the previous loop: the run without intermediate checkpoints plus, per
    epoch, building the checkpoint model and evaluating its full-data loss and gradient serially
    (what the loop did); "now" is ``pe.train`` with ``checkpoint_every=1``.
    """
    rows = ["", ("| training, shPLRNN, GTF, batch 16, seq 100, T = 1601 (1 step/epoch), 200 epochs "
                 "| before: checkpoint_every=1 | now: checkpoint_every=1 | no intermediate checkpoints |"),
            "|---|---|---|---|"]
    data = _waves(1601, 2)
    n = 200
    for M, H in ((3, 50), (10, 100)):
        model = _trainable(M, H)
        obj = Objective.create(model, data, **{k: GTF[k] for k in ("method", "alpha", "seq_len")})
        p = obj.layout.flat(model)
        t_now = median_time(lambda m=model: pe.train(m, data, n, checkpoint_every=1, **GTF), repeat=3)
        t_bare = median_time(lambda m=model: pe.train(m, data, n, checkpoint_every=10 * n, **GTF), repeat=3)
        t_ck = median_time(lambda o=obj, q=p: [o.evaluate(o.layout.model_from(q)) for _ in range(n)], repeat=3)
        rows.append(f"| M = {M}, H = {H} | {n / (t_bare + t_ck):.0f} epochs/s | {n / t_now:.0f} epochs/s | "
                    f"{n / t_bare:.0f} epochs/s |")
    return rows


def crossover_rows():
    """Scalar numba kernel vs the BLAS batch path (L = 100, GTF); Objective.batched picks one."""
    rows = ["", "| batch loss+gradient, L = 100 | scalar kernel | BLAS batch | BLAS speed-up | chosen |",
            "|---|---|---|---|---|"]
    rng = np.random.default_rng(0)
    data = _waves(2000, 2)
    for M, G in ((10, 100), (20, 500), (50, 500), (20, 1000), (50, 2000)):
        model = _trainable(M, G)
        obj = Objective.create(model, data, method="gtf", alpha=0.1, seq_len=100)
        theta = obj.layout.theta(model)
        for B in (1, 16):
            starts = rng.integers(0, 1900, B)
            g = np.zeros_like(theta)
            args = (theta, M, G, data, starts, 100, 0.1, 0, np.inf, 0, True, g)
            t_s = median_time(lambda a=args: _bptt.batch_loss_grad(*a), repeat=3)
            t_b = median_time(lambda a=args: _bptt.batch_loss_grad_blas(*a), repeat=3)
            rows.append(f"| M = {M}, G = {G}, B = {B} | {t_s * 1e3:.2f} ms | {t_b * 1e3:.2f} ms | "
                        f"{t_s / t_b:.2f}x | {'BLAS' if obj.batched(B) else 'scalar'} |")
    return rows


def _torch_step_time(model, data, steps):
    """Seconds per step of the same GTF/MSE/Adam loop in PyTorch (float64, autograd)."""
    import torch

    torch.set_num_threads(1)
    p = {k: torch.tensor(np.asarray(v, float), requires_grad=True) for k, v in model._params.items()}
    opt = torch.optim.Adam(list(p.values()), lr=GTF["lr"])
    x = torch.tensor(data)
    L, B, N, alpha = GTF["seq_len"], GTF["batch_size"], data.shape[1], GTF["alpha"]
    rng = np.random.default_rng(0)

    def step():  # draws its windows like pe.train with seed 0, so the first loss must match
        starts = torch.tensor(rng.integers(0, data.shape[0] - L + 1, B))
        X = x[starts[:, None] + torch.arange(L)]  # (B, L, N)
        z = torch.zeros(B, model.dim, dtype=torch.float64)
        z = torch.cat([X[:, 0], z[:, N:]], dim=1)
        loss = 0.0
        for t in range(1, L):
            z = p["A"] * z + torch.relu(z @ p["W2"].T + p["h2"]) @ p["W1"].T + p["h1"]
            loss = loss + ((z[:, :N] - X[:, t]) ** 2).sum()
            z = torch.cat([(1 - alpha) * z[:, :N] + alpha * X[:, t], z[:, N:]], dim=1)
        loss = loss / (B * (L - 1) * N)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss.detach())

    first = step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps, first


def _train_step_time(model, data, steps):
    """Seconds per step of pe.train, without its set-up and its initial and final checkpoints.

    The difference of a run with 2 * steps steps and one with steps steps; median of 3.
    """
    def run(n):
        t = time.perf_counter()
        pe.train(model, data, 1, steps_per_epoch=n, **GTF)
        return time.perf_counter() - t

    return float(np.median([(run(2 * steps) - run(steps)) / steps for _ in range(3)]))


def torch_rows():
    """One batch-16 training step at (50, 2000): pe.train against the same loop in PyTorch."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return ["", "(torch not installed: side-by-side comparison skipped)"]
    rows = ["", ("| training step, shPLRNN, GTF, Adam, batch 16, seq 100 | plrnn_explorer | PyTorch CPU "
                 "| speed-up |"), "|---|---|---|---|"]
    data = _waves(1700, 2)
    for M, H, steps in ((3, 50, 200), (10, 100, 100), (50, 2000, 10)):
        model = _trainable(M, H)
        first = pe.train(model, data, 1, steps_per_epoch=1, **GTF).epoch_losses[0]
        t_pe = _train_step_time(model, data, steps)
        t_torch, first_torch = _torch_step_time(model, data, max(5, steps // 10))
        assert abs(first_torch - first) <= 1e-9 * abs(first), (first_torch, first)  # the same loss
        rows.append(f"| M = {M}, H = {H} | {t_pe * 1e3:.2f} ms | {t_torch * 1e3:.2f} ms | {t_torch / t_pe:.1f}x |")
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
    rows += checkpoint_rows() + crossover_rows() + torch_rows()
    print(f"numba threads: {numba.get_num_threads()}, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
