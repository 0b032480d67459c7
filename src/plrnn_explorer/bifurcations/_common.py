"""Shared helpers of sweeps, maps and training analyses."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._validation import as_int, as_seed, check_limit
from ..cycles import CycleSet, cycle_sort_key
from ..itineraries import build_cycle
from ..models import Model
from ..scyfi import default_budgets, region_pool, unique_patterns
from ._engine import GridCycles

__all__ = ["base_seed", "orders_upto", "shared_pool", "cycle_set", "map_budgets"]


def base_seed(seed: Any) -> int:
    """A 64-bit base seed from the user's seed (fresh entropy for None)."""
    seed = as_seed(seed)
    return int(np.random.SeedSequence(seed).generate_state(1, dtype=np.uint64)[0])


def orders_upto(max_order: Any) -> list[int]:
    """Orders 1..max_order, validating max_order >= 1."""
    mo = as_int("max_order", max_order, minimum=1)
    check_limit("max_order", mo, "max_order")
    return list(range(1, mo + 1))


def map_budgets(order: int) -> tuple[int, int]:
    """Reduced loop budgets ``(N_out, N_in)`` of the search phase of grids.

    Continuation spreads every cycle found anywhere in its existence region
    to the whole region, so each point needs far less random search than a
    stand-alone :func:`~plrnn_explorer.find_cycles` call: half the paper's
    N_out (at least 10) and at most 20 inner steps.

    Examples
    --------
    >>> map_budgets(1), map_budgets(16)
    ((10, 20), (20, 20))
    """
    n_out, n_in = default_budgets(order)
    return max(10, n_out // 2), min(n_in, 20)


def shared_pool(models: Sequence[Model], seed: int | None) -> np.ndarray:
    """Region pool for the whole grid: union of the pools of a few sample models (empty if full rank)."""
    pools = [region_pool(m, seed=0 if seed is None else seed) for m in models]
    if all(len(p) == 0 for p in pools):
        return pools[0]
    return unique_patterns(np.concatenate([p for p in pools if len(p)]))


def cycle_set(grid: GridCycles, p: int, model: Model) -> CycleSet:
    """The :class:`CycleSet` of point ``p`` of a grid search (cycles rebuilt with accurate points)."""
    cf = model.canonical
    by_order = {k: [] for k in grid.orders}
    for w in grid.words_at(p):
        c = build_cycle(cf, w)
        if c is not None:
            by_order[c.order].append(c)
    by_order = {k: sorted(v, key=cycle_sort_key) for k, v in by_order.items()}
    return CycleSet(list(grid.orders), by_order, {"source": "grid search", "point": int(p)})


def check_grid_size(what: str, n_points: int, model: Model) -> None:
    """Refuse a grid whose number of points or stacked canonical arrays exceed the limits."""
    check_limit(what, n_points, "max_grid_points")
    cf = model.canonical
    per_point = 8.0 * (cf.dim * cf.dim + 2 * cf.dim * cf.n_gates + cf.n_gates + cf.dim)
    check_limit(f"memory of the stacked models of {what}", n_points * per_point / 2**30, "max_memory_gib", " GiB")
