"""``train``: gradient-descent training with exact BPTT and teacher forcing."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .._progress import Progress, ProgressArg
from .._slices import is_interrupt
from .._validation import as_float, as_int, as_seed, check_limit
from ..models import Model
from .objective import Objective
from .optim import make_optimizer
from .run import TrainingRun

__all__ = ["train"]


def _look_ahead(obj: Objective, layout: Any, p: np.ndarray, p_new: np.ndarray, starts: np.ndarray,
                value: float, lookahead: int) -> np.ndarray:
    """Halve the step ``p_new - p`` (at most 5 times) while the loss ``lookahead`` steps ahead jumps by > 10 %."""
    step = p_new - p
    for _ in range(5):
        ahead, _ = obj.canonical(layout.theta_of(p + lookahead * step), starts)
        if np.isfinite(ahead) and ahead <= 1.1 * value:
            break
        step = 0.5 * step
    return p + step


def train(model: Model, data: Any, n_epochs: int, *, method: str = "bptt", alpha: float | None = None,
          tau: int | None = None, seq_len: int | None = None, lr: float = 1e-3, batch_size: int = 1,
          steps_per_epoch: int | None = None, optimizer: str = "adam", loss: str = "mse",
          clip_grad_norm: float | None = None, checkpoint_every: int = 1,
          params: Sequence[str] | None = None, seed: int | np.random.Generator | None = None,
          progress: ProgressArg = False,
          lookahead: int | None = None, state_clip: float | None = None) -> TrainingRun:
    """Train a model on observed data with BPTT, sparse or generalized teacher forcing.

    The loss, the forcing schemes and the exact gradient are defined in
    :mod:`plrnn_explorer.training.objective` (observations are the first N
    latent units; the first state of every window comes from the inverted
    observation model). Each step draws ``batch_size`` windows of ``seq_len``
    steps with uniformly random starts (seeded), computes the mean loss and its
    exact gradient, optionally rescales the gradient to norm ``clip_grad_norm``
    and updates the parameters with Adam (or plain gradient descent).

    Parameters
    ----------
    model
        Initial PLRNN, ShallowPLRNN, ClippedShallowPLRNN or ALRNN (not modified).
    data
        (T, N) observations, N <= M (1-D means N = 1); finite.
    n_epochs
        Number of epochs, each ``steps_per_epoch`` parameter updates.
    method, alpha, tau
        ``"bptt"``; ``"stf"`` with forcing interval ``tau >= 1``; ``"gtf"`` with
        ``alpha`` in [0, 1].
    seq_len
        Window length (default: the whole data).
    lr
        Learning rate, > 0.
    batch_size
        Windows per update.
    steps_per_epoch
        Updates per epoch (default: enough batches to cover the data once,
        at least 1).
    optimizer
        ``"adam"`` or ``"sgd"``.
    loss
        ``"mse"`` or ``"mae"``.
    clip_grad_norm
        If given, gradients with a larger norm are rescaled to this norm.
    checkpoint_every
        Keep a checkpoint every this many epochs (plus the initial and final models).
        Training only records the parameters; the checkpoint models and their
        full-data losses and gradient norms are computed once training ends
        (in parallel over checkpoints), each costing one loss and gradient on
        the whole data.
    params
        Names of the parameters to train (default: all); the others stay fixed.
    seed
        Seed of the window sampling: None, a non-negative int or a
        ``numpy.random.Generator`` (one 63-bit int is drawn from it; the int
        is recorded in ``run.settings["seed"]``).
    progress
        True for a tqdm progress bar, False or None for none, or a callable
        ``progress(done, total)`` called as work completes (e.g. a widget's
        progress bar); here after every epoch with ``(epochs_done, n_epochs)``.
    lookahead
        Look-ahead step control (our definition of the "look-ahead" of the
        paper's Fig. S12, whose mechanism the paper does not document): for
        every update ``step`` proposed by the optimizer, the loss of the same
        windows is evaluated ``lookahead`` steps further along it, at
        ``p + lookahead * step``; while it exceeds the current loss by more
        than 10 % (a loss jump ahead), the step is halved (at most 5 times).
        None (default) or 0: no look-ahead.
    state_clip
        Clip predicted latent states to ``[-state_clip, state_clip]`` (see
        :mod:`plrnn_explorer.training.objective`); ``None``: no clipping.

    Returns
    -------
    TrainingRun
        See :mod:`plrnn_explorer.training.run` for how epochs, losses and
        checkpoints align. A KeyboardInterrupt stops training and returns what
        was done (``run.status == "interrupted"``). A non-finite loss or
        gradient stops training with a RuntimeWarning
        (``run.status == "diverged"``, ``run.message`` says when and why); the
        checkpoints up to then are kept.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> truth = pe.PLRNN([0.5, 0.3], [[0, -0.4], [0.6, 0]], [0.5, -0.2])
    >>> data = truth.simulate([1.0, 0.0], 50)
    >>> run = pe.train(truth.replace(h=[0.0, 0.0]), data, 200, lr=0.02, seed=0,
    ...                params=["h"], checkpoint_every=50)
    >>> run.epochs.tolist()
    [0, 50, 100, 150, 200]
    >>> bool(run.losses[-1] < 1e-3 * run.losses[0])
    True
    """
    n_epochs = as_int("n_epochs", n_epochs, minimum=1)
    lr = as_float("lr", lr, minimum=0.0, strict_minimum=True)
    batch_size = as_int("batch_size", batch_size, minimum=1)
    checkpoint_every = as_int("checkpoint_every", checkpoint_every, minimum=1)
    if clip_grad_norm is not None:
        clip_grad_norm = as_float("clip_grad_norm", clip_grad_norm, minimum=0.0, strict_minimum=True)
    seed = as_seed(seed)
    lookahead = 0 if lookahead is None else as_int("lookahead", lookahead, minimum=0)
    obj = Objective.create(model, data, method=method, alpha=alpha, tau=tau, seq_len=seq_len,
                           loss=loss, params=params, state_clip=state_clip)
    opt = make_optimizer(optimizer, lr)
    T, L = obj.data.shape[0], obj.seq_len
    if steps_per_epoch is None:
        steps_per_epoch = max(1, (T // L) // batch_size)
    steps_per_epoch = as_int("steps_per_epoch", steps_per_epoch, minimum=1)
    check_limit("memory of one batch (batch_size * seq_len * (M + G) * 24 bytes)",
                24.0 * batch_size * L * (obj.layout.M + obj.layout.G) / 2**30, "max_memory_gib", " GiB")
    settings = {"method": method, "alpha": alpha, "tau": tau, "seq_len": L, "lr": lr,
                "batch_size": batch_size, "steps_per_epoch": steps_per_epoch, "optimizer": optimizer,
                "loss": loss, "clip_grad_norm": clip_grad_norm, "checkpoint_every": checkpoint_every,
                "params": list(obj.layout.names), "seed": seed, "n_epochs": n_epochs}
    # options off by default are recorded only when used, so runs saved before they existed compare equal
    if state_clip is not None:
        settings["state_clip"] = state_clip
    if lookahead:
        settings["lookahead"] = lookahead

    layout = obj.layout
    rng = np.random.default_rng(seed)
    p = layout.flat(model)
    ck_params: list[np.ndarray] = []
    ck_epochs: list[int] = []
    ep_losses: list[float] = []
    ep_norms: list[float] = []

    def checkpoint(epoch: int) -> None:
        # only the parameters here: models and full-data losses are made once, after training
        ck_params.append(p.copy())
        ck_epochs.append(epoch)

    bar = Progress(progress, n_epochs, "training", "epoch")
    status, message = "completed", ""
    checkpoint(0)
    epoch = 0
    try:
        while epoch < n_epochs:
            losses, norms = [], []
            for _ in range(steps_per_epoch):
                starts = rng.integers(0, T - L + 1, size=batch_size)
                value, g_c = obj.canonical(layout.theta_of(p), starts)
                g = layout.param_grad(g_c)
                norm = float(np.linalg.norm(g))
                if not (np.isfinite(value) and np.isfinite(norm)):
                    raise FloatingPointError(f"the loss became {value} at epoch {epoch + 1}; "
                                             "the model's trajectory diverged (try a smaller lr, "
                                             "clip_grad_norm or teacher forcing)")
                if clip_grad_norm is not None and norm > clip_grad_norm:
                    g = g * (clip_grad_norm / norm)
                p_new = opt.step(p, g)
                if lookahead:
                    p_new = _look_ahead(obj, layout, p, p_new, starts, value, lookahead)
                if not np.all(np.isfinite(p_new)):
                    raise FloatingPointError(f"the parameters became non-finite at epoch {epoch + 1}")
                p = p_new
                losses.append(value)
                norms.append(norm)
            epoch += 1
            ep_losses.append(float(np.mean(losses)))
            ep_norms.append(float(np.mean(norms)))
            if epoch % checkpoint_every == 0 or epoch == n_epochs:
                checkpoint(epoch)
            bar(epoch, n_epochs, loss=f"{ep_losses[-1]:.4g}")
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        status, message = "interrupted", f"interrupted by the user after {epoch} epochs"
    except FloatingPointError as exc:
        status, message = "diverged", f"training stopped: {exc}"
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    finally:
        bar.close()
    if status != "completed" and ck_epochs[-1] != epoch:
        checkpoint(epoch)  # p holds the last finite parameters
    checkpoints = [layout.model_from(q) for q in ck_params]
    try:
        ck_losses, ck_norms = obj.checkpoint_stats(checkpoints)
    except (KeyboardInterrupt, SystemError) as exc:  # the trained checkpoints are kept; only their full-data losses are missing
        if not is_interrupt(exc):
            raise
        ck_losses = ck_norms = np.full(len(checkpoints), np.nan)
        status = "interrupted"
        message = ((message + "; ") if message else "") + "interrupted while evaluating the checkpoints' losses"
    return TrainingRun(checkpoints=checkpoints, epochs=np.asarray(ck_epochs, dtype=np.int64),
                       losses=np.asarray(ck_losses), grad_norms=np.asarray(ck_norms),
                       epoch_losses=np.asarray(ep_losses), epoch_grad_norms=np.asarray(ep_norms),
                       settings=settings, status=status, message=message)
