"""The training objective: teacher-forced loss and its exact gradient.

Observations are the first ``N`` latent units (``N <= M``), the identity
observation model of the teacher-forcing literature. For a window
``x_1..x_L`` of the data:

* initial state from the inverted observation model: ``z~_1 = (x_1, 0, ..., 0)``;
* predictions ``z_t = F(z~_{t-1})`` for ``t = 2..L`` and loss
  ``L = 1/((L-1) N) sum_t sum_{n<N} l(z_t[n] - x_t[n])`` with ``l(e) = e^2``
  (``loss="mse"``) or ``|e|`` (``loss="mae"``); a batch averages its windows;
* forcing, giving the state ``z~_t`` the next step starts from:

  - ``method="bptt"``: none, ``z~_t = z_t`` (free run from the inverted first point);
  - ``method="stf"`` (sparse teacher forcing, Mikhaeil, Monfared & Durstewitz,
    NeurIPS 2022): ``z~_t[:N] = x_t`` when ``(t - 1) mod tau == 0``, else
    ``z~_t = z_t``; no gradient flows through the replaced units;
  - ``method="gtf"`` (generalized teacher forcing, Doya 1992, "Bifurcations in
    the learning of recurrent neural networks"; Hess, Brenner, Monfared &
    Durstewitz, ICML 2023): ``z~_t[:N] = (1 - alpha) z_t[:N] + alpha x_t`` at
    every step, so the backward pass multiplies those units by ``1 - alpha``.

* state clipping (``state_clip=c``, default ``None`` = off): every unit of
  every prediction is clipped to ``[-c, c]``,
  ``z_t = clip(F(z~_{t-1}), -c, c)``, before the loss and the forcing use it.
  This is how the authors' PyTorch training code keeps the loss of diverging
  free runs bounded (its ``clip_range`` option, default 10): the squared error
  per unit is then at most ``(c + max|x|)^2``. The clip passes no gradient
  where it is active (derivative 0 outside ``[-c, c]``, 1 inside).

The gradient is exact back-propagation through time: products of the
transposed region Jacobians ``J_r = A + W_out diag(r) W_in`` (the ones SCYFI
uses), computed by numba kernels without any autodiff library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .._validation import as_float, as_int, as_real_array
from ..models import Model, check_model
from . import _bptt
from ._layout import ParamLayout

__all__ = ["loss_and_gradient", "check_state_clip", "METHODS", "LOSSES"]

METHODS = ("bptt", "stf", "gtf")
LOSSES = {"mse": _bptt.MSE, "mae": _bptt.MAE}
#: the BLAS batch path is used when M * G reaches BLAS_MIN_MG, or when
#: (number of windows) * M * G reaches BLAS_MIN_BMG (see :meth:`Objective.batched`)
BLAS_MIN_MG = 20_000
BLAS_MIN_BMG = 150_000


def check_data(data: Any, model: Model, name: str = "data") -> np.ndarray:
    """Return ``data`` as a finite (T, N) float array with ``2 <= T`` and ``N <= M``."""
    x = as_real_array(name, data, ndim=(1, 2))
    if x.ndim == 1:
        x = x[:, None]
    T, N = x.shape
    if T < 2:
        raise ValueError(f"{name} must have at least 2 time steps (rows), got {T}")
    if N < 1 or N > model.dim:
        raise ValueError(f"{name} must have shape (T, N) with 1 <= N <= M = {model.dim} observed units "
                         f"(the first N latent states), got N = {N}")
    return np.ascontiguousarray(x)


def check_forcing(method: Any, alpha: Any, tau: Any) -> tuple[float, int]:
    """Validate the forcing arguments; return the kernel's ``(alpha, tau)`` (tau 0 = no STF)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if method != "gtf" and alpha is not None:
        raise ValueError(f"alpha is only used with method='gtf' (got method={method!r})")
    if method != "stf" and tau is not None:
        raise ValueError(f"tau is only used with method='stf' (got method={method!r})")
    if method == "gtf":
        if alpha is None:
            raise ValueError("method='gtf' needs alpha, a number in [0, 1]")
        return as_float("alpha", alpha, minimum=0.0, maximum=1.0), 0
    if method == "stf":
        if tau is None:
            raise ValueError("method='stf' needs tau, the forcing interval (an integer >= 1)")
        return 0.0, as_int("tau", tau, minimum=1)
    return 0.0, 0


