"""Input checks shared by the estimators: images, keypoint targets, layouts."""

import math
import numbers
import warnings

import numpy as np
from sklearn.utils.validation import validate_data

from ..keypoints import IBUG_68, KAGGLE_15, KeypointLayout, get_layout
from ._deprecation import REMOVED_IN

__all__ = [
    "validate_images",
    "resolve_image_shape",
    "as_images",
    "check_keypoints",
    "half_missing",
    "nan_mean_keypoints",
    "resolve_layout",
    "plain_layout",
    "set_keypoint_layout",
    "fit_images",
    "set_keypoint_tags",
    "is_real_number",
]


def is_real_number(value, finite=True):
    """True for a real number (not a bool; Python or numpy), and finite if ``finite``: a parameter check."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return not finite or math.isfinite(value)


def resolve_image_shape(n_pixels, image_shape=None):
    """Return the ``(height, width)`` of images flattened to ``n_pixels``.

    Parameters
    ----------
    n_pixels : int
        Number of columns of ``X``.
    image_shape : tuple of int or None
        Given shape; None infers a square image.

    Raises
    ------
    ValueError
        If ``n_pixels`` is not a perfect square (and no shape is given) or
        does not match ``image_shape``.
    """
    if image_shape is None:
        side = int(round(np.sqrt(n_pixels)))
        if side * side != n_pixels:
            raise ValueError(
                f"X has {n_pixels} columns, which is not a square image "
                f"(96x96 faces have 9216); pass image_shape=(height, width)"
            )
        return side, side
    height, width = (int(v) for v in image_shape)
    if height * width != n_pixels:
        raise ValueError(
            f"X has {n_pixels} columns but image_shape={tuple(image_shape)} needs {height * width}"
        )
    return height, width


def validate_images(estimator, X, reset=True, **kwargs):
    """``validate_data`` for flattened images, keeping their dtype, refusing cells that are not numbers.

    An object array (say, from a DataFrame with a None in it) is converted
    to float64; a cell that is not a finite number is named by row and
    column instead of failing deep inside a feature extractor.
    """
    X = validate_data(estimator, X, dtype=None, reset=reset, **kwargs)
    if X.dtype.kind in "biuf":
        return X
    try:
        converted = X.astype(np.float64)
    except (TypeError, ValueError):
        converted = None
    if converted is None or not np.isfinite(converted).all():
        for row, col in np.ndindex(X.shape):
            try:
                ok = np.isfinite(float(X[row, col]))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"X row {row} column {col} is {X[row, col]!r}; pixels must be finite numbers")
    return converted


def as_images(X, image_shape):
    """View validated ``X`` of shape ``(n, h*w)`` as ``(n, h, w)`` float images."""
    X = np.asarray(X)
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    return X.reshape(len(X), *image_shape)


def check_keypoints(y, n_samples=None):
    """Validate a keypoint target array.

    Parameters
    ----------
    y : array-like of shape (n_samples, 2 * K)
        ``x1, y1, x2, y2, ...`` in pixels, NaN where missing.
    n_samples : int, optional
        Expected number of rows.

    Returns
    -------
    y : ndarray of float64, shape (n_samples, 2 * K)
    """
    if y is None:
        raise ValueError("this estimator requires y to be passed, but the target y is None")
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(
            f"keypoint targets y must be 2-D (n_samples, 2 * n_keypoints), got shape {y.shape}"
        )
    if y.shape[1] == 0 or y.shape[1] % 2:
        raise ValueError(
            f"keypoint targets y must have an even number of columns (x, y per keypoint), "
            f"got {y.shape[1]}"
        )
    if np.isinf(y).any():
        raise ValueError("keypoint targets y contain infinite values")
    half = half_missing(y)
    if half is not None:
        row, k = half
        raise ValueError(
            f"keypoint {k} of row {row} has only one of its x/y coordinates; "
            f"a keypoint is either labelled (both) or missing (both NaN)"
        )
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(f"y has {len(y)} rows but X has {n_samples}")
    return y


def half_missing(y):
    """The first ``(row, keypoint)`` of ``y`` (n, 2K) with only one of its x and y missing (NaN), or None.

    A keypoint is labelled (both coordinates) or missing (both NaN); the
    training loaders and :func:`check_keypoints` refuse anything else with
    this one check.
    """
    xy_missing = np.isnan(y[:, 0::2]) != np.isnan(y[:, 1::2])
    if not xy_missing.any():
        return None
    row, k = np.argwhere(xy_missing)[0]
    return int(row), int(k)


def nan_mean_keypoints(y):
    """Mean of each keypoint coordinate over its labelled rows, shape (2K,).

    Raises
    ------
    ValueError
        If a keypoint is labelled on no row.
    """
    y = check_keypoints(y)
    counts = (~np.isnan(y)).sum(axis=0)
    if (counts == 0).any():
        k = int(np.argmax(counts == 0)) // 2
        raise ValueError(f"keypoint {k} is missing (NaN) on every training row")
    return np.nansum(y, axis=0) / counts


def resolve_layout(layout, n_keypoints):
    """Return the :class:`KeypointLayout` of ``n_keypoints`` keypoints.

    Parameters
    ----------
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None
        A layout, a registered one's name (:func:`~fkp_classic.keypoints.get_layout`),
        or None: a plain layout ``k0, k1, ...`` with no flip pairs and no
        eyes. (Deprecated: None on exactly 15 or 68 keypoints still means
        Kaggle's or iBUG's layout, chosen by their number, with a
        ``FutureWarning``; from 0.6 it is the plain layout for them too.
        Pass ``layout="kaggle15"`` or ``"ibug68"``.)
    n_keypoints : int
        The number of keypoints of the targets.

    Raises
    ------
    ValueError
        For an unknown name, or a layout of another number of keypoints.
    TypeError
        For anything else.
    """
    if layout is None:
        return _guessed_layout(n_keypoints)
    if not isinstance(layout, (KeypointLayout, str)):
        raise TypeError(f"layout must be a KeypointLayout, a layout's name or None, got {type(layout).__name__}")
    layout = get_layout(layout)
    if layout.n_keypoints != n_keypoints:
        raise ValueError(f"layout {layout._title!r} has {layout.n_keypoints} keypoints but y has {n_keypoints}")
    return layout


def plain_layout(n_keypoints):
    """The layout of ``n_keypoints`` points known by nothing but their order: ``k0 .. k{K-1}``, no flip pairs, no eyes.

    What an internal model of keypoint-shaped targets that are no scheme's
    (error scales, a stage's residuals) is fitted with.
    """
    return KeypointLayout(names=tuple(f"k{i}" for i in range(n_keypoints)))


def _guessed_layout(n_keypoints):
    """:func:`plain_layout`, and the deprecated choice by count for 15 and 68 keypoints."""
    # Deprecated in 0.5, removed in 0.6: the only place where a layout is chosen by the number of keypoints.
    guessed = {KAGGLE_15.n_keypoints: KAGGLE_15, IBUG_68.n_keypoints: IBUG_68}.get(n_keypoints)
    if guessed is not None:
        warnings.warn(
            f"layout=None on {n_keypoints} keypoints is taken as the {guessed.name!r} layout by their number; from "
            f"fkp_classic {REMOVED_IN} it is a plain layout (k0, k1, ...: no flip pairs, no eyes). Pass "
            f"layout={guessed.name!r} (or your own KeypointLayout) to keep the flips and NME",
            FutureWarning,
            stacklevel=3,
        )
        return guessed
    return plain_layout(n_keypoints)


def set_keypoint_layout(estimator, y):
    """Record the fitted keypoints' ``layout_`` and NaN-aware ``mean_shape_`` (K, 2) on ``estimator``.

    The layout is the estimator's ``layout`` parameter (checked against
    ``y``; None: see :func:`resolve_layout`):
    whoever uses the fitted model (the photo path, the command line) reads
    the keypoint names and the mean shape from it.
    """
    n_keypoints = y.shape[1] // 2
    estimator.layout_ = resolve_layout(getattr(estimator, "layout", None), n_keypoints)
    estimator.mean_shape_ = nan_mean_keypoints(y).reshape(n_keypoints, 2)


def fit_images(estimator, X, y=None, needs_y=True):
    """Validate flattened images (and keypoints) at ``fit``; record ``image_shape_`` on the estimator.

With keypoints, also record ``layout_`` and ``mean_shape_`` (:func:`set_keypoint_layout`).

    Returns the validated ``X`` and, when ``needs_y``, the checked ``y``.
    """
    X = validate_images(estimator, X, ensure_min_features=4)
    if needs_y:
        y = check_keypoints(y, len(X))
        set_keypoint_layout(estimator, y)
    estimator.image_shape_ = resolve_image_shape(X.shape[1], estimator.image_shape)
    return (X, y) if needs_y else X


def set_keypoint_tags(tags):
    """Tags of an estimator whose target is ``(n_samples, 2K)`` keypoint pairs."""
    tags.target_tags.multi_output = True
    tags.target_tags.single_output = False
    return tags
