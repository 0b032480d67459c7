"""The look-ahead step control of pe.train (our definition of the look-ahead of Fig. S12)."""

import numpy as np
import pytest

import plrnn_explorer as pe


@pytest.fixture
def problem():
    truth = pe.PLRNN([0.5, 0.3], [[0, -0.4], [0.6, 0]], [0.5, -0.2])
    data = truth.simulate([1.0, 0.0], 40)
    return truth.replace(h=[0.0, 0.0]), data


def reference(start, data, n, lr, ahead):
    """Plain loop: SGD on h; halve the step (at most 5 times) while the loss `ahead` steps along it is > 1.1 x."""
    loss = lambda h: pe.training.loss_and_gradient(start.replace(h=h), data, method="gtf", alpha=0.2,
                                                   params=["h"])
    h = start.h.copy()
    out = [h.copy()]
    for _ in range(n):
        value, g = loss(h)
        step = -lr * g["h"]
        for _ in range(5):
            if loss(h + ahead * step)[0] <= 1.1 * value:
                break
            step = step / 2
        h = h + step
        out.append(h.copy())
    return np.array(out)


def test_lookahead_matches_a_plain_reference(problem):
    start, data = problem
    kw = dict(method="gtf", alpha=0.2, optimizer="sgd", lr=0.4, params=["h"], seed=0)
    run = pe.train(start, data, 15, lookahead=10, **kw)
    got = np.array([m.h for m in run.checkpoints])
    assert np.allclose(got, reference(start, data, 15, 0.4, 10), rtol=1e-10, atol=1e-12)
    plain = pe.train(start, data, 15, **kw)
    assert not np.allclose(np.array([m.h for m in plain.checkpoints]), got)   # the control did act
    assert run.settings["lookahead"] == 10 and "lookahead" not in plain.settings
    zero = pe.train(start, data, 15, lookahead=0, **kw)
    assert np.array_equal(np.array([m.h for m in zero.checkpoints]), np.array([m.h for m in plain.checkpoints]))


def test_lookahead_bad_input(problem):
    start, data = problem
    with pytest.raises(ValueError, match="lookahead"):
        pe.train(start, data, 2, lookahead=-1)
