"""PyTorch interop: state dicts in, state dicts and modules out, and ``torch.nn.RNN`` (ReLU).

Re-exported from :mod:`plrnn_explorer.io`. PyTorch itself is only needed to
read ``.pt`` files, to read tensors and to build modules (the ``[torch]``
extra); state dicts of NumPy arrays work without it.
"""

from __future__ import annotations

import fnmatch
import pickle
import re
from functools import lru_cache
from os import PathLike
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ._layouts import LAYOUTS, build, check_layout, split_AW
from .models import ALRNN, PLRNN, ClippedShallowPLRNN, Model, ShallowPLRNN, check_model

__all__ = ["load_torch_state_dict", "from_torch_rnn", "to_state_dict", "to_torch"]

#: key suffixes accepted for each role when no ``names`` mapping is given
_ALIASES = {"alphas": ("alphas", "alpha"), "thetas": ("thetas",)}


def _import_torch(why: str) -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError(f"{why} needs PyTorch: pip install 'plrnn-explorer[torch]'") from None
    return torch


def _as_numpy(key: str, value: Any) -> np.ndarray:
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().double().numpy()
    arr = np.asarray(value)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"state dict entry {key!r} must be a numeric tensor or array, got {type(value).__name__}")
    return arr.astype(np.float64)


def _read_state_dict(source: Any) -> dict[str, Any]:
    """A ``{key: tensor}`` mapping from a mapping, an ``nn.Module`` or a ``.pt``/``.pth`` file."""
    if isinstance(source, (str, PathLike)):
        torch = _import_torch("loading a .pt/.pth file")
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"state_dict file {str(path)!r} does not exist")
        try:
            source = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:
            raise ValueError(
                f"{str(path)!r} holds a whole pickled object (e.g. a module saved with torch.save(model, ...)), "
                "not a state dict; loading it would run code from the file. If you trust it, load it "
                "yourself with torch.load(path, weights_only=False) and pass module.state_dict(); better, "
                "save model.state_dict() instead") from None
        except (RuntimeError, EOFError, OSError) as exc:
            raise ValueError(f"{str(path)!r} is not a readable PyTorch file: {exc}") from None
    if hasattr(source, "state_dict") and callable(source.state_dict) and not hasattr(source, "keys"):
        source = source.state_dict()
    if not hasattr(source, "keys") or not hasattr(source, "__getitem__"):
        raise TypeError("state_dict_or_path must be a mapping of names to tensors/arrays, a torch module "
                        f"or a path, got {type(source).__name__}")
    sd = {str(k): source[k] for k in source.keys()}
    nested = [k for k, v in sd.items() if hasattr(v, "keys") and hasattr(v, "__getitem__")]
    if nested:
        raise ValueError(f"this looks like a training checkpoint, not a state dict: entries {nested} are "
                         f"themselves mappings (all entries: {sorted(sd)}); pass the model's state dict, "
                         f"e.g. checkpoint[{nested[0]!r}]")
    return sd


def _ignored(keys: list[str], ignore: Any) -> set[str]:
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(ignore, Iterable) or not all(isinstance(p, str) for p in ignore):
        raise TypeError(f"ignore must be a list of keys or glob patterns, got {ignore!r}")
    out: set[str] = set()
    for pattern in ignore:
        hits = [k for k in keys if k == pattern or fnmatch.fnmatchcase(k, pattern)]
        if not hits:
            raise ValueError(f"ignore entries must match keys of the state dict: {pattern!r} matches no key; "
                             f"keys are {keys}")
        out.update(hits)
    return out


def _find(keys: list[str], role: str) -> str | None:
    hits = [k for k in keys if any(k == n or k.endswith("." + n) for n in _ALIASES.get(role, (role,)))]
    if len(hits) > 1:
        raise ValueError(f"keys {hits} all end in {role!r}, so which one is {role} is ambiguous; "
                         f"pass names={{{role!r}: key}} and ignore=[...] for the others")
    return hits[0] if hits else None


