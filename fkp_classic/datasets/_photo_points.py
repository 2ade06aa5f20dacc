"""A CSV of photo files and named points: one row per face, ``file`` and ``<name>_x, <name>_y`` columns."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from ..keypoints import KeypointLayout, get_layout
from ._annotated_photos import _assemble, _named_layout, _photo_keys, _subset_of
from ._kaggle import DataError, _read_table_with

__all__ = ["load_photo_points"]

_RESERVED = ("file", "group", "subset")


def _cells(frame, columns, label):
    """The ``columns`` as float64, NaN where empty; a DataError naming the line, column and cell that is not a number."""
    values = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        text = frame[column]
        parsed = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
        bad = (np.isnan(parsed) & text.notna().to_numpy()) | np.isinf(parsed)
        if bad.any():
            row = int(np.argmax(bad))
            raise DataError(f"{label}, line {row + 2} (row {row}), column {column}: {text.iloc[row]!r} is not a "
                            "number (an empty cell is a missing point)")
        values[:, j] = parsed
    return values


@validate_params(
    {
        "path": [str, os.PathLike],
        "layout": [StrOptions({"ibug68", "kaggle15"}), KeypointLayout, None],
        "image_dir": [str, os.PathLike, None],
        "photo_pattern": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def load_photo_points(path, *, layout=None, image_dir=None, photo_pattern=None):
    """Load a CSV of photos and named points: one row per face.

    Columns: ``file`` (the photo, relative to ``image_dir``), optionally
    ``group`` (the photo or person the face belongs to, for ``GroupKFold``)
    and ``subset``, and ``<name>_x, <name>_y`` pairs in 0-based pixels of the
    photo, empty where a point is missing; the same naming as
    :func:`load_landmarks` for crops. Rows naming one file are faces of one photo.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    layout : {"ibug68", "kaggle15"}, KeypointLayout or None, default=None
        The points' scheme: its columns ``<name>_x, <name>_y`` must all be
        there. None: the column pairs, in file order, make the layout (a
        registered one if they are its names, such as ``p0_x .. p67_y``;
        else flip pairs from left/right names, :func:`layout_from_columns`).
    image_dir : str or Path or None, default=None
        The folder the ``file`` paths are relative to; None: the CSV's folder.
    photo_pattern : str or None, default=None
        Without a ``group`` column, a regular expression whose group 1 names
        the photo a file shows (``PTS_PHOTO_PATTERN`` for ``<photo>_<k>``
        files); None: each photo file is its own group.

    Returns
    -------
    photos : AnnotatedPhotos
        ``files``, ``shapes``, ``points``, ``layout``, ``photo_index``,
        ``groups``, ``subset`` (the column, else each photo's folder),
        ``sources`` (the CSV and line of each face); no boxes.

    Raises
    ------
    DataError
        Naming the file, line and column: no ``file`` column, a layout column
        missing, a cell that is not a number, an x without its y, an empty
        ``file``, a missing or unreadable photo, a point far outside its photo.

    Examples
    --------
    >>> photos = load_photo_points("faces.csv", layout="ibug68")  # doctest: +SKIP
    """
    path = Path(path)
    frame, label = _read_table_with(path, "file", "the photo of each face")
    if len(frame) == 0:
        raise DataError(f"{label} has no rows")
    if layout is None:
        try:
            layout = _named_layout([c for c in frame.columns if c not in _RESERVED])
        except ValueError as exc:
            raise DataError(f"{label} has {exc}: name the point columns <name>_x, <name>_y") from None
    else:
        layout = get_layout(layout)
        missing = [c for c in layout.columns if c not in frame.columns]
        if missing:
            raise DataError(f"{label} lacks the {layout.name or 'given'} layout's column(s) "
                            f"{', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''}")
    points = _cells(frame, list(layout.columns), label)
    x_only = np.isnan(points[:, 0::2]) != np.isnan(points[:, 1::2])
    if x_only.any():
        row, k = np.argwhere(x_only)[0]
        raise DataError(f"{label}, line {row + 2} (row {row}): only one of {layout.columns[2 * k]} and "
                        f"{layout.columns[2 * k + 1]} is given")
    empty = frame["file"].isna().to_numpy()
    if empty.any():
        row = int(np.argmax(empty))
        raise DataError(f"{label}, line {row + 2} (row {row}), column file: empty")
    root = path.parent if image_dir is None else Path(image_dir)
    paths = [root / name for name in frame["file"]]
    sources = [f"{label}, line {row + 2}" for row in range(len(frame))]
    subset = (frame["subset"].fillna("").to_numpy(object) if "subset" in frame.columns
              else [_subset_of(p, root) for p in paths])
    if "group" in frame.columns:
        lost = frame["group"].isna().to_numpy()
        if lost.any():
            row = int(np.argmax(lost))
            raise DataError(f"{label}, line {row + 2} (row {row}), column group: empty (give every face its group)")
        groups = frame["group"].to_numpy(object)
    else:
        groups = _photo_keys(paths, photo_pattern, prefixes=subset)
    return _assemble(paths, points, layout, sources, subset=subset, groups=groups)
