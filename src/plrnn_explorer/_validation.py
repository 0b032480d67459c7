"""Input validation shared by the public API.

Every public function checks its arguments with these helpers before any
numba kernel sees them, so that a user gets a ``TypeError`` or ``ValueError``
naming the argument and the expected form instead of a typing error from
deep inside compiled code.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import limits  # importing it here makes ``plrnn_explorer.limits`` available after ``import plrnn_explorer``


def as_real_array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None,
                  finite: bool = True) -> np.ndarray:
    """Return ``value`` as a finite float64 array, or raise naming ``name``.

    Parameters
    ----------
    name
        Argument name used in error messages.
    value
        Anything convertible to a real numeric array.
    ndim
        Allowed number(s) of dimensions.
    finite
        If False, Inf and NaN entries are accepted (e.g. the loss of a diverged epoch).
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be a real numeric array, got a string {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and similar
        raise TypeError(f"{name} must be a real numeric array: {exc}") from None
    if arr.dtype == object:
        raise TypeError(f"{name} must be a real numeric array with rows of equal length "
                        f"(ragged or non-numeric entries found in a {type(value).__name__})")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        if np.any(np.imag(arr) != 0):
            raise TypeError(f"{name} must be real, got complex entries")
        arr = np.real(arr)
    arr = np.array(arr, dtype=np.float64, copy=True)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got an array of shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers (found NaN or Inf)")
    return arr


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...], meaning: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape == shape``; ``meaning`` spells the shape out."""
    if arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {meaning} = {tuple(shape)}, got {arr.shape}")


def as_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise naming ``name``.

    Booleans and floats (even integral ones like ``2.0``) are rejected: an
    order or a budget given as a float is almost always a mistake.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if not -2**63 <= value < 2**63:
        raise ValueError(f"{name} must fit in a 64-bit integer (|{name}| < 2**63), got {format_count(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def as_float(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
             strict_minimum: bool = False, allow_inf: bool = False) -> float:
    """Return ``value`` as a finite Python float (or +-inf with ``allow_inf``; never NaN), or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if np.isnan(value) or (np.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be {'a number (inf allowed)' if allow_inf else 'finite'}, got {value}")
    if minimum is not None:
        if strict_minimum and value <= minimum:
            raise ValueError(f"{name} must be > {minimum}, got {value}")
        if not strict_minimum and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def format_count(n: int | float) -> str:
    """A count for messages, also for integers too large for a float (e.g. 2**2000).

    Examples
    --------
    >>> format_count(1234), format_count(2**2000)
    ('1234', '~1e602')
    """
    n = int(n)
    if abs(n) < 10**15:
        return str(n)
    return f"~1e{len(str(abs(n))) - 1}"


def check_limit(what: str, cost: float, limit: str, unit: str = "") -> None:
    """Refuse a request whose estimated ``cost`` exceeds ``plrnn_explorer.limits.<limit>``.

    The one place where request sizes are checked before work starts. The
    message names the request, the estimate, the limit and how to raise it.

    Examples
    --------
    >>> check_limit("max_order", 10**6, "max_order")
    Traceback (most recent call last):
    ...
    ValueError: max_order = 1000000 exceeds the limit plrnn_explorer.limits.max_order = 1000; raise it with plrnn_explorer.limits.max_order = 1000000 if you mean it
    """
    bound = getattr(limits, limit)
    if cost > bound:
        shown = format_count(cost) if float(cost).is_integer() or cost > 1e15 else f"{cost:.3g}"
        want = format_count(int(cost) + 1) if not float(cost).is_integer() else format_count(cost)
        raise ValueError(f"{what} = {shown}{unit} exceeds the limit plrnn_explorer.limits.{limit} = {bound}; "
                         f"raise it with plrnn_explorer.limits.{limit} = {want} if you mean it")


def search_work(dim: int, orders: Any, n_out: int, n_in: int) -> float:
    """Estimated flops of a SCYFI search: per order k, ``n_out * n_in`` candidate solves of about ``(2k - 1) M^3``.

    A candidate multiplies k - 1 Jacobians (2 M^3 each) and factors one
    M x M matrix (2/3 M^3); that is what the BLAS path (M >= 24) spends, at
    tens of GFLOP/s (a 1000-D order-1 search with 2,260 solves took 51 s).
    The heuristic's enrichment step may add solves beyond ``n_out * n_in``:
    this is the work a search certainly does, the one a limit can refuse.

    Examples
    --------
    >>> search_work(2, [1, 2], 10, 20)
    6400.0
    """
    return float(sum(float(n_out) * float(n_in) * (2 * k - 1) * float(dim) ** 3 for k in orders))


def as_seed(value: Any) -> int | None:
    """Validate a random seed: ``None``, a non-negative integer or a ``numpy.random.Generator``.

    The one validator of every ``seed=`` argument. From a Generator one
    63-bit integer is drawn (advancing it), so a result depends only on the
    Generator's state: two Generators in the same state give the same result.

    Examples
    --------
    >>> import numpy as np
    >>> as_seed(7), as_seed(None)
    (7, None)
    >>> as_seed(np.random.default_rng(0)) == as_seed(np.random.default_rng(0))
    True
    >>> as_seed(1.5)
    Traceback (most recent call last):
    ...
    TypeError: seed must be None, a non-negative integer or a numpy.random.Generator, got float 1.5
    """
    if value is None:
        return None
    if isinstance(value, np.random.Generator):
        return int(value.integers(0, 2**63, dtype=np.int64))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"seed must be None, a non-negative integer or a numpy.random.Generator, "
                        f"got {type(value).__name__} {value!r}")
    return as_int("seed", value, minimum=0)


