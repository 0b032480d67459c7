"""Reliability: one spelling per parameter entry, atomic saves, interruptible long calls, cost limits."""

from __future__ import annotations

import json

import numpy as np
import pytest

import plrnn_explorer as pe

TENT = dict(A=[0.2], W=[[-1.7]], h=[1.0])


# -- one canonical path per entry ------------------------------------------------
@pytest.mark.parametrize("a,b", [("A[0]", "A[0,0]"), ("W[0,0]", "W[-1,-1]"), ("A[0, 0]", " A[0,0] "),
                                 ("h[0]", "h[-1]")])
def test_two_spellings_of_one_entry_are_rejected_by_map(a, b):
    m = pe.PLRNN(**TENT)
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.bifurcation_map(m, (a, [0.1, 0.2]), (b, [0.3, 0.4]), 1, seed=0)


def test_two_spellings_of_one_entry_are_rejected_by_landscape():
    m = pe.PLRNN([0.5, 0.5], [[0, 1], [1, 0]], [0.1, 0.2])
    data = m.simulate([0.1, 0.2], 20)
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.loss_landscape(m, data, ("A[0]", [0.1, 0.2]), ("A[0,0]", [0.3, 0.4]))
    with pytest.raises(ValueError, match="address the same parameter entry"):
        pe.loss_landscape(m, data, ("W[0,1]", [0.1, 0.2]), ("W[-2,-1]", [0.3, 0.4]))


def test_map_labels_are_canonical():
    m = pe.PLRNN([0.2, 0.3], [[0, 1], [1, 0]], [1.0, 0.0])
    bm = pe.bifurcation_map(m, ("A[-1]", [0.1, 0.2]), (" W[0, -1] ", [0.3, 0.4]), 1, seed=0, boundaries=False)
    assert (bm.param_x, bm.param_y) == ("A[1,1]", "W[0,1]")
    assert bm.model_at(1, 0).get_param("A[1,1]") == 0.1 and bm.model_at(1, 0).get_param("W[0,1]") == 0.4
    sw = pe.sweep(m, "A[-1]", [0.1, 0.2], 1, seed=0)
    assert sw.param == "A[1,1]"


def test_canonical_path_forms():
    m = pe.ShallowPLRNN([0.5, 0.5], np.ones((2, 3)), np.ones((3, 2)), [0, 0], [0, 0, 0])
    assert m.canonical_path("W1[-1,-1]") == "W1[1,2]"
    assert m.canonical_path("A[1]") == "A[1,1]"
    assert m.canonical_path("h2 [ -1 ]") == "h2[2]"
    with pytest.raises(ValueError, match=r"W1\[i,j\]' with 0 <= i < 2, 0 <= j < 3"):
        m.canonical_path("W1[2,0]")
