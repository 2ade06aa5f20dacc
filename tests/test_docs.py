"""Every code example in the docs and docstrings runs."""

import doctest
import importlib
import pkgutil
import re
import sys
import warnings
from pathlib import Path

import pytest

import fkp_classic
from conftest import ROOT

sys.path.insert(0, str(ROOT / "docs"))
import make_reference  # noqa: E402


MODULES = [m.name for m in pkgutil.walk_packages(fkp_classic.__path__, "fkp_classic.") if m.name != "fkp_classic.__main__"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the examples show today's API, not a deprecated one
        result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_guide_examples_run(small_kaggle_folder, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FKP_DATA", str(small_kaggle_folder))  # faces96's first 600 faces, in its own format
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "guide.md").read_text(), re.S)
    assert len(blocks) >= 6
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the guide shows today's API, not a deprecated one
        for block in blocks:
            exec(compile(block, "docs/guide.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(600, 9216) (600, 30)" in out and "RMSE" in out
    assert _submission_rows(namespace["out"]) == _lookup_rows(small_kaggle_folder)


def test_readme_examples_run_as_written(small_kaggle_folder, monkeypatch, tmp_path):
    monkeypatch.setenv("FKP_DATA", str(small_kaggle_folder))  # what the README says to set first
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the README shows today's API, not a deprecated one
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    assert _submission_rows(tmp_path / "submission.csv") == _lookup_rows(small_kaggle_folder)


def _submission_rows(path):
    """The RowIds of a written submission, each with a location inside the 96-pixel crop."""
    lines = Path(path).read_text().splitlines()
    assert lines[0] == "RowId,Location"
    rows = [line.split(",") for line in lines[1:]]
    assert all(0 <= float(location) <= 96 for _, location in rows)
    return [int(row) for row, _ in rows]


def _lookup_rows(folder):
    return [int(line.split(",")[0]) for line in (folder / "IdLookupTable.csv").read_text().splitlines()[1:]]


def test_reference_is_up_to_date():
    assert (ROOT / "docs" / "reference.md").read_text() == make_reference.render()
