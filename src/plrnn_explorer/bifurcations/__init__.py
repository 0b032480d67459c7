"""Bifurcation analysis: sweeps, two-parameter maps and training trajectories.

* :func:`sweep` — cycles along one parameter and the located, classified
  bifurcation events between values (:class:`BifurcationEvent`).
* :func:`bifurcation_map` — existence and stability regions of all cycles up
  to an order over a 2-D parameter grid, with boundary segments labelled by
  event kind.
* :func:`analyze_training` — bifurcations between consecutive checkpoints of a
  training run, located at fractional epochs.

See :mod:`.events` for what each event kind means for piecewise-linear maps
and :mod:`._engine` for how grids are searched (batch SCYFI + continuation).
"""

from ._common import map_budgets
from .events import EVENT_KINDS, BifurcationEvent
from .grid import BifurcationMap, BoundarySegment, bifurcation_map, load_bifurcation_map
from .sweep import Sweep, sweep
from .training_analysis import TrainingAnalysis, analyze_training

__all__ = ["BifurcationEvent", "EVENT_KINDS", "Sweep", "sweep", "BifurcationMap", "BoundarySegment",
           "bifurcation_map", "load_bifurcation_map", "TrainingAnalysis", "analyze_training", "map_budgets"]
