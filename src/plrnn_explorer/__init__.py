"""plrnn_explorer: exact dynamical-systems analysis of ReLU-based recurrent networks.

Implements SCYFI (Eisenmann, Monfared, Göring, Durstewitz, NeurIPS 2023,
"Bifurcations and loss jumps in RNN training") to find all fixed points and
k-cycles of piecewise-linear RNNs, and builds bifurcation and training
analysis on top of it.

Examples
--------
>>> import numpy as np, plrnn_explorer as pe
>>> m = pe.PLRNN([0.2], [[-1.7]], [1.0])
>>> res = pe.find_cycles(m, max_order=2, seed=0)
>>> res.counts()
{1: 1, 2: 1}
"""

from .attraction import basins
from .canonical_model import CanonicalPLRNN
from .bifurcations import (BifurcationEvent, BifurcationMap, Sweep, TrainingAnalysis, analyze_training,
                           bifurcation_map, load_bifurcation_map, sweep)
from .cycles import Cycle, CycleSet, DegenerateItinerary, classify_multipliers
from .exhaustive import exhaustive_cycles
from .io import load_model, save_model
from .itineraries import cycle_from_itinerary
from .models import ALRNN, PLRNN, CanonicalForm, ClippedShallowPLRNN, Model, ShallowPLRNN
from .projection import Projection
from .scyfi import default_budgets, find_cycles, region_pool
from . import io, plotting, systems, training  # noqa: E402
from .training import TrainingRun, loss_landscape, train

__version__ = "0.1.0"

__all__ = [
    "ALRNN", "PLRNN", "ShallowPLRNN", "ClippedShallowPLRNN", "CanonicalPLRNN", "Model", "CanonicalForm",
    "Cycle", "CycleSet", "DegenerateItinerary", "classify_multipliers",
    "find_cycles", "default_budgets", "region_pool", "exhaustive_cycles", "cycle_from_itinerary",
    "save_model", "load_model",
    "basins", "Projection",
    "train", "TrainingRun", "loss_landscape", "training", "systems", "io", "plotting",
    "sweep", "bifurcation_map", "analyze_training", "load_bifurcation_map", "BifurcationEvent", "Sweep",
    "BifurcationMap", "TrainingAnalysis",
]
