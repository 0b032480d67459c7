"""ReLU-based RNN models as thin, validated, immutable wrappers.

Every model converts to one canonical *gated piecewise-affine* form

.. math::

    z' = A z + W_{out}\\,\\mathrm{relu}(W_{in} z + b_{in}) + h ,

with ``A`` (M, M), ``W_out`` (M, G), ``W_in`` (G, M), ``b_in`` (G,), ``h`` (M,).
Inside a region ``r`` in {0, 1}^G (``r_g = 1`` iff gate ``g`` is strictly
positive; a gate exactly at 0 counts as off) the map is affine with Jacobian
``J_r = A + W_out diag(r) W_in`` and offset ``c_r = h + W_out diag(r) b_in``.
One set of kernels on this form serves every model class here.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from . import _kernels
from ._validation import as_int, as_real_array, check_shape

__all__ = [
    "CanonicalForm",
    "Model",
    "PLRNN",
    "ShallowPLRNN",
    "ClippedShallowPLRNN",
    "ALRNN",
    "MODEL_TYPES",
]


@dataclass(frozen=True)
class CanonicalForm:
    """The gated piecewise-affine form ``z' = A z + W_out relu(W_in z + b_in) + h``.

    All arrays are C-contiguous float64 and read-only.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> cf = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2]).canonical
    >>> cf.n_gates, cf.dim
    (2, 2)
    """

    A: np.ndarray
    W_out: np.ndarray
    W_in: np.ndarray
    b_in: np.ndarray
    h: np.ndarray

    @property
    def dim(self) -> int:
        """Latent dimension M."""
        return self.A.shape[0]

    @property
    def n_gates(self) -> int:
        """Number of ReLU gates G (the region code has G bits)."""
        return self.W_in.shape[0]

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        """``(A, W_out, W_in, b_in, h)`` in the order the kernels take them."""
        return (self.A, self.W_out, self.W_in, self.b_in, self.h)

    @property
    def blas(self) -> bool | None:
        """The cycle kernels' ``blas`` argument: True (BLAS/LAPACK) from ``BLAS_MIN_DIM`` on, else None."""
        return _kernels.blas_arg(self.dim)

    def gates_full_rank(self) -> bool:
        """True if every one of the 2^G gate patterns is realised by some z.

        This holds when ``W_in`` has full row rank G (then ``z -> W_in z + b_in``
        is onto R^G). SCYFI then draws regions as uniform random bits; otherwise
        it draws from a pool of regions known to be realisable.

        Computed once per form (the arrays are read-only). When every row of
        ``W_in`` has one nonzero entry, in distinct columns (PLRNN and ALRNN:
        rows of the identity), the rank is G without any factorisation;
        otherwise it is an SVD rank test, O(G² M).

        Examples
        --------
        >>> import numpy as np, plrnn_explorer as pe
        >>> pe.PLRNN(np.full(3, 0.5), np.zeros((3, 3)), np.zeros(3)).canonical.gates_full_rank()
        True
        """
        cached = self.__dict__.get("_gates_full_rank")
        if cached is None:
            cached = bool(self.n_gates <= self.dim and _full_row_rank(self.W_in))
            self.__dict__["_gates_full_rank"] = cached  # frozen dataclass: set by hand
        return cached

    def piece(self, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(J_r, c_r)`` of the affine piece of region ``region`` (G,) bool."""
        r = np.asarray(region, dtype=bool)
        check_shape("region", r, (self.n_gates,), "(G,)")
        J = self.A + (self.W_out * r) @ self.W_in
        c = self.h + (self.W_out * r) @ self.b_in
        return J, c


def _full_row_rank(W: np.ndarray) -> bool:
    """True if ``W`` (G, M) has rank G; O(G M) when its rows are scaled unit vectors."""
    nonzero = W != 0
    if np.all(nonzero.sum(axis=1) == 1):
        columns = np.argmax(nonzero, axis=1)
        return np.unique(columns).size == W.shape[0]
    return np.linalg.matrix_rank(W) == W.shape[0]


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    arr.setflags(write=False)
    return arr


_PATH_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*(-?\d+)\s*(?:,\s*(-?\d+)\s*)?\])?\s*$")


def parse_param_path(path: str) -> tuple[str, tuple[int, ...]]:
    """Split a parameter path such as ``"W[0,1]"`` into ``("W", (0, 1))``.

    Examples
    --------
    >>> parse_param_path("A[1,1]")
    ('A', (1, 1))
    >>> parse_param_path("h[0]")
    ('h', (0,))
    """
    if not isinstance(path, str):
        raise TypeError(f"param must be a string path such as 'W[0,1]', got {type(path).__name__}")
    m = _PATH_RE.match(path)
    if not m:
        raise ValueError(f"param {path!r} is not a parameter path of the form 'NAME[i]' or 'NAME[i,j]'")
    name, i, j = m.groups()
    idx = tuple(int(x) for x in (i, j) if x is not None)
    return name, idx


class Model:
    """Base class of all models: validated, immutable, convertible to :class:`CanonicalForm`.

    Subclasses define ``_param_specs`` (name -> expected shape kind) and
    :meth:`_build_canonical`.

    Examples
    --------
    Every model class shares this interface:

    >>> import plrnn_explorer as pe
    >>> [issubclass(c, pe.Model) for c in (pe.PLRNN, pe.ShallowPLRNN, pe.ClippedShallowPLRNN, pe.ALRNN)]
    [True, True, True, True]
    >>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])            # skew tent map a_l = 0.2, a_r = -1.5
    >>> m.param_names, m.dim, m.n_gates
    (('A', 'W', 'h'), 1, 1)
    >>> m.param_paths()
    ['A[0,0]', 'W[0,0]', 'h[0]']
    >>> m.simulate([0.0], 3)[:, 0].round(4).tolist()
    [0.0, 1.0, -0.5]
    >>> pe.Model.from_dict(m.to_dict()) == m
    True
    """

    #: names of array parameters in constructor order
    param_names: ClassVar[tuple[str, ...]] = ()
    #: parameters that may be given as a vector meaning a diagonal matrix
    _square_params: ClassVar[tuple[str, ...]] = ()
    #: non-array integer settings (e.g. ALRNN's n_relu)
    _int_settings: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        self._params: dict[str, np.ndarray] = {}
        self._settings: dict[str, int] = {}
        self._validate_and_store(params)
        self._canonical: CanonicalForm | None = None

    # -- construction -------------------------------------------------
    def _validate_and_store(self, params: dict[str, Any]) -> None:
        raise NotImplementedError

    def _build_canonical(self) -> CanonicalForm:
        raise NotImplementedError

    @property
    def canonical(self) -> CanonicalForm:
        """The model in canonical gated piecewise-affine form (computed once)."""
        if self._canonical is None:
            self._canonical = self._build_canonical()
        return self._canonical

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays, by name."""
        return {k: v.copy() for k, v in self._params.items()}

    @property
    def dim(self) -> int:
        """Latent dimension M."""
        return self.canonical.dim

    @property
    def n_gates(self) -> int:
        """Number of ReLU gates G; a region is a G-bit pattern."""
        return self.canonical.n_gates

    def __getattr__(self, name: str) -> Any:
        # parameters read as attributes: m.A, m.W1, ...; settings as ints
        params = self.__dict__.get("_params", {})
        if name in params:
            return params[name]
        settings = self.__dict__.get("_settings", {})
        if name in settings:
            return settings[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    # -- dynamics -----------------------------------------------------
    def _state(self, name: str, z: Any) -> np.ndarray:
        z = as_real_array(name, z, ndim=1)
        check_shape(name, z, (self.dim,), "(M,)")
        return z

    def step(self, z: Any) -> np.ndarray:
        """Apply the map once.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> pe.PLRNN([0.5], [[0.0]], [1.0]).step([2.0])
        array([2.])
        """
        z = self._state("z", z)
        return _kernels.step(*self.canonical.arrays, z)

    def simulate(self, z0: Any, n_steps: int) -> np.ndarray:
        """Iterate the map from ``z0``.

        Parameters
        ----------
        z0
            Initial state (M,), or a batch of initial states (B, M).
        n_steps
            Number of states returned (the first one is ``z0`` itself).

        Returns
        -------
        ndarray
            (n_steps, M) trajectory ``z0, F(z0), ..., F^{n_steps-1}(z0)``, or
            (B, n_steps, M) for a batch. A diverging orbit shows up as Inf/NaN
            entries; it is not an error.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> pe.PLRNN([0.5], [[0.0]], [1.0]).simulate([0.0], 3)[:, 0]
        array([0. , 1. , 1.5])
        """
        n_steps = as_int("n_steps", n_steps, minimum=1)
        z0 = as_real_array("z0", z0, ndim=(1, 2))
        if z0.shape[-1] != self.dim:
            raise ValueError(f"z0 must have shape (M,) or (B, M) with M = {self.dim}, got {z0.shape}")
        if z0.ndim == 1:
            return _kernels.simulate(*self.canonical.arrays, z0, n_steps)
        return _kernels.simulate_batch(*self.canonical.arrays, np.ascontiguousarray(z0), n_steps)

    def region(self, z: Any) -> np.ndarray:
        """Gate pattern (G,) bool of state ``z``: gate g is on iff strictly positive.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]).region([1.0, 0.0])
        array([ True, False])
        """
        z = self._state("z", z)
        cf = self.canonical
        return (cf.W_in @ z + cf.b_in) > 0

    def gates(self, z: Any) -> np.ndarray:
        """Gate pre-activations ``W_in z + b_in`` (G,) at state ``z``."""
        z = self._state("z", z)
        cf = self.canonical
        return cf.W_in @ z + cf.b_in

    def jacobian(self, z: Any) -> np.ndarray:
        """Jacobian (M, M) of the map at ``z`` (of the affine piece containing ``z``).

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0]).jacobian([1.0, -1.0])
        array([[0.5, 0. ],
               [1. , 0.5]])
        """
        J, _ = self.canonical.piece(self.region(z))
        return J

    # -- parameters ---------------------------------------------------
    def replace(self, **params: Any) -> "Model":
        """Return a new model with some parameters replaced.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0, 0])
        >>> m.replace(h=[1.0, 2.0]).h
        array([1., 2.])
        """
        unknown = set(params) - set(self.param_names) - set(self._int_settings)
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {sorted(unknown)} for {type(self).__name__}; "
                f"expected some of {list(self.param_names) + list(self._int_settings)}"
            )
        merged: dict[str, Any] = {**self._params, **self._settings}
        merged.update(params)
        return type(self)(**merged)

    def _resolve(self, path: str) -> tuple[str, tuple[int, ...], np.ndarray]:
        name, idx = parse_param_path(path)
        if name not in self._params:
            raise ValueError(
                f"param {path!r}: {type(self).__name__} has no parameter {name!r}; "
                f"the name must be one of {list(self.param_names)}"
            )
        arr = self._params[name]
        if not idx:
            raise ValueError(f"param {path!r} must index one entry, e.g. '{name}[0]' or '{name}[0,1]'")
        shape = (arr.shape[0],) * 2 if name in self._square_params else arr.shape
        if name in self._square_params and len(idx) == 1:  # "A[i]" always means the diagonal entry
            idx = (idx[0], idx[0])
        if len(idx) != len(shape) or not all(-s <= i < s for i, s in zip(idx, shape)):
            form = f"'{name}[i,j]' with 0 <= i < {shape[0]}, 0 <= j < {shape[1]}" if len(shape) == 2 else \
                f"'{name}[i]' with 0 <= i < {shape[0]}"
            raise ValueError(f"param {path!r}: index does not fit {name} of shape {shape}; expected {form}")
        return name, tuple(i % s for i, s in zip(idx, shape)), arr

    def canonical_path(self, path: str) -> str:
        """The one canonical spelling of the entry ``path`` addresses.

        Every spelling of an entry maps to the same string: spaces are dropped,
        negative indices resolved, and ``"A[i]"`` of a square parameter means
        ``"A[i,i]"``. Compare paths only after this normalisation.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5, 0.7], [[0, 1], [1, 0]], [0, 0])
        >>> m.canonical_path("A[0]"), m.canonical_path(" W[-1, -2] "), m.canonical_path("h[-1]")
        ('A[0,0]', 'W[1,0]', 'h[1]')
        """
        name, idx, _ = self._resolve(path)
        return f"{name}[{','.join(map(str, idx))}]"

    def distinct_paths(self, **paths: str) -> list[str]:
        """Canonical paths of several arguments; ``ValueError`` if two address the same entry.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5, 0.7], [[0, 1], [1, 0]], [0, 0])
        >>> m.distinct_paths(x="A[0]", y="W[0,1]")
        ['A[0,0]', 'W[0,1]']
        >>> m.distinct_paths(x="A[0]", y="A[-2,0]")
        Traceback (most recent call last):
        ...
        ValueError: x ('A[0]') and y ('A[-2,0]') address the same parameter entry A[0,0]; they must be two different parameters
        """
        seen: dict[str, tuple[str, str]] = {}
        out = []
        for arg, path in paths.items():
            c = self.canonical_path(path)
            if c in seen:
                a0, p0 = seen[c]
                raise ValueError(f"{a0} ({p0!r}) and {arg} ({path!r}) address the same parameter entry {c}; "
                                 "they must be two different parameters")
            seen[c] = (arg, path)
            out.append(c)
        return out

    def get_param(self, path: str) -> float:
        """Read one parameter entry by path, e.g. ``"W[0,1]"``, ``"A[1]"`` or ``"h[0]"``.

        For a square matrix stored as its diagonal (A given as a vector), ``"A[i]"``
        and ``"A[i,i]"`` both read the diagonal entry and off-diagonal entries are 0.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5, 0.7], [[0, 1], [1, 0]], [0, 0])
        >>> m.get_param("A[1,1]"), m.get_param("W[0,1]"), m.get_param("A[0,1]")
        (0.7, 1.0, 0.0)
        """
        name, idx, arr = self._resolve(path)
        if name in self._square_params and arr.ndim == 1:
            i, j = idx
            return float(arr[i]) if i == j else 0.0
        return float(arr[idx])

    def set_param(self, path: str, value: float) -> "Model":
        """Return a new model with one parameter entry changed.

        Setting an off-diagonal entry of a matrix stored as its diagonal turns it
        into a full matrix.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> m = pe.PLRNN([0.5, 0.7], [[0, 1], [1, 0]], [0, 0])
        >>> m.set_param("W[0,1]", -2.0).get_param("W[0,1]")
        -2.0
        """
        name, idx, arr = self._resolve(path)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
            raise TypeError(f"value (for {path!r}) must be a real number, got {type(value).__name__} {value!r}")
        arr = arr.copy()
        if name in self._square_params and arr.ndim == 1:
            i, j = idx
            if i != j:
                arr = np.diag(arr)
                arr[i, j] = value
            else:
                arr[i] = value
        else:
            arr[idx] = value
        return self.replace(**{name: arr})

    def param_paths(self) -> list[str]:
        """All scalar parameter paths of this model, e.g. for building sliders."""
        out = []
        for name in self.param_names:
            arr = self._params[name]
            if name in self._square_params and arr.ndim == 1:
                out += [f"{name}[{i},{i}]" for i in range(arr.shape[0])]
            else:
                out += [f"{name}[{','.join(map(str, ix))}]" for ix in np.ndindex(arr.shape)]
        return out

    # -- serialization --------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description ``{"type": ..., "params": {...}}``.

        Examples
        --------
        >>> import plrnn_explorer as pe
        >>> pe.PLRNN([0.5], [[0.0]], [1.0]).to_dict()["type"]
        'PLRNN'
        """
        d: dict[str, Any] = {"type": type(self).__name__,
                             "params": {k: v.tolist() for k, v in self._params.items()}}
        d["params"].update(self._settings)
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "Model":
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "type" not in d or "params" not in d:
            raise ValueError(f"a model description must be a dict with keys 'type' and 'params', "
                             f"got {type(d).__name__}{' with keys ' + str(sorted(d)) if isinstance(d, dict) else ''}")
        cls = MODEL_TYPES.get(d["type"])
        if cls is None:
            raise ValueError(f"unknown model type {d['type']!r}; 'type' must be one of {sorted(MODEL_TYPES)}")
        if not isinstance(d["params"], dict):
            raise ValueError(f"'params' of a model description must be a dict {{name: array}}, "
                             f"got {type(d['params']).__name__}")
        return cls(**d["params"])

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._settings == other._settings and all(
            np.array_equal(self._params[k], other._params[k]) for k in self.param_names
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self._params[k].tobytes() for k in self.param_names)))

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}={tuple(v.shape)}" for k, v in self._params.items())
        extra = "".join(f", {k}={v}" for k, v in self._settings.items())
        return f"{type(self).__name__}(M={self.dim}, G={self.n_gates}; {shapes}{extra})"

    def __reduce__(self):  # pickling (needed by dask) goes through the public constructor
        return (type(self), tuple(self._params[k] for k in self.param_names)
                + tuple(self._settings[k] for k in self._int_settings))


def _square(name: str, value: Any, M: int | None) -> np.ndarray:
    """A square matrix given either as (M, M) or as its diagonal (M,)."""
    arr = as_real_array(name, value, ndim=(1, 2))
    if arr.ndim == 2 and arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square (M, M) matrix or a diagonal (M,) vector, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must have at least one unit (M >= 1), got shape {arr.shape}")
    if M is not None and arr.shape[0] != M:
        raise ValueError(f"{name} must have shape (M,) or (M, M) with M = {M}, got {arr.shape}")
    return arr


def _validated_A_W_h(p: dict[str, Any]) -> dict[str, np.ndarray]:
    """Validated, frozen ``A`` (M,)|(M, M), ``W`` (M,)|(M, M) and ``h`` (M,) of PLRNN-like models."""
    A = _square("A", p["A"], None)
    M = A.shape[0]
    W = _square("W", p["W"], M)
    h = as_real_array("h", p["h"], ndim=1)
    check_shape("h", h, (M,), "(M,)")
    return {"A": _frozen(A), "W": _frozen(W), "h": _frozen(h)}


def _full(arr: np.ndarray) -> np.ndarray:
    return np.diag(arr) if arr.ndim == 1 else arr


class PLRNN(Model):
    """Piecewise-linear RNN ``z' = A z + W relu(z) + h``.

    Parameters
    ----------
    A
        (M,) diagonal or (M, M) matrix (the paper's A is diagonal; a full A is accepted).
    W
        (M, M) connectivity (a general W is accepted, including a non-zero diagonal),
        or (M,) for a diagonal W.
    h
        (M,) bias.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.PLRNN(np.array([0.8377689, 0.96461297]),
    ...              np.array([[0, -0.64375], [0.52505308, 0]]),
    ...              np.array([0.37298253, -0.97931491]))
    >>> m.dim
    2
    """

    param_names = ("A", "W", "h")
    _square_params = ("A", "W")

    def __init__(self, A: Any, W: Any, h: Any) -> None:
        super().__init__(A=A, W=W, h=h)

    def _validate_and_store(self, p: dict[str, Any]) -> None:
        self._params = _validated_A_W_h(p)

    def _build_canonical(self) -> CanonicalForm:
        M = self._params["h"].shape[0]
        return CanonicalForm(_frozen(_full(self.A)), _frozen(_full(self.W)), _frozen(np.eye(M)),
                             _frozen(np.zeros(M)), _frozen(self.h))


class ShallowPLRNN(Model):
    """Shallow PLRNN ``z' = A z + W1 relu(W2 z + h2) + h1``.

    Parameters
    ----------
    A
        (M,) diagonal or (M, M).
    W1
        (M, H) output weights.
    W2
        (H, M) input weights of the hidden ReLU layer.
    h1
        (M,) bias.
    h2
        (H,) hidden bias.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> rng = np.random.default_rng(0)
    >>> m = pe.ShallowPLRNN(rng.uniform(0, 0.9, 2), rng.normal(size=(2, 5)),
    ...                     rng.normal(size=(5, 2)), rng.normal(size=2), rng.normal(size=5))
    >>> m.dim, m.n_gates
    (2, 5)
    """

    param_names = ("A", "W1", "W2", "h1", "h2")
    _square_params = ("A",)

    def __init__(self, A: Any, W1: Any, W2: Any, h1: Any, h2: Any) -> None:
        super().__init__(A=A, W1=W1, W2=W2, h1=h1, h2=h2)

    def _validate_and_store(self, p: dict[str, Any]) -> None:
        A = _square("A", p["A"], None)
        M = A.shape[0]
        W1 = as_real_array("W1", p["W1"], ndim=2)
        if W1.shape[0] != M:
            raise ValueError(f"W1 must have shape (M, H) with M = {M}, got {W1.shape}")
        H = W1.shape[1]
        if H == 0:
            raise ValueError(f"W1 must have at least one hidden unit (shape (M, H) with H >= 1), got {W1.shape}")
        W2 = as_real_array("W2", p["W2"], ndim=2)
        check_shape("W2", W2, (H, M), "(H, M)")
        h1 = as_real_array("h1", p["h1"], ndim=1)
        check_shape("h1", h1, (M,), "(M,)")
        h2 = as_real_array("h2", p["h2"], ndim=1)
        check_shape("h2", h2, (H,), "(H,)")
        self._params = {"A": _frozen(A), "W1": _frozen(W1), "W2": _frozen(W2),
                        "h1": _frozen(h1), "h2": _frozen(h2)}

    @property
    def hidden_dim(self) -> int:
        """Number of hidden units H."""
        return self._params["W1"].shape[1]

    def _build_canonical(self) -> CanonicalForm:
        return CanonicalForm(_frozen(_full(self.A)), _frozen(self.W1), _frozen(self.W2),
                             _frozen(self.h2), _frozen(self.h1))


class ClippedShallowPLRNN(ShallowPLRNN):
    """Clipped shallow PLRNN ``z' = A z + W1 [relu(W2 z + h2) - relu(W2 z)] + h1``.

    The clipping keeps the map bounded. In canonical form it has 2H gates:
    ``W_in = [W2; W2]``, ``b_in = [h2; 0]``, ``W_out = [W1, -W1]``.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.ClippedShallowPLRNN([0.5, 0.5], np.ones((2, 3)), np.ones((3, 2)), [0, 0], [1, 2, 3])
    >>> m.n_gates
    6
    """

    def _build_canonical(self) -> CanonicalForm:
        W1, W2, h2 = self.W1, self.W2, self.h2
        return CanonicalForm(
            _frozen(_full(self.A)), _frozen(np.hstack([W1, -W1])), _frozen(np.vstack([W2, W2])),
            _frozen(np.concatenate([h2, np.zeros_like(h2)])), _frozen(self.h1),
        )


class ALRNN(Model):
    """Almost-linear RNN: ``z' = A z + W phi(z) + h`` where only the last ``n_relu`` units are ReLU.

    ``phi(z)_i = z_i`` for the first ``M - n_relu`` units and ``relu(z_i)`` for the rest.

    Parameters
    ----------
    A
        (M,) diagonal or (M, M).
    W
        (M, M).
    h
        (M,).
    n_relu
        Number P of ReLU units, 0 <= P <= M (the last P units).

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.ALRNN([0.5, 0.5, 0.5], np.zeros((3, 3)), [0, 0, 1], n_relu=1)
    >>> m.n_gates
    1
    """

    param_names = ("A", "W", "h")
    _square_params = ("A", "W")
    _int_settings = ("n_relu",)

    def __init__(self, A: Any, W: Any, h: Any, n_relu: int) -> None:
        super().__init__(A=A, W=W, h=h, n_relu=n_relu)

    def _validate_and_store(self, p: dict[str, Any]) -> None:
        self._params = _validated_A_W_h(p)
        M = self._params["h"].shape[0]
        self._settings = {"n_relu": as_int("n_relu", p["n_relu"], minimum=0, maximum=M)}

    def _build_canonical(self) -> CanonicalForm:
        M = self._params["h"].shape[0]
        P = self._settings["n_relu"]
        W = _full(self.W)
        linear = np.zeros(M)
        linear[: M - P] = 1.0
        A_c = _full(self.A) + W * linear  # linear units folded into A
        return CanonicalForm(_frozen(A_c), _frozen(W[:, M - P:]), _frozen(np.eye(M)[M - P:]),
                             _frozen(np.zeros(P)), _frozen(self.h))


MODEL_TYPES: dict[str, type[Model]] = {
    cls.__name__: cls for cls in (PLRNN, ShallowPLRNN, ClippedShallowPLRNN, ALRNN)
}


def check_model(model: Any, name: str = "model") -> Model:
    """Raise ``TypeError`` unless ``model`` is one of the package's model classes."""
    if not isinstance(model, Model):
        raise TypeError(
            f"{name} must be a plrnn_explorer model ({', '.join(MODEL_TYPES)}), got {type(model).__name__}"
        )
    return model