def _shape_list(sd: dict[str, Any], keys: Iterable[str]) -> str:
    return ", ".join(f"{k!r} {tuple(np.shape(sd[k]))}" for k in sorted(keys))


def collect(sd: dict[str, Any], layout: str, names: Any = None, ignore: Any = ()) -> tuple[dict, dict, list]:
    """``{role: array}``, ``{role: key}`` and the ignored keys; every other key is an error."""
    keys = list(sd)
    skipped = _ignored(keys, ignore)
    live = [k for k in keys if k not in skipped]
    roles = LAYOUTS[layout]
    if names is not None:
        if not isinstance(names, dict):
            raise TypeError(f"names must be a dict {{parameter: state_dict key}}, got {type(names).__name__}")
        bad_roles = [r for r in names if r not in roles + ("AW", "n_relu")]
        if bad_roles:
            raise ValueError(f"names keys must be parameters of {layout}, one of {list(roles)} (or 'AW' for A and "
                             f"W together), got {bad_roles}")
        missing_keys = [k for k in names.values() if k not in live]
        if missing_keys:
            raise ValueError(f"names values must be keys of the state_dict, got {missing_keys}, which are not in "
                             f"the state_dict (or are ignored); its keys are {keys}")
        mapping = dict(names)
    else:
        mapping = {r: k for r in roles + ("n_relu",) if (k := _find(live, r)) is not None}
        if "W" in roles and "A" not in mapping and "W" not in mapping:
            aw = _find(live, "AW")
            if aw is not None:
                mapping["AW"] = aw
    arrays = {r: _as_numpy(k, sd[k]) for r, k in mapping.items()}
    if "AW" in arrays:
        if "A" in arrays or "W" in arrays:
            raise ValueError(f"the state dict gives 'AW' ({mapping['AW']!r}) and also A or W; "
                             "pass names= to say which to use")
        arrays["A"], arrays["W"] = split_AW(arrays.pop("AW"), mapping["AW"])
    missing = [r for r in roles if r not in arrays]
    if missing:
        hint = " (A and W may come as one 'AW' matrix)" if "W" in roles else ""
        raise ValueError(f"unknown state_dict layout for {layout}: no key for {missing} among {keys}. "
                         f"Expected keys ending in {list(roles)}{hint}; pass names={{parameter: key}} "
                         "for other layouts")
    unused = [k for k in live if k not in mapping.values()]
    if unused:
        raise ValueError(f"state_dict key(s) {_shape_list(sd, unused)} are not used by the {layout} layout, "
                         "and a key left out may change the map. If they are not part of the latent map "
                         f"(e.g. an observation model), pass ignore={sorted(unused)!r} (glob patterns allowed)")
    return arrays, mapping, sorted(skipped)


