"""Matplotlib plotting functions. Each takes an optional ``ax=`` and returns it.

Sub-modules: ``phase`` (phase portraits), ``bifurcation`` (bifurcation
diagrams and maps), ``training`` (loss curves and landscapes).
"""

from .phase import phase_portrait, plot_basins, plot_borders, plot_cycles, plot_trajectory  # noqa: E402,F401
from .training import plot_gradient_divergence, plot_landscape, plot_training  # noqa: E402,F401
from .bifurcation import plot_map, plot_sweep, plot_training_events  # noqa: E402,F401
