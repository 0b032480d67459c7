"""Write the README gallery images from the notebooks' committed outputs.

Every tutorial notebook tags exactly one code cell with the cell tag
``gallery``; that cell's inline PNG output is the notebook's gallery image.
This script copies it to ``docs/gallery/<notebook stem>.png``. It never runs
as part of the tests: the notebooks themselves write no files, and the
gallery changes only when someone runs this command.

Usage (from anywhere)::

    python docs/make_gallery.py                       # every notebook with a gallery cell
    python docs/make_gallery.py notebooks/07_training_neuron_model.ipynb
    python docs/make_gallery.py --execute             # re-execute each notebook first (in memory)
    python docs/make_gallery.py --output /tmp/gallery

With ``--execute`` a notebook is run from its own directory in a fresh kernel
and the image is taken from the new output; the notebook file itself is not
modified (re-execute and commit notebooks with ``jupyter nbconvert --execute
--inplace`` as usual).
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path
from typing import Sequence

import nbformat

#: the cell tag that marks a notebook's gallery figure
GALLERY_TAG = "gallery"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUTPUT = ROOT / "docs" / "gallery"


class GalleryError(ValueError):
    """A notebook's gallery cell is missing, ambiguous or has no PNG output."""


def gallery_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The code cells of ``nb`` tagged ``gallery``."""
    return [c for c in nb.cells if c.cell_type == "code" and GALLERY_TAG in c.get("metadata", {}).get("tags", [])]


def gallery_png(nb: nbformat.NotebookNode, name: str = "notebook") -> bytes:
    """PNG bytes of the single inline image output of the notebook's one ``gallery`` cell.

    Raises
    ------
    GalleryError
        If there is not exactly one tagged cell, or it does not have exactly
        one ``image/png`` output (e.g. the notebook was saved without outputs).
    """
    cells = gallery_cells(nb)
    if len(cells) != 1:
        raise GalleryError(f"{name}: expected exactly one code cell tagged {GALLERY_TAG!r}, found {len(cells)}")
    images = [o["data"]["image/png"] for o in cells[0].get("outputs", [])
              if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
    if len(images) != 1:
        raise GalleryError(f"{name}: the {GALLERY_TAG!r} cell must have exactly one PNG output, found {len(images)}"
                           " (execute the notebook, or pass --execute)")
    return base64.b64decode(images[0])


def execute(nb: nbformat.NotebookNode, directory: Path, timeout: float) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh kernel with ``directory`` as working directory; returns the executed copy."""
    from nbclient import NotebookClient

    copy = nbformat.from_dict(nb)
    NotebookClient(copy, timeout=timeout, resources={"metadata": {"path": str(directory)}}).execute()
    return copy


def write_gallery_image(notebook: Path, output_dir: Path, *, run: bool = False, timeout: float = 1200.0) -> Path:
    """Write ``output_dir / <notebook stem>.png`` from ``notebook``'s gallery cell; returns the path written."""
    nb = nbformat.read(notebook, as_version=4)
    if run:
        nb = execute(nb, notebook.parent, timeout)
    png = gallery_png(nb, notebook.name)
    target = output_dir / f"{notebook.stem}.png"
    target.write_bytes(png)
    return target


def _notebook_path(value: str) -> Path:
    path = Path(value)
    if path.suffix != ".ipynb":
        raise argparse.ArgumentTypeError(f"notebook must be a .ipynb file, got {value!r}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"notebook {value!r} does not exist")
    return path


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"timeout must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"timeout must be > 0 seconds, got {value!r}")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status.

    Without notebook arguments, every ``*.ipynb`` in ``--notebooks-dir`` that
    has a gallery cell is processed (notebooks without one are listed as
    skipped); named notebooks must have one.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=_notebook_path, help="notebooks to process (default: all)")
    parser.add_argument("--notebooks-dir", type=Path, default=DEFAULT_NOTEBOOKS,
                        help="where to look for notebooks when none are named (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="directory for the images, created if missing (default: %(default)s)")
    parser.add_argument("--execute", action="store_true", help="re-execute each notebook (in memory) first")
    parser.add_argument("--timeout", type=_positive_seconds, default=1200.0,
                        help="per-cell timeout in seconds with --execute (default: %(default)s)")
    args = parser.parse_args(argv)

    if args.notebooks:
        notebooks, required = list(args.notebooks), True
    else:
        if not args.notebooks_dir.is_dir():
            parser.error(f"--notebooks-dir {str(args.notebooks_dir)!r} is not a directory")
        notebooks, required = sorted(args.notebooks_dir.glob("*.ipynb")), False
        if not notebooks:
            parser.error(f"no .ipynb files in {str(args.notebooks_dir)!r}")
    if args.output.exists() and not args.output.is_dir():
        parser.error(f"--output {str(args.output)!r} exists and is not a directory")
    args.output.mkdir(parents=True, exist_ok=True)

    failures = 0
    for notebook in notebooks:
        if not required and not gallery_cells(nbformat.read(notebook, as_version=4)):
            print(f"skipped {notebook.name}: no cell tagged {GALLERY_TAG!r}")
            continue
        try:
            target = write_gallery_image(notebook, args.output, run=args.execute, timeout=args.timeout)
        except GalleryError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failures += 1
            continue
        print(f"wrote {target}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
