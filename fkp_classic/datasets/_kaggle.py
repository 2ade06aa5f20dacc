"""Kaggle "Facial Keypoints Detection" files: training, test, lookup table, submission.

Every loader takes each form a user may have: a ``.csv``, its ``.zip``, the
competition archive holding ``training.zip``, ``test.zip`` and
``IdLookupTable.csv``, or a folder holding any of these. With no path, the
``FKP_DATA`` environment variable names it.
"""

import contextlib
import io
import numbers
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..keypoints import KAGGLE_15, KAGGLE_COLUMNS, KAGGLE_IMAGE_SIZE, KeypointLayout, get_layout
from ..utils._atomic import atomic_write
from ..utils._deprecation import keyword_only_after
from ..utils._validation import half_missing

__all__ = [
    "DataError",
    "find_data",
    "load_kaggle",
    "load_kaggle_test",
    "iter_kaggle_test",
    "load_lookup",
    "load_groups",
    "write_submission",
    "IMAGE_SIZE",
    "KEYPOINT_MARGIN",
]

IMAGE_SIZE = KAGGLE_IMAGE_SIZE
_FILES = {"training": "training", "test": "test", "lookup": "IdLookupTable"}
KEYPOINT_MARGIN = 0.25
"""How far outside the image a training keypoint may lie, as a fraction of its side.

Real labels reach a little past the frame (a chin below a tight crop:
faces96 has points at -2.6 and 110 px on 96-pixel faces); anything
further is a typing or unit error, refused with file, row and column.
"""

CONTOUR_MARGIN = 0.5
"""As :data:`KEYPOINT_MARGIN`, for layouts with points on the jaw (iBUG's 68): the jaw line runs past a
Kaggle crop (faces96's reach -34 and 138 px on 96-pixel faces).
"""

PATH = [str, os.PathLike, None]
"""The constraint of a data path parameter (None: ``$FKP_DATA``)."""

LAYOUT = [str, KeypointLayout]
"""The constraint of a ``layout`` parameter: a registered layout's name (checked by
:func:`~fkp_classic.keypoints.get_layout`, which knows them) or a :class:`KeypointLayout`."""

_DESCR = """Kaggle Facial Keypoints Detection training data ({n} faces, {source}).
data: (n, 9216) uint8 row-major 96x96 grayscale; images: (n, 96, 96);
target: (n, {n_columns}) x/y of the {layout} layout's {n_keypoints} keypoints in pixels, NaN where
missing; groups: identity per row from a training_meta.csv beside the file (None when absent)."""


class DataError(ValueError):
    """A data file that is missing, malformed or inconsistent."""


@validate_params({"path": PATH}, prefer_skip_nested_validation=True)
def find_data(path=None):
    """Resolve the data location: ``path`` if given, else ``$FKP_DATA``.

    Raises
    ------
    DataError
        If neither is set or the location does not exist.
    """
    if path is None:
        path = os.environ.get("FKP_DATA")
        if not path:
            raise DataError("no data path given and the FKP_DATA environment variable is not set")
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"data path {path} does not exist")
    return path


def _zip_member(names, stem):
    """The member of a zip named ``stem.csv`` or ``stem.zip`` (any folder), or None."""
    for ext in (".csv", ".zip"):
        for name in names:
            if Path(name).name.lower() == (stem + ext).lower():
                return name
    return None


def _open_zip(source, label):
    """``zipfile.ZipFile`` of ``source``, or a DataError naming ``label`` for a cut-off or corrupt archive."""
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise DataError(f"{label} is not a readable zip archive (cut off or corrupt: {exc})") from None


def _read_member(zf, member, label):
    try:
        return zf.read(member)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise DataError(f"{label}: member {member} cannot be extracted (corrupt archive: {exc})") from None


def _read_zip(zf, stem, label):
    member = _zip_member(zf.namelist(), stem)
    if member is None:
        raise DataError(f"{label} holds no {stem}.csv or {stem}.zip (members: {zf.namelist()[:10]})")
    raw = _read_member(zf, member, label)
    if member.lower().endswith(".zip"):
        with _open_zip(io.BytesIO(raw), f"{label}/{member}") as inner:
            return _read_zip(inner, stem, f"{label}/{member}")
    return _read_csv(io.BytesIO(raw), f"{label}/{member}")


