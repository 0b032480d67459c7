"""The result of :func:`plrnn_explorer.train`: checkpoints, losses, gradient norms.

Alignment
---------
``run.checkpoints[i]`` is the model after ``run.epochs[i]`` completed epochs
(``run.epochs[0] == 0`` is the initial model). ``run.losses[i]`` and
``run.grad_norms[i]`` are the loss of ``run.checkpoints[i]`` and the norm of
its gradient (w.r.t. the trained parameters), evaluated deterministically on
the whole data cut into consecutive ``seq_len`` windows with the training's
forcing method. So the three sequences can be passed together to
``pe.analyze_training(run.checkpoints, ..., losses=run.losses, epochs=run.epochs)``.

``run.epoch_losses[e]`` and ``run.epoch_grad_norms[e]`` (length = number of
completed epochs) are the mean mini-batch loss and gradient norm seen during
epoch ``e + 1``, each evaluated before its parameter update: the noisy
training curve.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path, atomic_write_text, json_dumps_strict, json_restore
from ..models import MODEL_TYPES, Model

__all__ = ["TrainingRun"]

_FORMAT = "plrnn_explorer.training_run"


def _path(path: Any) -> Path:
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    p = Path(path)
    if p.suffix.lower() not in (".json", ".npz"):
        raise ValueError(f"path must end in .json or .npz, got {str(p)!r}")
    return p


@dataclass
class TrainingRun:
    """Checkpoints and loss history of one training run (see the module docstring for alignment).

    Attributes
    ----------
    checkpoints : list of Model
        Plain model objects, ``checkpoints[0]`` the initial model.
    epochs : ndarray of int
        Epoch of each checkpoint.
    losses, grad_norms : ndarray
        Full-data loss and gradient norm of each checkpoint.
    epoch_losses, epoch_grad_norms : ndarray
        Mean mini-batch loss / gradient norm of every completed epoch.
    settings : dict
        The arguments of :func:`~plrnn_explorer.train` (JSON-ready).
    status : str
        ``"completed"``, ``"interrupted"`` (KeyboardInterrupt) or ``"diverged"``.
    message : str
        Human-readable reason when the run stopped early.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> truth = pe.PLRNN([0.5], [[0.0]], [0.5])
    >>> run = pe.train(truth.replace(h=[0.0]), truth.simulate([0.0], 20), 4, lr=0.05, seed=0,
    ...                params=["h"], checkpoint_every=2)
    >>> run.status, run.epochs.tolist(), len(run), run.epoch_losses.shape
    ('completed', [0, 2, 4], 3, (4,))
    >>> run.model is run.checkpoints[-1], bool(run.losses[-1] < run.losses[0])
    (True, True)
    >>> run.settings["optimizer"], run.settings["params"]
    ('adam', ['h'])
    """

    checkpoints: list[Model]
    epochs: np.ndarray
    losses: np.ndarray
    grad_norms: np.ndarray
    epoch_losses: np.ndarray
    epoch_grad_norms: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)
    status: str = "completed"
    message: str = ""

    @property
    def model(self) -> Model:
        """The last checkpoint."""
        return self.checkpoints[-1]

    def __len__(self) -> int:
        return len(self.checkpoints)

    def __repr__(self) -> str:
        last = f", final loss {self.losses[-1]:.4g}" if len(self.losses) else ""
        return (f"TrainingRun({self.status}, {len(self.epoch_losses)} epochs, "
                f"{len(self.checkpoints)} checkpoints{last})")

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Loss curve with checkpoint losses; see :func:`plrnn_explorer.plotting.training.plot_training`."""
        from ..plotting.training import plot_training

        return plot_training(self, ax=ax, **kwargs)

    def to_xarray(self) -> Any:
        """Labelled ``xarray.Dataset`` of the run (needs xarray).

        Dimension ``epoch`` (1..completed epochs): ``epoch_loss``,
        ``epoch_grad_norm``. Dimension ``checkpoint`` (its coordinate is the
        checkpoint's epoch): ``loss``, ``grad_norm`` and every parameter ``k``
        of the checkpoints as ``param_k`` over (checkpoint, ``k_dim0``, ...).
        Attributes: the settings of :func:`~plrnn_explorer.train` (as JSON in
        ``settings`` and, where not None, one attribute each), status, message,
        model type and fixed settings (JSON), package version and the date
        the dataset was made (UTC).

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> truth = pe.PLRNN([0.5], [[0.0]], [0.5])
        >>> run = pe.train(truth.replace(h=[0.0]), truth.simulate([0.0], 20), 4, lr=0.05, seed=0,
        ...                params=["h"], checkpoint_every=2)
        >>> ds = run.to_xarray()
        >>> ds.checkpoint.values.tolist(), ds.epoch.values.tolist(), ds.param_h.dims
        ([0, 2, 4], [1, 2, 3, 4], ('checkpoint', 'h_dim0'))
        >>> bool((ds.loss.values == run.losses).all()), ds.attrs["seed"], ds.attrs["method"], ds.attrs["status"]
        (True, 0, 'bptt', 'completed')
        """
        import xarray as xr

        from .._labelled import provenance_attrs

        forcing = self.settings.get("method", "bptt")
        data: dict[str, Any] = {
            "epoch_loss": (("epoch",), np.asarray(self.epoch_losses, float), {
                "long_name": "mean mini-batch loss",
                "description": "mean loss of the mini-batches of the epoch, each before its update (noisy curve)"}),
            "epoch_grad_norm": (("epoch",), np.asarray(self.epoch_grad_norms, float), {
                "long_name": "mean mini-batch gradient norm",
                "description": "mean gradient norm of the mini-batches of the epoch, each before its update"}),
            "loss": (("checkpoint",), np.asarray(self.losses, float), {
                "long_name": "checkpoint loss",
                "description": f"full-data loss of the checkpoint ({forcing}, consecutive seq_len windows)"}),
            "grad_norm": (("checkpoint",), np.asarray(self.grad_norms, float), {
                "long_name": "checkpoint gradient norm",
                "description": "norm of the full-data loss gradient w.r.t. the trained parameters"})}
        first = self.checkpoints[0]
        for k in first.param_names:
            stack = np.stack([np.asarray(m._params[k], float) for m in self.checkpoints])
            dims = ("checkpoint",) + tuple(f"{k}_dim{i}" for i in range(stack.ndim - 1))
            data[f"param_{k}"] = (dims, stack, {"long_name": f"parameter {k}",
                                                "description": f"parameter {k} of each checkpoint model"})
        attrs = provenance_attrs(
            "training_run", None, self.settings.get("seed"), None,
            title="training run", description="plrnn_explorer training run: loss history and checkpoints",
            settings=self.settings, status=self.status, message=self.message or None,
            model_type=type(first).__name__, model_settings=dict(first._settings),
            **{k: v for k, v in self.settings.items() if k != "seed" and isinstance(v, (str, int, float))})
        return xr.Dataset(
            data,
            coords={"epoch": ("epoch", np.arange(1, len(self.epoch_losses) + 1), {
                        "long_name": "epoch", "units": "epochs", "description": "completed epoch"}),
                    "checkpoint": ("checkpoint", np.asarray(self.epochs, np.int64), {
                        "long_name": "checkpoint epoch", "units": "epochs",
                        "description": "number of completed epochs when the checkpoint was taken"})},
            attrs=attrs)

    # -- serialization -------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {"format": _FORMAT, "version": 1, "settings": self.settings, "status": self.status,
                "message": self.message}

    def save(self, path: str | PathLike) -> None:
        """Save without pickle, as ``.npz`` (checkpoint parameters stacked) or ``.json``.

        Examples
        --------
        >>> import os, tempfile, numpy as np, plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5], [[0.0]], [1.0])
        >>> run = pe.train(m, m.replace(h=[0.5]).simulate([0.0], 20), 3, lr=0.01, seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "run.npz")
        >>> run.save(path)
        >>> back = pe.TrainingRun.load(path)
        >>> back.checkpoints == run.checkpoints and np.array_equal(back.losses, run.losses)
        True
        """
        p = _path(path)
        arrays = {k: np.asarray(getattr(self, k)) for k in
                  ("epochs", "losses", "grad_norms", "epoch_losses", "epoch_grad_norms")}
        if p.suffix.lower() == ".json":
            doc = {**self._meta(), **{k: v.tolist() for k, v in arrays.items()},
                   "checkpoints": [m.to_dict() for m in self.checkpoints]}
            atomic_write_text(p, json_dumps_strict(doc))
            return
        first = self.checkpoints[0]
        meta = {**self._meta(), "model_type": type(first).__name__, "model_settings": dict(first._settings)}
        stacked = {f"ckpt_{k}": np.stack([m._params[k] for m in self.checkpoints]) for k in first.param_names}
        with atomic_path(p) as tmp:
            np.savez(tmp, __meta__=np.array(json.dumps(meta)), **arrays, **stacked)

    @classmethod
    def load(cls, path: str | PathLike) -> "TrainingRun":
        """Load a run written by :meth:`save`; ValueError if the file is not one."""
        p = _path(path)
        if not p.is_file():
            raise FileNotFoundError(f"training run file {str(p)!r} does not exist")
        try:
            if p.suffix.lower() == ".json":
                with open(p, encoding="utf-8") as f:
                    doc = json_restore(json.load(f))
                cls._check_meta(p, doc)
                checkpoints = [Model.from_dict(d) for d in doc["checkpoints"]]
                arrays = {k: np.asarray(doc[k], dtype=float) for k in
                          ("losses", "grad_norms", "epoch_losses", "epoch_grad_norms")}
                arrays["epochs"] = np.asarray(doc["epochs"], dtype=np.int64)
                meta = doc
            else:
                with np.load(p, allow_pickle=False) as z:
                    if "__meta__" not in z.files:
                        raise ValueError(f"{str(p)!r} is not a plrnn_explorer training run (no '__meta__' entry)")
                    meta = json.loads(str(z["__meta__"]))
                    cls._check_meta(p, meta)
                    mtype = MODEL_TYPES[meta["model_type"]]
                    names = mtype.param_names
                    stacks = [z[f"ckpt_{k}"] for k in names]
                    checkpoints = [mtype(**dict(zip(names, vals)), **meta["model_settings"])
                                   for vals in zip(*stacks)]
                    arrays = {k: z[k] for k in ("epochs", "losses", "grad_norms", "epoch_losses",
                                                "epoch_grad_norms")}
        except (KeyError, json.JSONDecodeError, UnicodeDecodeError, RecursionError, zipfile.BadZipFile, OSError,
                EOFError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise ValueError(f"path {str(p)!r} is not a valid plrnn_explorer training run "
                             f"(as written by TrainingRun.save): {type(exc).__name__}: {exc}") from None
        n = len(checkpoints)
        lengths = {k: len(np.atleast_1d(arrays[k])) for k in ("epochs", "losses", "grad_norms")}
        if n == 0 or any(v != n for v in lengths.values()) or \
                len(np.atleast_1d(arrays["epoch_losses"])) != len(np.atleast_1d(arrays["epoch_grad_norms"])):
            raise ValueError(f"path {str(p)!r} is not a consistent training run: {n} checkpoints but "
                             f"{', '.join(f'{v} {k}' for k, v in lengths.items())} (all must be equal and > 0), "
                             f"{len(np.atleast_1d(arrays['epoch_losses']))} epoch_losses and "
                             f"{len(np.atleast_1d(arrays['epoch_grad_norms']))} epoch_grad_norms (must be equal)")
        return cls(checkpoints=checkpoints, settings=meta.get("settings", {}),
                   status=meta.get("status", "completed"), message=meta.get("message", ""), **arrays)

    @staticmethod
    def _check_meta(p: Path, meta: Any) -> None:
        if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
            raise ValueError(f"{str(p)!r} is not a plrnn_explorer training run (format {_FORMAT!r})")
