"""Property-based: corrupted Kaggle files load exactly as written or raise DataError naming the file.

Each example corrupts a small valid file made from real faces96 rows (cut at
a byte, a cell replaced by text or a number, rows duplicated or dropped,
another encoding or line ending). The loader must then either return what
an independent reference reading of the corrupted bytes says the file holds
(a reading that itself refuses anything the format forbids) or raise
:class:`DataError` naming the file; any other exception, or an array that
differs from the reference, fails. The same for ``fkp`` on random argument
lists: exit status 0 or 2, one ``fkp: error:`` line, never a traceback.

CI runs a small number of examples per property (the "ci" profile);
``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_corrupt_files.py``
runs many more by hand.
"""

import csv
import io
import math
import os
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fkp_classic.datasets import DataError, iter_kaggle_test, load_kaggle, load_kaggle_test, load_lookup
from fkp_classic.datasets._kaggle import IMAGE_SIZE, KEYPOINT_MARGIN
from fkp_classic.keypoints import KAGGLE_COLUMNS

from conftest import FACES96, needs_faces96

settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytestmark = needs_faces96


def _tables():
    """Small valid training, test and lookup CSV texts from real faces96 rows."""
    import zipfile

    with zipfile.ZipFile(FACES96 / "training.zip") as zf:
        training = pd.read_csv(zf.open(zf.namelist()[0]), nrows=4)
    with zipfile.ZipFile(FACES96 / "test.zip") as zf:
        test = pd.read_csv(zf.open(zf.namelist()[0]), nrows=3)
    lookup = pd.read_csv(FACES96 / "IdLookupTable.csv", nrows=200)
    lookup = lookup[lookup.ImageId.isin(test.ImageId)]
    return {name: frame.to_csv(index=False) for name, frame in (("training", training), ("test", test), ("lookup", lookup))}


TABLES = _tables() if (FACES96 / "training.zip").is_file() else {}


# --- the reference reading: what the corrupted bytes say, by the format's rules ---------------------------------

class Invalid(Exception):
    """The reference reading finds the file malformed: the loader must raise DataError."""


def _rows(raw):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("not UTF-8") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline=""), strict=True) if r]  # blank lines skipped
    except csv.Error:
        raise Invalid("not CSV") from None
    if not rows:
        raise Invalid("empty")
    header = [c.strip() for c in rows[0]]
    if len(set(header)) != len(header):
        raise Invalid("repeated column")
    body = []
    for row in rows[1:]:
        if len(row) > len(header):
            raise Invalid("too many fields")
        body.append(dict(zip(header, row + [""] * (len(header) - len(row)))))  # short rows: trailing cells empty
    if not body:
        raise Invalid("no rows")
    return header, body


def _need(header, columns):
    if any(c not in header for c in columns):
        raise Invalid("missing column")


def _number(cell):
    if cell == "":
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        raise Invalid("not a number") from None
    if not math.isfinite(value):
        raise Invalid("not finite")
    return value


def _whole(cell):
    value = _number(cell)
    if math.isnan(value) or value % 1 or not 0 <= value < 2**53:
        raise Invalid("not a whole number in [0, 2**53)")
    return int(value)


def _image(cell):
    tokens = [t for t in re.split(r"[ \t\r\n]+", cell) if t]
    if len(tokens) != IMAGE_SIZE * IMAGE_SIZE or not all(re.fullmatch(r"[0-9]+", t) for t in tokens):
        raise Invalid("bad image")
    values = np.array([int(t) for t in tokens])
    if values.max() > 255:
        raise Invalid("pixel above 255")
    return values


def reference_training(raw):
    header, body = _rows(raw)
    _need(header, list(KAGGLE_COLUMNS) + ["Image"])
    data = np.array([_image(r["Image"]) for r in body])
    target = np.array([[_number(r[c]) for c in KAGGLE_COLUMNS] for r in body])
    low, high = -KEYPOINT_MARGIN * IMAGE_SIZE, (1 + KEYPOINT_MARGIN) * IMAGE_SIZE
    if ((target < low) | (target > high)).any() or (np.isnan(target[:, 0::2]) != np.isnan(target[:, 1::2])).any():
        raise Invalid("keypoint out of the frame or half missing")
    return data, target


def reference_test(raw):
    header, body = _rows(raw)
    _need(header, ["ImageId", "Image"])
    ids = np.array([_whole(r["ImageId"]) for r in body])
    if len(set(ids)) != len(ids):
        raise Invalid("repeated ImageId")
    return np.array([_image(r["Image"]) for r in body]), ids


def reference_lookup(raw):
    header, body = _rows(raw)
    _need(header, ["RowId", "ImageId", "FeatureName"])
    ids = np.array([[_whole(r["RowId"]), _whole(r["ImageId"])] for r in body])
    names = [r["FeatureName"] for r in body]
    if len(set(ids[:, 0])) != len(ids) or "" in names or len(set(zip(ids[:, 1], names))) != len(names):
        raise Invalid("repeated or empty id")
    return ids, [n.strip() for n in names]


# --- corruptions --------------------------------------------------------------------------------------------------

_cell_text = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789.-e+ ,\"\n", max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**12, 10**12).map(str),
)


