"""Sphinx configuration of the documentation site: the user guide, the API reference and the gallery.

Build it (from the project folder, after ``pip install -e ".[docs]"``) with::

    python -m sphinx -W -b html docs docs/_build/html

- The guide is ``docs/guide.md`` itself, read by myst-parser.
- The API reference has one page per public class and function (autodoc + numpydoc), listed
  from the declared API as ``docs/make_reference.py`` lists it: the names of
  ``fkp_classic/__init__.pyi`` and each subpackage's ``__all__``. Its listing pages are written
  to ``docs/api/`` when a build starts (git ignores them), so a new public name appears without an edit.
- The gallery is ``docs/examples/plot_*.py``, run by sphinx-gallery at each build; its pictures
  are what the examples draw.

Everything the build writes is under ``docs/_build/`` or git-ignored (``docs/api/``,
``docs/auto_examples/``, ``docs/sg_execution_times.rst``).
"""

import inspect
import re
import sys
import types
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document (and run the examples on) this checkout's package
sys.path.insert(0, str(DOCS / "sphinxext"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import fkp_classic  # noqa: E402

project = "fkp_classic"
author = "the fkp_classic developers"
copyright = "the fkp_classic developers, BSD-3-Clause"
release = version = fkp_classic.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.extlinks",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# reference.md is the same reference as plain markdown for readers on the repository's web pages.
exclude_patterns = ["_build", "reference.md", "examples/GALLERY_HEADER.rst", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_title = f"fkp_classic {release}"
html_static_path = []
html_show_sourcelink = False

# The guide: `## Photos` is linked as `#photos`, as on the repository's web pages.
myst_heading_anchors = 3
# The docstrings cite papers as :DOI:`10.1109/CVPR.2005.177` (roles are case-insensitive).
extlinks = {"doi": ("https://doi.org/%s", "DOI: %s")}

# API pages: numpydoc renders the sections; autodoc lists the members, in source order.
autosummary_generate = True
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # the numpydoc "Parameters" section says the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("fkp_classic",),
    "backreferences_dir": "api/generated/backreferences",
    "reference_url": {"fkp_classic": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": True,
    # face_grid's figures are not pyplot's: shown as a notebook shows a cell's value
    "image_scrapers": ("gallery_figures.unattached_figures", "matplotlib"),  # this order: see gallery_figures.py
    "capture_repr": (),
}


# ---- the API listing, from the declared API -------------------------------------------------------------------------

def _public(module, names):
    """(classes, functions) among ``names`` of ``module``: constants and submodules are left out, as in reference.md."""
    classes = [n for n in names if inspect.isclass(getattr(module, n))]
    functions = [n for n in names if inspect.isfunction(getattr(module, n))]
    return classes, functions


def _summary(obj):
    return inspect.cleandoc(obj.__doc__ or "").split("\n\n")[0].replace("\n", " ")


def _module_page(name, module):
    title = f":mod:`{name}`"
    lines = [title, "=" * len(title), "", f".. automodule:: {name}", "   :no-members:", "",
             f".. currentmodule:: {name}", ""]
    classes, functions = _public(module, getattr(module, "__all__", []))
    for heading, names in (("Classes", classes), ("Functions", functions)):  # pages: _templates/autosummary/
        if not names:
            continue
        lines += [heading, "-" * len(heading), "", ".. autosummary::", "   :toctree: generated/", "",
                  *[f"   {n}" for n in sorted(names, key=str.lower)], ""]
    return "\n".join(lines)


def _api_pages():
    """Page name -> text: the index (with the names ``fkp_classic`` itself exports) and one page per module."""
    api = fkp_classic.__all__
    modules = sorted(n for n in api if isinstance(getattr(fkp_classic, n), types.ModuleType))
    pages = {f"fkp_classic.{m}": _module_page(f"fkp_classic.{m}", getattr(fkp_classic, m)) for m in modules}
    home = {}  # a top-level name -> the module page that documents it
    for m in modules:
        for n in getattr(getattr(fkp_classic, m), "__all__", []):
            home.setdefault(n, f"fkp_classic.{m}")
    classes, functions = _public(fkp_classic, [n for n in api if n not in modules])
    index = ["API reference", "=============", "",
             "Every public class and function, generated from the docstrings, one module (by role) at a time.",
             "The names ``fkp_classic`` itself exports (``from fkp_classic import ...``) are listed first; each is",
             "documented in its module.", "", ".. toctree::", "   :maxdepth: 1", "",
             *[f"   {page}" for page in pages], "",
             "Imported from ``fkp_classic``", "------------------------------", "",
             ".. list-table::", "   :widths: 35 65", ""]
    for n in sorted(classes + functions, key=str.lower):
        role = "class" if n in classes else "func"
        index += [f"   * - :{role}:`{n} <{home[n]}.{n}>`", f"     - {_summary(getattr(fkp_classic, n))}"]
    pages["index"] = "\n".join(index) + "\n"
    return pages


def _write_api_pages(app=None, config=None):
    out = DOCS / "api"
    out.mkdir(exist_ok=True)
    pages = _api_pages()
    for stale in set(p.stem for p in out.glob("*.rst")) - set(pages):
        (out / f"{stale}.rst").unlink()
    for name, text in pages.items():
        path = out / f"{name}.rst"
        if not path.exists() or path.read_text() != text:  # unchanged pages keep their time: no rebuild
            path.write_text(text)


# ---- the guide as the site shows it -----------------------------------------------------------------------------------

_OUTSIDE = re.compile(r"(?<!!)(\[[^\]]*\])\((\.\./[^)\s#]+)\)")  # a link, not an image: ![...](...)


def _guide_links(app, docname, source):
    """Point the guide's links at the site: files outside docs/ (benchmark tables, the model card) become downloads
    (MyST's ``path:`` links), the markdown reference becomes the API reference. The file itself is left as it is."""
    if docname == "guide":
        text = _OUTSIDE.sub(lambda m: f"{m.group(1)}(path:{m.group(2)})", source[0])
        source[0] = text.replace("](reference.md)", "](api/index.rst)")


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing methods (``set_fit_request`` ...): sklearn documents them."""
    if getattr(obj, "__module__", None) == "sklearn.utils._metadata_requests":
        return True
    return None


def setup(app):
    app.connect("config-inited", _write_api_pages)  # before Sphinx lists the documents to read
    app.connect("source-read", _guide_links)
    app.connect("autodoc-skip-member", _skip_member)