def _looks_like_zip(path):
    """A ``.zip`` name or the zip signature: such a file is read as an archive (and refused as a cut-off one)."""
    if path.suffix.lower() == ".zip":
        return True
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _read_table_with(path, column, what):
    """A CSV file's table and label (``path``), refused with its name when it is missing or lacks ``column``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file")
    frame, label = _read_csv(path, str(path))
    if column not in frame.columns:
        raise DataError(f"{label} has no {column} column ({what}); it has {list(frame.columns)[:8]}")
    return frame, label


def _read_csv(source, label):
    try:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} is empty") from None
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        raise DataError(f"{label} is not a readable CSV file: {str(exc).strip()}") from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if not frame.columns.is_unique:
        raise DataError(f"{label} has the column {frame.columns[frame.columns.duplicated()][0]!r} twice")
    return frame, label


@contextlib.contextmanager
def _table_stream(path, kind):
    """``(binary file, label, guard)`` of the ``kind`` table, opened for reading in pieces.

    ``guard(chunks)`` passes the chunks on, turning a corrupt zip member's
    read errors into a DataError naming it.
    """
    stem = _FILES[kind]
    path = find_data(path)
    if path.is_dir():
        for candidate in (path / f"{stem}.csv", path / f"{stem}.zip"):
            if candidate.is_file():
                with _table_stream(candidate, kind) as opened:
                    yield opened
                return
        for archive in sorted(path.glob("*.zip")):
            with _open_zip(archive, str(archive)) as zf:
                found = _zip_member(zf.namelist(), stem) is not None
            if found:
                with _table_stream(archive, kind) as opened:
                    yield opened
                return
        raise DataError(f"folder {path} holds no {stem}.csv, {stem}.zip or archive containing them")
    if not _looks_like_zip(path):
        with open(path, "rb") as fh:
            yield fh, str(path), iter
        return
    with _open_zip(path, str(path)) as zf:
        label = str(path)
        member = _zip_member(zf.namelist(), stem)
        while member is not None and member.lower().endswith(".zip"):  # a zip in the zip: in memory
            raw = _read_member(zf, member, label)
            zf = _open_zip(io.BytesIO(raw), f"{label}/{member}")
            label = f"{label}/{member}"
            member = _zip_member(zf.namelist(), stem)
        if member is None:
            raise DataError(f"{label} holds no {stem}.csv or {stem}.zip (members: {zf.namelist()[:10]})")

        def guard(chunks, member=member):
            try:
                yield from chunks
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
                raise DataError(f"{label}: member {member} cannot be extracted (corrupt archive: {exc})") from None

        try:
            fh = zf.open(member)
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
            raise DataError(f"{label}: member {member} cannot be extracted (corrupt archive: {exc})") from None
        with fh:
            yield fh, f"{label}/{member}", guard


def _csv_chunks(source, label, chunk_size):
    """DataFrames of ``chunk_size`` rows of the CSV ``source``, every cell as text (as :func:`_read_csv`)."""
    try:
        reader = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8",
                             chunksize=chunk_size)
    except pd.errors.EmptyDataError:
        raise DataError(f"{label} is empty") from None
    except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
        raise DataError(f"{label} is not a readable CSV file: {str(exc).strip()}") from None
    with reader:
        while True:
            try:
                frame = next(reader)
            except StopIteration:
                return
            except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
                raise DataError(f"{label} is not a readable CSV file: {str(exc).strip()}") from None
            frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
            if not frame.columns.is_unique:
                raise DataError(f"{label} has the column {frame.columns[frame.columns.duplicated()][0]!r} twice")
            yield frame.reset_index(drop=True)


def _read_table(path, kind):
    """Read the ``kind`` table ('training', 'test', 'lookup') from any supported form.

    Returns the DataFrame, a label naming the file, and the folder it sits in.
    """
    stem = _FILES[kind]
    path = find_data(path)
    if path.is_dir():
        for candidate in (path / f"{stem}.csv", path / f"{stem}.zip"):
            if candidate.is_file():
                return _read_table(candidate, kind)
        for archive in sorted(path.glob("*.zip")):
            with _open_zip(archive, str(archive)) as zf:
                if _zip_member(zf.namelist(), stem) is not None:
                    return _read_table(archive, kind)
        raise DataError(f"folder {path} holds no {stem}.csv, {stem}.zip or archive containing them")
    if _looks_like_zip(path):
        with _open_zip(path, str(path)) as zf:
            frame, label = _read_zip(zf, stem, str(path))
        return frame, label, path.parent
    frame, label = _read_csv(path, str(path))
    return frame, label, path.parent


def _require_columns(frame, columns, label):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label} lacks the expected column(s) {missing}; it has {list(frame.columns)[:8]}"
            + ("..." if len(frame.columns) > 8 else "")
        )


_VALID_BYTES = np.zeros(256, dtype=bool)
_VALID_BYTES[[9, 10, 13, 32]] = True
_VALID_BYTES[48:58] = True


def _parse_chunk(strings):
    """Parse rows of space-separated non-negative integers with numpy, no Python loop per value.

    Returns ``(values, counts, ok)``: the parsed values (int64, saturating
    at its largest value) in row order, the number of values per row, and
    False if a byte other than a digit or white space was seen (the caller
    then names the culprit).
    """
    text = "\n".join(strings) + "\n"
    raw = np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)
    if not _VALID_BYTES[raw].all():
        return None, None, False
    digit = raw >= 48  # only digits and white space are left
    starts = digit.copy()
    starts[1:] &= ~digit[:-1]
    rows = np.r_[0, np.flatnonzero(raw == 10)[:-1] + 1]
    counts = np.add.reduceat(starts, rows, dtype=np.int64)
    # numpy's own text parser, safe here: every token is a run of digits
    values = np.fromstring(text, dtype=np.int64, sep=" ") if starts.any() else np.empty(0, dtype=np.int64)
    return values, counts, True


def _parse_images(images, label, chunk=512, first_row=0, image_shape=(IMAGE_SIZE, IMAGE_SIZE)):
    """Parse a column of space-separated pixel strings into ``(n, 9216)`` uint8.

    Parsing is vectorised over bytes; rows are checked one by one only to
    name the culprit when something is wrong.
    """
    if len(images) == 0:
        raise DataError(f"{label} has no rows")
    missing = images.isna().to_numpy()
    if missing.any():
        raise DataError(f"{label}: row {first_row + int(np.argmax(missing))} has an empty Image")
    strings = images.to_numpy()
    n_pixels = image_shape[0] * image_shape[1]
    out = np.empty((len(strings), n_pixels), dtype=np.uint8)
    for first in range(0, len(strings), chunk):
        rows = strings[first : first + chunk]
        values, counts, ok = _parse_chunk(rows)
        if not ok:
            # the first token not of ASCII digits (str.isdigit alone also takes other scripts' digits)
            row, bad = next((r, t) for r, text in enumerate(rows) for t in text.split()
                            if not (t.isascii() and t.isdigit()))
            hint = "non-integer or negative" if bad.isascii() and _is_number(bad) else "non-numeric"
            raise DataError(f"{label}: row {first_row + first + row} has a {hint} pixel value {bad!r}")
        wrong = np.flatnonzero(counts != n_pixels)
        if len(wrong):
            row = wrong[0]
            raise DataError(
                f"{label}: row {first_row + first + row} has an Image with {counts[row]} values; expected "
                f"{n_pixels} ({image_shape[0]}x{image_shape[1]})"
            )
        values = values.reshape(len(rows), n_pixels)
        too_big = values > 255
        if too_big.any():
            row, col = np.argwhere(too_big)[0]
            raise DataError(
                f"{label}: row {first_row + first + row} pixel {col} is {rows[row].split()[col]}; pixels must be 0..255"
            )
        out[first : first + len(rows)] = values
    return out


def _numbers(frame, columns, label, integer=False, first_row=0):
    """The ``columns`` of ``frame`` as float64 (NaN where empty), or a DataError naming row, column and value.

    With ``integer`` (ids), every value must be a whole number in ``[0, 2**53)`` and none may be missing.
    """
    values = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        text = frame[column]
        parsed = pd.to_numeric(text, errors="coerce")
        bad = (parsed.isna() & text.notna()) | ~np.isfinite(parsed.fillna(0).to_numpy(np.float64))
        if integer:  # ids: whole, non-negative, exact in float64
            number = parsed.fillna(-1).to_numpy(np.float64)
            bad |= (number % 1 != 0) | (number < 0) | (number >= 2**53)
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            what = "a whole number from 0 to 2**53" if integer else "a finite number or empty (missing)"
            raise DataError(f"{label}: row {first_row + row} column {column} is {text.iloc[row]!r}; expected {what}")
        values[:, j] = parsed.to_numpy(np.float64)
    return values


def _check_unique(values, column, label, first_row=0):
    """Refuse a repeated id, naming its rows."""
    seen = pd.Series(values).duplicated(keep=False).to_numpy()
    if seen.any():
        rows = np.flatnonzero(values == values[np.argmax(seen)])
        raise DataError(f"{label}: {column} {values[rows[0]]:g} appears on rows {(first_row + rows[:5]).tolist()}; "
                        "ids must be unique")


def _is_number(token):
    try:
        float(token)
    except ValueError:
        return False
    return True


@validate_params({"path": PATH}, prefer_skip_nested_validation=True)
def load_groups(path=None):
    """Identity (``person``) per training row, from ``training_meta.csv``.

    Parameters
    ----------
    path : str or Path, optional
        The meta CSV itself, or the training file / folder it sits beside.

    Returns
    -------
    groups : ndarray of shape (n_samples,) or None
        None when no ``training_meta.csv`` with a ``person`` column is found.
    """
    path = find_data(path)
    meta = path if path.is_file() and path.name.endswith("meta.csv") else None
    if meta is None:
        folder = path if path.is_dir() else path.parent
        meta = folder / "training_meta.csv"
    if not meta.is_file():
        return None
    frame = pd.read_csv(meta, usecols=lambda c: c == "person")
    if "person" not in frame.columns:
        return None
    return frame["person"].to_numpy()


@keyword_only_after
@validate_params(
    {"path": PATH, "return_X_y": ["boolean"], "layout": LAYOUT}, prefer_skip_nested_validation=True
)
def load_kaggle(path=None, *, return_X_y=False, layout="kaggle15"):
    """Load Kaggle-format training faces and keypoints.

    Parameters
    ----------
    path : str or Path, optional
        ``training.csv``, ``training.zip``, the competition archive, or a
        folder holding one of them. Defaults to ``$FKP_DATA``.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    layout : {"kaggle15", "ibug68"} or KeypointLayout, default="kaggle15"
        The keypoints to read (:func:`~fkp_classic.keypoints.get_layout`):
        the layout's columns ``<name>_x, <name>_y`` of the training file,
        or, when the file lacks them, of the ``training_meta.csv`` beside it
        (as for the 68 iBUG points of faces96, ``p0_x ... p67_y``, in the
        same 96x96 crop frame).

    Returns
    -------
    data : Bunch
        ``data`` (n, 9216) uint8, ``images`` (n, 96, 96) uint8, ``target``
        (n, 2K) float64 with NaN where missing (K keypoints of the layout),
        ``target_names`` (the layout's columns), ``layout``
        (:class:`~fkp_classic.keypoints.KeypointLayout`: pass it to the
        estimators), ``groups`` (identity per row, or None), ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DataError
        Naming the file, row and problem, for missing columns, malformed
        images or non-numeric keypoints.
    """
    layout = get_layout(layout)
    frame, label, folder = _read_table(path, "training")
    _require_columns(frame, ["Image"], label)
    margin = CONTOUR_MARGIN if "jaw" in layout.regions else KEYPOINT_MARGIN
    columns = list(layout.columns)
    if all(c in frame.columns for c in columns):
        data = _parse_images(frame["Image"], label)
        target = _keypoints_of(frame, columns, label, margin=margin)
    else:
        meta = Path(folder) / "training_meta.csv"
        if not meta.is_file():
            missing = [c for c in columns if c not in frame.columns]
            raise DataError(
                f"{label} lacks the expected column(s) {missing[:4]}{'...' if len(missing) > 4 else ''} of the "
                f"{layout._title!r} layout, and there is no training_meta.csv beside it to read them from"
            )
        meta_frame, meta_label = _read_csv(meta, str(meta))
        _require_columns(meta_frame, columns, f"{label} and {meta_label} (layout {layout._title!r})")
        data = _parse_images(frame["Image"], label)
        if len(meta_frame) != len(data):
            raise DataError(f"{meta_label} has {len(meta_frame)} rows but {label} has {len(data)}")
        target = _keypoints_of(meta_frame, columns, meta_label, margin=margin)
    if return_X_y:
        return data, target
    groups = load_groups(folder)
    if groups is not None and len(groups) != len(data):
        raise DataError(
            f"training_meta.csv in {folder} has {len(groups)} rows but {label} has {len(data)}"
        )
    return Bunch(
        data=data,
        images=data.reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
        target=target,
        target_names=columns,
        layout=layout,
        groups=groups,
        DESCR=_DESCR.format(n=len(data), source=label, n_columns=len(columns), layout=layout._title,
                            n_keypoints=layout.n_keypoints),
    )


def _keypoints_of(frame, columns, label, image_size=IMAGE_SIZE, margin=KEYPOINT_MARGIN):
    """The keypoint ``columns`` of ``frame``, checked: numbers, near the image, x and y missing together."""
    columns = list(columns)
    target = _numbers(frame, columns, label)
    low, high = -margin * image_size, (1 + margin) * image_size
    outside = (target < low) | (target > high)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise DataError(
            f"{label}: row {row} column {columns[col]} is {target[row, col]:g}, outside the {image_size}-pixel "
            f"face (keypoints may lie at most {margin:.0%} of its side beyond it: {low:g}..{high:g})"
        )
    half = half_missing(target)
    if half is not None:
        row, k = half
        raise DataError(f"{label}: row {row} has only one of {columns[2 * k]} and {columns[2 * k + 1]}")
    return target


@validate_params({"path": PATH}, prefer_skip_nested_validation=True)
def load_kaggle_test(path=None):
    """Load Kaggle-format test faces (``ImageId, Image``).

    Parameters
    ----------
    path : str or Path, optional
        ``test.csv``, ``test.zip``, the competition archive, or a folder
        holding one of them. Defaults to ``$FKP_DATA``.

    Returns
    -------
    Bunch
        ``data`` (n, 9216) uint8, ``images`` (n, 96, 96), ``image_ids`` (n,) int.
    """
    chunks = list(iter_kaggle_test(path, chunk_size=4096))
    data = np.concatenate([c.data for c in chunks])
    ids = np.concatenate([c.image_ids for c in chunks])
    return Bunch(data=data, images=data.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), image_ids=ids)


@keyword_only_after
@validate_params(
    {"path": PATH, "chunk_size": [Interval(numbers.Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def iter_kaggle_test(path=None, *, chunk_size=1000):
    """Kaggle-format test faces a chunk of rows at a time, read as they are needed.

    Memory holds one chunk whatever the file's size (and the ids seen, to
    refuse a repeated one); a problem is reported by file and row when its
    chunk is reached, after the chunks before it were given.

    Parameters
    ----------
    path : str or Path, optional
        ``test.csv``, ``test.zip``, the competition archive, or a folder
        holding one of them. Defaults to ``$FKP_DATA``.
    chunk_size : int, default=1000

    Yields
    ------
    Bunch
        ``data`` (m, 9216) uint8, ``image_ids`` (m,) int, ``first_row``
        (the chunk's first data row in the file).
    """
    return _iter_test(path, chunk_size)


def _iter_test(path, chunk_size):
    seen, first = {}, 0
    with _table_stream(path, "test") as (source, label, guard):
        for frame in guard(_csv_chunks(source, label, chunk_size)):
            _require_columns(frame, ["ImageId", "Image"], label)
            data = _parse_images(frame["Image"], label, first_row=first)
            ids = _numbers(frame, ["ImageId"], label, integer=True, first_row=first)[:, 0].astype(np.int64)
            _check_unique(ids, "ImageId", label, first_row=first)
            listed = ids.tolist()
            if not seen.keys().isdisjoint(listed):
                row = next(i for i, image_id in enumerate(listed) if image_id in seen)
                raise DataError(f"{label}: ImageId {listed[row]} appears on rows {[seen[listed[row]], first + row]}; "
                                "ids must be unique")
            seen.update(zip(listed, range(first, first + len(listed))))
            yield Bunch(data=data, image_ids=ids, first_row=first)
            first += len(frame)
    if not seen:
        raise DataError(f"{label} has no rows")


@validate_params({"lookup": PATH + [pd.DataFrame]}, prefer_skip_nested_validation=True)
def load_lookup(lookup=None):
    """Load ``IdLookupTable.csv`` (``RowId, ImageId, FeatureName``) from any form, or pass a DataFrame through.

    Returns
    -------
    lookup : DataFrame
        ``RowId``, ``ImageId`` (int64) and ``FeatureName``, checked.
    label : str
        Names the table in messages.
    """
    if isinstance(lookup, pd.DataFrame):
        frame, label = lookup.astype({c: str for c in ("RowId", "ImageId") if c in lookup}), "lookup table"
    else:
        frame, label, _ = _read_table(lookup, "lookup")
    _require_columns(frame, ["RowId", "ImageId", "FeatureName"], label)
    if len(frame) == 0:
        raise DataError(f"{label} has a header but no rows: it asks for no locations")
    ids = _numbers(frame, ["RowId", "ImageId"], label, integer=True).astype(np.int64)
    _check_unique(ids[:, 0], "RowId", label)
    names = frame["FeatureName"]
    if names.isna().any():
        raise DataError(f"{label}: row {int(np.argmax(names.isna().to_numpy()))} has an empty FeatureName")
    pairs = pd.Series(list(zip(ids[:, 1], names))).duplicated().to_numpy()
    if pairs.any():
        row = int(np.argmax(pairs))
        raise DataError(f"{label}: row {row} asks again for ImageId {ids[row, 1]} {names.iloc[row]}")
    return pd.DataFrame({"RowId": ids[:, 0], "ImageId": ids[:, 1], "FeatureName": names.str.strip().to_numpy()}), label


@keyword_only_after
@validate_params(
    {
        "y_pred": ["array-like"],
        "image_ids": ["array-like"],
        "lookup": [str, os.PathLike, pd.DataFrame],
        "path": [str, os.PathLike],
        "image_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "target_names": ["array-like"],
    },
    prefer_skip_nested_validation=True,
)
def write_submission(y_pred, *, image_ids, lookup, path, image_size=IMAGE_SIZE, target_names=KAGGLE_COLUMNS):
    """Write a Kaggle submission (``RowId,Location``) atomically.

    Parameters
    ----------
    y_pred : array-like of shape (n_images, 2K)
        Predicted keypoints in ``target_names`` order (Kaggle's 15: 30 columns).
    image_ids : array-like of shape (n_images,)
        The ImageId of each row of ``y_pred``.
    lookup : str, Path or DataFrame
        ``IdLookupTable.csv``: the rows to write, in its order.
    path : str or Path
        Destination; an existing file is replaced only once the new one is complete.
    image_size : int, default=96
        Locations are clipped to ``[0, image_size - 1]``.
    target_names : sequence of str, default=KAGGLE_COLUMNS
        The column of ``y_pred`` that each lookup ``FeatureName`` names.

    Returns
    -------
    submission : DataFrame with columns ``RowId, Location``.
    """
    y_pred = np.asarray(y_pred, dtype=np.float64)
    image_ids = np.asarray(image_ids)
    if y_pred.ndim != 2 or y_pred.shape[1] != len(target_names):
        raise ValueError(f"y_pred must have shape (n_images, {len(target_names)}), got {y_pred.shape}")
    if image_ids.ndim != 1 or len(image_ids) != len(y_pred):
        raise ValueError(f"{image_ids.shape} image_ids for {len(y_pred)} rows of y_pred; give one id per row")
    if not np.issubdtype(image_ids.dtype, np.integer):
        whole = np.issubdtype(image_ids.dtype, np.floating) and np.all(np.isfinite(image_ids)) and np.all(image_ids % 1 == 0)
        if not whole:
            first = image_ids[0] if len(image_ids) else None
            raise ValueError(
                f"image_ids must be whole numbers, as the lookup table's ImageId column is; got dtype "
                f"{image_ids.dtype} (first id {first!r})"
            )
        image_ids = image_ids.astype(np.int64)
    frame, label = load_lookup(lookup)
    row_of = pd.Series(np.arange(len(image_ids)), index=image_ids)
    if not row_of.index.is_unique:
        repeated = np.unique(image_ids[row_of.index.duplicated()])
        raise ValueError(f"image_ids contain duplicates (ImageId {', '.join(map(str, repeated[:5]))}): one row per image")
    col_of = pd.Series(np.arange(len(target_names)), index=list(target_names))
    rows = row_of.reindex(frame["ImageId"].to_numpy()).to_numpy()
    cols = col_of.reindex(frame["FeatureName"].to_numpy()).to_numpy()
    for what, idx, column in (("ImageId", rows, "ImageId"), ("FeatureName", cols, "FeatureName")):
        unknown = np.isnan(idx)
        if unknown.any():
            first = int(np.argmax(unknown))
            raise DataError(
                f"{label}: row {first} (RowId {frame['RowId'].tolist()[first]}) names unknown "
                f"{what} {frame[column].tolist()[first]!r}"
            )
    location = y_pred[rows.astype(int), cols.astype(int)]
    if not np.isfinite(location).all():
        raise ValueError("y_pred has NaN or infinite values where the lookup table asks for a location")
    submission = pd.DataFrame(
        {"RowId": frame["RowId"].to_numpy(), "Location": np.clip(location, 0, image_size - 1)}
    )
    with atomic_write(path, "w", newline="") as fh:
        submission.to_csv(fh, index=False)
    return submission
