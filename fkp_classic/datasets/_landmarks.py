"""A user's own landmark CSV: images as Kaggle writes them, and any named points, the layout taken from the columns."""

import os
import re
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import validate_params

from ..keypoints import KeypointLayout
from ..utils._constraints import IMAGE_SHAPE
from ..utils._deprecation import keyword_only_after
from ._kaggle import CONTOUR_MARGIN, DataError, _keypoints_of, _parse_images, _read_table_with

__all__ = ["load_landmarks", "layout_from_columns"]

_SIDES = (("left", "right"), ("Left", "Right"), ("LEFT", "RIGHT"), ("l_", "r_"), ("_l", "_r"))


@validate_params({"columns": ["array-like"]}, prefer_skip_nested_validation=True)
def layout_from_columns(columns):
    """The :class:`KeypointLayout` of ``<name>_x, <name>_y`` columns, in their order.

    Flip pairs are names that differ only by left/right (``left_eye`` and
    ``right_eye``, ``l_brow`` and ``r_brow``, ``eye_l`` and ``eye_r``).

    Examples
    --------
    >>> layout = layout_from_columns(["left_eye_x", "left_eye_y", "right_eye_x", "right_eye_y", "nose_x", "nose_y"])
    >>> layout.names, layout.flip_pairs
    (('left_eye', 'right_eye', 'nose'), (('left_eye', 'right_eye'),))
    """
    columns = [str(c) for c in columns]
    names = [c[:-2] for c in columns if c.endswith("_x") and f"{c[:-2]}_y" in columns]
    if not names:
        raise ValueError("no <name>_x, <name>_y column pairs")
    pairs, taken = [], set()
    for name in names:
        for a, b in _SIDES:
            if name in taken or a not in name:
                continue
            mirror = re.sub(re.escape(a), b, name)
            if mirror in names and mirror != name and mirror not in taken:
                pairs.append((name, mirror))
                taken.update((name, mirror))
    return KeypointLayout(names=tuple(names), flip_pairs=tuple(pairs))


@keyword_only_after
@validate_params(
    {"path": [str, os.PathLike], "image_shape": [IMAGE_SHAPE, None], "return_X_y": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def load_landmarks(path, *, image_shape=None, return_X_y=False):
    """Load faces and landmarks from a CSV of any layout: an ``Image`` column and ``<name>_x, <name>_y`` pairs.

    The images are written as Kaggle writes them (the pixels of a grayscale
    image, row by row, space-separated); the keypoints are the column pairs
    in file order, NaN (empty) where missing, and their names make the
    layout (:func:`layout_from_columns`). Other columns are kept aside.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    image_shape : (int, int) or None, default=None
        Height and width of the images; None means square.
    return_X_y : bool, default=False

    Returns
    -------
    data : Bunch
        ``data`` (n, h*w) uint8, ``images`` (n, h, w), ``target`` (n, 2K),
        ``target_names``, ``layout``, ``other`` (a DataFrame of the other
        columns).
    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    DataError
        Naming the file, row and column of what is wrong.
    """
    path = Path(path)
    frame, label = _read_table_with(path, "Image", "the pixels of each face")
    try:
        layout = layout_from_columns(frame.columns)
    except ValueError as exc:
        raise DataError(f"{label} has {exc}: name the keypoint columns <name>_x, <name>_y") from None
    if len(frame) == 0:
        raise DataError(f"{label} has no rows")
    first = str(frame["Image"].iloc[0]).split()
    if image_shape is None:
        side = int(round(np.sqrt(len(first))))
        if side * side != len(first):
            raise DataError(f"{label}: row 0 has {len(first)} pixels, not a square image: give image_shape")
        image_shape = (side, side)
    data = _parse_images(frame["Image"], label, image_shape=tuple(image_shape))
    target = _keypoints_of(frame, layout.columns, label, image_size=max(image_shape), margin=CONTOUR_MARGIN)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=data.reshape(-1, *image_shape),
        target=target,
        target_names=list(layout.columns),
        layout=layout,
        other=frame.drop(columns=["Image", *layout.columns]),
    )