def load_torch_state_dict(state_dict_or_path: Any, model_type: Any, *, names: dict[str, str] | None = None,
                          ignore: Iterable[str] = (), mean_centering: bool = False, return_info: bool = False,
                          **settings: int) -> Model | tuple[Model, dict[str, Any]]:
    """Build a model from a PyTorch ``state_dict``, a module, or a ``.pt``/``.pth`` file holding a state dict.

    Every key must be used or listed in ``ignore``: a key left over is a
    ``ValueError`` naming it, because a parameter dropped silently would give
    the cycles of a different map. Keys may carry a module prefix
    (``"latent_model.latent_step.AW"``); two keys that end in the same name
    are an error (say which one with ``names``).

    Layouts (``model_type``):

    * ``"PLRNN"``, ``"ALRNN"``: ``A, W, h``, or ``AW, h`` where the square
      ``AW`` holds ``A`` on its diagonal and ``W`` off it (the lab's layout);
      ALRNN also needs ``n_relu`` (a keyword, or a key ``n_relu``);
    * ``"ShallowPLRNN"``, ``"ClippedShallowPLRNN"``: ``A, W1, W2, h1, h2``
      (``W1`` (M, H), ``W2`` (H, M));
    * ``"dendPLRNN"``, ``"ClippedDendPLRNN"``: the lab's dendritic PLRNN
      (``AW, h, alphas, thetas``; ``phi(z)_i = sum_b alphas_b relu(z_i + thetas_ib)``),
      loaded as the equivalent ShallowPLRNN / ClippedShallowPLRNN with M B
      hidden units (see :mod:`plrnn_explorer._layouts`); the bases are in
      ``info["bases"]`` (``return_info=True``);
    * ``"CanonicalPLRNN"``: ``A, W_out, W_in, b_in, h``.

    The lab's PyTorch runs save ``model_<epoch>.pt``, the state dict of the
    whole model: pass ``ignore=["output_layer.*", "z0_model.*"]`` for its
    observation model and initial-state network. Not stored in a state dict,
    so not seen here: the lab's ``clip_range``
    (clamping states after each step is not part of these maps) and mean
    centering (pass ``mean_centering=True`` if the model was trained with it).

    Parameters
    ----------
    state_dict_or_path
        Mapping of names to tensors/arrays, a ``torch.nn.Module``, or a path
        for ``torch.load(..., weights_only=True)`` (needs the ``[torch]`` extra).
    model_type
        Layout name or model class, see above.
    names
        Explicit ``{parameter: key}`` mapping (``"AW"`` allowed) for other naming.
    ignore
        Keys (or glob patterns such as ``"output_layer.*"``) that are not part
        of the latent map, e.g. an observation model.
    mean_centering
        The ReLUs act on ``z - mean(z)`` (PLRNN and dendritic PLRNNs).
    return_info
        Also return a dict: ``layout``, ``keys`` (parameter -> key),
        ``ignored``, and for dendritic PLRNNs ``bases``.
    **settings
        ``n_relu`` for ALRNN.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> sd = {"latent_model.AW": np.array([[0.5, 0.2], [-0.3, 0.6]]), "latent_model.h": np.zeros(2),
    ...       "output_layer.weight": np.eye(2)}
    >>> m = pe.io.load_torch_state_dict(sd, "PLRNN", ignore=["output_layer.*"])
    >>> m.A, m.W
    (array([0.5, 0.6]), array([[ 0. ,  0.2],
           [-0.3,  0. ]]))
    """
    layout = check_layout(model_type)
    unknown = set(settings) - {"n_relu"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)}; the only setting is n_relu (ALRNN)")
    sd = _read_state_dict(state_dict_or_path)
    arrays, mapping, skipped = collect(sd, layout, names, ignore)
    n_relu = settings.get("n_relu")
    if "n_relu" in arrays:
        stored = arrays.pop("n_relu")
        if layout != "ALRNN":
            raise ValueError(f"key {mapping['n_relu']!r} (n_relu) is only valid in the ALRNN layout, got it in "
                             f"the {layout} layout")
        if stored.size != 1 or stored.ravel()[0] != int(stored.ravel()[0]):
            raise ValueError(f"key {mapping['n_relu']!r} must hold one integer, got {stored!r}")
        if n_relu is not None and int(n_relu) != int(stored.ravel()[0]):
            raise ValueError(f"n_relu must match the state dict's {int(stored.ravel()[0])} (or be None), got "
                             f"{n_relu}: it disagrees with the file")
        n_relu = int(stored.ravel()[0])
    model, info = build(layout, arrays, n_relu=n_relu, mean_centering=mean_centering)
    info.update(keys=mapping, ignored=skipped)
    return (model, info) if return_info else model