def check_state_clip(state_clip: Any) -> float:
    """``None`` means no clipping (the kernels' ``inf``); otherwise a finite number > 0."""
    if state_clip is None:
        return float("inf")
    return as_float("state_clip", state_clip, minimum=0.0, strict_minimum=True)


def check_seq_len(seq_len: Any, T: int) -> int:
    """``None`` means the whole sequence; otherwise an integer in [2, T]."""
    if seq_len is None:
        return T
    return as_int("seq_len", seq_len, minimum=2, maximum=T)


@dataclass(frozen=True)
class Objective:
    """A validated loss definition bound to a model layout and data.

    Build it with :meth:`create`; :meth:`evaluate` returns the loss and the
    gradient of the flat trainable parameters for given window starts.
    """

    layout: ParamLayout
    data: np.ndarray
    seq_len: int
    alpha: float
    tau: int
    loss_kind: int
    clip: float = float("inf")

    @classmethod
    def create(cls, model: Model, data: Any, *, method: str = "bptt", alpha: Any = None, tau: Any = None,
               seq_len: Any = None, loss: str = "mse", params: Sequence[str] | None = None,
               state_clip: Any = None) -> "Objective":
        """Validate all arguments (errors name the offending argument)."""
        check_model(model)
        x = check_data(data, model)
        a, t = check_forcing(method, alpha, tau)
        L = check_seq_len(seq_len, x.shape[0])
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {list(LOSSES)}, got {loss!r}")
        clip = check_state_clip(state_clip)
        return cls(ParamLayout(model, params), x, L, a, t, LOSSES[loss], clip)

    @property
    def eval_starts(self) -> np.ndarray:
        """Starts of the consecutive, non-overlapping windows covering the data."""
        return np.arange(0, self.data.shape[0] - self.seq_len + 1, self.seq_len, dtype=np.int64)

    def batched(self, n_windows: int) -> bool:
        """Whether ``n_windows`` windows are computed together with BLAS products.

        The scalar numba kernel costs about ``B M G`` per step, the BLAS path a fixed
        overhead per step plus a faster ``B M G`` term; crossover measured in
        ``benchmarks/bench_training.py`` (2-core machine, 1 BLAS thread). Small models
        (``M G < 5000``, every figure of the paper) always take the scalar kernel, whose
        results are the same on every machine.
        """
        MG = self.layout.M * self.layout.G
        return MG >= BLAS_MIN_MG or (MG >= 5000 and n_windows * MG >= BLAS_MIN_BMG)

    def canonical(self, theta: np.ndarray, starts: np.ndarray, want_grad: bool = True
                  ) -> tuple[float, np.ndarray]:
        """Mean loss and canonical-vector gradient for the windows at ``starts``."""
        grad = np.zeros_like(theta)
        kernel = _bptt.batch_loss_grad_blas if self.batched(starts.shape[0]) else _bptt.batch_loss_grad
        loss = kernel(theta, self.layout.M, self.layout.G, self.data, starts,
                                     self.seq_len, self.alpha, self.tau, self.clip, self.loss_kind, want_grad,
                                     grad)
        return float(loss), grad

    def checkpoint_stats(self, models: Sequence[Model]) -> tuple[np.ndarray, np.ndarray]:
        """Loss and trainable-parameter gradient norm of each model on :attr:`eval_starts`.

        Equal bit for bit to ``loss, g = evaluate(model)``, ``np.linalg.norm(g)`` model by model
        (NaN norm where the loss is not finite). With the scalar kernel the models are evaluated
        in parallel, in chunks of at most 64 models and 64 MiB of gradients; with the BLAS batch path
        (:meth:`batched`) one after another, all windows at once.
        """
        starts = self.eval_starts
        n = len(models)
        losses = np.empty(n)
        norms = np.empty(n)

        def norm(value: float, g: np.ndarray) -> float:
            return float(np.linalg.norm(self.layout.param_grad(g))) if np.isfinite(value) else np.nan

        if self.batched(starts.shape[0]):
            for i, model in enumerate(models):
                losses[i], g = self.canonical(self.layout.theta(model), starts)
                norms[i] = norm(losses[i], g)
            return losses, norms
        # chunks of at most 64 MiB of gradients and 64 models, so that Ctrl-C is seen between short calls
        chunk = max(1, min(64, 2**23 // self.layout.canonical_size))
        for lo in range(0, n, chunk):
            block = np.array([self.layout.theta(m) for m in models[lo:lo + chunk]], dtype=np.float64)
            values = np.empty(block.shape[0])
            grads = np.empty_like(block)
            _bptt.many_loss_grad(block, self.layout.M, self.layout.G, self.data, starts, self.seq_len,
                                 self.alpha, self.tau, self.clip, self.loss_kind, values, grads)
            for i, (value, g) in enumerate(zip(values, grads)):
                losses[lo + i] = value
                norms[lo + i] = norm(value, g)
        return losses, norms

    def evaluate(self, model: Model, starts: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """Mean loss and flat trainable-parameter gradient (default windows: :attr:`eval_starts`)."""
        starts = self.eval_starts if starts is None else starts
        loss, g = self.canonical(self.layout.theta(model), starts)
        return loss, self.layout.param_grad(g)


def loss_and_gradient(model: Model, data: Any, *, method: str = "bptt", alpha: float | None = None,
                      tau: int | None = None, seq_len: int | None = None, loss: str = "mse",
                      params: Sequence[str] | None = None, state_clip: float | None = None
                      ) -> tuple[float, dict[str, np.ndarray]]:
    """Teacher-forced loss of ``model`` on ``data`` and its exact gradient.

    The data are cut into consecutive windows of ``seq_len`` steps (the
    remainder is dropped); the loss is the mean over windows as defined in the
    module docstring of :mod:`plrnn_explorer.training.objective`.

    Parameters
    ----------
    model
        PLRNN, ShallowPLRNN, ClippedShallowPLRNN or ALRNN.
    data
        (T, N) observations of the first N latent units (a 1-D array means N = 1).
    method, alpha, tau
        ``"bptt"``; ``"stf"`` with interval ``tau >= 1``; or ``"gtf"`` with ``alpha`` in [0, 1].
    seq_len
        Window length (default: the whole sequence).
    loss
        ``"mse"`` or ``"mae"``.
    params
        Parameter names to differentiate (default: all).
    state_clip
        If given (a number > 0), clip every predicted latent state to
        ``[-state_clip, state_clip]`` (the authors' ``clip_range``, 10 in their
        code), which bounds the loss of diverging free runs; ``None``: no clipping.

    Returns
    -------
    loss : float
        NaN or Inf if the forward pass diverged (the gradient is then all zeros).
    grads : dict
        Gradient arrays with the shapes of the model's parameters.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5], [[0.0]], [1.0])
    >>> x = m.simulate([0.0], 5)
    >>> loss, g = pe.training.loss_and_gradient(m, x)
    >>> loss, g["h"]
    (0.0, array([0.]))
    >>> loss, g = pe.training.loss_and_gradient(m.replace(h=[1.5]), x)
    >>> round(loss, 4), g["h"].round(4)
    (0.6143, array([2.457]))

    A diverging model: without clipping the loss grows without bound, with
    ``state_clip`` it stays below ``(state_clip + max|x|)^2``:

    >>> x = m.simulate([0.0], 30)
    >>> far = m.replace(A=[2.0])
    >>> f"{pe.training.loss_and_gradient(far, x)[0]:.3g}"
    '1.33e+16'
    >>> round(pe.training.loss_and_gradient(far, x, state_clip=3.0)[0], 4)
    1.046
    """
    obj = Objective.create(model, data, method=method, alpha=alpha, tau=tau, seq_len=seq_len,
                           loss=loss, params=params, state_clip=state_clip)
    value, g = obj.evaluate(model)
    return value, obj.layout.unflatten(g)
