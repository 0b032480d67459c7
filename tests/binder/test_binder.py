"""The Binder image, built the way repo2docker builds it, runs the first notebook without compiling anything.

The module fixture ``binder_image`` rebuilds the image with pip, in temporary directories only:

1. **copy** the repository (its tracked files, as Binder clones it) to a temporary directory;
2. **venv**: a fresh venv (no system site packages) of the Python that ``binder/environment.yml`` pins
   (conda provides only Python and pip there);
3. **pip install**: upgrade pip (conda-forge's ``pip`` is unpinned, so the newest), install the yml's pip
   section as a requirements file, as conda does, then ``pip check``;
4. **postBuild**: run ``binder/postBuild`` itself from the copy's root with the venv first on ``PATH``: it
   installs the package editable (``pip install --no-deps -e .``) and warms the numba cache under
   ``NUMBA_CPU_NAME=generic``; the cache lands next to the copy's sources, where Binder keeps it.

``test_notebook_compiles_nothing_at_run_time`` then runs the notebook through ``binder/start`` (as repo2docker
starts every container) with ``jupyter nbconvert --execute``. A ``.pth`` hook in the venv (written after the
build) registers a listener for numba's ``numba:compile`` event in every Python process of the run (the
kernel, and processes it starts such as ``!plrnn-explorer``) and logs each compilation; numba only fires the
event on a cache miss. A last cell appended to the copy of the notebook compiles a fresh function, which the
log must show, so the check cannot pass because nothing was listening. ``test_the_cache_is_keyed_on_the_cpu_target``
shows the check can fail: without ``binder/start``'s CPU target the warm cache is not used.

Runs by default: 2.5 minutes on a quiet 2-core machine, up to 6.5 under heavy load (pip 30 to 130 s, the
warm-up 80 to 125 s, the notebook 12 to 27 s); needs the package index. ``PLRNN_BINDER_NOTEBOOKS=all`` runs
every notebook, not only the first (10 minutes in all under heavy load; all 15 compiled nothing). The venv
(about 0.9 GB, 30,000 files) stays in pytest's temporary directory, which pytest rotates (deleting it took up
to 90 s on a loaded disk, time CI need not spend).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
nbformat = pytest.importorskip("nbformat")

pytestmark = [pytest.mark.binder, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECKED = NOTEBOOKS if os.environ.get("PLRNN_BINDER_NOTEBOOKS") == "all" else NOTEBOOKS[:1]


def environment_yml() -> tuple[str, dict[str, str]]:
    """The Python version and the pip pins of ``binder/environment.yml``."""
    deps = yaml.safe_load((BINDER / "environment.yml").read_text())["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip_lists = [d["pip"] for d in deps if isinstance(d, dict)]
    assert len(conda) == 2 and conda[0].startswith("python=") and conda[1] == "pip", \
        f"conda should provide only python=X.Y and pip, got {conda}"
    assert len(pip_lists) == 1, "expected one pip section"
    pins = {}
    for line in pip_lists[0]:
        name, sep, version = line.partition("==")
        assert sep and version, f"{line!r} is not pinned to an exact version"
        pins[name] = version
    return conda[0].partition("=")[2], pins


def test_every_package_is_pinned_and_the_pins_satisfy_the_requirements():
    """Every dependency is pinned, and each pin satisfies the package's own requirement (whether the pins
    install together is checked by building the image below)."""
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    python, pins = environment_yml()
    pins = {n.lower(): v for n, v in pins.items()}
    runtime = {"numpy", "scipy", "numba", "llvmlite", "matplotlib", "pandas", "xarray", "tqdm", "ipywidgets",
               "ipympl", "jupyterlab", "voila"}
    assert runtime <= set(pins), f"unpinned: {sorted(runtime - set(pins))}"
    base = [Requirement(r) for r in metadata.requires("plrnn-explorer") or [] if "extra ==" not in r]
    missing = sorted(r.name for r in base if r.name.lower() not in pins)
    assert not missing, f"dependencies without a pin: {missing}"
    violated = {r.name: (str(r.specifier), pins[r.name.lower()]) for r in base
                if not r.specifier.contains(pins[r.name.lower()], prereleases=True)}
    assert not violated, f"pins outside the package's requirements (requirement, pin): {violated}"
    assert SpecifierSet(metadata.metadata("plrnn-explorer")["Requires-Python"]).contains(python + ".0")


def test_start_and_postbuild_select_the_generic_cpu():
    start = BINDER / "start"
    assert os.access(start, os.X_OK), "binder/start must be executable"
    out = subprocess.run([str(start), "sh", "-c", "echo $NUMBA_CPU_NAME"], capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if k != "NUMBA_CPU_NAME"}, check=True)
    assert out.stdout.strip() == "generic"
    post = (BINDER / "postBuild").read_text()
    assert post.index("export NUMBA_CPU_NAME=generic") < post.index("warm_numba_cache.py")


# Imported by a .pth file in the test venv: with PLRNN_BINDER_COMPILE_LOG set, every Python process appends
# one JSON line when it starts listening and one per numba compilation (numba fires the event on cache misses).
COMPILE_LOG_HOOK = '''
import os as _os

def _listen(path):
    import json, sys
    import numba
    from numba.core import event

    def log(**record):
        with open(path, "a") as f:
            f.write(json.dumps({"pid": _os.getpid(), **record}) + "\\n")

    class CompileLog(event.Listener):
        def on_start(self, ev):
            f = ev.data["dispatcher"].py_func
            log(event="compile", name=f"{f.__module__}.{f.__qualname__}")

        def on_end(self, ev):
            pass

    event.register("numba:compile", CompileLog())
    log(event="listening", argv=sys.orig_argv, prefix=sys.prefix, cpu_name=numba.config.CPU_NAME)

if _os.environ.get("PLRNN_BINDER_COMPILE_LOG"):
    _listen(_os.environ["PLRNN_BINDER_COMPILE_LOG"])
'''

PROBE_CELL = '''\
# Appended by tests/binder: a fresh function must show up as a compilation in this kernel.
import json, os
import numba
import plrnn_explorer

with open(os.environ["PLRNN_BINDER_COMPILE_LOG"], "a") as f:
    f.write(json.dumps({"pid": os.getpid(), "event": "package", "file": plrnn_explorer.__file__}) + "\\n")

@numba.njit
def _binder_listener_probe(x):
    return x + 1

assert _binder_listener_probe(1) == 2
'''
PROBE = "__main__._binder_listener_probe"


@dataclass
class BinderImage:
    repo: Path                 # the copy the image was built from (editable install, numba cache inside)
    venv: Path
    env: dict[str, str]        # the run-time environment, before binder/start (no NUMBA_CPU_NAME)
    seconds: dict[str, float] = field(default_factory=dict)

    def run(self, step: str, cmd: list[str], log: Path | None = None, timeout: float = 900,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = self.env if log is None else {**self.env, "PLRNN_BINDER_COMPILE_LOG": str(log)}
        t0 = time.perf_counter()
        out = run_step(step, cmd, env=env, cwd=cwd or self.repo, timeout=timeout)
        self.seconds[step] = time.perf_counter() - t0
        return out


def run_step(step: str, cmd: list[str], env: dict[str, str], cwd: Path, timeout: float):
    """Run one step of building or running the image; a failure names the step and shows the output's tail."""
    try:
        out = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True,
                             timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"Binder step '{step}' timed out after {timeout:.0f} s: {exc.cmd}\n"
                    f"{(exc.stdout or '')[-2000:]}\n{(exc.stderr or '')[-3000:]}")
    if out.returncode:
        pytest.fail(f"Binder step '{step}' failed (exit {out.returncode}): {' '.join(map(str, cmd))}\n"
                    f"--- stdout\n{out.stdout[-2000:]}\n--- stderr\n{out.stderr[-4000:]}")
    return out


