"""The Binder environment: exact pins, a numba cache reused across CPUs, no compilation after the warm-up.

``test_notebook_compiles_nothing_after_warm_up`` does what Binder does:
warm the cache with ``binder/warm_numba_cache.py`` under ``NUMBA_CPU_NAME=generic``
(as ``binder/postBuild``), then run ``notebooks/00_quickstart.ipynb`` through
``binder/start`` (which must set the same CPU target) while numba's event API
records every compilation; there must be none. The cache goes to a temporary
``NUMBA_CACHE_DIR``, so the test starts cold (a few minutes on 2 cores) and
writes nothing into the repository.

``PLRNN_BINDER_NOTEBOOKS=all`` checks every notebook, not only the first;
``PLRNN_BINDER_VENV=1`` additionally installs the pins into a fresh venv
(both opt-in: about 15 minutes, and every wheel downloaded or unpacked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
pytest.importorskip("nbclient")

pytestmark = [pytest.mark.binder, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"


def pip_pins() -> dict[str, str]:
    env = yaml.safe_load((BINDER / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict)]
    conda = [d for d in deps if isinstance(d, str)]
    assert conda == ["python=3.11", "pip"], f"conda should provide only python and pip, got {conda}"
    assert len(pip_lists) == 1
    pins = {}
    for line in pip_lists[0]:
        name, sep, version = line.partition("==")
        assert sep and version, f"{line!r} is not pinned to an exact version"
        pins[name] = version
    return pins


def test_every_package_is_pinned_and_the_pins_satisfy_the_requirements():
    """Every dependency is pinned, and each pin satisfies the package's own requirement (not the installed version:
    a fresh test environment may hold newer releases; installing the pins is checked by the opt-in venv test)."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    pins = {n.lower(): v for n, v in pip_pins().items()}
    runtime = {"numpy", "scipy", "numba", "llvmlite", "matplotlib", "pandas", "xarray", "tqdm", "ipywidgets",
               "ipympl", "jupyterlab", "voila"}
    assert runtime <= set(pins), f"unpinned: {sorted(runtime - set(pins))}"
    base = [Requirement(r) for r in metadata.requires("plrnn-explorer") or [] if "extra ==" not in r]
    missing = sorted(r.name for r in base if r.name.lower() not in pins)
    assert not missing, f"dependencies without a pin: {missing}"
    violated = {r.name: (str(r.specifier), pins[r.name.lower()]) for r in base
                if not r.specifier.contains(pins[r.name.lower()], prereleases=True)}
    assert not violated, f"pins outside the package's requirements (requirement, pin): {violated}"
    python = yaml.safe_load((BINDER / "environment.yml").read_text())["dependencies"][0].partition("=")[2]
    assert SpecifierSet(metadata.metadata("plrnn-explorer")["Requires-Python"]).contains(python + ".0")


@pytest.mark.skipif(os.environ.get("PLRNN_BINDER_VENV") != "1", reason="opt-in: set PLRNN_BINDER_VENV=1")
def test_pins_install_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pins = [f"{n}=={v}" for n, v in pip_pins().items()]
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *pins], check=True, timeout=1800)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"], check=True)


def test_start_and_postbuild_select_the_generic_cpu():
    start = BINDER / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable"
    out = subprocess.run([str(start), "sh", "-c", "echo $NUMBA_CPU_NAME"], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "NUMBA_CPU_NAME"}, check=True)
    assert out.stdout.strip() == "generic"
    post = (BINDER / "postBuild").read_text()
    assert post.index("export NUMBA_CPU_NAME=generic") < post.index("warm_numba_cache.py")


RUN_NOTEBOOK = textwrap.dedent('''
    import json, sys
    import nbformat
    from nbclient import NotebookClient

    path, out = sys.argv[1], sys.argv[2]
    nb = nbformat.read(path, as_version=4)
    listen = """
    import numba.core.event as _ev
    class _Compiles(_ev.Listener):
        def __init__(self):
            self.names = []
        def on_start(self, e):
            self.names.append(e.data["dispatcher"].py_func.__qualname__)
        def on_end(self, e):
            pass
    _compiles = _Compiles()
    _ev.register("numba:compile", _compiles)
    """
    report = """
    import json, numba
    @numba.njit
    def _listener_probe(x):
        return x + 1
    _listener_probe(1)  # proves the listener sees compilations in this kernel
    assert _compiles.names.pop() == "_listener_probe", _compiles.names
    print("COMPILED=" + json.dumps(_compiles.names))
    """
    nb.cells.insert(0, nbformat.v4.new_code_cell(listen))
    nb.cells.append(nbformat.v4.new_code_cell(report))
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[3]}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    json.dump(json.loads(text.split("COMPILED=", 1)[1]), open(out, "w"))
''')


def compile_names(tmp_path, code: str, env: dict[str, str]) -> list[str]:
    """Qualified names of the kernels numba compiles while ``code`` runs."""
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent('''
        import json, sys
        import numba.core.event as ev
        names = []
        class L(ev.Listener):
            def on_start(self, e):
                names.append(e.data["dispatcher"].py_func.__qualname__)
            def on_end(self, e):
                pass
        with ev.install_listener("numba:compile", L()):
            exec(sys.argv[1])
        print(json.dumps(names))
    '''))
    out = subprocess.run([sys.executable, str(script), code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECKED = NOTEBOOKS if os.environ.get("PLRNN_BINDER_NOTEBOOKS") == "all" else NOTEBOOKS[:1]


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """Environments of the run (no CPU set: binder/start must set it) and of the build, cache warmed."""
    cache = tmp_path_factory.mktemp("numba-cache")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CPU")}
    env.update(NUMBA_CACHE_DIR=str(cache), OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    build_env = {**env, "NUMBA_CPU_NAME": "generic"}
    warm = subprocess.run([sys.executable, str(BINDER / "warm_numba_cache.py")], env=build_env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    assert warm.returncode == 0, warm.stderr[-3000:]
    assert "kernels compiled" in warm.stdout
    return env, build_env


@pytest.mark.parametrize("nb", CHECKED, ids=[p.stem for p in CHECKED])
def test_notebook_compiles_nothing_after_warm_up(nb, warm_cache, tmp_path):
    """Set PLRNN_BINDER_NOTEBOOKS=all to check every notebook (about 15 min), not only the first."""
    env, _ = warm_cache
    out = tmp_path / "compiled.json"
    runner = tmp_path / "run_notebook.py"
    runner.write_text(RUN_NOTEBOOK)
    subprocess.run([str(BINDER / "start"), sys.executable, str(runner), str(nb), str(out), str(nb.parent)],
                   env=env, cwd=tmp_path, check=True, timeout=1800)
    compiled = json.loads(out.read_text())
    assert compiled == [], f"kernels compiled at run time despite the warm-up: {sorted(set(compiled))}"


def test_the_cache_is_keyed_on_the_cpu_target(warm_cache, tmp_path):
    """The check above can fail: the warm cache is not used for the host's own CPU target."""
    env, build_env = warm_cache
    code = "import plrnn_explorer as pe; pe.systems.gt16().step([0.0, 0.0])"
    assert "step" in compile_names(tmp_path, code, env)
    assert compile_names(tmp_path, code, build_env) == []