@st.composite
def corrupted(draw, text):
    """A corruption of the CSV ``text``, as bytes."""
    lines = text.splitlines()
    kind = draw(st.sampled_from(["cut", "cell", "rows", "encoding"]))
    if kind == "cell":
        row = draw(st.integers(0, len(lines) - 1))
        cells = lines[row].split(",")
        col = draw(st.integers(0, len(cells) - 1))
        cells[col] = draw(_cell_text)
        lines[row] = ",".join(cells)
    elif kind == "rows":
        body = lines[1:]
        body = draw(st.lists(st.sampled_from(body), max_size=len(body) + 2)) if body else body
        lines = [lines[0]] + body
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    out = ending.join(lines) + draw(st.sampled_from([ending, ""]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"])) if kind == "encoding" else "utf-8"
    raw = out.encode(encoding, errors="replace")
    if kind == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw


def _check(load, reference, raw, path):
    path.write_bytes(raw)
    try:
        loaded = load(path)
    except DataError as exc:
        assert str(path) in str(exc) or path.name in str(exc), f"DataError without the file's name: {exc}"
        return
    try:
        expected = reference(raw)
    except Invalid as why:
        pytest.fail(f"the loader accepted a file that is malformed ({why})")
    for got, want in zip(loaded, expected):
        if isinstance(want, list):
            assert list(got) == want
        else:
            np.testing.assert_array_equal(np.asarray(got, dtype=float), np.asarray(want, dtype=float))


@given(raw=corrupted(TABLES.get("training", "a\n1")))
def test_corrupted_training_files(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("hyp") / "training.csv"
    _check(lambda p: (lambda b: (b.data, b.target))(load_kaggle(p)), reference_training, raw, path)


@given(raw=corrupted(TABLES.get("test", "a\n1")))
def test_corrupted_test_files(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("hyp") / "test.csv"
    _check(lambda p: (lambda b: (b.data, b.image_ids))(load_kaggle_test(p)), reference_test, raw, path)


@given(raw=corrupted(TABLES.get("test", "a\n1")))
def test_corrupted_test_files_read_two_rows_at_a_time(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("hyp") / "test.csv"

    def load(p):
        chunks = list(iter_kaggle_test(p, chunk_size=2))
        return np.concatenate([c.data for c in chunks]), np.concatenate([c.image_ids for c in chunks])

    _check(load, reference_test, raw, path)


@given(raw=corrupted(TABLES.get("lookup", "a\n1")))
def test_corrupted_lookup_tables(raw, tmp_path_factory):
    path = tmp_path_factory.mktemp("hyp") / "IdLookupTable.csv"

    def load(p):
        frame, _ = load_lookup(p)
        return frame[["RowId", "ImageId"]].to_numpy(), list(frame["FeatureName"])

    _check(load, reference_lookup, raw, path)


# --- the command line on random argument lists --------------------------------------------------------------------

_WORDS = [
    "fit", "predict", "submit", "evaluate", "show", "detect", "-o", "--output", "--param", "--estimator", "--jobs",
    "--model", "-n", "--json", "--min-size", "--face-detector", "--min-score", "--no-verifier", "default",
    "hog", "lbp", "0", "-3", "2", "abc", "alpha=abc", "cell_sizes=(8,)", "n_perturbations=0", "n_jobs=abc",
    "MeanKeypoints", "KeypointRidge", "{train}", "{test}", "{lookup}", "{photo}", "{junk}", "{folder}", "{missing}",
    "{out_csv}", "{out_png}", "{out_model}", "{out_json}", "{folder}/x.csv",
]


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("cli")
    files = {"folder": folder, "missing": folder / "missing.csv"}
    for name in ("train", "test", "lookup"):
        files[name] = folder / f"{name}.csv"
        files[name].write_text(TABLES["training" if name == "train" else name])
    files["photo"] = folder / "photo.png"
    Image.fromarray(data.astronaut()[::4, ::4]).save(files["photo"])
    files["junk"] = folder / "junk.png"
    files["junk"].write_bytes(b"\x89PNG\r\n\x1a\n not really")
    for key, suffix in (("out_csv", ".csv"), ("out_png", ".png"), ("out_model", ".joblib"), ("out_json", ".json")):
        files[key] = folder / "out" / f"result{suffix}"
    (folder / "out").mkdir()
    return files


@settings(max_examples=max(10, settings().max_examples // 2))
@given(words=st.lists(st.sampled_from(_WORDS), min_size=1, max_size=7))
def test_fkp_on_random_argument_lists(words, cli_files):
    import contextlib

    from fkp_classic.cli import main

    argv = [w.format(**{k: str(v) for k, v in cli_files.items()}) for w in words]
    if argv[0] == "fit":  # keep fits quick: a fast estimator unless the list names one
        argv += ["--estimator", "MeanKeypoints"] if "--estimator" not in argv else []
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            status = exc.code
    errors = [line for line in err.getvalue().splitlines() if line.startswith("fkp: error:")]
    assert "Traceback" not in err.getvalue()
    assert status in (0, 2), (argv, err.getvalue())
    if status == 2:
        assert len(errors) == 1, (argv, err.getvalue())
