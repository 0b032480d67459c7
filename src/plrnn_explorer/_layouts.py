"""Parameter layouts of foreign RNN files, and their exact conversion to this package's models.

A *layout* names the arrays a file stores for one kind of model and how they
make up the map. Loaders (PyTorch state dicts, Julia BSON/JLD2 checkpoints)
collect ``{role: array}`` and call :func:`build`. Every array a loader finds
must be used or explicitly ignored, so that nothing that shapes the map is
dropped silently.

The dendritic PLRNN of the Durstewitz lab,

    z' = A z + W phi(z) + h,   phi(z)_i = sum_b alpha_b relu(z_i + s theta_ib),

(``s = +1`` in the lab's PyTorch code, whose ``thetas`` enter as ``+theta``;
``s = -1`` in its Julia code, whose ``H`` enters as ``-H``) is exactly a
:class:`~plrnn_explorer.ShallowPLRNN` with ``H = M B`` hidden units: unit
``g = i B + b`` has ``W2[g] = e_i``, ``h2[g] = s theta_ib`` and
``W1[:, g] = alpha_b W[:, i]``. The clipped variant (``relu(z_i + s theta_ib) -
relu(z_i)``) is the same :class:`~plrnn_explorer.ClippedShallowPLRNN`. With
mean centering (``relu`` applied to ``z - mean(z)``) the rows ``e_i`` become
rows of ``I - 1 1^T / M``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import as_int
from .canonical_model import CanonicalPLRNN
from .models import ALRNN, PLRNN, ClippedShallowPLRNN, Model, ShallowPLRNN

__all__ = ["LAYOUTS", "build", "split_AW", "check_layout"]

#: layout name -> roles it needs (an ``"A|W"`` role may also come as one ``AW`` matrix)
LAYOUTS: dict[str, tuple[str, ...]] = {
    "PLRNN": ("A", "W", "h"),
    "ALRNN": ("A", "W", "h"),
    "ShallowPLRNN": ("A", "W1", "W2", "h1", "h2"),
    "ClippedShallowPLRNN": ("A", "W1", "W2", "h1", "h2"),
    "dendPLRNN": ("A", "W", "h", "alphas", "thetas"),
    "ClippedDendPLRNN": ("A", "W", "h", "alphas", "thetas"),
    "CanonicalPLRNN": ("A", "W_out", "W_in", "b_in", "h"),
}


def check_layout(layout: Any) -> str:
    """Return the layout name, or raise ``ValueError`` listing the known ones."""
    if isinstance(layout, type) and issubclass(layout, Model):
        layout = layout.__name__
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise ValueError(f"model_type must be one of {sorted(LAYOUTS)} (name or model class), got {layout!r}")
    return layout


def split_AW(aw: np.ndarray, key: str) -> tuple[np.ndarray, np.ndarray]:
    """``A`` (diagonal) and ``W`` (off-diagonal) of the lab's square ``AW`` matrix."""
    if aw.ndim != 2 or aw.shape[0] != aw.shape[1]:
        raise ValueError(f"{key!r} (the 'AW' matrix) must be square, got shape {aw.shape}")
    A = np.diag(aw).copy()
    return A, aw - np.diag(A)


def _diag_if_diagonal(a: np.ndarray) -> np.ndarray:
    if a.ndim == 2 and a.shape[0] == a.shape[1] and np.array_equal(a, np.diag(np.diag(a))):
        return np.diag(a).copy()
    return a


def _gate_rows(M: int, mean_centering: bool) -> np.ndarray:
    """Rows that feed the ReLUs: the identity, or the mean-centering matrix ``I - 1 1^T / M``."""
    return np.eye(M) - (np.full((M, M), 1.0 / M) if mean_centering else 0.0)


