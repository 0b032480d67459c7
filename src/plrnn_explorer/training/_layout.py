"""Flat parameter vectors and the chain rule from canonical-form gradients to model parameters.

The kernels differentiate with respect to the canonical arrays
``(A, W_out, W_in, b_in, h)``. Every model's canonical form is *linear* in its
parameters (copies, sign flips, stacking, folding linear units into ``A``),
so the gradient of a model parameter entry is a signed sum of canonical
gradient entries. :class:`ParamLayout` derives that sum from the model's own
conversion to canonical form, by converting probe models (exact for such linear
maps): three probes per parameter array decode which entry each canonical entry
copies, in time linear in the model size, and a conversion that sums entries
falls back to one probe per entry. The result is stored as triplets
``g_param[rows] += coefs * g_canonical[cols]``. A new model class therefore
needs no training code of its own.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..models import Model

__all__ = ["ParamLayout"]


def _canonical_vector(model: Model, params: dict[str, np.ndarray]) -> np.ndarray:
    """Flat canonical vector of ``model``'s class with raw ``params`` (no validation, nothing cached)."""
    probe = object.__new__(type(model))
    probe._params = params
    probe._settings = model._settings
    probe._canonical = None
    return np.concatenate([a.ravel() for a in probe._build_canonical().arrays])


def _probed_entries(model: Model, zero: dict[str, np.ndarray], base: np.ndarray, name: str
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Triplets for parameter array ``name`` from three probes, or None when they cannot be decoded.

    Probing the array with ones gives each canonical entry's coefficient, probing it with the codes
    1..n gives coefficient x code, so the quotient names the source entry; a third probe with random
    values verifies the decoding (a canonical entry that sums several entries of ``name`` fails it).
    """
    shape, n = zero[name].shape, zero[name].size
    codes = np.arange(1.0, n + 1.0).reshape(shape)
    rand = np.random.default_rng(0).uniform(1.0, 2.0, shape)
    d1, dc, dr = (_canonical_vector(model, {**zero, name: probe}) - base
                  for probe in (np.ones(shape), codes, rand))
    cols = np.flatnonzero((d1 != 0) | (dc != 0) | (dr != 0))
    coefs = d1[cols]
    if np.any(coefs == 0):
        return None
    src = np.rint(dc[cols] / coefs)
    if np.any((src < 1) | (src > n)):
        return None
    rows = src.astype(np.int64) - 1
    if not np.allclose(dr[cols], coefs * rand.ravel()[rows], rtol=1e-12, atol=0.0):
        return None
    return rows, cols.astype(np.int64), coefs


def _unit_entries(model: Model, zero: dict[str, np.ndarray], base: np.ndarray, name: str
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triplets for parameter array ``name`` from one probe per entry (any linear conversion)."""
    rows, cols, coefs = [], [], []
    for i in range(zero[name].size):
        unit = np.zeros_like(zero[name])
        unit.flat[i] = 1.0
        d = _canonical_vector(model, {**zero, name: unit}) - base
        nz = np.flatnonzero(d)
        rows.append(np.full(nz.size, i))
        cols.append(nz)
        coefs.append(d[nz])
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(coefs).astype(np.float64))


def _linear_map(model: Model, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Triplets ``(rows, cols, coefs)`` of d(canonical vector)/d(trainable entries), and the canonical size.

    Every conversion shipped with the package copies each parameter entry (with a sign) into
    canonical entries, which three probes per array decode in linear time; a conversion that
    sums entries of one array falls back to one probe per entry.
    """
    zero = {n: np.zeros_like(a) for n, a in model._params.items()}
    base = _canonical_vector(model, zero)
    rows, cols, coefs = [], [], []
    offset = 0
    for n in names:
        r, c, v = _probed_entries(model, zero, base, n) or _unit_entries(model, zero, base, n)
        rows.append(r + offset)
        cols.append(c)
        coefs.append(v)
        offset += zero[n].size
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs), base.size


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
        # theta(p) = L p + const exactly describes the (linear) canonical form
        self._const = self.theta(model) - self._apply(self.flat(model))

    def theta(self, model: Model) -> np.ndarray:
        """Flat canonical vector ``(A, W_out, W_in, b_in, h)`` of ``model``."""
        return np.concatenate([a.ravel() for a in model.canonical.arrays])

    def theta_of(self, p: np.ndarray) -> np.ndarray:
        """Flat canonical vector for the flat trainable parameters ``p`` (no model is built)."""
        return self._apply(p) + self._const

    def _apply(self, p: np.ndarray) -> np.ndarray:
        """``L p``: the linear part of the conversion applied to flat trainable parameters."""
        return np.bincount(self.cols, weights=self.coefs * p[self.rows], minlength=self.canonical_size)

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
        out = np.array([np.bincount(self.rows, weights=self.coefs * row[self.cols], minlength=self.size)
                        for row in flat])
        return out.reshape(g.shape[:-1] + (self.size,))

    def direction(self, path: str) -> np.ndarray:
        """Canonical-vector derivative with respect to one parameter entry, e.g. ``"A[1,1]"``."""
        m1 = self.model.set_param(path, 1.0)
        m0 = self.model.set_param(path, 0.0)
        return self.theta(m1) - self.theta(m0)
