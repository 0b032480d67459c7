"""Two-dimensional views of an M-dimensional state space.

A :class:`Projection` is an affine plane ``z = origin + basis @ (x, y)`` with
orthonormal ``basis`` columns. Points project onto it orthogonally, and plane
coordinates lift back to states, so a click on a 2-D portrait of an
M-dimensional model becomes an initial state, and a grid on the plane becomes
a grid of states (a 2-D slice, e.g. for basins of attraction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_int, as_real_array

__all__ = ["Projection"]


@dataclass(frozen=True)
class Projection:
    """The plane ``origin + basis @ (x, y)`` in state space.

    Attributes
    ----------
    origin
        (M,) state mapped to plane coordinates (0, 0).
    basis
        (M, 2) orthonormal columns spanning the plane.
    labels
        Axis labels of the two plane coordinates.

    Examples
    --------
    >>> import numpy as np
    >>> p = Projection.coordinates(3, 0, 2, origin=[0.0, 5.0, 0.0])
    >>> p.to_plane([[1.0, 2.0, 3.0]])
    array([[1., 3.]])
    >>> p.lift([1.0, 3.0])
    array([1., 5., 3.])
    >>> p.labels
    ('$z_0$', '$z_2$')
    """

    origin: np.ndarray
    basis: np.ndarray
    labels: tuple[str, str] = ("x", "y")

    def __post_init__(self) -> None:
        origin = as_real_array("origin", self.origin, ndim=1)
        basis = as_real_array("basis", self.basis, ndim=2)
        if basis.shape != (origin.shape[0], 2):
            raise ValueError(f"basis must have shape (M, 2) = ({origin.shape[0]}, 2), got {basis.shape}")
        if not np.allclose(basis.T @ basis, np.eye(2), atol=1e-8):
            raise ValueError(f"basis must have two orthonormal columns (basis.T @ basis = I), got basis.T @ basis = "
                             f"{np.round(basis.T @ basis, 6).tolist()}")
        object.__setattr__(self, "origin", origin)
        object.__setattr__(self, "basis", basis)
        object.__setattr__(self, "labels", (str(self.labels[0]), str(self.labels[1])))

    @property
    def dim(self) -> int:
        """Dimension M of the state space."""
        return self.origin.shape[0]

    @classmethod
    def coordinates(cls, dim: int, i: int = 0, j: int = 1, *, origin: Any = None) -> Projection:
        """The plane of state coordinates ``i`` and ``j``; the others are fixed at ``origin``.

        ``origin`` (default 0) gives the values of the other coordinates when a
        plane point is lifted; its entries ``i`` and ``j`` are ignored.
        """
        dim = as_int("dim", dim, minimum=1)
        i = as_int("i", i, minimum=0, maximum=dim - 1)
        j = as_int("j", j, minimum=0, maximum=dim - 1)
        if i == j:
            raise ValueError(f"i and j must be different coordinates, got i = j = {i}")
        o = np.zeros(dim) if origin is None else as_real_array("origin", origin, ndim=1).copy()
        if o.shape != (dim,):
            raise ValueError(f"origin must have shape (M,) = ({dim},), got {o.shape}")
        o[[i, j]] = 0.0
        basis = np.zeros((dim, 2))
        basis[i, 0] = basis[j, 1] = 1.0
        return cls(o, basis, (f"$z_{i}$", f"$z_{j}$"))

    @classmethod
    def pca(cls, points: Any) -> Projection:
        """The plane of the first two principal components of ``points`` (n, M), through their mean.

        Examples
        --------
        >>> import numpy as np
        >>> pts = np.array([[0., 0, 0], [2, 0, 0], [0, 1, 0], [2, 1, 0]])
        >>> p = Projection.pca(pts)
        >>> np.round(np.abs(p.basis), 6)
        array([[1., 0.],
               [0., 1.],
               [0., 0.]])
        """
        pts = as_real_array("points", points, ndim=2)
        if pts.shape[1] < 2:
            raise ValueError(f"points must have at least 2 coordinates for a plane, got shape {pts.shape}")
        if pts.shape[0] < 1:
            raise ValueError(f"points must be an (n, M) array with at least one point, got shape {pts.shape}")
        mean = pts.mean(axis=0)
        centred = pts - mean
        _, _, vt = np.linalg.svd(centred, full_matrices=True)
        basis = np.ascontiguousarray(vt[:2].T)
        return cls(mean, basis, ("PC1", "PC2"))

    def to_plane(self, points: Any) -> np.ndarray:
        """Plane coordinates (..., 2) of states (..., M)."""
        pts = np.asarray(points, dtype=float)
        if pts.shape[-1:] != (self.dim,):
            raise ValueError(f"points must have last dimension M = {self.dim}, got shape {pts.shape}")
        return (pts - self.origin) @ self.basis

    def lift(self, xy: Any) -> np.ndarray:
        """States (..., M) of plane coordinates (..., 2)."""
        p = np.asarray(xy, dtype=float)
        if p.shape[-1:] != (2,):
            raise ValueError(f"xy must have last dimension 2, got shape {p.shape}")
        return self.origin + p @ self.basis.T
