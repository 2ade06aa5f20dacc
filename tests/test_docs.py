"""Every code example in the docs and docstrings runs."""

import doctest
import importlib
import os
import pkgutil
import re
import sys
import warnings

import pytest

import fkp_classic
from conftest import FACES96, ROOT, needs_faces96

sys.path.insert(0, str(ROOT / "docs"))
import make_reference  # noqa: E402


MODULES = [m.name for m in pkgutil.walk_packages(fkp_classic.__path__, "fkp_classic.") if m.name != "fkp_classic.__main__"]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@needs_faces96
def test_guide_examples_run(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("FKP_DATA", str(FACES96))
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "guide.md").read_text(), re.S)
    assert len(blocks) >= 6
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/guide.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "(3416, 9216) (3416, 30)" in out and "RMSE" in out
    assert os.path.getsize(namespace["out"]) > 1000


@needs_faces96
def test_readme_examples_run_as_written(monkeypatch, tmp_path):
    monkeypatch.setenv("FKP_DATA", str(FACES96))  # what the README says to set first
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the README shows today's API, not a deprecated one
        for block in blocks:
            exec(compile(block, "README.md", "exec"), {})
    submission = (tmp_path / "submission.csv").read_text().splitlines()
    assert submission[0] == "RowId,Location" and len(submission) > 1000


def test_reference_is_up_to_date():
    assert (ROOT / "docs" / "reference.md").read_text() == make_reference.render()
