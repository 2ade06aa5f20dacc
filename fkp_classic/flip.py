"""Horizontal flips of faces and keypoints, with the left/right names swapped."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from .keypoints import KeypointLayout
from .utils._constraints import IMAGE_SHAPE
from .utils._deprecation import keyword_only_after
from .utils._validation import check_keypoints, resolve_image_shape, resolve_layout

__all__ = ["flip_images", "flip_keypoints", "flip_augment"]


_LAYOUT = [KeypointLayout, str, None]  # a name: checked by get_layout


@keyword_only_after
@validate_params({"X": ["array-like"], "image_shape": [IMAGE_SHAPE, None]}, prefer_skip_nested_validation=True)
def flip_images(X, *, image_shape=None):
    """Mirror flattened images left-right.

    Parameters
    ----------
    X : array-like of shape (n_samples, height * width)
    image_shape : tuple of int, optional
        ``(height, width)``; inferred as square when omitted.

    Returns
    -------
    X_flipped : ndarray of the same shape and dtype as ``X``.
    """
    X = np.asarray(X)
    return _mirror(X, *resolve_image_shape(X.shape[1], image_shape))


def _mirror(X, height, width):
    return X.reshape(len(X), height, width)[:, :, ::-1].reshape(X.shape).copy()


@keyword_only_after
@validate_params(
    {
        "y": ["array-like"],
        "width": [Interval(numbers.Integral, 1, None, closed="left")],
        "layout": _LAYOUT,
        "axis": [Interval(numbers.Real, None, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def flip_keypoints(y, *, width, layout=None, axis=None):
    """Mirror keypoints to match :func:`flip_images`.

    ``x' = 2 * axis - x`` (``width - 1 - x`` about the image's centre) and
    each keypoint of a flip pair takes the place of its partner (the
    mirrored left eye is the new right eye). Flipping twice is the
    identity. NaN (missing) keypoints stay missing.

    Parameters
    ----------
    y : array-like of shape (n_samples, 2 * K)
    width : int
        Image width in pixels.
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        Which keypoints swap places (its flip pairs). None swaps none (and,
        deprecated, means Kaggle's or iBUG's layout on exactly 15 or 68
        keypoints, with a ``FutureWarning``: see
        :func:`~fkp_classic.utils.resolve_layout`).
    axis : float, optional
        The x coordinate that the annotations mirror about. None is the
        image's centre, ``(width - 1) / 2``, right for points placed on
        the pixels they mark (pixel centres at whole numbers). Annotations
        made in another convention, or marked a little to one side of the
        feature, mirror about another line (faces96's, about 1.4 px to the
        right: see ``flip_axis`` of :class:`~fkp_classic.CascadeRegressor`).

    Returns
    -------
    y_flipped : ndarray of shape (n_samples, 2 * K)
    """
    y = check_keypoints(y)
    n_keypoints = y.shape[1] // 2
    perm = resolve_layout(layout, n_keypoints).flip_permutation
    pts = y.reshape(len(y), n_keypoints, 2)[:, perm].copy()
    pts[:, :, 0] = ((width - 1) if axis is None else 2 * float(axis)) - pts[:, :, 0]
    return pts.reshape(y.shape)


@keyword_only_after
@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "image_shape": [IMAGE_SHAPE, None],
        "layout": _LAYOUT,
        "axis": [Interval(numbers.Real, None, None, closed="neither"), None],
    },
    prefer_skip_nested_validation=True,
)
def flip_augment(X, y, *, image_shape=None, layout=None, axis=None):
    """Append the mirror image of every face (and its keypoints, mirrored about ``axis``: :func:`flip_keypoints`).

    Parameters
    ----------
    X : array-like of shape (n_samples, height * width)
    y : array-like of shape (n_samples, 2 * K)
    image_shape : tuple of int, optional
        ``(height, width)``; inferred as square when omitted.
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        As for :func:`flip_keypoints`.
    axis : float, optional
        As for :func:`flip_keypoints`.

    Returns
    -------
    X_aug : ndarray of shape (2 * n_samples, n_pixels)
    y_aug : ndarray of shape (2 * n_samples, 2 * K)
        The originals first, then their mirrors in the same order.
    """
    X = np.asarray(X)
    height, width = resolve_image_shape(X.shape[1], image_shape)
    X_aug = np.concatenate([X, _mirror(X, height, width)])
    y_aug = np.concatenate([check_keypoints(y), flip_keypoints(y, width=width, layout=layout, axis=axis)])
    return X_aug, y_aug
