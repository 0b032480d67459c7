"""Example models from the paper and data generators.

Models: :func:`gt16` (Fig. 3), :func:`s7` (Fig. S7), :func:`skew_tent` (Fig. S6),
:func:`random_plrnn` (Fig. 2 regimes). Data: :func:`simulate_data` (any model,
optional process/observation noise), :func:`lorenz63`, :func:`hodgkin_huxley`
(a simulated spiking neuron standing in for the paper's unpublished
cortical-cell recording).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from . import _kernels
from ._validation import as_float, as_int, as_real_array, as_seed, check_limit, check_shape
from .models import PLRNN, Model, check_model

__all__ = ["gt16", "s7", "skew_tent", "random_plrnn", "uniform_plrnn", "mean_max_eigenvalue", "FIG2_REGIMES",
           "FIG2_UNIFORM",
           "simulate_data", "lorenz63", "hodgkin_huxley"]


def gt16() -> PLRNN:
    """The paper's 2-D ground-truth PLRNN "GT16" of Fig. 3 (a stable 16-cycle).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.systems.gt16()
    >>> any(c.stable for c in pe.find_cycles(m, 16, orders=[16], seed=0)[16])
    True
    """
    return PLRNN([0.8377689, 0.96461297], [[0.0, -0.64375], [0.52505308, 0.0]], [0.37298253, -0.97931491])


def s7(a_l: float) -> PLRNN:
    """The 2-D map of Fig. S7: ``A = [[a_l, 0.8], [-0.4, 0.2]]``, ``W = [[-1.5 - a_l, 0], [0.9, 0]]``, ``h = (0.214, 0)``.

    The slope right of the border is ``a_r = a_l + W[0, 0] = -1.5`` (full, non-diagonal A).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> float(pe.systems.s7(0.0).jacobian([1.0, 1.0])[0, 0])
    -1.5
    """
    a_l = as_float("a_l", a_l)
    return PLRNN([[a_l, 0.8], [-0.4, 0.2]], [[-1.5 - a_l, 0.0], [0.9, 0.0]], [0.214, 0.0])


def skew_tent(a_l: float, a_r: float, mu: float) -> PLRNN:
    """The 1-D border-collision normal form ``x' = a_l x + mu`` (x <= 0), ``a_r x + mu`` (x > 0).

    As a PLRNN: ``A = [a_l]``, ``W = [[a_r - a_l]]``, ``h = [mu]``.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pe.systems.skew_tent(0.2, 0.5, 1.0).step([1.0]), pe.systems.skew_tent(0.2, 0.5, 1.0).step([-1.0])
    (array([1.5]), array([0.8]))
    """
    a_l, a_r, mu = as_float("a_l", a_l), as_float("a_r", a_r), as_float("mu", mu)
    return PLRNN([a_l], [[a_r - a_l]], [mu])


# ---------------------------------------------------------------------------
# random PLRNNs for the scaling study (Fig. 2)
# ---------------------------------------------------------------------------

#: target mean max |eigenvalue| of the three regimes of Fig. 2
FIG2_REGIMES = {"attracting": 0.71, "intermediate": 1.25, "expanding": 2.33}


def _region_sample(M: int, n_regions: int, rng: np.random.Generator) -> np.ndarray:
    if 2 ** M <= n_regions:
        return ((np.arange(2 ** M)[:, None] >> np.arange(M)) & 1).astype(bool)
    return rng.random((n_regions, M)) < 0.5


def _mean_radius(A: np.ndarray, W: np.ndarray, regions: np.ndarray) -> float:
    jac = A[None] + W[None] * regions[:, None, :]      # A + W diag(r)
    return float(np.mean(np.max(np.abs(np.linalg.eigvals(jac)), axis=-1)))


def mean_max_eigenvalue(model: Model, *, n_regions: int = 256, seed: int | None = 0) -> float:
    """Mean over linear subregions of the spectral radius ``max |eig(J_r)|``.

    ``J_r = A + W_out diag(r) W_in`` is the Jacobian of region ``r``; the mean
    runs over all 2^G regions when ``2^G <= n_regions`` and over ``n_regions``
    uniformly random regions otherwise. This is the quantity
    :func:`random_plrnn` calibrates (our definition of the paper's
    ⟨λ_max⟩; the paper does not define it).

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pe.systems.mean_max_eigenvalue(pe.PLRNN([0.5], [[0.5]], [0.0]))   # (0.5 + 1.0) / 2
    0.75
    """
    cf = check_model(model).canonical
    n_regions = as_int("n_regions", n_regions, minimum=1)
    regions = _region_sample(cf.n_gates, n_regions, np.random.default_rng(as_seed(seed)))
    jac = cf.A[None] + np.einsum("ig,rg,gj->rij", cf.W_out, regions.astype(float), cf.W_in)
    return float(np.mean(np.max(np.abs(np.linalg.eigvals(jac)), axis=-1)))


def random_plrnn(M: int, target: float | str = "attracting", *, seed: int | None = None,
                 n_regions: int = 256) -> PLRNN:
    """A random M-D PLRNN whose mean max |eigenvalue| equals ``target``.

    Draws ``A = diag(U(0, 0.5))``, ``W`` with N(0, 1/M) off-diagonal entries
    and zero diagonal, ``h ~ N(0, 1)``, then scales W by the factor ``s`` (found
    by bisection) for which :func:`mean_max_eigenvalue` (over the regions fixed
    by ``seed``) equals ``target``. Fig. 2's regimes are in :data:`FIG2_REGIMES`:
    ``"attracting"`` (0.71), ``"intermediate"`` (1.25), ``"expanding"`` (2.33).
    The paper does not publish its generator; this one is ours.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.systems.random_plrnn(5, "intermediate", seed=1)
    >>> round(pe.systems.mean_max_eigenvalue(m, seed=1), 6)
    1.25
    """
    M = as_int("M", M, minimum=1)
    n_regions = as_int("n_regions", n_regions, minimum=1)
    n_jac = min(n_regions, 2 ** min(M, 62))
    check_limit(f"memory of the {n_jac} region Jacobians of random_plrnn(M={M})", 16.0 * n_jac * M * M / 2**30,
                "max_memory_gib", " GiB")
    check_limit(f"work of random_plrnn(M={M}) (flops)", 600.0 * n_jac * float(M) ** 3, "max_work")
    if isinstance(target, str):
        if target not in FIG2_REGIMES:
            raise ValueError(f"target must be a number > 0.5 or one of {list(FIG2_REGIMES)}, got {target!r}")
        target = FIG2_REGIMES[target]
    target = as_float("target", target, minimum=0.5, strict_minimum=True)
    rng = np.random.default_rng(as_seed(seed))
    a = rng.uniform(0.0, 0.5, M)
    W = rng.normal(0.0, 1.0 / np.sqrt(M), (M, M))
    np.fill_diagonal(W, 0.0)
    h = rng.normal(0.0, 1.0, M)
    regions = _region_sample(M, as_int("n_regions", n_regions, minimum=1), np.random.default_rng(as_seed(seed)))
    A = np.diag(a)
    if M == 1 or not np.any(W):  # W has no off-diagonal freedom: use a self-coupling
        W = np.eye(M)
    lo, hi = 0.0, 1.0
    while _mean_radius(A, hi * W, regions) < target:
        hi *= 2.0
        if hi > 1e12:
            raise ValueError(f"target must be reachable by scaling W: target = {target} cannot be reached with "
                             f"the random draw of seed={seed!r} (W scaled by 1e12 still falls short); try another "
                             "seed or a smaller target")
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if _mean_radius(A, mid * W, regions) < target:
            lo = mid
        else:
            hi = mid
    return PLRNN(a, hi * W, h)


#: settings of :func:`uniform_plrnn` for the three regimes of Fig. 2 (see its docstring)
FIG2_UNIFORM = {"attracting": {"scale": 1.0, "spectral_radius": 1.0},
                "intermediate": {"scale": 0.365, "spectral_radius": None},
                "expanding": {"scale": 1.0, "spectral_radius": None}}


def uniform_plrnn(M: int, scale: float = 1.0, *, spectral_radius: float | None = None,
                  seed: int | None = None) -> PLRNN:
    """A random M-D PLRNN with uniformly distributed parameters.

    ``A = diag(U(-scale, scale))``, ``W`` with U(-scale, scale) entries off
    the diagonal and a zero diagonal, ``h ~ U(-scale, scale)``. If
    ``spectral_radius`` is given, A and W are then divided by one common
    factor so that ``max |eig(diag(A) + W)| = spectral_radius``.

    This is our reading of the labels of the paper's Fig. 2 system groups
    ("-0.2_0.2", "-1_1", "EV1"); the generator itself is not published. With
    these draws the mean max |eigenvalue| over regions
    (:func:`mean_max_eigenvalue`) reproduces the paper's ⟨λ_max⟩ as an average
    over each group's dimensions (:data:`FIG2_UNIFORM`):

    * ``"attracting"``: scale 1 normalised to spectral radius 1 gives 0.71 at
      every M (paper: 0.71);
    * ``"expanding"``: scale 1 gives 1.4 at M = 10 rising to 3.1 at M = 50,
      2.3 on average over M = 10, 20, ..., 50 (paper: 2.33, same M);
    * ``"intermediate"``: scale 0.365 (our calibration) gives 0.5 at M = 10
      rising to 1.8 at M = 127, 1.25 on average over the paper's M grid.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> m = pe.systems.uniform_plrnn(4, 0.5, seed=0)
    >>> bool(np.all(np.abs(m.A) <= 0.5) and np.all(np.diag(m.W) == 0) and np.all(np.abs(m.h) <= 0.5))
    True
    >>> m = pe.systems.uniform_plrnn(6, spectral_radius=1.0, seed=0)
    >>> round(float(np.max(np.abs(np.linalg.eigvals(np.diag(m.A) + m.W)))), 12)
    1.0
    """
    M = as_int("M", M, minimum=1)
    scale = as_float("scale", scale, minimum=0.0, strict_minimum=True)
    if spectral_radius is not None:
        spectral_radius = as_float("spectral_radius", spectral_radius, minimum=0.0, strict_minimum=True)
    rng = np.random.default_rng(as_seed(seed))
    a = rng.uniform(-scale, scale, M)
    W = rng.uniform(-scale, scale, (M, M))
    np.fill_diagonal(W, 0.0)
    h = rng.uniform(-scale, scale, M)
    if spectral_radius is not None:
        radius = float(np.max(np.abs(np.linalg.eigvals(np.diag(a) + W))))
        if radius == 0.0:
            raise ValueError(f"spectral_radius={spectral_radius} cannot be imposed: the random draw of seed={seed!r} "
                             "has spectral radius 0; try another seed (or spectral_radius=None)")
        a, W = a * (spectral_radius / radius), W * (spectral_radius / radius)
    return PLRNN(a, W, h)


# ---------------------------------------------------------------------------
# data generators
# ---------------------------------------------------------------------------


@njit(cache=True)
def _simulate_noisy(A, W_out, W_in, b_in, h, z0, noise):
    n, M = noise.shape
    out = np.empty((n + 1, M))
    gate_buf = np.empty(W_in.shape[0])
    for m in range(M):      # element loop: an array assignment would compile numba's shape-error formatter
        out[0, m] = z0[m]
    for t in range(n):
        _kernels._step_into(A, W_out, W_in, b_in, h, out[t], gate_buf, out[t + 1])
        for m in range(M):
            out[t + 1, m] += noise[t, m]
    return out


def simulate_data(model: Model, n_steps: int, *, z0: Any = None, n_observed: int | None = None,
                  process_noise: float = 0.0, observation_noise: float = 0.0, burn_in: int = 0,
                  seed: int | None = None) -> np.ndarray:
    """Simulate ``model`` and return observations of its first ``n_observed`` units.

    ``z_{t+1} = F(z_t) + process_noise * eps_t`` and
    ``x_t = z_t[:N] + observation_noise * eta_t`` with standard normal noise.

    Parameters
    ----------
    model
        Any model.
    n_steps
        Number of returned time steps.
    z0
        Initial state (default: standard normal, seeded).
    n_observed
        N, default M.
    process_noise, observation_noise
        Noise standard deviations (>= 0).
    burn_in
        Steps simulated and discarded first.
    seed
        Seed of the initial state and the noise.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> pe.systems.simulate_data(pe.systems.skew_tent(0.2, 0.5, 1.0), 3, z0=[0.0]).ravel()
    array([0. , 1. , 1.5])
    """
    check_model(model)
    n_steps = as_int("n_steps", n_steps, minimum=1)
    burn_in = as_int("burn_in", burn_in, minimum=0)
    N = model.dim if n_observed is None else as_int("n_observed", n_observed, minimum=1, maximum=model.dim)
    sp = as_float("process_noise", process_noise, minimum=0.0)
    so = as_float("observation_noise", observation_noise, minimum=0.0)
    rng = np.random.default_rng(as_seed(seed))
    if z0 is None:
        z0 = rng.normal(size=model.dim)
    z0 = as_real_array("z0", z0, ndim=1)
    check_shape("z0", z0, (model.dim,), "(M,)")
    total = n_steps + burn_in
    noise = sp * rng.normal(size=(total - 1, model.dim))
    z = _simulate_noisy(*model.canonical.arrays, z0, noise)[burn_in:, :N]
    return z + so * rng.normal(size=z.shape)


def lorenz63(n_steps: int, *, dt: float = 0.01, sigma: float = 10.0, rho: float = 28.0,
             beta: float = 8.0 / 3.0, x0: Any = None, burn_in: int = 1000,
             seed: int | None = None) -> np.ndarray:
    """Lorenz-63 trajectory ``(n_steps, 3)`` sampled every ``dt``, integrated with ``scipy.integrate.solve_ivp``.

    ``x' = sigma (y - x)``, ``y' = x (rho - z) - y``, ``z' = x y - beta z``
    (RK45, rtol 1e-9, atol 1e-9); the first ``burn_in`` samples are discarded.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> x = pe.systems.lorenz63(200, seed=0)
    >>> x.shape, bool(x[:, 2].min() > 0)
    ((200, 3), True)
    """
    from scipy.integrate import solve_ivp

    n_steps = as_int("n_steps", n_steps, minimum=1)
    burn_in = as_int("burn_in", burn_in, minimum=0)
    dt = as_float("dt", dt, minimum=0.0, strict_minimum=True)
    sigma, rho, beta = as_float("sigma", sigma), as_float("rho", rho), as_float("beta", beta)
    if x0 is None:
        x0 = np.random.default_rng(as_seed(seed)).normal(0.0, 1.0, 3) + np.array([1.0, 1.0, 20.0])
    x0 = as_real_array("x0", x0, ndim=1)
    check_shape("x0", x0, (3,), "(3,)")

    def rhs(_t: float, s: np.ndarray) -> list[float]:
        x, y, z = s
        return [sigma * (y - x), x * (rho - z) - y, x * y - beta * z]

    total = n_steps + burn_in
    t_eval = dt * np.arange(total)
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), x0, t_eval=t_eval, rtol=1e-9, atol=1e-9)
    return sol.y.T[burn_in:]


def hodgkin_huxley(n_steps: int, *, dt: float = 0.1, current: float = 10.0, burn_in: int = 500,
                   variables: tuple[str, ...] = ("V",)) -> np.ndarray:
    """Simulated Hodgkin-Huxley neuron, sampled every ``dt`` ms.

    **A substitute** for the paper's rodent cortical-neuron membrane-potential
    recording (Fig. 4), which is not public: a classic squid-axon
    Hodgkin-Huxley model (Hodgkin & Huxley 1952; modern sign convention,
    resting potential about -65 mV) driven by a constant current
    ``current`` (µA/cm²; 10 gives regular spiking at about 68 Hz), integrated with
    ``scipy.integrate.solve_ivp`` (LSODA, rtol 1e-8).

    ``C V' = I - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L)``
    with ``C = 1``, ``g = (120, 36, 0.3)`` mS/cm², ``E = (50, -77, -54.387)`` mV
    and the standard rate functions of m, h, n.

    Parameters
    ----------
    n_steps
        Number of samples returned (after ``burn_in`` discarded samples).
    dt
        Sampling interval in ms.
    current
        Injected current in µA/cm².
    variables
        Which of ``"V"`` (mV), ``"m"``, ``"h"``, ``"n"`` to return, as columns.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> v = pe.systems.hodgkin_huxley(1000)[:, 0]          # 100 ms
    >>> n_spikes = int(np.sum((v[1:] > 0) & (v[:-1] <= 0)))
    >>> 5 <= n_spikes <= 8
    True
    """
    from scipy.integrate import solve_ivp

    n_steps = as_int("n_steps", n_steps, minimum=1)
    burn_in = as_int("burn_in", burn_in, minimum=0)
    dt = as_float("dt", dt, minimum=0.0, strict_minimum=True)
    current = as_float("current", current)
    names = ("V", "m", "h", "n")
    if isinstance(variables, str) or not variables or any(v not in names for v in variables):
        raise ValueError(f"variables must be a non-empty tuple of names from {names}, got {variables!r}")

    def rates(V: float) -> tuple[float, ...]:
        am = 0.1 * (V + 40.0) / (1.0 - np.exp(-(V + 40.0) / 10.0)) if V != -40.0 else 1.0
        bm = 4.0 * np.exp(-(V + 65.0) / 18.0)
        ah = 0.07 * np.exp(-(V + 65.0) / 20.0)
        bh = 1.0 / (1.0 + np.exp(-(V + 35.0) / 10.0))
        an = 0.01 * (V + 55.0) / (1.0 - np.exp(-(V + 55.0) / 10.0)) if V != -55.0 else 0.1
        bn = 0.125 * np.exp(-(V + 65.0) / 80.0)
        return am, bm, ah, bh, an, bn

    def rhs(_t: float, s: np.ndarray) -> list[float]:
        V, m, h, n = s
        am, bm, ah, bh, an, bn = rates(V)
        i_ion = 120.0 * m ** 3 * h * (V - 50.0) + 36.0 * n ** 4 * (V + 77.0) + 0.3 * (V + 54.387)
        return [current - i_ion, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]

    total = n_steps + burn_in
    t_eval = dt * np.arange(total)
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), [-65.0, 0.05, 0.6, 0.32], t_eval=t_eval,
                    method="LSODA", rtol=1e-8, atol=1e-8)
    states = sol.y.T[burn_in:]
    return np.ascontiguousarray(states[:, [names.index(v) for v in variables]])
