"""The explorer as an app: a model file upload and the composed panels, served by Voila.

``plrnn-explorer app [MODEL_FILE]`` writes :func:`app_notebook` into a
temporary folder and runs Voila on it. The notebook is built here, in code, so
it ships with every installation of the package; its one cell shows
:meth:`App.from_environment`, which reads the model file named by the
environment variable :data:`MODEL_ENV` (set by the command).
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..models import Model
from .explorer import Explorer

__all__ = ["MODEL_ENV", "App", "app_notebook", "load_model_file"]

#: environment variable naming the model file the app opens first
MODEL_ENV = "PLRNN_EXPLORER_MODEL"
#: file types the upload accepts
ACCEPTED = (".json", ".npz", ".mat", ".pt", ".pth")
HOW_TO = ("Drag a slider or type an exact value and press Enter; click the portrait to start a trajectory or to "
          "pick a cycle; compute a bifurcation map or diagram and click it to move the model there.")


def _gt16() -> Model:
    import plrnn_explorer as pe

    return pe.PLRNN([0.8377689, 0.96461297], [[0, -0.64375], [0.52505308, 0]], [0.37298253, -0.97931491])


def load_model_file(path: str | os.PathLike) -> Model | list[Model]:
    """A model (or, for a ``.mat`` file of training snapshots, the list of them) from a file.

    ``.json``/``.npz``: :func:`plrnn_explorer.load_model`; ``.mat``: the
    SCYFI-speedup layout (:data:`plrnn_explorer.io.SCYFI_SPEEDUP_MAPPING`);
    ``.pt``/``.pth``: a PyTorch state dict of any model type the package knows.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> snaps = load_model_file(pe.io.example_data_path("shplrnn_150_snapshots_M3_H8.mat"))
    >>> len(snaps), snaps[0].dim
    (150, 3)
    >>> load_model_file("model.txt")
    Traceback (most recent call last):
    ...
    ValueError: model file must end in .json, .npz, .mat, .pt or .pth, got 'model.txt'
    """
    import plrnn_explorer as pe

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in ACCEPTED:
        raise ValueError(f"model file must end in {', '.join(ACCEPTED[:-1])} or {ACCEPTED[-1]}, got {p.name!r}")
    if not p.is_file():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    if suffix in (".json", ".npz"):
        return pe.load_model(p)
    if suffix == ".mat":
        snaps = pe.io.load_mat_snapshots(p, mapping=pe.io.SCYFI_SPEEDUP_MAPPING)
        return snaps[0] if len(snaps) == 1 else snaps
    errors = []
    for kind in sorted(pe.io.MODEL_TYPES):
        try:
            return pe.io.load_torch_state_dict(str(p), kind)
        except ImportError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(f"{kind}: {exc}")
    raise ValueError(f"{p.name} is not a state dict of a known model type ({'; '.join(errors)})")


class App(W.VBox):
    """Title, how-to line, a model upload and an :class:`Explorer` of the loaded model.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> app = App(pe.PLRNN([0.5, 0.5], [[0, 0], [0, 0]], [1.0, -1.0]), max_order=2)
    >>> app.explorer.model.get_param("h[0]")
    1.0
    """

    def __init__(self, model: Model | list[Model] | None = None, *, max_order: int = 16,
                 source: str = "built-in example (the paper's GT16 system)") -> None:
        self.max_order = max_order
        self.upload = W.FileUpload(accept=",".join(ACCEPTED), multiple=False, description="load model",
                                   layout=W.Layout(width="160px"))
        self.upload.observe(self._on_upload, names="value")
        self.source = W.HTML().add_class("plrnn-app-source")
        self.holder = W.VBox()
        self.explorer: Explorer | None = None
        header = W.HTML(f"<h3 style='margin:4px 0'>PLRNN explorer</h3><div>{html.escape(HOW_TO)}</div>")
        super().__init__([header, W.HBox([self.upload, self.source]), self.holder])
        self.add_class("plrnn-app")
        self.show(model if model is not None else _gt16(), source)

    @classmethod
    def from_environment(cls, **kwargs: Any) -> App:
        """The app on the model file named by :data:`MODEL_ENV` (the built-in example if unset)."""
        path = os.environ.get(MODEL_ENV)
        if not path:
            return cls(**kwargs)
        try:
            return cls(load_model_file(path), source=Path(path).name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the app explains and shows the example instead
            app = cls(**kwargs)
            app.say(f"could not load {path}: {exc}")
            return app

    def show(self, model: Model | list[Model], source: str) -> None:
        """Explore ``model`` (a list of models: training snapshots, with the training panel)."""
        if isinstance(model, list):
            run = type("Snapshots", (), {"checkpoints": model, "losses": None, "epochs": None})()
            ex = Explorer(model[-1], self.max_order, run=run)
            source += f" ({len(model)} snapshots)"
        else:
            ex = Explorer(model, self.max_order)
        if self.explorer is not None:
            self.explorer.close()
        self.explorer = ex
        self.holder.children = [ex]
        m = ex.model
        self.source.value = f"{html.escape(source)}: {type(m).__name__}, M = {m.dim}"

    def say(self, text: str) -> None:
        self.source.value = f'<span style="color:#a94442">{html.escape(text)}</span>'

    def _on_upload(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0]
        name = str(f["name"])
        suffix = Path(name).suffix.lower()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(bytes(f["content"]))
            try:
                model = load_model_file(path)
            except Exception as exc:  # noqa: BLE001 - explain and keep the current model
                self.say(f"could not load {name}: {str(exc).replace(str(path), name)}")
                return
        self.show(model, name)


def app_notebook() -> dict[str, Any]:
    """The app's notebook (nbformat 4): one cell showing :meth:`App.from_environment`."""
    source = ("from plrnn_explorer.widgets.app import App\n"
              "App.from_environment()")
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "plrnn-app", "metadata": {},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def write_app_notebook(folder: str | os.PathLike) -> Path:
    """Write :func:`app_notebook` as ``folder/plrnn-explorer.ipynb``; return its path."""
    path = Path(folder) / "plrnn-explorer.ipynb"
    path.write_text(json.dumps(app_notebook(), indent=1))
    return path
