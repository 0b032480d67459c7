"""The ``plrnn-explorer`` command for batch use.

Sub-commands register themselves in :data:`COMMANDS` through
:func:`command`; each gets an argparse sub-parser and a handler that returns
the exit code. Expected errors (bad files, bad arguments) print one line to
stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Callable, Sequence

__all__ = ["main"]

Runner = Callable[[argparse.Namespace], int]
#: name -> (help text, configure(parser) -> run(args) -> exit code)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], Runner]]] = {}


def command(name: str, help: str):
    """Register a sub-command: decorate ``configure(parser)`` returning ``run(args)``."""

    def register(configure: Callable[[argparse.ArgumentParser], Runner]):
        COMMANDS[name] = (help, configure)
        return configure

    return register


class _DefaultsFormatter(argparse.HelpFormatter):
    """Help lines end with ``(default: X)`` wherever there is a meaningful default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default not in (None, False, argparse.SUPPRESS) and "%(default)" not in text \
                and action.option_strings:
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """One-line errors; values starting with a minus sign (``--values -2.2:1.3:71``) are values, not options."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        super().__init__(*args, **kwargs)
        # argparse takes '-2.2:1.3:71' for an unknown option; every token that starts with '-' and a digit
        # (or '-.' and a digit) is a (negative) value here: no option of this program looks like that
        self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(2, f"{self.prog}: error: {message}\n")


def _limited(what: str, n: int, limit: str) -> None:
    """check_limit as an argparse error (the message names the limit and how to raise it)."""
    from ._validation import check_limit

    try:
        check_limit(what, n, limit)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _orders(text: str) -> list[int]:
    """Parse '1,2,16' or '1-4,16' into a list of orders."""
    try:
        return _parse_orders(text)
    except ValueError:  # int() of something else than a whole number
        raise argparse.ArgumentTypeError(f"expected orders such as '1,2,16' or '1-4,16', got {text!r}") from None


def _parse_orders(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-", 1)
            lo, hi = int(lo), int(hi)
            if lo < 1 or hi < lo:
                raise argparse.ArgumentTypeError(f"expected ranges LO-HI with 1 <= LO <= HI, got {part!r}")
            _limited("highest order in --orders", hi, "max_order")
            out += list(range(lo, hi + 1))
        elif part:
            out.append(int(part))
            _limited("highest order in --orders", out[-1], "max_order")
    return out


@command("cycles", "find all fixed points and k-cycles of a saved model")
def _configure_cycles(p: argparse.ArgumentParser) -> Runner:
    p.add_argument("model_file", metavar="MODEL_FILE", help="model saved with plrnn_explorer.save_model (.json/.npz)")
    p.add_argument("--max-order", type=int, default=None, help="search orders 1..K")
    p.add_argument("--orders", type=_orders, default=None, help="explicit orders, e.g. '1,2,16' or '1-4'")
    p.add_argument("--seed", type=int, default=None, help="random seed for a reproducible search")
    p.add_argument("--outer", type=int, default=None, help="outer loop budget N_out (default: the paper's)")
    p.add_argument("--inner", type=int, default=None, help="inner loop budget N_in (default: the paper's)")
    p.add_argument("--exhaustive", action="store_true", help="exact exhaustive search instead of SCYFI")
    p.add_argument("--strategy", default="auto", choices=["auto", "scyfi", "certified"],
                   help="search method of find_cycles (default: auto, the cheapest complete method that fits "
                        "the budget, else the heuristic)")
    p.add_argument("--budget-seconds", type=float, default=None,
                   help="time budget of a certified search; when it runs out the result says it is incomplete")
    p.add_argument("--json", action="store_true",
                   help="print CycleSet.to_dict() as standard JSON (Inf/NaN as the strings "
                        "\"Infinity\", \"-Infinity\", \"NaN\")")

    def run(args: argparse.Namespace) -> int:
        from . import exhaustive_cycles, find_cycles, load_model
        from ._atomic import json_dumps_strict

        if args.max_order is None and args.orders is None:
            raise ValueError("give --max-order K or --orders LIST")
        model = load_model(args.model_file)
        if args.exhaustive:
            res = exhaustive_cycles(model, args.max_order, orders=args.orders)
        else:
            res = find_cycles(model, args.max_order, orders=args.orders, seed=args.seed,
                              outer_loop_iterations=args.outer, inner_loop_iterations=args.inner,
                              strategy=args.strategy, budget_seconds=args.budget_seconds)
        if args.json:  # standard JSON: non-finite numbers as the strings "Infinity", "-Infinity", "NaN"
            sys.stdout.write(json_dumps_strict(res.to_dict()) + "\n")
        else:
            print(f"model: {model!r}")
            print(res.table())
        return 0

    return run


@command("train", "train a saved model on data (.npy or .csv, rows = time steps) and save the run")
def _configure_train(p: argparse.ArgumentParser) -> Runner:
    p.add_argument("model_file", metavar="MODEL_FILE", help="initial model (.json/.npz from save_model)")
    p.add_argument("data_file", metavar="DATA_FILE", help="observations: .npy array or .csv (T rows, N columns)")
    p.add_argument("--epochs", type=int, required=True, help="number of epochs")
    p.add_argument("--method", default="bptt", choices=["bptt", "stf", "gtf"], help="forcing method")
    p.add_argument("--alpha", type=float, default=None, help="GTF parameter in [0, 1]")
    p.add_argument("--tau", type=int, default=None, help="STF forcing interval")
    p.add_argument("--seq-len", type=int, default=None, help="window length (default: whole data)")
    p.add_argument("--batch-size", type=int, default=1, help="windows per update")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    p.add_argument("--loss", default="mse", choices=["mse", "mae"], help="loss function")
    p.add_argument("--checkpoint-every", type=int, default=1, help="epochs between checkpoints")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--out", required=True, help="output run file (.npz or .json)")

    def run(args: argparse.Namespace) -> int:
        import numpy as np

        from . import load_model, train
        from ._atomic import check_output_path

        check_output_path("--out", args.out, (".npz", ".json"))
        if args.data_file.endswith(".npy"):
            data = np.load(args.data_file, allow_pickle=False)
        else:
            data = np.loadtxt(args.data_file, delimiter=",", ndmin=2)
        result = train(load_model(args.model_file), data, args.epochs, method=args.method, alpha=args.alpha,
                       tau=args.tau, seq_len=args.seq_len, batch_size=args.batch_size, lr=args.lr,
                       loss=args.loss, checkpoint_every=args.checkpoint_every, seed=args.seed)
        result.save(args.out)
        print(f"{result!r}; saved to {args.out}")
        return 0 if result.status == "completed" else 1

    return run


def _values(text: str) -> list[float]:
    """Parse 'START:STOP:NUM' (inclusive linspace) or a comma list '0.1,0.2,0.5' into values."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise argparse.ArgumentTypeError(f"expected START:STOP:NUM, got {text!r}")
        try:
            start, stop = float(parts[0]), float(parts[1])
        except ValueError:
            raise argparse.ArgumentTypeError(f"START and STOP in START:STOP:NUM must be numbers, got {text!r}") from None
        try:
            num = int(parts[2])
        except ValueError:
            raise argparse.ArgumentTypeError(f"NUM in START:STOP:NUM must be a whole number, got {parts[2]!r}") from None
        if num < 1:
            raise argparse.ArgumentTypeError(f"NUM in START:STOP:NUM must be >= 1, got {num}")
        _limited("NUM in START:STOP:NUM", num, "max_grid_points")
        return [start + (stop - start) * i / max(num - 1, 1) for i in range(num)]
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP:NUM or a comma list of numbers such as "
                                         f"'0.1,0.2,0.5', got {text!r}") from None