def copy_repository(dest: Path) -> None:
    """The repository's tracked files as they are in the work tree (what a clone of a commit of it holds)."""
    git = shutil.which("git")
    listed = git and subprocess.run([git, "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=False)
    if listed and listed.returncode == 0:
        for rel in filter(None, listed.stdout.split("\0")):
            src = ROOT / rel
            if src.is_file():
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / rel)
    else:                                                              # not a git checkout (e.g. an sdist)
        shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build",
                                                                    ".venv", "*.nbi", "*.nbc"))


def interpreter(version: str) -> str:
    """A Python of the version environment.yml pins (conda would install it; here it must be present)."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if not found:
        pytest.fail(f"Binder step 'venv' needs Python {version} (binder/environment.yml pins python={version}); "
                    f"this is Python {sys.version.split()[0]} and python{version} is not on PATH")
    return found


@pytest.fixture(scope="module")
def binder_image(tmp_path_factory) -> BinderImage:
    base = tmp_path_factory.mktemp("binder")
    repo, venv, home = base / "repo", base / "venv", base / "home"
    copy_repository(repo)
    python, pins = environment_yml()
    host = {k: v for k, v in os.environ.items()
            if not k.startswith(("NUMBA_", "JUPYTER", "CONDA", "PLRNN_BINDER"))
            and k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV",
                          "IPYTHONDIR", "MPLBACKEND", "MPLCONFIGDIR"}}
    env = {**host, "PATH": os.pathsep.join([str(venv / "bin"), host.get("PATH", "")]), "VIRTUAL_ENV": str(venv),
           "OPENBLAS_NUM_THREADS": "1",                                # a shared 2-core CI machine
           # Jupyter's and IPython's per-user files in the temporary home, so none of the host's kernel specs
           # or startup files take part (pip's download cache stays where it is and is reused).
           "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"), "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
           "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"), "IPYTHONDIR": str(home / "ipython"),
           "MPLCONFIGDIR": str(home / "matplotlib")}
    image = BinderImage(repo, venv, env)
    t0 = time.perf_counter()
    image.run("venv", [interpreter(python), "-m", "venv", venv], timeout=300)
    py = venv / "bin" / "python"
    requirements = base / "environment-pip.txt"
    requirements.write_text("".join(f"{n}=={v}\n" for n, v in pins.items()))
    image.run("pip install pip", [py, "-m", "pip", "install", "--upgrade", "pip"], timeout=600)
    image.run("pip install", [py, "-m", "pip", "install", "-r", requirements], timeout=1800)
    image.run("pip check", [py, "-m", "pip", "check"], timeout=300)
    warm = image.run("postBuild", [repo / "binder" / "postBuild"], timeout=2400)
    assert "kernels compiled" in warm.stdout, f"Binder step 'postBuild': no warm-up report in\n{warm.stdout}"
    cached = list((repo / "src" / "plrnn_explorer").rglob("__pycache__/*.nbi"))
    assert cached, "Binder step 'postBuild': no numba cache index next to the copy's sources"
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "_plrnn_binder_compile_log.py").write_text(COMPILE_LOG_HOOK)
    (site / "_plrnn_binder_compile_log.pth").write_text("import _plrnn_binder_compile_log\n")
    image.seconds["build"] = time.perf_counter() - t0
    print(f"\nBinder image built: {warm.stdout.strip().splitlines()[-1]}; seconds per step "
          f"{ {k: round(v) for k, v in image.seconds.items()} }")
    return image


def read_log(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("notebook", CHECKED, ids=[p.stem for p in CHECKED])
def test_notebook_compiles_nothing_at_run_time(binder_image, notebook, tmp_path):
    image = binder_image
    copy = image.repo / "notebooks" / notebook.name                    # executed where it lies (relative paths)
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_CELL))
    nbformat.write(nb, copy)
    log = tmp_path / "compiles.jsonl"
    t0 = time.perf_counter()
    image.run("notebook", [image.repo / "binder" / "start", "jupyter", "nbconvert", "--to", "notebook",
                           "--execute", "--ExecutePreprocessor.timeout=900",
                           "--ExecutePreprocessor.kernel_name=python3", "--output-dir", tmp_path, copy],
              log=log, timeout=1800)
    print(f"\n{notebook.stem} ran in {time.perf_counter() - t0:.0f} s through binder/start")
    records = read_log(log)
    probes = [r for r in records if r["event"] == "compile" and r["name"] == PROBE]
    assert len(probes) == 1, f"the listener did not see the probe compiled in the kernel: {records}"
    kernel = [r for r in records if r["event"] == "listening" and r["pid"] == probes[0]["pid"]]
    assert kernel and kernel[0]["prefix"] == str(image.venv), f"the kernel did not run in the venv: {kernel}"
    assert kernel[0]["cpu_name"] == "generic", "binder/start did not reach the kernel with NUMBA_CPU_NAME=generic"
    package = [r["file"] for r in records if r["event"] == "package"]
    assert package and Path(package[0]).is_relative_to(image.repo / "src"), \
        f"the kernel imported plrnn_explorer from {package}, not from the image's editable install"
    if "!plrnn-explorer" in copy.read_text():                         # the notebook's CLI call was listened to
        assert any("plrnn-explorer" in " ".join(r["argv"]) for r in records if r["event"] == "listening"), records
    process = {r["pid"]: " ".join(Path(a).name for a in r["argv"][1:3]) for r in records if r["event"] == "listening"}
    compiled = [f"{r['name']} (in {process.get(r['pid'], r['pid'])})" for r in records
                if r["event"] == "compile" and r is not probes[0]]
    assert compiled == [], f"numba compiled at run time despite the warm-up ({len(compiled)}): {compiled}"


def test_the_cache_is_keyed_on_the_cpu_target(binder_image, tmp_path):
    """The check above can fail: without binder/start's CPU target the warm cache is not used."""
    code = "import plrnn_explorer as pe; pe.systems.gt16().step([0.0, 0.0])"
    for how, prefix in (("host CPU", []), ("binder/start", [binder_image.repo / "binder" / "start"])):
        log = tmp_path / f"{how.replace('/', '_')}.jsonl"
        python = binder_image.venv / "bin" / "python"
        binder_image.run(f"gt16().step via {how}", [*prefix, python, "-c", code], log=log, timeout=600)
        names = [r["name"] for r in read_log(log) if r["event"] == "compile"]
        if how == "host CPU":
            assert any(n.endswith("step") for n in names), f"expected a compilation of step, got {names}"
        else:
            assert names == [], f"compiled through binder/start: {names}"
