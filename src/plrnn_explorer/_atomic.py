"""Atomic file writes: a save either completes or leaves the previous file untouched.

Every saver of the package writes through :func:`atomic_path`: the data go
to a temporary file in the destination folder, which is flushed to disk
(``fsync``) and then renamed over the destination with :func:`os.replace`
(atomic on POSIX and Windows). A save that fails part way — a full disk, a
value JSON cannot store, an interrupt — removes the temporary file and
leaves any earlier file at ``path`` as it was.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["atomic_path", "atomic_write_text", "atomic_netcdf", "check_output_path", "json_dumps_strict",
           "json_safe", "json_restore"]

#: suffixes of netCDF files the package writes and reads
NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")

_NONFINITE = {"Infinity": math.inf, "-Infinity": -math.inf, "NaN": math.nan}


def check_output_path(name: str, path: Any, suffixes: Sequence[str] | None = None) -> Path:
    """Validate an output file path before any work is done.

    Raises ``TypeError`` for a non-path, ``ValueError`` for a wrong suffix or a
    directory, ``FileNotFoundError`` if the folder does not exist.

    Examples
    --------
    >>> check_output_path("out", "/no/such/folder/map.png")
    Traceback (most recent call last):
    ...
    FileNotFoundError: out: folder '/no/such/folder' does not exist (for '/no/such/folder/map.png')
    >>> check_output_path("out", "run.pkl", (".npz", ".json"))
    Traceback (most recent call last):
    ...
    ValueError: out must end in .npz or .json, got 'run.pkl'
    """
    if not isinstance(path, (str, PathLike)):
        raise TypeError(f"{name} must be a str or os.PathLike file path, got {type(path).__name__}")
    p = Path(path)
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise ValueError(f"{name} must end in {' or '.join(suffixes)}, got {str(p)!r}")
    if str(path) == "" or p.is_dir():
        raise ValueError(f"{name} must be a file path, got the folder {str(p)!r}")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise FileNotFoundError(f"{name}: folder {str(parent)!r} does not exist (for {str(p)!r})")
    return p


@contextmanager
def atomic_path(path: str | PathLike, name: str = "path") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The temporary name keeps the suffix of ``path`` (writers such as
    ``numpy.savez`` look at it). On any exception, including
    ``KeyboardInterrupt``, the temporary file is removed and ``path`` is
    left untouched.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("new")
    >>> open(target).read()
    'new'
    >>> try:
    ...     with atomic_path(target) as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise OSError("disk full")
    ... except OSError:
    ...     pass
    >>> open(target).read(), sorted(os.listdir(os.path.dirname(target)))
    ('new', ['x.txt'])
    """
    p = check_output_path(name, path)
    fd, tmp_name = tempfile.mkstemp(dir=p.parent if str(p.parent) else ".", prefix=f".{p.name}.",
                                    suffix=".tmp" + p.suffix)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        if p.exists():
            try:
                os.chmod(tmp, p.stat().st_mode & 0o7777)
            except OSError:  # pragma: no cover - e.g. a file owned by someone else
                pass
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | PathLike, text: str, name: str = "path") -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically.

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "x.json")
    >>> atomic_write_text(target, "{}")
    >>> open(target).read()
    '{}'
    """
    with atomic_path(path, name) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_netcdf(dataset: Any, path: str | PathLike, name: str = "path") -> None:
    """Write an ``xarray.Dataset`` as netCDF (.nc, .nc4, .netcdf) atomically.

    The netCDF library reports a failed write (a full disk, a quota) as
    ``RuntimeError("NetCDF: HDF error")``; it is raised as ``OSError`` naming
    the file, like every other failed save. The previous file is kept.

    Examples
    --------
    >>> import os, tempfile, xarray as xr
    >>> target = os.path.join(tempfile.mkdtemp(), "x.nc")
    >>> atomic_netcdf(xr.Dataset({"a": ("i", [1.0, 2.0])}), target)
    >>> xr.open_dataset(target).a.values.tolist()
    [1.0, 2.0]
    >>> atomic_netcdf(xr.Dataset(), target[:-3] + ".png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: path must end in .nc or .nc4 or .netcdf, got '....png'
    """
    p = check_output_path(name, path, NETCDF_SUFFIXES)
    with atomic_path(p, name) as tmp:
        try:
            dataset.to_netcdf(tmp)
        except RuntimeError as exc:  # netCDF4's report of a failed write
            raise OSError(f"{name}: could not write the netCDF file {str(p)!r} ({exc}: disk full or not "
                          "writable?); the previous file, if any, is unchanged") from exc


def json_safe(x: Any) -> Any:
    """Replace non-finite floats by the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"``.

    Standard JSON has no such numbers; Python's ``float()`` and NumPy read
    these strings back.

    Examples
    --------
    >>> json_safe({"a": [1.0, float("inf"), [float("nan")]]})
    {'a': [1.0, 'Infinity', ['NaN']]}
    """
    if isinstance(x, float):
        if math.isfinite(x):
            return x
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


def json_dumps_strict(doc: Any, **kwargs: Any) -> str:
    """``json.dumps`` of :func:`json_safe` (doc), refusing anything that is not standard JSON.

    Examples
    --------
    >>> json_dumps_strict([1.5, float("-inf")])
    '[1.5, "-Infinity"]'
    """
    return json.dumps(json_safe(doc), allow_nan=False, **kwargs)


def json_restore(x: Any) -> Any:
    """Inverse of :func:`json_safe`: the strings ``"Infinity"``, ``"-Infinity"``, ``"NaN"`` become floats.

    Examples
    --------
    >>> json_restore({"a": [1.0, "Infinity", "stable node"]})
    {'a': [1.0, inf, 'stable node']}
    """
    if isinstance(x, str):
        return _NONFINITE.get(x, x)
    if isinstance(x, dict):
        return {k: json_restore(v) for k, v in x.items()}
    if isinstance(x, list):
        return [json_restore(v) for v in x]
    return x