def _axis(text: str) -> tuple[str, list[float]]:
    """Parse 'PARAM=START:STOP:NUM' (or 'PARAM=v1,v2,...') into (path, values)."""
    param, sep, values = text.partition("=")
    if not sep or not param.strip():
        raise argparse.ArgumentTypeError(f"expected PARAM=VALUES such as 'A[0,0]=-1:1:40', got {text!r}")
    try:
        return param.strip(), _values(values)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"bad values in {text!r}: {exc}") from None


def _bifurcation_outputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-order", type=int, required=True, help="search orders 1..K")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same result)")
    p.add_argument("--out", default=None, help="figure file (e.g. .png, .pdf); an interrupted run (Ctrl-C) "
                                               "still writes its partial result to every output given")
    p.add_argument("--netcdf", default=None, help="write the labelled result as netCDF (.nc; needs xarray, netCDF4)")
    p.add_argument("--npz", default=None, help="write the result arrays as .npz")
    p.add_argument("--scheduler", default=None, help="address of a dask.distributed scheduler to fan out to")
    p.add_argument("--progress", action="store_true", help="show a progress bar")


def _client(address: str | None):
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("--scheduler needs dask.distributed: pip install 'plrnn-explorer[dask]'") from None
    return Client(address)


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse bad output paths before any computing (suffix, existing folder)."""
    from ._atomic import check_output_path

    if args.netcdf:
        check_output_path("--netcdf", args.netcdf, (".nc", ".nc4", ".netcdf"))
    if args.npz:
        check_output_path("--npz", args.npz, (".npz",))
    if args.out:
        from matplotlib.figure import Figure

        formats = tuple(f".{k}" for k in Figure().canvas.get_supported_filetypes())
        check_output_path("--out", args.out, formats)


def _finish(result, args: argparse.Namespace) -> int:
    """Save the outputs; exit 130 with a message if the run was interrupted, 1 if Dask tasks failed for good
    (the partial result is saved either way)."""
    try:
        _save_outputs(result, args)
    except KeyboardInterrupt:  # every file is written atomically: one not yet replaced keeps its old content
        print(f"plrnn-explorer {args.command}: interrupted while saving the outputs; a file not yet written "
              "keeps its previous content", file=sys.stderr)
        return 130
    if result.complete:
        return 0
    saved = [f for f in (args.out, args.netcdf, args.npz) if f]
    where = f"; partial result saved to {', '.join(saved)}" if saved else "; no output file given, nothing saved"
    failed = result.stats.get("failed_chunks")
    if failed and not result.stats.get("interrupted"):
        print(f"plrnn-explorer {args.command}: {len(failed)} Dask task(s) failed for good (first error: "
              f"{failed[0]['error']}){where}", file=sys.stderr)
        return 1
    print(f"plrnn-explorer {args.command}: interrupted{where}", file=sys.stderr)
    return 130


def _save_outputs(result, args: argparse.Namespace) -> None:
    if args.netcdf:
        result.to_netcdf(args.netcdf)
    if args.npz:
        result.to_npz(args.npz)
    if args.out:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 5))
        result.plot(ax=ax)
        from ._atomic import atomic_path

        with atomic_path(args.out, "--out") as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
        plt.close(fig)


@command("sweep", "cycles along one parameter of a saved model, with located bifurcation events")
def _configure_sweep(p: argparse.ArgumentParser) -> Runner:
    p.add_argument("model_file", metavar="MODEL_FILE", help="model saved with plrnn_explorer.save_model")
    p.add_argument("--param", required=True, help="parameter path, e.g. 'W[0,0]'")
    p.add_argument("--values", type=_values, required=True,
                   help="START:STOP:NUM (NUM values, inclusive) or a comma list; negative numbers are fine: "
                        "--values -2.2:1.3:71 or --values=-2.2:1.3:71")
    _bifurcation_outputs(p)

    def run(args: argparse.Namespace) -> int:
        from . import load_model, sweep

        _check_outputs(args)
        sw = sweep(load_model(args.model_file), args.param, args.values, args.max_order, seed=args.seed,
                   client=_client(args.scheduler), progress=args.progress)
        print(f"{sw!r}")
        for ev in sw.events:
            print(f"{ev.kind:<26} {args.param} = {ev.value:.10g}  order {ev.order}"
                  f"{'' if ev.refined else '  (not refined)'}")
        return _finish(sw, args)

    return run


@command("map", "two-parameter bifurcation map of a saved model (counts of cycles and boundaries)")
def _configure_map(p: argparse.ArgumentParser) -> Runner:
    p.add_argument("model_file", metavar="MODEL_FILE", help="model saved with plrnn_explorer.save_model")
    p.add_argument("--x", type=_axis, metavar="PARAM=VALUES", required=True,
                   help="x axis: parameter path = START:STOP:NUM or a comma list, e.g. --x 'A[0,0]=-1:1:40'")
    p.add_argument("--y", type=_axis, metavar="PARAM=VALUES", required=True, help="y axis, as --x")
    p.add_argument("--no-refine", action="store_true", help="place boundaries midway instead of at located events")
    _bifurcation_outputs(p)

    def run(args: argparse.Namespace) -> int:
        from . import bifurcation_map, load_model

        _check_outputs(args)
        bm = bifurcation_map(load_model(args.model_file), args.x, args.y, args.max_order,
                             seed=args.seed, client=_client(args.scheduler), refine=not args.no_refine,
                             progress=args.progress)
        print(f"{bm!r}")
        kinds: dict[str, int] = {}
        for s in bm.boundaries:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        for kind, n in sorted(kinds.items()):
            print(f"{kind:<26} {n} segment(s)")
        return _finish(bm, args)

    return run


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("plrnn-explorer")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        from . import __version__

        return __version__


#: Voila options of the app: idle kernels of closed pages are shut down (culled) after 10 minutes
APP_VOILA_OPTIONS = ["--MappingKernelManager.cull_interval=60", "--MappingKernelManager.cull_idle_timeout=600",
                     "--MappingKernelManager.cull_connected=False", "--Voila.ip=127.0.0.1"]


@command("app", "open the interactive explorer as a web app (Voila) on a model file or the built-in example")
def _configure_app(p: argparse.ArgumentParser) -> Runner:
    p.add_argument("model_file", metavar="MODEL_FILE", nargs="?", default=None,
                   help="model file (.json/.npz from save_model, .mat in the SCYFI-speedup layout, .pt/.pth)")
    p.add_argument("--port", type=int, default=None, help="port of the Voila server (default: Voila's)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")

    def run(args: argparse.Namespace) -> int:
        import importlib.util
        import os
        import subprocess
        import tempfile

        from .widgets.app import MODEL_ENV, load_model_file, write_app_notebook

        env = dict(os.environ)
        if args.model_file is not None:
            load_model_file(args.model_file)  # a clear error now, not in the browser
            env[MODEL_ENV] = os.path.abspath(args.model_file)
        else:
            env.pop(MODEL_ENV, None)
        if importlib.util.find_spec("voila") is None:
            print("plrnn-explorer app: error: the app needs Voila, which is not installed: "
                  "pip install 'plrnn-explorer[app]' (or pip install voila)", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="plrnn-explorer-app-") as tmp:
            notebook = write_app_notebook(tmp)
            cmd = [sys.executable, "-m", "voila", str(notebook), *APP_VOILA_OPTIONS]
            if args.port is not None:
                cmd.append(f"--port={args.port}")
            if args.no_browser:
                cmd.append("--no-browser")
            return subprocess.call(cmd, env=env, cwd=tmp)

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="plrnn-explorer",
                     description="Fixed points, cycles and bifurcations of ReLU-based RNNs (SCYFI).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, configure) in COMMANDS.items():
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(_run=configure(sp))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``plrnn-explorer``; returns the exit status.

    Parameters
    ----------
    argv
        Command-line arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for bad input (a one-line message on stderr), 130 if interrupted.

    Examples
    --------
    >>> import os, tempfile, plrnn_explorer as pe
    >>> path = os.path.join(tempfile.mkdtemp(), "tent.json")
    >>> pe.save_model(pe.PLRNN([0.2], [[-1.7]], [1.0]), path)
    >>> main(["cycles", path, "--max-order", "2", "--seed", "0"])  # doctest: +NORMALIZE_WHITESPACE
    model: PLRNN(M=1, G=1; A=(1,), W=(1, 1), h=(1,))
    CycleSet: 2 cycle(s), orders 1, 2
    order    #  kind             stable     max|λ|  first point(s)                           multipliers
    ----------------------------------------------------------------------------------------------------
        1    0  unstable node    False         1.5  [0.4]                                    -1.5
        2    0  stable node      True          0.3  [-0.3846]; [0.9231]                      -0.3
    search: complete
    0
    >>> main(["cycles", path + ".missing", "--max-order", "2"])    # error message goes to stderr
    2
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `plrnn-explorer`: list the sub-commands
        parser.print_help()
        return 0
    try:
        return args._run(args)
    except (ValueError, TypeError, FileNotFoundError, OSError, ImportError, MemoryError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"plrnn-explorer {args.command}: error: {text}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as exc:  # before any partial result existed (sliced work returns one)
        from ._slices import is_interrupt

        if not is_interrupt(exc):
            raise
        print(f"plrnn-explorer {args.command}: interrupted before any result was computed; nothing saved",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
