"""A model given directly by the arrays of the canonical form.

``CanonicalPLRNN(A, W_out, W_in, b_in, h)`` is the map
``z' = A z + W_out relu(W_in z + b_in) + h`` itself. Use it for an RNN that has
no class of its own here but is piecewise-linear with ReLU gates (e.g. a
network exported by another tool), or to analyse the canonical form of a model
after editing it.
"""

from __future__ import annotations

from typing import Any

from ._validation import as_real_array, check_shape
from .models import MODEL_TYPES, CanonicalForm, Model, _frozen, _full, _square

__all__ = ["CanonicalPLRNN"]


class CanonicalPLRNN(Model):
    """Gated piecewise-affine RNN ``z' = A z + W_out relu(W_in z + b_in) + h``.

    Parameters
    ----------
    A
        (M,) diagonal or (M, M).
    W_out
        (M, G) output weights of the G ReLU gates.
    W_in
        (G, M) input weights of the gates.
    b_in
        (G,) gate biases.
    h
        (M,) bias.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> from plrnn_explorer.canonical_model import CanonicalPLRNN
    >>> s = pe.ShallowPLRNN([0.5], [[1.0, -1.0]], [[1.0], [-1.0]], [0.2], [0.0, 0.5])
    >>> c = CanonicalPLRNN(*s.canonical.arrays)
    >>> c.n_gates, bool(np.allclose(c.step([0.3]), s.step([0.3])))
    (2, True)
    """

    param_names = ("A", "W_out", "W_in", "b_in", "h")
    _square_params = ("A",)

    def __init__(self, A: Any, W_out: Any, W_in: Any, b_in: Any, h: Any) -> None:
        super().__init__(A=A, W_out=W_out, W_in=W_in, b_in=b_in, h=h)

    def _validate_and_store(self, p: dict[str, Any]) -> None:
        A = _square("A", p["A"], None)
        M = A.shape[0]
        W_out = as_real_array("W_out", p["W_out"], ndim=2)
        if W_out.shape[0] != M:
            raise ValueError(f"W_out must have shape (M, G) with M = {M}, got {W_out.shape}")
        G = W_out.shape[1]
        W_in = as_real_array("W_in", p["W_in"], ndim=2)
        check_shape("W_in", W_in, (G, M), "(G, M)")
        b_in = as_real_array("b_in", p["b_in"], ndim=1)
        check_shape("b_in", b_in, (G,), "(G,)")
        h = as_real_array("h", p["h"], ndim=1)
        check_shape("h", h, (M,), "(M,)")
        self._params = {"A": _frozen(A), "W_out": _frozen(W_out), "W_in": _frozen(W_in),
                        "b_in": _frozen(b_in), "h": _frozen(h)}

    def _build_canonical(self) -> CanonicalForm:
        return CanonicalForm(_frozen(_full(self.A)), _frozen(self.W_out), _frozen(self.W_in),
                             _frozen(self.b_in), _frozen(self.h))


# known to save_model/load_model/Model.from_dict by its name
MODEL_TYPES.setdefault("CanonicalPLRNN", CanonicalPLRNN)
