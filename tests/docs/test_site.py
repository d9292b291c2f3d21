"""The documentation site: every public name has a docstring with an example and a place in the
API reference, and ``mkdocs build --strict`` builds the whole site with no warning.

The public names are those of ``cadence.__all__``, ``cadence.schedules``, ``cadence.config``,
``cadence.compat`` and its drop-in modules, ``cadence.integrations.*`` and ``cadence.tools``.
A class, function or module needs its own docstring (not one inherited from upstream) with a
``>>>`` example, which ``pytest --doctest-modules`` runs; a constant, which has no docstring of
its own at run time, needs its place in the reference. The reference pages name what they
render with mkdocstrings' ``::: dotted.path`` (resolved here to the object, so a name documented
under its defining module counts for every module that re-exports it) or, for a constant or
another name of an object, a heading with the anchor ``{ #module.name }``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
MODULES = [
    "cadence",
    "cadence.schedules",
    "cadence.config",
    "cadence.compat",
    "cadence.compat.lr_scheduler",
    "cadence.compat.transformers",
    "cadence.compat.mmengine",
    "cadence.compat.d2l",
    "cadence.integrations.mmengine",
    "cadence.integrations.sb3",
    "cadence.tools",
    "cadence.tools.forecast",
    "cadence.tools.forecast_laws",
    "cadence.tools.forecast_plot",
    "cadence.tools.forecast_runs",
    "cadence.tools.forecast_search",
    "cadence.schedules.branch",
]
NEEDS = {"cadence.compat.mmengine": "mmengine", "cadence.integrations.mmengine": "mmengine"}


def public_names() -> list[tuple[str, str, Any]]:
    """(module, name, object) for every public name."""
    out = []
    for module_name in MODULES:
        if module_name in NEEDS and importlib.util.find_spec(NEEDS[module_name]) is None:
            continue
        module = importlib.import_module(module_name)
        out += [(module_name, n, getattr(module, n)) for n in module.__all__]
    return out


NAMES = public_names()


def is_documented_object(obj: object) -> bool:
    return isinstance(obj, (type, types.ModuleType, types.FunctionType)) or callable(obj)


def own_doc(obj: object) -> str:
    """The object's own docstring: a class's ``__doc__`` from its own body, not a base's."""
    if isinstance(obj, type):
        return obj.__dict__.get("__doc__") or ""
    return getattr(obj, "__doc__", None) or ""


def test_the_public_names_are_found():
    assert len(NAMES) > 100
    assert ("cadence", "Scheduler", importlib.import_module("cadence").Scheduler) in NAMES


# the classes, functions and modules; a constant (__version__, INF, PRESETS...) has no docstring
# of its own at run time: the reference documents it (test_every_public_name_is_in_the_reference)
OBJECTS = [(m, n, o) for m, n, o in NAMES if is_documented_object(o)]


@pytest.mark.parametrize(("module", "name", "obj"), OBJECTS,
                         ids=[f"{m}.{n}" for m, n, _ in OBJECTS])
def test_every_public_name_has_a_docstring_with_an_example(module, name, obj):
    doc = own_doc(obj)
    assert doc.strip(), f"{module}.{name} has no docstring of its own"
    assert ">>>" in doc, f"{module}.{name}'s docstring has no example (>>>)"


def reference_entries() -> tuple[list[str], set[str]]:
    """The paths rendered with ``:::`` and the explicit anchors, over all reference pages."""
    paths, anchors = [], set()
    for page in sorted(REFERENCE.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        paths += re.findall(r"^::: ([\w.]+)\s*$", text, flags=re.MULTILINE)
        anchors |= set(re.findall(r"\{ ?#([\w.]+) ?\}", text))
    return paths, anchors


def resolve(path: str) -> Any:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


def test_every_reference_path_resolves():
    paths, _ = reference_entries()
    assert len(paths) == len(set(paths)), "a name is rendered twice"
    no_mmengine = importlib.util.find_spec("mmengine") is None
    for path in paths:
        if no_mmengine and "mmengine" in path and "mmengine_shapes" not in path:
            continue  # checked where MMEngine is installed
        resolve(path)


@pytest.mark.parametrize(("module", "name", "obj"), NAMES, ids=[f"{m}.{n}" for m, n, _ in NAMES])
def test_every_public_name_is_in_the_reference(module, name, obj):
    paths, anchors = reference_entries()
    rendered = []
    for path in paths:
        try:
            rendered.append(resolve(path))
        except ImportError:  # an optional package missing here: checked where it is installed
            continue
    if any(obj is r for r in rendered) or f"{module}.{name}" in anchors:
        return
    pytest.fail(f"{module}.{name} is not in docs/reference/*.md: add '::: <its dotted path>' "
                f"(or, for a constant or another name of an object, a heading "
                f"'{{ #{module}.{name} }}')")


def load_gallery() -> types.ModuleType:
    """docs/hooks/gallery.py, the gallery's generator (also loaded by test_gallery.py)."""
    name = "cadence_docs_gallery"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "docs/hooks/gallery.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# -- the build ---------------------------------------------------------------------------------

MKDOCS = Path(sys.executable).parent / "mkdocs"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    if not MKDOCS.exists():
        pytest.skip(f"mkdocs is not installed in this environment ({MKDOCS}): pip install "
                    "'mkdocs>=1.6' 'mkdocs-material>=9.5' 'mkdocstrings[python]>=0.26'")
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([str(MKDOCS), "build", "--strict", "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = ANSI.sub("", done.stdout + done.stderr)
    assert done.returncode == 0, log[-4000:]
    return out, log


def test_the_site_builds_strict_with_no_warning(site):
    out, log = site
    warnings = [line for line in log.splitlines() if line.lstrip().startswith("WARNING")]
    assert warnings == []
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert "index.html" in pages and "changelog.html" in pages
    assert len(pages) >= 30
    for guide in ("pytorch", "timm", "transformers", "lightning", "mmengine", "optax-keras"):
        assert f"guides/from-{guide}.html" in pages


def test_the_site_fetches_nothing(site):
    out, _ = site
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "fonts.googleapis.com" not in text, page
        assert not re.search(r"<(?:script|link)[^>]+(?:src|href)=\"https?://", text), page


def test_every_gallery_figure_is_built_and_shown(site):
    out, _ = site
    figures = sorted((out / "gallery" / "img").glob("*.png"))
    entries = load_gallery().ENTRIES
    assert len(figures) == len(entries)
    shown = "".join((out / "gallery" / f"{s}.html").read_text(encoding="utf-8")
                    for s in {e.section for e in entries})
    for entry in entries:
        assert f'src="img/{entry.slug}.png"' in shown, entry.slug


def test_every_reference_name_has_its_anchor_in_the_site(site):
    out, _ = site
    paths, anchors = reference_entries()
    html = "".join(p.read_text(encoding="utf-8") for p in (out / "reference").glob("*.html"))
    ids = set(re.findall(r'id="([\w.]+)"', html))
    missing = [p for p in [*paths, *anchors] if p not in ids and p.count(".") > 0]
    assert missing == []
