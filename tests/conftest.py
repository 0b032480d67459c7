"""Shared fixtures and hypothesis strategies for random small models."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import plrnn_explorer as pe

sys.path.insert(0, os.path.dirname(__file__))

# A test run started in the background of a non-interactive shell (`pytest ... &`, `nohup ... &` in a script)
# inherits SIGINT ignored, and Python then installs no KeyboardInterrupt handler: every Ctrl-C test would wait
# for an interrupt that never comes, and the CLI processes they start would inherit the ignored signal too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

MODEL_KINDS = ("PLRNN", "ShallowPLRNN", "ClippedShallowPLRNN", "ALRNN")


def coupled_tents(M: int, seed: int, coupling: float = 0.2) -> pe.PLRNN:
    """M chaotic skew-tent units (slopes ~0.9 and ~-2.6), full A: thousands of unstable cycles."""
    rng = np.random.default_rng(seed)
    a_l, a_r = rng.uniform(0.85, 0.95, M), rng.uniform(-3.0, -2.3, M)
    A = np.diag(a_l) + coupling * rng.normal(size=(M, M)) * (1 - np.eye(M))
    return pe.PLRNN(A, np.diag(a_r - a_l), np.ones(M))


def random_model(rng: np.random.Generator, kind: str, M: int, H: int = 2, scale: float = 1.0):
    """A random model of ``kind`` with latent dimension M (H hidden units for shallow models)."""
    A = rng.uniform(-1, 1, M)
    if kind == "PLRNN":
        return pe.PLRNN(A, scale * rng.normal(size=(M, M)), rng.normal(size=M))
    if kind == "ALRNN":
        return pe.ALRNN(A, scale * rng.normal(size=(M, M)), rng.normal(size=M), int(rng.integers(0, M + 1)))
    cls = pe.ShallowPLRNN if kind == "ShallowPLRNN" else pe.ClippedShallowPLRNN
    return cls(A, scale * rng.normal(size=(M, H)), rng.normal(size=(H, M)), rng.normal(size=M), rng.normal(size=H))


@st.composite
def small_models(draw, max_gates: int = 4):
    """Random models with G <= max_gates gates and M <= 3."""
    kind = draw(st.sampled_from(MODEL_KINDS))
    M = draw(st.integers(1, 3))
    H = draw(st.integers(1, max_gates // 2 if kind == "ClippedShallowPLRNN" else max_gates))
    seed = draw(st.integers(0, 2**32 - 1))
    model = random_model(np.random.default_rng(seed), kind, M, H)
    if model.n_gates > max_gates:
        model = random_model(np.random.default_rng(seed), "PLRNN", min(M, max_gates))
    return model


@pytest.fixture
def gt16():
    """The paper's Fig. 3 ground-truth system with a stable 16-cycle."""
    return pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
