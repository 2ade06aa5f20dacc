"""What the photo path needs to know of a keypoint model: its points' layout, mean shape and crop size."""

from typing import NamedTuple

import numpy as np
from sklearn.pipeline import Pipeline

from ..keypoints import KAGGLE_15, KeypointLayout
from ._crop import CROP_SIZE

__all__ = ["KeypointModelGeometry", "KAGGLE_MEAN_SHAPE", "model_geometry", "model_layout", "crop_size_of"]

KAGGLE_MEAN_SHAPE = np.array([
    65.05, 38.19, 30.65, 38.44, 58.27, 38.52, 71.46, 37.87, 37.31, 38.7, 24.2, 38.15, 57.7, 27.02, 78.59, 29.16, 37.73,
    27.22, 16.31, 29.57, 48.86, 58.82, 62.26, 76.36, 34.37, 76.59, 48.8, 72.25, 48.95, 83.61,
]).reshape(15, 2)
"""Mean Kaggle keypoints of the faces96 crops: the framing for a 15-point model that records no ``mean_shape_``."""


class KeypointModelGeometry(NamedTuple):
    """A keypoint model's points and crops, as the photo path frames faces for it."""

    layout: KeypointLayout
    """Names (and all else known) of the points the model predicts."""
    mean_shape: np.ndarray
    """``(K, 2)``: where the model's training crops have their keypoints, in crop pixels."""
    crop_size: int
    """Side of the square crops the model takes."""
    recorded: bool
    """Whether the model recorded ``layout_`` and ``mean_shape_`` (else Kaggle's 15 points at 96x96 are assumed)."""


def crop_size_of(model, what="model"):
    """The side of the square images a fitted model (or ``Pipeline``) takes: its ``image_shape_``.

    Every fkp_classic estimator (and :class:`~fkp_classic.HOGFeatures`)
    records ``image_shape_`` at fit; in a ``Pipeline`` its first step does.
    A model that records none is taken to work on Kaggle's 96x96 crops
    (:data:`~fkp_classic.photo.CROP_SIZE`).

    Raises
    ------
    ValueError
        If the model was fitted on images that are not square.
    """
    shape = getattr(model, "image_shape_", None)
    if shape is None and isinstance(model, Pipeline):
        shape = getattr(model[0], "image_shape_", None)
    if shape is None:
        return CROP_SIZE
    height, width = (int(v) for v in shape)
    if height != width:
        raise ValueError(f"the {what} was fitted on {height}x{width} images; the photo path cuts square crops")
    return height


def model_geometry(model):
    """The layout, mean shape, crop size a fitted keypoint model (or Pipeline) records (:class:`KeypointModelGeometry`).

    Every fkp_classic estimator records ``layout_``, ``mean_shape_`` and
    ``image_shape_`` at fit. A model without the first two (say, a user's
    own scikit-learn pipeline) is taken to predict the 15 Kaggle keypoints,
    which is checked on its first prediction.
    """
    final = model[-1] if isinstance(model, Pipeline) else model
    layout, mean_shape = getattr(final, "layout_", None), getattr(final, "mean_shape_", None)
    size = crop_size_of(model)
    if layout is None or mean_shape is None:
        return KeypointModelGeometry(KAGGLE_15, KAGGLE_MEAN_SHAPE * (size / CROP_SIZE), size, False)
    return KeypointModelGeometry(layout, np.asarray(mean_shape, dtype=float).reshape(-1, 2), size, True)


def model_layout(model):
    """The keypoint layout, mean shape ``(K, 2)`` and whether the model recorded them (see :func:`model_geometry`)."""
    geometry = model_geometry(model)
    return geometry.layout, geometry.mean_shape, geometry.recorded
