"""The package as a user gets it.

``python -m build`` (an isolated build, as ``make dist``: it installs the build backend from
pip's index) makes an sdist and a wheel from a copy of the working tree; both pass ``twine
check --strict``. The wheel, installed with no extras into a fresh venv, imports, says its
version, runs the commands that need nothing more, and for every command that needs an extra
prints one line naming it, with exit status 2 and no traceback.

The fresh venv is a plain ``python -m venv`` (not ``--system-site-packages``, which would show
it every package of this environment). It gets torch as ``pip install torch`` would leave it,
without downloading it again: a ``.pth`` file puts on its path a folder of links to this
environment's torch and to the distributions torch requires, and to nothing else, so ``pip
install <wheel>`` finds torch installed and installs numpy itself, and no package of cadence's
extras can be imported there (a test checks). One build and one venv serve the whole module
(about 30 s on 2 cores); ``make quick`` skips it (``slow``), ``make test`` runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

import cadence

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
# what the copy of the working tree leaves out: environments, caches, build outputs
NOT_COPIED = {".venv", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
              ".hypothesis", "site", "report", "dist", "build"}
# the import name of every package an extra brings, none of which the fresh venv may see
EXTRAS_MODULES = ("matplotlib", "yaml", "rich", "sklearn", "tensorboard", "mkdocs",
                  "transformers", "mmengine", "lightning", "accelerate", "stable_baselines3")
YAML_SPEC = "type: cosine\nsteps: 100\n"


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def checked(command: list[str], cwd: Path, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    done = run(command, cwd, env)
    assert done.returncode == 0, (f"{' '.join(command)} exited {done.returncode}\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


# -- the build ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path


def _ignored(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {n for n in names if n.endswith(".egg-info") or n == "__pycache__"
            or (top and n in NOT_COPIED)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist, and the wheel built from it, of a copy of the working tree (the build writes
    ``*.egg-info`` and ``build/`` next to the sources: none of it in the repository)."""
    base = tmp_path_factory.mktemp("build")
    source, out = base / "source", base / "dist"
    shutil.copytree(ROOT, source, ignore=_ignored, symlinks=True)
    checked([sys.executable, "-m", "build", "--outdir", str(out), str(source)], base)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return Built(sdists[0], wheels[0])


def test_sdist_and_wheel_pass_twine_check(built: Built) -> None:
    done = checked([sys.executable, "-m", "twine", "check", "--strict", str(built.sdist),
                    str(built.wheel)], built.wheel.parent)
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_file_names_carry_the_one_version(built: Built) -> None:
    assert built.sdist.name == f"cadence-{cadence.__version__}.tar.gz"
    assert built.wheel.name == f"cadence-{cadence.__version__}-py3-none-any.whl"


def test_sdist_holds_license_changelog_readme_and_tests(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "src/cadence/__init__.py",
            "src/cadence/py.typed", "tests/test_wheel.py"} <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_holds_the_package_only(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
        info = f"cadence-{cadence.__version__}.dist-info"
        meta = wheel.read(f"{info}/METADATA").decode()
    assert {n.split("/")[0] for n in names} == {"cadence", info}
    assert "cadence/py.typed" in names and f"{info}/licenses/LICENSE" in names
    assert "License-Expression: MIT" in meta
    assert [ln for ln in meta.splitlines() if ln.startswith("Requires-Dist") and "extra" not in ln
            ] == ["Requires-Dist: numpy>=1.24", "Requires-Dist: torch>=2.2"]


# -- a fresh venv with the wheel and nothing else ----------------------------------------------
@dataclass(frozen=True)
class Fresh:
    bin: Path
    work: Path  # an empty folder to run the commands in
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.bin / args[0]), *args[1:]], self.work, self.env, timeout=300)


