"""docs/make_gallery.py: gallery images come from the notebooks' committed outputs, written only on request."""

from __future__ import annotations

import base64
import importlib.util
import shutil
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: notebooks whose gallery cell is checked here (the others follow the same convention)
TAGGED = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))  # every tutorial notebook
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _load_make_gallery():
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "docs" / "make_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_gallery = _load_make_gallery()


def _tiny_notebook(path: Path, *, tags=("gallery",), with_png=True, n_tagged=1) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print('not the figure')")]
    for _ in range(n_tagged):
        cell = nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n_ = plt.plot([0, 1], [1, 0])")
        cell.metadata["tags"] = list(tags)
        if with_png:
            cell.outputs = [nbformat.v4.new_output("display_data", data={
                "image/png": base64.b64encode(PNG_MAGIC + b"fake").decode(), "text/plain": "<Figure>"})]
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize("stem", TAGGED)
def test_each_notebook_has_one_gallery_cell_with_a_png_and_writes_no_files(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    png = make_gallery.gallery_png(nb, stem)
    assert png.startswith(PNG_MAGIC)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "savefig" not in sources and "write_bytes" not in sources and "write_text" not in sources


def test_make_gallery_on_a_copy_writes_the_committed_png(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for stem in ("08_flip_during_training", "07_training_neuron_model"):
        shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", notebooks)
    _tiny_notebook(notebooks / "no_figure.ipynb", tags=("other",))
    out = tmp_path / "gallery"
    assert make_gallery.main(["--notebooks-dir", str(notebooks), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["07_training_neuron_model.png", "08_flip_during_training.png"]
    nb = nbformat.read(notebooks / "08_flip_during_training.ipynb", as_version=4)
    assert (out / "08_flip_during_training.png").read_bytes() == make_gallery.gallery_png(nb)


def test_execute_reruns_the_notebook_in_its_directory_without_modifying_it(tmp_path):
    path = _tiny_notebook(tmp_path / "tiny.ipynb", with_png=False)
    before = path.read_bytes()
    out = tmp_path / "gallery"
    with pytest.raises(make_gallery.GalleryError, match="exactly one PNG output"):
        make_gallery.write_gallery_image(path, tmp_path)
    assert make_gallery.main([str(path), "--output", str(out), "--execute", "--timeout", "120"]) == 0
    assert (out / "tiny.png").read_bytes().startswith(PNG_MAGIC)
    assert path.read_bytes() == before


@pytest.mark.parametrize("n_tagged, match", [(0, "found 0"), (2, "found 2")])
def test_a_named_notebook_needs_exactly_one_gallery_cell(tmp_path, capsys, n_tagged, match):
    path = _tiny_notebook(tmp_path / "nb.ipynb", n_tagged=n_tagged)
    assert make_gallery.main([str(path), "--output", str(tmp_path / "out")]) == 1
    assert match in capsys.readouterr().err
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize("args, message", [
    (["missing.ipynb"], "does not exist"),
    (["notes.txt"], "must be a .ipynb file"),
    (["--timeout", "0"], "timeout must be > 0"),
    (["--timeout", "soon"], "timeout must be a number"),
    (["--notebooks-dir", "nowhere"], "is not a directory"),
])
def test_bad_arguments_are_rejected_with_a_clear_message(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        make_gallery.main([*args, "--output", str(tmp_path / "out")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_output_that_is_a_file_is_rejected(tmp_path, capsys):
    path = _tiny_notebook(tmp_path / "nb.ipynb")
    (tmp_path / "taken").write_text("")
    with pytest.raises(SystemExit):
        make_gallery.main([str(path), "--output", str(tmp_path / "taken")])
    assert "is not a directory" in capsys.readouterr().err
