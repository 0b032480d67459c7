"""Fuzzing the public API, the files and the command line with hostile input (hypothesis).

The promise checked for every generated case:

* a call either works or raises ``ValueError``, ``TypeError`` or
  ``FileNotFoundError`` whose message names the offending argument (or the
  file); never a numba ``TypingError``, ``IndexError``, ``KeyError``,
  ``LinAlgError``, ``OverflowError``, ``MemoryError`` or ``RecursionError``;
* no call hangs: each runs under a SIGALRM guard;
* a save that fails leaves the previous file intact and readable;
* the CLI exits 0, 2 or 130 with at most a one-line message, never a traceback.

``test_zz_report_counts`` prints how many cases were tried and handled.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plrnn_explorer as pe
from plrnn_explorer.cli import main

ALLOWED = (ValueError, TypeError, FileNotFoundError)
#: seconds a single call may take (generous: the machine is shared, numba may compile on first use)
GUARD_SECONDS = 60
COUNTS: Counter = Counter()
#: examples per test (raise with PLRNN_FUZZ_EXAMPLES=500 for a longer hunt)
N_EXAMPLES = int(os.environ.get("PLRNN_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=N_EXAMPLES, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def _small_work_limit(monkeypatch):
    """Fuzz under a small work limit: large requests must be refused at once, the rest finish quickly."""
    monkeypatch.setattr(pe.limits, "max_work", 1e10)


class Hang(Exception):
    """Raised by the SIGALRM guard."""


@contextlib.contextmanager
def guard(seconds: float = GUARD_SECONDS):
    def on_alarm(signum, frame):
        raise Hang(f"call still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


#: a message states the expected form (or the remedy) with one of these phrases
EXPECTED_FORM = re.compile(r"\bmust\b|\bexpected?\b|\bone of\b|\be\.g\.|\bsuch as\b|\bneeds?\b|\bpass\b|\bgive\b|"
                           r"exceeds the limit|\bis not an?\b|does not exist|\bof the form\b|\bwrap it\b|"
                           r"\bonly\b|\bnot (?:a )?(?:valid|readable)\b", re.IGNORECASE)


#: argparse's own refusals, which name the option and what it takes
ARGPARSE_FORMS = re.compile(r"required: |invalid \w+ value|unrecognized arguments|expected one argument|"
                            r"invalid choice|not allowed with argument")


def test_message_check_refuses_vague_messages():
    check_message("f", "max_order must be >= 1, got 0", ("max_order",))
    with pytest.raises(AssertionError, match="names none of"):
        check_message("f", "bad value 0", ("max_order",))
    with pytest.raises(AssertionError, match="does not state the expected form"):
        check_message("f", "max_order: 0", ("max_order",))


def check_message(family: str, msg: str, names: tuple[str, ...]) -> None:
    """The message names the argument (one of ``names``) and states the expected form (:data:`EXPECTED_FORM`)."""
    assert any(n.lower() in msg.lower() for n in names), f"{family}: message names none of {names}: {msg!r}"
    assert EXPECTED_FORM.search(msg), f"{family}: message does not state the expected form: {msg!r}"


def check(family: str, call, names: tuple[str, ...]):
    """Run ``call`` under the guard and assert the promise; ``names``: words a message may name."""
    COUNTS[family, "tried"] += 1
    try:
        with guard(), np.errstate(all="ignore"):
            out = call()
    except ALLOWED as exc:
        msg = str(exc)
        check_message(family, msg, names)
        COUNTS[family, "handled"] += 1
        COUNTS[family, "refused"] += 1
        return None
    except Hang:
        pytest.fail(f"{family}: hang")
    except Exception as exc:  # noqa: BLE001 - this is the point of the test
        pytest.fail(f"{family}: {type(exc).__name__}: {exc}")
    COUNTS[family, "handled"] += 1
    return out


# -- strategies ----------------------------------------------------------------------------
finite = st.floats(-3, 3, allow_nan=False)
hostile_float = st.one_of(finite, st.sampled_from([0.0, -0.0, 1e308, -1e308, 1e-320, np.inf, -np.inf, np.nan]))
hostile_scalar = st.one_of(hostile_float, st.integers(-2**70, 2**70), st.booleans(), st.none(),
                           st.text(max_size=4), st.just(1 + 2j))
shapes = st.sampled_from([(), (0,), (1,), (2,), (3,), (2, 2), (1, 1), (2, 3), (3, 2), (0, 0), (2, 2, 2)])


@st.composite
def hostile_arrays(draw):
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(hostile_scalar)
    if kind == 1:
        return [[1.0, 2.0], [3.0]]                # ragged
    if kind == 2:
        return draw(st.lists(st.text(max_size=2), max_size=3))
    shape = draw(shapes)
    arr = np.array(draw(st.lists(hostile_float, min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                   dtype=float).reshape(shape)
    if kind == 3:
        return arr.tolist()
    if kind == 4:
        return arr.astype(complex) + 1j
    return arr


@st.composite
def paths(draw):
    alphabet = "AWhW12[]0123456789,- x"
    if draw(st.booleans()):
        name = draw(st.sampled_from(["A", "W", "h", "W1", "B", "a", ""]))
        idx = draw(st.lists(st.integers(-4, 4), max_size=3))
        return f"{name}[{', '.join(map(str, idx))}]" if draw(st.booleans()) else f"{name}[{','.join(map(str, idx))}]"
    return draw(st.one_of(st.text(alphabet, max_size=10), st.integers(), st.none()))


def one_broken(data, good: dict, bad: dict) -> dict:
    """Arguments drawn from ``good``, except (in half of the cases) one drawn from ``bad``: odd input next to
    valid input, so that each case gets past the other checks."""
    names = list(good)
    broken = data.draw(st.sampled_from([None] * len(names) + names))
    return {k: data.draw(bad[k] if k == broken and k in bad else good[k]) for k in names}


TENT = pe.PLRNN([0.2], [[-1.7]], [1.0])
GT = pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])
SHALLOW = pe.ShallowPLRNN([0.5, 0.5], np.ones((2, 3)), np.ones((3, 2)), [0, 0], [1.0, -1.0, 0.5])
MODELS = st.sampled_from([TENT, GT, SHALLOW])


# -- models ----------------------------------------------------------------------------------
@st.composite
def plrnn_args(draw):
    """Mostly well-shaped (A, W, h) with odd values (half of the cases), else anything."""
    if draw(st.booleans()):
        return draw(hostile_arrays()), draw(hostile_arrays()), draw(hostile_arrays())
    M = draw(st.integers(1, 3))
    val = st.one_of(finite, finite, finite, hostile_float)
    A = draw(st.lists(val, min_size=M, max_size=M))
    W = [draw(st.lists(val, min_size=M, max_size=M)) for _ in range(M)]
    h = draw(st.lists(val, min_size=M, max_size=M))
    return (np.diag(A) if draw(st.booleans()) else A), W, h


@FUZZ
@given(args=plrnn_args())
def test_fuzz_model_constructors(args):
    A, W, h = args
    check("PLRNN(...)", lambda: pe.PLRNN(A, W, h), ("A", "W", "h"))
    check("ShallowPLRNN(...)", lambda: pe.ShallowPLRNN(A, W, W, h, h), ("A", "W1", "W2", "h1", "h2"))


@FUZZ
@given(model=MODELS, path=paths(), value=hostile_scalar)
def test_fuzz_parameter_paths(model, path, value):
    check("get_param", lambda: model.get_param(path), ("param", "path"))
    check("set_param", lambda: model.set_param(path, value), ("param", "path", "value"))
    check("canonical_path", lambda: model.canonical_path(path), ("param", "path"))


@FUZZ
@given(data=st.data(), model=MODELS)
def test_fuzz_model_methods(data, model):
    a = one_broken(data, {"z": st.lists(hostile_float, min_size=model.dim, max_size=model.dim),
                          "n": st.integers(1, 50)}, {"z": hostile_arrays(), "n": hostile_scalar})
    z, n = a["z"], a["n"]
    check("simulate", lambda: model.simulate(z, n if not isinstance(n, int) or n < 500 else 3),
          ("z0", "n_steps"))
    check("jacobian", lambda: model.jacobian(z), ("z",))
    check("region", lambda: model.region(z), ("z",))


# -- searches --------------------------------------------------------------------------------
orders_arg = st.one_of(st.none(), st.integers(-3, 4), st.sampled_from([10**6, 2**70, 2.0, "3", True]))
budget_arg = st.one_of(st.none(), st.integers(-2, 30), st.sampled_from([2**62, 2**70, 1.5, "10"]))


@FUZZ
@given(data=st.data(), model=MODELS)
def test_fuzz_find_cycles(data, model):
    a = one_broken(data, {"max_order": st.integers(1, 4), "orders": st.none(), "outer": st.none(),
                          "inner": st.integers(0, 30), "seed": st.integers(0, 3)},
                   {"max_order": orders_arg, "orders": st.one_of(st.lists(orders_arg, max_size=3), st.just("1-3"),
                                                                 st.just([1, 10**9])),
                    "outer": budget_arg, "inner": budget_arg, "seed": st.sampled_from([-2, 1.5, "x", 2**70])})
    max_order, orders, outer, inner, seed = a["max_order"], a["orders"], a["outer"], a["inner"], a["seed"]
    names = ("max_order", "orders", "outer_loop_iterations", "inner_loop_iterations", "seed", "limits.")
    check("find_cycles", lambda: pe.find_cycles(model, max_order, orders=orders, outer_loop_iterations=outer,
                                                inner_loop_iterations=inner, seed=seed), names)
    check("exhaustive_cycles", lambda: pe.exhaustive_cycles(model, max_order, orders=orders),
          names + ("exhaustive search needs",))


@FUZZ
@given(model=MODELS, kw=st.fixed_dictionaries({}, optional={
    "n_trajectories": st.one_of(st.integers(-2, 8), st.just(1.5), st.just(2**70)),
    "n_steps": st.one_of(st.integers(-2, 50), st.just("x")),
    "n_box": st.one_of(st.integers(-2, 100), st.just(None)),
    "max_vertices": st.integers(-2, 50)}))
def test_fuzz_region_pool(model, kw):
    check("region_pool", lambda: pe.scyfi.region_pool(model, **kw), tuple(kw) + ("limits.",))


# -- bifurcations and landscapes ------------------------------------------------------------
good_values = st.builds(lambda lo, n, step, rev: (lo + step * np.arange(n))[::-1 if rev else 1],
                        finite, st.integers(1, 4), st.floats(0.01, 1.0), st.booleans())
values_arg = st.one_of(good_values, good_values, good_values, st.lists(hostile_float, max_size=4), hostile_scalar,
                       st.just([0.1, 0.1]))


@st.composite
def model_paths(draw, model):
    """A real entry of ``model`` in one of its spellings (negative indices, "A[i]" for "A[i,i]", spaces)."""
    canon = draw(st.sampled_from(model.param_paths()))
    name, idx = canon.split("[")
    idx = [int(i) for i in idx[:-1].split(",")]
    shape = model._params[name].shape if name not in model._square_params else (model.dim, model.dim)
    spelled = [i - shape[j] if draw(st.booleans()) else i for j, i in enumerate(idx)]
    if name in model._square_params and idx[0] == idx[1] and draw(st.booleans()):
        spelled = spelled[:1]
    sep = draw(st.sampled_from([",", ", ", " , "]))
    return draw(st.sampled_from(["", " "])) + f"{name}[{sep.join(map(str, spelled))}]"


@FUZZ
@given(data=st.data(), model=MODELS)
def test_fuzz_map_and_sweep(data, model):
    a = one_broken(data, {"px": model_paths(model), "py": model_paths(model), "xs": good_values, "ys": good_values,
                          "max_order": st.integers(1, 2), "chunk": st.one_of(st.none(), st.integers(1, 3)),
                          "cancel": st.sampled_from([None, lambda: False])},
                   {"px": paths(), "py": paths(), "xs": values_arg, "ys": values_arg,
                    "max_order": st.sampled_from([-1, 0, 10**6, 2.0]), "chunk": st.sampled_from([-2, 0, 1.5]),
                    "cancel": st.sampled_from([True, "x"])})
    px, py, xs, ys, max_order, chunk, cancel = (a[k] for k in ("px", "py", "xs", "ys", "max_order", "chunk",
                                                               "cancel"))
    names = ("x", "y", "param", "values", "max_order", "chunk_size", "cancel", "limits.", "family")
    check("bifurcation_map", lambda: pe.bifurcation_map(model, (px, xs), (py, ys), max_order, seed=0,
                                                        chunk_size=chunk, cancel=cancel), names)
    check("sweep", lambda: pe.sweep(model, px, xs, max_order, seed=0, cancel=cancel), names)


@FUZZ
@given(iy=st.one_of(st.integers(-6, 6), hostile_scalar), ix=st.one_of(st.integers(-4, 4), hostile_scalar))
def test_fuzz_map_cells(iy, ix):
    bm = _small_map()
    check("cycles_at", lambda: bm.cycles_at(iy, ix), ("iy", "ix"))
    check("model_at", lambda: bm.model_at(iy, ix), ("iy", "ix"))


_MAP = []


def _small_map():
    if not _MAP:
        _MAP.append(pe.bifurcation_map(TENT, ("A[0,0]", [0.1, 0.3]), ("W[0,0]", [-2.0, -1.0, 0.0]), 2, seed=0))
    return _MAP[0]


@FUZZ
@given(losses=st.one_of(st.none(), st.lists(hostile_float, min_size=3, max_size=3),
                        st.lists(hostile_float, min_size=3, max_size=3), hostile_arrays()),
       epochs=st.one_of(st.none(), st.just([0, 1, 2]), st.just([0.5, 7, 1e6]), st.just([0, 0, 1]), hostile_arrays()),
       max_order=st.one_of(st.integers(1, 2), st.integers(1, 2), st.integers(-1, 0), hostile_scalar))
def test_fuzz_analyze_training(losses, epochs, max_order):
    ckpts = [pe.PLRNN([0.2], [[w]], [1.0]) for w in (-1.0, -1.1, -1.3)]
    check("analyze_training", lambda: pe.analyze_training(ckpts, max_order, losses=losses, epochs=epochs, seed=0),
          ("losses", "epochs", "max_order", "limits."))


@FUZZ
@given(draw=st.data())
def test_fuzz_loss_landscape(draw):
    a = one_broken(draw, {"px": model_paths(GT), "py": model_paths(GT), "xs": good_values, "ys": good_values,
                          "data": st.none()},
                   {"px": paths(), "py": paths(), "xs": values_arg, "ys": values_arg, "data": hostile_arrays()})
    px, py, xs, ys, data = (a[k] for k in ("px", "py", "xs", "ys", "data"))
    d = GT.simulate([0.1, 0.2], 30) if data is None else data
    check("loss_landscape", lambda: pe.loss_landscape(GT, d, (px, xs), (py, ys)),
          ("x_axis", "y_axis", "param", "data", "limits.", "values"))


@FUZZ
@given(draw=st.data())
def test_fuzz_train(draw):
    good = {"data": st.just(GT.simulate([0.1, 0.2], 30)), "n_epochs": st.integers(1, 3),
            "method": st.sampled_from(["bptt", "stf", "gtf"]), "lr": st.floats(1e-4, 0.1),
            "seq_len": st.one_of(st.none(), st.integers(2, 10)), "batch_size": st.integers(1, 3),
            "params": st.one_of(st.none(), st.just(["h"])), "seed": st.just(0)}
    bad = {"data": hostile_arrays(), "n_epochs": st.sampled_from([0, -1, 1.5, "3", 2**70]),
           "method": st.sampled_from(["BPTT", "", None, 3]), "lr": hostile_scalar,
           "seq_len": st.sampled_from([0, 1, 10**9, 2.5]), "batch_size": st.sampled_from([0, 10**12, 1.5]),
           "params": st.sampled_from([["B"], "h", [], ["h", "h"], [3]]), "seed": st.sampled_from([-1, 1.5, "x"])}
    a = one_broken(draw, good, bad)
    kw = {k: a[k] for k in ("method", "lr", "seq_len", "batch_size", "params", "seed")}
    if kw["method"] == "gtf":
        kw["alpha"] = 0.5
    if kw["method"] == "stf":
        kw["tau"] = 5
    check("train", lambda: pe.train(GT, a["data"], a["n_epochs"], **kw),
          tuple(good) + ("alpha", "tau", "limits.", "param", "steps_per_epoch", "window"))


@FUZZ
@given(M=st.one_of(st.integers(-2, 6), st.just(5000), st.just(10**9), hostile_scalar),
       target=st.one_of(st.just("attracting"), st.just("nope"), hostile_scalar))
def test_fuzz_random_plrnn(M, target):
    check("random_plrnn", lambda: pe.systems.random_plrnn(M, target, seed=0), ("M", "target", "limits.", "seed"))


# -- files -----------------------------------------------------------------------------------
SUFFIXES = [".json", ".npz", ".mat", ".nc", ".txt", ""]
FILE_BYTES = st.one_of(st.binary(max_size=64), st.sampled_from([
    b"", b"{}", b"[]", b"null", b'{"format": "plrnn_explorer.model", "type": "PLRNN", "params": {}}',
    b'{"type": "PLRNN", "params": {"A": [1], "W": [[1]], "h": "x"}}', b"[" * 50000 + b"]" * 50000,
    b'{"orders": [1], "cycles": [{"order": 1}]}', b'{"orders": "x", "cycles": 3}', b"PK\x03\x04garbage",
    b"\x93NUMPY\x01\x00garbage", b'{"format": "plrnn_explorer.training_run"}']))


@FUZZ
@given(content=FILE_BYTES, suffix=st.sampled_from(SUFFIXES))
def test_fuzz_loaders(tmp_path_factory, content, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"file{suffix}"
    path.write_bytes(content)
    names = ("path", "file", str(path))
    check("load_model", lambda: pe.load_model(path), names)
    check("CycleSet.load", lambda: pe.CycleSet.load(path), names)
    check("TrainingRun.load", lambda: pe.TrainingRun.load(path), names)
    check("load_bifurcation_map", lambda: pe.bifurcations.load_bifurcation_map(path), names)
    check("load_mat", lambda: pe.io.load_mat(path, mapping=pe.io.SCYFI_SPEEDUP_MAPPING), names + ("mapping",))


@FUZZ
@given(model=MODELS, fail_at=st.sampled_from(["fsync", "replace", "write"]), suffix=st.sampled_from([".json", ".npz"]))
def test_fuzz_failing_saves_leave_the_old_file(tmp_path_factory, model, fail_at, suffix):
    import os

    folder = tmp_path_factory.mktemp("save")
    path = folder / f"m{suffix}"
    pe.save_model(TENT, path)
    before = path.read_bytes()
    COUNTS["failing save", "tried"] += 1

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    target = {"fsync": (os, "fsync"), "replace": (os, "replace"), "write": (np, "savez") if suffix == ".npz"
              else (pe._atomic.Path, "write_text")}[fail_at]
    real = getattr(*target)
    setattr(*target, boom)
    try:
        with pytest.raises(OSError, match="No space left"):
            pe.save_model(model, path)
    finally:
        setattr(*target, real)
    assert path.read_bytes() == before
    assert pe.load_model(path) == TENT
    assert sorted(p.name for p in folder.iterdir()) == [path.name]      # no temporary file left behind
    COUNTS["failing save", "handled"] += 1


# -- command line ------------------------------------------------------------------------------
TOKENS = ["cycles", "sweep", "map", "train", "{model}", "{missing}", "--max-order", "2", "0", "-1", "100000",
          "--orders", "1-3", "1-10000000000", "x", "--json", "--exhaustive", "--seed", "--param", "W[0,0]",
          "A[0]", "--values", "-2.2:1.3:5", "0:1:1e10", "0:1:10000000000", "1,2", "--x", "--y",
          "A[0,0]=0:1:3", "W[-1,-1]=0:1:3", "--out", "{tmp}/o.png", "/no/dir/o.png", "{tmp}/o.pkl",
          "--npz", "{tmp}/o.npz", "--netcdf", "--outer", "--inner", "2**70", "--epochs", "--lr", "nan",
          "--scheduler", "--version", "--help", "{data}", "--no-refine", "--progress"]


@settings(max_examples=3 * N_EXAMPLES, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(argv=st.lists(st.sampled_from(TOKENS), max_size=9))
def test_fuzz_cli(tmp_path_factory, capsys, argv):
    folder = tmp_path_factory.mktemp("cli")
    model = folder / "model.json"
    pe.save_model(TENT, model)
    np.save(folder / "data.npy", np.zeros((10, 1)))
    argv = [a.format(model=model, missing=folder / "nope.json", tmp=folder, data=folder / "data.npy")
            for a in argv]
    if "--scheduler" in argv:      # never try to reach a real cluster
        i = argv.index("--scheduler")
        argv[i + 1: i + 2] = ["tcp://127.0.0.1:9"]
    COUNTS["cli", "tried"] += 1
    t0 = time.perf_counter()
    try:
        with guard(), np.errstate(all="ignore"):
            code = main(argv)
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code
    except Hang:
        pytest.fail(f"cli {argv}: hang")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"cli {argv}: {type(exc).__name__}: {exc}")
    out, err = capsys.readouterr()
    assert code in (0, 1, 2, 130), (argv, code)
    assert "Traceback" not in err and err.count("\n") <= 1, (argv, err)
    if code == 2 and err:     # a refusal states the expected form (argparse's own messages name the option)
        assert EXPECTED_FORM.search(err) or ARGPARSE_FORMS.search(err), (argv, err)
        COUNTS["cli", "refused"] += 1
    assert time.perf_counter() - t0 < GUARD_SECONDS
    COUNTS["cli", "handled"] += 1


def test_zz_report_counts(capsys):
    """Print the number of cases tried and handled per family (run with -s to see it)."""
    families = sorted({f for f, _ in COUNTS})
    tried = sum(COUNTS[f, "tried"] for f in families)
    handled = sum(COUNTS[f, "handled"] for f in families)
    with capsys.disabled():
        print(f"\nfuzz: {handled}/{tried} cases handled")
        for f in families:
            print(f"  {f:<22} {COUNTS[f, 'handled']}/{COUNTS[f, 'tried']} handled"
                  f" ({COUNTS[f, 'refused']} refused with a clear error)")
    assert handled == tried