def build(layout: str, arrays: dict[str, np.ndarray], *, n_relu: Any = None, mean_centering: bool = False,
          threshold_sign: int = 1) -> tuple[Model, dict[str, Any]]:
    """Build the model of ``layout`` from its role arrays; also return layout metadata.

    Examples
    --------
    >>> import numpy as np
    >>> m, info = build("dendPLRNN", {"A": np.array([0.5]), "W": np.array([[0.0]]), "h": np.array([0.1]),
    ...                                "alphas": np.array([1.0, -2.0]), "thetas": np.array([[0.0, -1.0]])})
    >>> type(m).__name__, m.hidden_dim, m.h2.tolist(), info["bases"]["alphas"].tolist()
    ('ShallowPLRNN', 2, [0.0, -1.0], [1.0, -2.0])
    """
    if not isinstance(mean_centering, (bool, np.bool_)):
        raise TypeError(f"mean_centering must be True or False, got {mean_centering!r}")
    a = dict(arrays)
    info: dict[str, Any] = {"layout": layout, "mean_centering": bool(mean_centering)}
    if "A" in a:
        a["A"] = _diag_if_diagonal(a["A"])
    if layout != "ALRNN" and n_relu is not None:
        raise ValueError(f"n_relu applies to ALRNN only, not to {layout}")
    if mean_centering and layout not in ("PLRNN", "dendPLRNN", "ClippedDendPLRNN"):
        raise ValueError(f"mean_centering applies to PLRNN and the dendritic PLRNNs, not to {layout}")
    if layout == "PLRNN":
        if mean_centering:
            M = a["h"].shape[0]
            W = np.diag(a["W"]) if a["W"].ndim == 1 else a["W"]
            return ShallowPLRNN(a["A"], W, _gate_rows(M, True), a["h"], np.zeros(M)), info
        return PLRNN(a["A"], a["W"], a["h"]), info
    if layout == "ALRNN":
        if n_relu is None:
            raise ValueError("ALRNN needs n_relu=P, the number of ReLU units (the last P of the M units); "
                             "state dicts do not store it (the lab's AL_RNN keeps it as the attribute P)")
        return ALRNN(a["A"], a["W"], a["h"], n_relu=as_int("n_relu", n_relu, minimum=0)), info
    if layout == "ShallowPLRNN":
        return ShallowPLRNN(a["A"], a["W1"], a["W2"], a["h1"], a["h2"]), info
    if layout == "ClippedShallowPLRNN":
        return ClippedShallowPLRNN(a["A"], a["W1"], a["W2"], a["h1"], a["h2"]), info
    if layout == "CanonicalPLRNN":
        return CanonicalPLRNN(a["A"], a["W_out"], a["W_in"], a["b_in"], a["h"]), info
    # dendritic PLRNNs
    W, h, alphas, thetas = a["W"], a["h"], a["alphas"].ravel(), a["thetas"]
    M = h.shape[0]
    W = np.diag(W) if W.ndim == 1 else W
    if W.shape != (M, M):
        raise ValueError(f"W must have shape (M, M) = ({M}, {M}), got {W.shape}")
    if thetas.ndim != 2 or thetas.shape[0] != M:
        raise ValueError(f"thetas must have shape (M, B) with M = {M}, got {thetas.shape}")
    B = thetas.shape[1]
    if alphas.shape != (B,):
        raise ValueError(f"alphas must have shape (B,) with B = {B} (columns of thetas), got {alphas.shape}")
    if threshold_sign not in (1, -1):
        raise ValueError(f"threshold_sign must be +1 or -1, got {threshold_sign!r}")
    W2 = np.repeat(_gate_rows(M, mean_centering), B, axis=0)          # row i*B + b
    h2 = threshold_sign * thetas.reshape(M * B)                          # theta[i, b] at i*B + b
    W1 = (W[:, :, None] * alphas[None, None, :]).reshape(M, M * B)       # alpha_b W[:, i] at i*B + b
    cls = ClippedShallowPLRNN if layout == "ClippedDendPLRNN" else ShallowPLRNN
    info["bases"] = {"A": a["A"], "W": W, "h": h, "alphas": alphas, "thetas": thetas,
                     "threshold_sign": threshold_sign, "hidden_unit": "g = i * B + b"}
    return cls(a["A"], W1, W2, h, h2), info
