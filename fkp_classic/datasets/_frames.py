"""Full photos with annotated faces (``frames.csv`` and its images): the ground for face detection."""

import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..keypoints import IBUG_68, KAGGLE_15
from ..utils._deprecation import keyword_only_after
from ._kaggle import PATH, DataError

__all__ = ["load_frames", "face_squares"]

_KAGGLE_NAMES = list(KAGGLE_15.columns)
_IBUG_NAMES = list(IBUG_68.columns)


@keyword_only_after
@validate_params({"keypoints": ["array-like"], "mean_shape": ["array-like", None]}, prefer_skip_nested_validation=True)
def face_squares(keypoints, *, mean_shape=None):
    """Each face's 96x96 crop square ``(x, y, side, side)`` from its 15 Kaggle keypoints in photo pixels.

    The square frames the face as the training crops are (scale and
    centre of the keypoints matched to the mean training face, see
    :func:`fkp_classic.photo.reframe`): what a face detector should box.

    Parameters
    ----------
    keypoints : array-like of shape (n_faces, 30)
    mean_shape : array-like of shape (15, 2), optional
        Defaults to the faces96 mean (:data:`fkp_classic.photo.KAGGLE_MEAN_SHAPE`).

    Returns
    -------
    boxes : ndarray of shape (n_faces, 4)
    """
    from ..photo import KAGGLE_MEAN_SHAPE, reframe

    frames = reframe(np.asarray(keypoints, dtype=float), KAGGLE_MEAN_SHAPE if mean_shape is None else mean_shape)
    return np.c_[frames, frames[:, 2]]


@keyword_only_after
@validate_params(
    {"path": PATH, "gray": ["boolean"], "limit": [Interval(numbers.Integral, 1, None, closed="left"), None]},
    prefer_skip_nested_validation=True,
)
def load_frames(path=None, *, gray=True, limit=None):
    """Photos with one annotated face each: ``frames.csv`` and the images it names.

    Parameters
    ----------
    path : str or Path, optional
        The ``frames`` folder, or ``frames.csv`` in it. Defaults to
        ``$FKP_DATA/frames``.
    gray : bool, default=True
        Load the photos as uint8 grayscale, Pillow's ``"L"`` conversion (ITU-R
        601 luma; the photo path's :func:`fkp_classic.photo.as_gray8` weighs
        the channels as ITU-R 709 does), else uint8 RGB.
    limit : int, optional
        Load only the first ``limit`` rows.

    Returns
    -------
    data : Bunch
        ``images`` (list of arrays), ``files``, ``groups`` (person of each
        photo), ``keypoints`` ``(n, 30)`` Kaggle keypoints and ``points68``
        ``(n, 136)`` iBUG points in photo pixels (None when ``frames.csv`` has no
        ``p0_x ... p67_y`` columns), ``boxes`` ``(n, 4)`` each
        face's crop square (:func:`face_squares`).

    Raises
    ------
    DataError
        Naming the file, row or column at fault.
    """
    if path is None:
        if "FKP_DATA" not in os.environ:
            raise DataError("no frames folder given and FKP_DATA is not set")
        path = Path(os.environ["FKP_DATA"]) / "frames"
    path = Path(path)
    csv = path / "frames.csv" if path.is_dir() else path
    if not csv.is_file():
        raise DataError(f"{csv} does not exist (expected a frames folder holding frames.csv)")
    table = pd.read_csv(csv, nrows=limit)
    missing = [c for c in ["file", "person", *_KAGGLE_NAMES] if c not in table.columns]
    if missing:
        raise DataError(f"{csv}: missing columns {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    keypoints = table[_KAGGLE_NAMES].to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(keypoints).all(axis=1))
    if len(bad):
        raise DataError(f"{csv}: row {bad[0] + 2} has a missing or non-numeric keypoint")
    images = []
    for row, name in enumerate(table["file"]):  # one decode per photo
        try:
            with Image.open(csv.parent / name) as photo:
                images.append(np.asarray(photo.convert("L" if gray else "RGB")))
        except (OSError, UnidentifiedImageError) as exc:
            raise DataError(f"{csv}: row {row + 2}: cannot read {name} ({exc})") from None
    points68 = table[_IBUG_NAMES].to_numpy(float) if set(_IBUG_NAMES) <= set(table.columns) else None
    return Bunch(
        images=images, files=table["file"].to_numpy(), groups=table["person"].to_numpy(), keypoints=keypoints,
        points68=points68, boxes=face_squares(keypoints),
    )