def resolve_seed(value: Any) -> int:
    """:func:`as_seed`, with None replaced by fresh entropy: the int a run records to be reproducible.

    Examples
    --------
    >>> resolve_seed(3), 0 <= resolve_seed(None) < 2**63
    (3, True)
    """
    seed = as_seed(value)
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**63, dtype=np.int64))
    return seed


def as_orders(max_order: Any, orders: Any) -> list[int]:
    """Validate ``max_order`` / ``orders`` of a cycle search; return the sorted orders to search.

    Either ``orders`` (a non-empty sequence of positive ints, optionally capped by
    ``max_order``) or ``max_order`` alone (meaning 1..max_order) must be given.
    """
    if orders is None:
        if max_order is None:
            raise ValueError("give max_order (search orders 1..max_order) or orders=[...]")
        mo = as_int("max_order", max_order, minimum=1)
        check_limit("max_order", mo, "max_order")
        return list(range(1, mo + 1))
    if isinstance(orders, (str, bytes)) or not hasattr(orders, "__iter__"):
        raise TypeError(f"orders must be a sequence of positive integers, e.g. [1, 2, 16], "
                        f"got {type(orders).__name__} {orders!r}")
    if hasattr(orders, "__len__"):
        check_limit("len(orders)", len(orders), "max_order")
    out = sorted({as_int("orders[i]", k, minimum=1) for k in orders})
    check_limit("max(orders)", out[-1] if out else 0, "max_order")
    if not out:
        raise ValueError(f"orders must not be empty: give positive integers, e.g. [1, 2, 16], got {orders!r}")
    if max_order is not None:
        mo = as_int("max_order", max_order, minimum=1)
        out = [k for k in out if k <= mo]
        if not out:
            raise ValueError(f"orders must contain an order <= max_order = {mo}, got {sorted(set(orders))}")
    return out


def as_region_pool_args(n_trajectories: Any, n_steps: Any, n_box: Any, max_vertices: Any) -> tuple[int, int, int, int]:
    """Validated integer settings of :func:`plrnn_explorer.scyfi.region_pool` (before its numba kernel).

    Examples
    --------
    >>> as_region_pool_args(64, 200, 20000, 4096)
    (64, 200, 20000, 4096)
    >>> as_region_pool_args(1.5, 200, 20000, 4096)
    Traceback (most recent call last):
    ...
    TypeError: n_trajectories must be an integer, got float 1.5
    """
    out = (as_int("n_trajectories", n_trajectories, minimum=0), as_int("n_steps", n_steps, minimum=1),
           as_int("n_box", n_box, minimum=0), as_int("max_vertices", max_vertices, minimum=1))
    check_limit("n_trajectories * n_steps + n_box (sampled points)", out[0] * out[1] + out[2], "max_work")
    return out


def as_gate_patterns(name: str, value: Any, n_gates: int) -> np.ndarray:
    """A (n, G) uint8 array of gate patterns (0/1 rows), e.g. ``find_cycles(pool=...)``; may be empty.

    Examples
    --------
    >>> as_gate_patterns("pool", [[1, 0], [0, 1]], 2).tolist()
    [[1, 0], [0, 1]]
    >>> as_gate_patterns("pool", [[1, 0, 1]], 2)
    Traceback (most recent call last):
    ...
    ValueError: pool must be an (n, G) array of 0/1 gate patterns with G = 2, got shape (1, 3)
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an (n, G) array of 0/1 gate patterns, got a string")
    try:
        arr = np.asarray(value)
    except Exception:  # ragged nested lists
        raise TypeError(f"{name} must be an (n, G) array of 0/1 gate patterns (rows of equal length)") from None
    if arr.size == 0:
        return np.zeros((0, n_gates), np.uint8)
    if arr.ndim != 2 or arr.shape[1] != n_gates:
        raise ValueError(f"{name} must be an (n, G) array of 0/1 gate patterns with G = {n_gates}, "
                         f"got shape {arr.shape}")
    if not (arr.dtype == bool or (np.issubdtype(arr.dtype, np.number) and np.all((arr == 0) | (arr == 1)))):
        bad = np.unique(arr[(arr != 0) & (arr != 1)])[:3].tolist() if np.issubdtype(arr.dtype, np.number) \
            else str(arr.dtype)
        raise ValueError(f"{name} must contain only 0/1 (or False/True) entries, got {bad}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def as_itinerary_list(name: str, value: Any, n_gates: int) -> list[np.ndarray]:
    """A list of (k, G) bool itineraries, e.g. ``find_cycles(initial_itineraries=...)``.

    One itinerary given on its own (a (k, G) array instead of a list of them) is
    refused with a message saying so.

    Examples
    --------
    >>> [w.shape for w in as_itinerary_list("initial_itineraries", [[[1, 0]], [[0, 1], [1, 1]]], 2)]
    [(1, 2), (2, 2)]
    >>> as_itinerary_list("initial_itineraries", np.array([[1, 0], [0, 1]]), 2)
    Traceback (most recent call last):
    ...
    ValueError: initial_itineraries must be a list of (k, G) itineraries, got one (2, 2) array: wrap it in a list, [itinerary]
    """
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a list of (k, G) 0/1 itineraries, got {type(value).__name__}")
    if isinstance(value, np.ndarray) and value.ndim == 2:
        raise ValueError(f"{name} must be a list of (k, G) itineraries, got one {value.shape} array: "
                         "wrap it in a list, [itinerary]")
    out = []
    for i, w in enumerate(value):
        arr = as_gate_patterns(f"{name}[{i}]", w, n_gates)
        if arr.shape[0] == 0:
            raise ValueError(f"{name}[{i}] must be a (k, G) itinerary with at least one row (k >= 1), "
                             f"got shape {arr.shape}")
        out.append(arr.astype(bool))
    return out
