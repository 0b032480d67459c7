"""Linked Jupyter panels for exploring PLRNN dynamics (ipywidgets + ipympl).

Use ``%matplotlib widget`` in the notebook. Panels share one
:class:`ExplorerState` and react to its traits only, so each one can be used
alone or composed:

- :class:`ParameterPanel`: sliders and number boxes for parameter entries;
- :class:`PhasePortrait`: cycles, trajectories, switching borders, basins;
- :class:`BifurcationMapPanel`: a 2-parameter bifurcation map, computed in
  cancellable chunks; clicking a cell moves the model there;
- :class:`BifurcationDiagramPanel`: cycles against one parameter (stable
  solid, unstable dashed, events labelled), with an optional orbit diagram;
  clicking moves the model there;
- :class:`TrainingPanel`: a loss curve with bifurcation events; an epoch
  slider picks a checkpoint;
- :class:`Explorer`: all of them together, with traitlets ``model`` and ``cycles``.

Examples
--------
>>> import plrnn_explorer as pe
>>> from plrnn_explorer import widgets
>>> gt16 = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
>>> ex = widgets.Explorer(gt16, max_order=16)
>>> [(c.order, c.kind) for c in ex.cycles.stable]
[(16, 'stable spiral')]
>>> ex.model = gt16.set_param("A[0,0]", 0.9)       # exact, always
>>> ex.model.get_param("A[0,0]"), ex.parameters.boxes["A[0,0]"].value
(0.9, '0.9')
"""

from .bifurcation_panel import BifurcationMapPanel
from .diagram_panel import BifurcationDiagramPanel
from .explorer import Explorer
from .parameter_panel import ParameterPanel
from .phase_portrait import PhasePortrait
from .state import ExplorerState
from .training_panel import TrainingPanel

__all__ = ["BifurcationDiagramPanel", "BifurcationMapPanel", "Explorer", "ExplorerState", "ParameterPanel", "PhasePortrait", "TrainingPanel"]
