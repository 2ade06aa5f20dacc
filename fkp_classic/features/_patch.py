"""Normalised raw-pixel features: the downscaled face, or patches around points."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._sampling import normalize_patches, sample_patches
from ..utils._constraints import IMAGE_SHAPE
from ..utils._validation import as_images, check_keypoints, fit_images, nan_mean_keypoints, validate_images

__all__ = ["PatchFeatures"]


class PatchFeatures(TransformerMixin, BaseEstimator):
    """Normalised pixel features of face images.

    With ``points=None`` the whole face is resampled to a ``size x size``
    grid (area-averaged when downscaling by a whole factor, bilinear
    otherwise). With points, a ``size x size`` patch is sampled around each
    point. Each patch (or the whole downscaled face) is then normalised to
    zero mean and unit norm, which removes global illumination and contrast.

    Parameters
    ----------
    size : int, default=24
        Side of the output grid or of each patch, in samples.
    points : None, 'mean' or array-like of shape (K, 2), default=None
        None: the whole image. ``'mean'``: patches around the NaN-aware mean
        keypoints learnt from ``y`` in ``fit``. An array: fixed ``(x, y)``
        patch centres.
    spacing : float, default=1.0
        Pixels between patch samples (patches only).
    normalize : bool, default=True
        Zero-mean, unit-norm each patch.
    image_shape : (int, int) or None, default=None
        Image ``(height, width)``; None infers a square.

    Attributes
    ----------
    n_features_in_ : int
    image_shape_ : (int, int)
    points_ : ndarray of shape (K, 2) or None
        Patch centres used by ``transform``.

    Examples
    --------
    >>> from fkp_classic import PatchFeatures
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(4, random_state=0, return_X_y=True)
    >>> PatchFeatures(size=12).fit_transform(X).shape
    (4, 144)
    >>> PatchFeatures(size=8, points="mean").fit(X, y).transform(X).shape
    (4, 960)
    """

    _parameter_constraints = {
        "size": [Interval(numbers.Integral, 1, None, closed="left")],
        "points": [None, StrOptions({"mean"}), "array-like"],
        "spacing": [Interval(numbers.Real, 0, None, closed="neither")],
        "normalize": ["boolean"],
        "image_shape": [IMAGE_SHAPE, None],
    }

    def __init__(self, size=24, points=None, spacing=1.0, normalize=True, image_shape=None):
        self.size = size
        self.points = points
        self.spacing = spacing
        self.normalize = normalize
        self.image_shape = image_shape

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the image shape and, for ``points='mean'``, the mean keypoints.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        y : array-like of shape (n_samples, 2K), optional
            Needed only with ``points='mean'``.

        Returns
        -------
        self : PatchFeatures
        """
        X = fit_images(self, X, needs_y=False)
        if self.points is None:
            self.points_ = None
        elif isinstance(self.points, str):  # "mean", the only string _parameter_constraints let through
            if y is None:
                raise ValueError("PatchFeatures(points='mean') needs keypoint targets y in fit")
            self.points_ = nan_mean_keypoints(check_keypoints(y, len(X))).reshape(-1, 2)
        else:
            points = np.asarray(self.points, dtype=np.float64)
            self.points_ = points.reshape(-1, 2)
        return self

    def transform(self, X):
        """Features of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)

        Returns
        -------
        ndarray of shape (n_samples, size * size) or (n_samples, K * size * size)
        """
        check_is_fitted(self, "points_")
        X = validate_images(self, X, reset=False)
        images = as_images(X, self.image_shape_)
        if self.points_ is None:
            patches = _downscale(images, self.size)[:, None]
        else:
            centers = np.broadcast_to(self.points_, (len(images),) + self.points_.shape)
            patches = sample_patches(images, centers, self.size, self.spacing)
        if self.normalize:
            patches = normalize_patches(patches)
        return patches.reshape(len(images), -1)


def _downscale(images, size):
    """Resample ``(n, h, w)`` images to ``(n, size, size)``."""
    n, height, width = images.shape
    if height % size == 0 and width % size == 0:
        fy, fx = height // size, width // size
        return images.reshape(n, size, fy, size, fx).mean(axis=(2, 4))
    # Sample the whole image on a size x size grid of cell centres.
    step_y, step_x = height / size, width / size
    ys = (np.arange(size) + 0.5) * step_y - 0.5
    xs = (np.arange(size) + 0.5) * step_x - 0.5
    centre = np.array([[(xs[0] + xs[-1]) / 2, (ys[0] + ys[-1]) / 2]])
    if step_x != step_y:
        raise ValueError("non-square downscaling of non-square images is not supported; use points")
    return sample_patches(images, np.broadcast_to(centre, (n, 1, 2)), size, step_x)[:, 0]