def from_torch_rnn(module_or_state_dict: Any, x: Any = None, *, nonlinearity: str | None = None) -> ShallowPLRNN:
    """The ShallowPLRNN equal to a one-layer ReLU ``torch.nn.RNN`` with constant input.

    ``h' = relu(W_ih x + b_ih + W_hh h + b_hh)`` is ``z' = W1 relu(W2 z + h2) + h1`` with
    ``A = 0``, ``W1 = I``, ``W2 = W_hh``, ``h1 = 0``, ``h2 = b_ih + b_hh + W_ih x``.

    Parameters
    ----------
    module_or_state_dict
        A ``torch.nn.RNN`` or its state dict (keys ``weight_ih_l0``,
        ``weight_hh_l0`` and, with biases, ``bias_ih_l0``, ``bias_hh_l0``).
    x
        Constant input (input_size,); ``None`` means zero input.
    nonlinearity
        Read from a module (a tanh RNN is refused: it is not piecewise-linear).
        A state dict does not record it: this function is for ReLU RNNs, so
        ``None`` means ``"relu"`` there; pass the module itself to have it checked.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> sd = {"weight_ih_l0": np.ones((2, 1)), "weight_hh_l0": np.array([[0.5, -1.0], [1.0, 0.5]]),
    ...       "bias_ih_l0": np.zeros(2), "bias_hh_l0": np.array([0.1, 0.2])}
    >>> m = pe.io.from_torch_rnn(sd, x=[1.0])
    >>> m.h2.tolist()
    [1.1, 1.2]
    """
    if hasattr(module_or_state_dict, "state_dict") and not hasattr(module_or_state_dict, "keys"):
        rnn = module_or_state_dict
        if not isinstance(rnn, _import_torch("reading a torch module").nn.RNN):
            raise TypeError(f"module_or_state_dict must be a torch.nn.RNN, got {type(rnn).__name__}")
        if nonlinearity is not None and nonlinearity != rnn.nonlinearity:
            raise ValueError(f"nonlinearity must match the module's {rnn.nonlinearity!r} (or be None), got "
                             f"{nonlinearity!r}: it disagrees with the module")
        nonlinearity = rnn.nonlinearity
        if rnn.num_layers != 1:
            raise ValueError(f"only one-layer RNNs are supported (num_layers={rnn.num_layers}): the stacked "
                             "state is not one piecewise-linear map of this form")
        if rnn.bidirectional:
            raise ValueError("a bidirectional RNN has no single forward-in-time map; use bidirectional=False")
        sd = _read_state_dict(rnn)
    else:
        sd = _read_state_dict(module_or_state_dict)
        nonlinearity = "relu" if nonlinearity is None else nonlinearity
    if nonlinearity != "relu":
        raise ValueError(f"only nonlinearity='relu' RNNs are piecewise-linear; got {nonlinearity!r}")
    if any(k.endswith("_reverse") for k in sd):
        raise ValueError("a bidirectional RNN has no single forward-in-time map (keys ending in '_reverse')")
    deeper = sorted(k for k in sd if re.search(r"_l[1-9][0-9]*$", k))
    if deeper:
        raise ValueError(f"only one-layer RNNs are supported; found keys of further layers {deeper}")
    expected = {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    unused = sorted(set(sd) - expected)
    if unused:
        raise ValueError(f"keys {unused} are not those of a torch.nn.RNN ({sorted(expected)})")
    if "weight_hh_l0" not in sd or "weight_ih_l0" not in sd:
        raise ValueError(f"a torch.nn.RNN state dict must have weight_ih_l0 and weight_hh_l0; got keys {sorted(sd)}")
    W_hh, W_ih = _as_numpy("weight_hh_l0", sd["weight_hh_l0"]), _as_numpy("weight_ih_l0", sd["weight_ih_l0"])
    H = W_hh.shape[0]
    if W_hh.shape != (H, H) or W_ih.ndim != 2 or W_ih.shape[0] != H:
        raise ValueError(f"weight_hh_l0 must be (H, H) and weight_ih_l0 (H, input_size); got {W_hh.shape}, "
                         f"{W_ih.shape} (proj_size is not supported)")
    has_bias = [k in sd for k in ("bias_ih_l0", "bias_hh_l0")]
    if any(has_bias) and not all(has_bias):
        raise ValueError(f"a torch.nn.RNN state dict must have both bias_ih_l0 and bias_hh_l0 or neither; got only "
                         f"{'bias_ih_l0' if has_bias[0] else 'bias_hh_l0'}")
    bias = (_as_numpy("bias_ih_l0", sd["bias_ih_l0"]) + _as_numpy("bias_hh_l0", sd["bias_hh_l0"])
            if all(has_bias) else np.zeros(H))
    if x is not None:
        from ._validation import as_real_array, check_shape

        x = as_real_array("x", x, ndim=1)
        check_shape("x", x, (W_ih.shape[1],), "(input_size,)")
        bias = bias + W_ih @ x
    return ShallowPLRNN(np.zeros(H), np.eye(H), W_hh, np.zeros(H), bias)


def to_state_dict(model: Model, layout: str | None = None, *, info: dict[str, Any] | None = None,
                  as_tensors: bool = False) -> dict[str, Any]:
    """A state dict of ``model`` in the naming :func:`load_torch_state_dict` reads.

    Parameters
    ----------
    model
        Any model of this package.
    layout
        ``None`` (the model's own names: ``A, W, h`` / ``A, W1, W2, h1, h2`` /
        ``A, W_out, W_in, b_in, h``; ALRNN adds ``n_relu``), ``"AW"`` (the
        lab's ``AW, h`` for a PLRNN or ALRNN with diagonal A and zero-diagonal
        W), or ``"dendPLRNN"``/``"ClippedDendPLRNN"`` (the lab's
        ``AW, h, alphas, thetas``; needs the ``info`` returned when loading).
    info
        ``info`` from ``load_torch_state_dict(..., return_info=True)``.
    as_tensors
        Return float64 ``torch`` tensors instead of NumPy arrays.

    Examples
    --------
    >>> import plrnn_explorer as pe
    >>> m = pe.PLRNN([0.5, 0.4], [[0, 1.0], [-1.0, 0]], [0.1, 0.2])
    >>> sd = pe.io.to_state_dict(m, "AW")
    >>> sorted(sd), pe.io.load_torch_state_dict(sd, "PLRNN") == m
    (['AW', 'h'], True)
    """
    check_model(model)
    params = model.params
    if layout is None:
        sd: dict[str, Any] = dict(params)
        if isinstance(model, ALRNN):
            sd["n_relu"] = np.array(model.n_relu, dtype=np.int64)
    elif layout == "AW":
        if not isinstance(model, (PLRNN, ALRNN)):
            raise ValueError(f"layout 'AW' needs a PLRNN or ALRNN model, got {type(model).__name__}")
        sd = {"AW": _AW(params["A"], params["W"]), "h": params["h"]}
        if isinstance(model, ALRNN):
            sd["n_relu"] = np.array(model.n_relu, dtype=np.int64)
    elif layout in ("dendPLRNN", "ClippedDendPLRNN"):
        bases = (info or {}).get("bases")
        if bases is None:
            raise ValueError(f"layout {layout!r} needs info=... as returned by "
                             "load_torch_state_dict(..., return_info=True): alphas and W are not "
                             "recoverable from the shallow form alone")
        arrays = {k: bases[k] for k in ("A", "W", "h", "alphas", "thetas")}
        rebuilt, _ = build(layout, arrays, mean_centering=info.get("mean_centering", False),
                           threshold_sign=bases["threshold_sign"])
        if rebuilt != model:
            raise ValueError(f"model must be the {layout} described by info; it is not (was it changed after "
                             "loading?)")
        sd = {"AW": _AW(bases["A"], bases["W"]), "h": bases["h"], "alphas": bases["alphas"],
              "thetas": bases["threshold_sign"] * bases["thetas"]}
    else:
        raise ValueError(f"layout must be None, 'AW', 'dendPLRNN' or 'ClippedDendPLRNN', got {layout!r}")
    if as_tensors:
        torch = _import_torch("as_tensors=True")
        return {k: torch.as_tensor(np.array(v)) for k, v in sd.items()}
    return {k: np.array(v) for k, v in sd.items()}


def _AW(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    if A.ndim == 2 and not np.array_equal(A, np.diag(np.diag(A))):
        raise ValueError(f"layout 'AW' needs a diagonal A, got a full ({A.shape[0]}, {A.shape[1]}) A with nonzero "
                         "off-diagonal entries")
    W = np.diag(W) if W.ndim == 1 else W
    if np.any(np.diag(W) != 0):
        raise ValueError(f"layout 'AW' needs W with a zero diagonal (AW keeps A on the diagonal), got diag(W) = "
                         f"{np.diag(W)[:6].tolist()}")
    return W + np.diag(np.diag(A) if A.ndim == 2 else A)


def to_torch(model: Model, layout: str | None = None, *, info: dict[str, Any] | None = None) -> Any:
    """A ``torch.nn.Module`` (float64) whose ``forward(z)`` is one step of ``model``.

    Its parameters carry the names of :func:`to_state_dict` (same ``layout``
    and ``info``), so ``module.state_dict()`` loads back with
    :func:`load_torch_state_dict`. ``z`` may have leading batch dimensions.

    Examples
    --------
    >>> import numpy as np, plrnn_explorer as pe
    >>> torch = __import__("pytest").importorskip("torch")
    >>> m = pe.ShallowPLRNN([0.5], [[1.0, -1.0]], [[1.0], [-1.0]], [0.2], [0.0, 0.5])
    >>> net = pe.io.to_torch(m)
    >>> z = torch.tensor([0.3], dtype=torch.float64)
    >>> bool(np.isclose(net(z).detach().numpy(), m.step([0.3]), rtol=1e-15, atol=1e-15).all())
    True
    """
    torch = _import_torch("to_torch")
    sd = to_state_dict(model, layout, info=info)
    kind = layout or type(model).__name__
    mean_centering = bool(layout in ("dendPLRNN", "ClippedDendPLRNN") and info.get("mean_centering"))
    return _module_class(torch)(kind, sd, isinstance(model, ClippedShallowPLRNN), mean_centering)


@lru_cache(maxsize=1)
def _module_class(torch: Any) -> type:
    relu = torch.relu

    class PiecewiseLinearRNNStep(torch.nn.Module):
        """One step of a plrnn_explorer model, with parameters named as in its state dict."""

        def __init__(self, kind: str, sd: dict[str, np.ndarray], clipped: bool, mean_centering: bool) -> None:
            super().__init__()
            self.kind, self.clipped, self.mean_centering = kind, clipped, mean_centering
            for k, v in sd.items():
                t = torch.as_tensor(np.array(v))
                if k == "n_relu":
                    self.register_buffer(k, t)
                else:
                    self.register_parameter(k, torch.nn.Parameter(t))

        def _diag_times(self, A: Any, z: Any) -> Any:
            return A * z if A.dim() == 1 else z @ A.T

        def forward(self, z: Any) -> Any:
            p = dict(self.named_parameters())
            if "AW" in p:
                A = torch.diagonal(p["AW"])
                W = p["AW"] - torch.diag(A)
            else:
                A, W = p["A"], p.get("W")
            if self.kind in ("dendPLRNN", "ClippedDendPLRNN"):
                zn = z - z.mean(-1, keepdim=True) if self.mean_centering else z
                be = relu(zn[..., :, None] + p["thetas"])
                if self.kind == "ClippedDendPLRNN":
                    be = be - relu(zn)[..., :, None]
                return A * z + (be * p["alphas"]).sum(-1) @ W.T + p["h"]
            if "W1" in p:
                pre = z @ p["W2"].T
                act = relu(pre + p["h2"]) - (relu(pre) if self.clipped else 0.0)
                return self._diag_times(A, z) + act @ p["W1"].T + p["h1"]
            if "W_out" in p:
                return self._diag_times(A, z) + relu(z @ p["W_in"].T + p["b_in"]) @ p["W_out"].T + p["h"]
            W = torch.diag(W) if W.dim() == 1 else W
            if hasattr(self, "n_relu"):  # ALRNN: only the last n_relu units are rectified
                M, P = z.shape[-1], int(self.n_relu)
                phi = torch.cat([z[..., :M - P], relu(z[..., M - P:])], dim=-1)
            else:
                phi = relu(z)
            return self._diag_times(A, z) + phi @ W.T + p["h"]

    return PiecewiseLinearRNNStep