def _torch_and_its_requirements() -> list[metadata.Distribution]:
    """This environment's torch and the distributions it requires, as ``pip install torch``
    installs them (environment markers evaluated, no extras)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, metadata.Distribution] = {}
    todo = ["torch"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        dist = metadata.distribution(name)
        found[name] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(found.values())


def _link_farm(folder: Path, skip: set[str]) -> None:
    """Links in ``folder`` to the top-level files of torch and its requirements (their
    packages, modules and metadata), leaving out the distributions named in ``skip``."""
    from packaging.utils import canonicalize_name

    folder.mkdir()
    for dist in _torch_and_its_requirements():
        if canonicalize_name(dist.metadata["Name"]) in skip:
            continue
        site = Path(str(dist.locate_file("")))
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if not (folder / top).exists() and (site / top).exists():
                (folder / top).symlink_to(site / top)


@pytest.fixture(scope="module")
def fresh(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fresh]:
    base = tmp_path_factory.mktemp("fresh")
    home = base / "venv"
    venv.EnvBuilder(with_pip=True, symlinks=True).create(home)
    bin_ = home / "bin"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONWARNINGS")}
    env.update(VIRTUAL_ENV=str(home), PATH=f"{bin_}{os.pathsep}{env.get('PATH', '')}",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    work = base / "work"
    work.mkdir()
    python = [str(bin_ / "python")]
    listed = checked([*python, "-c", "import importlib.metadata as m, re; print('\\n'.join("
                      "re.sub(r'[-_.]+', '-', d.metadata['Name']).lower() "
                      "for d in m.distributions()))"], work, env).stdout.split()
    site = Path(checked([*python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        work, env).stdout.strip())
    _link_farm(base / "torch-only", skip=set(listed))  # the venv's own pip and setuptools win
    (site / "torch-only.pth").write_text(f"{base / 'torch-only'}\n")
    # torch must be seen as installed before pip runs: else pip would fetch a torch build
    seen = checked([*python, "-m", "pip", "show", "torch"], work, env).stdout
    assert f"Version: {metadata.version('torch')}" in seen
    checked([*python, "-m", "pip", "install", "--quiet", str(built.wheel)], work, env)
    yield Fresh(bin_, work, env)


def test_fresh_venv_has_the_wheel_and_no_extras(fresh: Fresh) -> None:
    code = ("import importlib.util as u, cadence; print(cadence.__file__); "
            f"print([m for m in {EXTRAS_MODULES!r} if u.find_spec(m)])")
    where, extras = fresh.run("python", "-c", code).stdout.splitlines()
    assert where.startswith(str(fresh.bin.parent)) and "site-packages" in where
    assert extras == "[]"


def test_import_and_version(fresh: Fresh) -> None:
    done = fresh.run("python", "-c", "import cadence, importlib.metadata as m; "
                                      "print(cadence.__version__, m.version('cadence'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [cadence.__version__] * 2
    done = fresh.run("cadence", "--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"cadence {cadence.__version__}\n",
                                                           "")


def test_help_and_preview_need_no_extra(fresh: Fresh) -> None:
    done = fresh.run("cadence", "--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: cadence"), done.stderr
    done = fresh.run("cadence", "preview", "cosine")
    assert done.returncode == 0, done.stderr
    assert "cosine: lr" in done.stdout and done.stderr == ""


def test_help_on_scheduler(fresh: Fresh) -> None:
    done = fresh.run("python", "-c", "import cadence; help(cadence.Scheduler)")
    assert done.returncode == 0, done.stderr
    assert "class Scheduler" in done.stdout and "lr" in done.stdout


@pytest.mark.parametrize(("command", "extra"), [
    (["plot", "cosine", "-o", "lr.png"], "plot"),
    (["presets"], "cli"),
    (["describe", "cosine"], "cli"),
    (["find-lr"], "cli"),
    # these import matplotlib first: they name the extra that brings all they need
    (["demo", "--epochs", "1", "--seeds", "1", "--out", "report"], "cli"),
    (["compare", "cosine", "--epochs", "1", "--seeds", "1", "--out", "report"], "cli"),
    (["describe", "spec.yaml"], "yaml"),
    (["preview", "spec.yaml"], "yaml"),
    (["plot", "spec.yaml", "-o", "lr.png"], "yaml"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_a_command_that_needs_an_extra_names_it(fresh: Fresh, command: list[str],
                                                extra: str) -> None:
    (fresh.work / "spec.yaml").write_text(YAML_SPEC)
    done = fresh.run("cadence", *command)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"cadence {command[0]}: error: ")
    assert f"pip install 'cadence[{extra}]'" in lines[0]
    assert not (fresh.work / "lr.png").exists() and not (fresh.work / "report").exists()
