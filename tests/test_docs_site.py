"""The documentation site's parts work: every gallery example runs, and the API pages list the whole public API.

Needs the ``docs`` extra (Sphinx and its extensions), so it is skipped where only the ``test`` extra is installed,
as on CI. The site itself is built by ``python -m sphinx -W -b html docs docs/_build/html`` (about 30 s).
"""

import ast
import inspect
import re
import runpy
import sys

import pytest

for _name in ("sphinx", "numpydoc", "sphinx_gallery", "myst_parser"):
    pytest.importorskip(_name, reason="the docs extra is not installed: pip install -e '.[docs]'")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import fkp_classic  # noqa: E402
from conftest import FACES96, ROOT  # noqa: E402

sys.path.insert(0, str(ROOT / "docs"))
import make_reference  # noqa: E402

EXAMPLES = sorted((ROOT / "docs" / "examples").glob("plot_*.py"))


@pytest.fixture(scope="module")
def conf():
    saved = list(sys.path)
    try:
        return runpy.run_path(str(ROOT / "docs" / "conf.py"))
    finally:
        sys.path[:] = saved


def test_gallery_has_examples():
    assert 4 <= len(EXAMPLES) <= 6


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_gallery_example_runs(example, tmp_path, monkeypatch):
    """Each runs as sphinx-gallery runs it (Agg backend, in its own namespace), draws something and writes nothing."""
    docstring = ast.get_docstring(ast.parse(example.read_text()))
    title, underline = docstring.splitlines()[:2]
    assert title and underline == "=" * len(title), f"{example.name}: the docstring starts with a title underlined by ="
    if FACES96.exists():
        monkeypatch.setenv("FKP_DATA", str(FACES96))
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in example.parent.iterdir())
    plt.close("all")
    try:
        namespace = runpy.run_path(str(example), run_name="__main__")
        n_figures = len(plt.get_fignums()) + sum(
            isinstance(v, Figure) and v.canvas.manager is None for v in namespace.values())
    finally:
        plt.close("all")
    assert n_figures >= 1
    assert list(tmp_path.iterdir()) == []
    assert sorted(p.name for p in example.parent.iterdir()) == before


def test_api_pages_list_every_public_name(conf):
    """The site documents the names reference.md does (every public class and function), each on its module's page."""
    pages = conf["_api_pages"]()
    listed = {}  # name -> module page listing it
    for page, text in pages.items():
        for block in re.findall(r"\.\. autosummary::\n(?:   :.*\n)*\n((?:   \S+\n)+)", text):
            for name in block.split():
                listed.setdefault(name, page)
    on_reference = set(re.findall(r"^### `(?:\w+\.)?(\w+)[(`]", make_reference.render(), re.M))
    assert set(listed) == on_reference
    for name in listed:
        module = sys.modules[listed[name]]
        obj = getattr(module, name)
        assert inspect.isclass(obj) or inspect.isfunction(obj)
    # the classes and functions fkp_classic itself exports link to the page that documents them
    top = [n for n in fkp_classic.__all__
           if inspect.isclass(getattr(fkp_classic, n)) or inspect.isfunction(getattr(fkp_classic, n))]
    assert len(top) > 20
    for name in top:
        assert f"<{listed[name]}.{name}>`" in pages["index"], name
