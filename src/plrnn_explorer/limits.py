"""Size limits of a single request, checked before any work starts.

A request whose estimated cost exceeds a limit is refused at once with a
``ValueError`` that names the limit, instead of running for hours or
exhausting memory. The limits are generous; raise one if you mean it:

>>> import plrnn_explorer as pe
>>> pe.limits.max_order
1000
>>> pe.limits.max_order = 5000      # doctest: +SKIP

Attributes
----------
max_order
    Highest cycle order a search accepts.
max_work
    Estimated floating-point operations of one request (1e13 is a few
    minutes on one core at BLAS speed; a 1000-D order-1 cycle search is
    2e12).
max_memory_gib
    Estimated memory of one request's largest arrays, GiB.
max_grid_points
    Parameter values of a sweep, or cells of a map or loss landscape.
"""

max_order: int = 1000
max_work: float = 1e13
max_memory_gib: float = 8.0
max_grid_points: int = 10**7
