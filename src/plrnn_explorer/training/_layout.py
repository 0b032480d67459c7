"""Flat parameter vectors and the chain rule from canonical-form gradients to model parameters.

The kernels differentiate with respect to the canonical arrays
``(A, W_out, W_in, b_in, h)``. Every model's canonical form is *linear* in its
parameters (copies, sign flips, stacking, folding linear units into ``A``),
so the gradient of a model parameter entry is a signed sum of canonical
gradient entries. :class:`ParamLayout` derives that sum from the model's own
conversion to canonical form — by converting models whose parameters are all
zero but one unit entry, which is exact for such linear maps — and stores it as
sparse triplets ``g_param[rows] += coefs * g_canonical[cols]``. A new model
class therefore needs no training code of its own.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import sparse

from ..models import Model

__all__ = ["ParamLayout"]


def _canonical_vector(model: Model, params: dict[str, np.ndarray]) -> np.ndarray:
    """Flat canonical vector of ``model``'s class with raw ``params`` (no validation, nothing cached)."""
    probe = object.__new__(type(model))
    probe._params = params
    probe._settings = model._settings
    probe._canonical = None
    return np.concatenate([a.ravel() for a in probe._build_canonical().arrays])


def _linear_map(model: Model, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Triplets ``(rows, cols, coefs)`` of d(canonical vector)/d(trainable entries), and the canonical size."""
    zero = {n: np.zeros_like(a) for n, a in model._params.items()}
    base = _canonical_vector(model, zero)
    rows, cols, coefs = [], [], []
    row = 0
    for n in names:
        for i in range(zero[n].size):
            unit = np.zeros_like(zero[n])
            unit.flat[i] = 1.0
            d = _canonical_vector(model, {**zero, n: unit}) - base
            nz = np.flatnonzero(d)
            rows.append(np.full(nz.size, row))
            cols.append(nz)
            coefs.append(d[nz])
            row += 1
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(coefs).astype(np.float64), base.size)


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
        self.offsets: dict[str, int] = {}
        off = 0
        for n in self.names:
            self.offsets[n] = off
            off += int(np.prod(self.shapes[n]))
        self.size = off
        self.rows, self.cols, self.coefs, self.canonical_size = _linear_map(model, self.names)
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
