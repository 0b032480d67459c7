"""Flat parameter vectors and the chain rule from canonical-form gradients to model parameters.

The kernels differentiate with respect to the canonical arrays
``(A, W_out, W_in, b_in, h)``. Every model's canonical form is *linear* in its
parameters (copies, sign flips, stacking, folding linear units into ``A``),
so the gradient of a model parameter entry is a signed sum of canonical
gradient entries. :class:`ParamLayout` stores that sum as sparse triplets
``g_param[rows] += coefs * g_canonical[cols]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from ..models import ALRNN, ClippedShallowPLRNN, Model, PLRNN, ShallowPLRNN

__all__ = ["ParamLayout"]

# a term: (canonical indices with the parameter's shape, coefficient)
_Term = tuple[np.ndarray, float]


def _offsets(M: int, G: int) -> dict[str, int]:
    o = {"A": 0, "W_out": M * M}
    o["W_in"] = o["W_out"] + M * G
    o["b_in"] = o["W_in"] + G * M
    o["h"] = o["b_in"] + G
    o["size"] = o["h"] + M
    return o


def _square_terms(arr: np.ndarray, block: np.ndarray) -> list[_Term]:
    """Terms of a square parameter stored as (M,) diagonal or (M, M), living in ``block`` (M, M) indices."""
    return [(np.diagonal(block).copy() if arr.ndim == 1 else block, 1.0)]


def _terms(model: Model) -> dict[str, list[_Term]]:
    cf = model.canonical
    M, G = cf.dim, cf.n_gates
    o = _offsets(M, G)
    A_idx = np.arange(M * M).reshape(M, M)
    Wo_idx = o["W_out"] + np.arange(M * G).reshape(M, G)
    Wi_idx = o["W_in"] + np.arange(G * M).reshape(G, M)
    bi_idx = o["b_in"] + np.arange(G)
    h_idx = o["h"] + np.arange(M)
    p = model._params
    if isinstance(model, PLRNN):
        return {"A": _square_terms(p["A"], A_idx), "W": _square_terms(p["W"], Wo_idx), "h": [(h_idx, 1.0)]}
    if isinstance(model, ClippedShallowPLRNN):
        H = G // 2
        return {"A": _square_terms(p["A"], A_idx),
                "W1": [(Wo_idx[:, :H], 1.0), (Wo_idx[:, H:], -1.0)],
                "W2": [(Wi_idx[:H], 1.0), (Wi_idx[H:], 1.0)],
                "h1": [(h_idx, 1.0)], "h2": [(bi_idx[:H], 1.0)]}
    if isinstance(model, ShallowPLRNN):
        return {"A": _square_terms(p["A"], A_idx), "W1": [(Wo_idx, 1.0)], "W2": [(Wi_idx, 1.0)],
                "h1": [(h_idx, 1.0)], "h2": [(bi_idx, 1.0)]}
    if isinstance(model, ALRNN):
        n_lin = M - model.n_relu
        # linear columns of W are folded into A, ReLU columns are W_out
        W_block = np.hstack([A_idx[:, :n_lin], Wo_idx])
        return {"A": _square_terms(p["A"], A_idx), "W": _square_terms(p["W"], W_block),
                "h": [(h_idx, 1.0)]}
    raise TypeError(f"model type {type(model).__name__} is not supported for training")


class ParamLayout:
    """Trainable parameters of a model as one flat vector, with the chain rule.

    Parameters
    ----------
    model
        Template model; its parameter shapes (and diagonal-vs-full storage of
        square matrices) are kept.
    names
        Trainable parameter names (default: all of ``model.param_names``).
    """

    def __init__(self, model: Model, names: Sequence[str] | None = None) -> None:
        terms = _terms(model)
        if names is None:
            names = tuple(model.param_names)
        else:
            if isinstance(names, str):
                names = (names,)
            names = tuple(names)
            unknown = [n for n in names if n not in model.param_names]
            if unknown or not names:
                raise ValueError(f"params must be a non-empty subset of {list(model.param_names)}, "
                                 f"got {list(names)}")
        self.model = model
        self.names = tuple(n for n in model.param_names if n in names)
        self.shapes = {n: model._params[n].shape for n in self.names}
        self.M, self.G = model.dim, model.n_gates
        self.canonical_size = _offsets(self.M, self.G)["size"]
        rows, cols, coefs = [], [], []
        self.offsets: dict[str, int] = {}
        off = 0
        for n in self.names:
            self.offsets[n] = off
            size = int(np.prod(self.shapes[n]))
            for idx, coef in terms[n]:
                rows.append(off + np.arange(size))
                cols.append(np.asarray(idx).ravel())
                coefs.append(np.full(size, coef))
            off += size
        self.size = off
        self.rows = np.concatenate(rows).astype(np.int64)
        self.cols = np.concatenate(cols).astype(np.int64)
        self.coefs = np.concatenate(coefs).astype(np.float64)
        self._matrix = sparse.csr_matrix((self.coefs, (self.rows, self.cols)),
                                         shape=(self.size, self.canonical_size))
        # theta(p) = matrix.T p + const exactly describes the (linear) canonical form
        self._const = self.theta(model) - self._matrix.T @ self.flat(model)

    def theta(self, model: Model) -> np.ndarray:
        """Flat canonical vector ``(A, W_out, W_in, b_in, h)`` of ``model``."""
        return np.concatenate([a.ravel() for a in model.canonical.arrays])

    def theta_of(self, p: np.ndarray) -> np.ndarray:
        """Flat canonical vector for the flat trainable parameters ``p`` (no model is built)."""
        return self._matrix.T @ p + self._const

    def flat(self, model: Model) -> np.ndarray:
        """Trainable parameters of ``model`` as a flat vector."""
        return np.concatenate([model._params[n].ravel() for n in self.names])

    def unflatten(self, p: np.ndarray) -> dict[str, np.ndarray]:
        """Split a flat vector (parameters or gradients) into named arrays."""
        return {n: p[..., self.offsets[n]:self.offsets[n] + int(np.prod(s))].reshape(p.shape[:-1] + s)
                for n, s in self.shapes.items()}

    def model_from(self, p: np.ndarray) -> Model:
        """The template model with its trainable parameters replaced by ``p``."""
        return self.model.replace(**self.unflatten(p))

    def param_grad(self, g_canonical: np.ndarray) -> np.ndarray:
        """Chain rule: gradient w.r.t. the flat trainable parameters, from (..., P) canonical gradients."""
        g = np.asarray(g_canonical, dtype=np.float64)
        flat = g.reshape(-1, g.shape[-1])
        out = np.asarray(flat @ self._matrix.T)
        return out.reshape(g.shape[:-1] + (self.size,))

    def direction(self, path: str) -> np.ndarray:
        """Canonical-vector derivative with respect to one parameter entry, e.g. ``"A[1,1]"``."""
        m1 = self.model.set_param(path, 1.0)
        m0 = self.model.set_param(path, 0.0)
        return self.theta(m1) - self.theta(m0)
