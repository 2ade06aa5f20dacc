"""KeypointRegressor: the one-line entry point (image features + per-keypoint ridge)."""

import numbers

import numpy as np

from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._capabilities import RETURN_STD
from ..flip import flip_augment
from ..features._hog import _BLOCK_NORMS, HOGFeatures
from ..features._patch import PatchFeatures
from ._cross_fitting import _cross_fit
from ._error_model import ERROR_ALPHA, fit_error_model
from ._ridge import KeypointRidge
from ..keypoints import LAYOUT_NAMES, KeypointLayout
from ..utils._constraints import IMAGE_SHAPE, NumberSequence
from ..utils._validation import fit_images, set_keypoint_tags, validate_images

__all__ = ["KeypointRegressor"]

_ERROR_FOLDS = 5  # cross-fitting folds of the error model


class KeypointRegressor(RegressorMixin, BaseEstimator):
    """Facial keypoints from whole-face features and a per-keypoint ridge.

    The default is square-root-compressed HOG of the whole face into a
    ridge with ``alpha=100`` (its scores on faces96:
    ``benchmarks/results/results.md``). Missing keypoints (NaN) are handled by
    :class:`KeypointRidge`: each keypoint learns from every row labelling it.

    Parameters
    ----------
    features : {'hog', 'patch'}, default='hog'
        HOG descriptors (:class:`HOGFeatures`) or the normalised downscaled
        face (:class:`PatchFeatures`).
    orientations, pixels_per_cell, cells_per_block, block_norm, transform_sqrt
        HOG settings (see :class:`HOGFeatures`); defaults 9, (8, 8), (2, 2),
        'L2-Hys', True.
    patch_size : int, default=32
        Grid side for ``features='patch'``.
    alpha : float or sequence of float, default=100.0
        Ridge penalty, or candidates of which each coordinate takes the
        best by leave-one-out (:class:`KeypointRidge`'s ``alpha``; the error
        model then takes the median of the chosen ones).
    flip : bool, default=False
        Train on the mirrored faces too, their points mirrored about the
        image's centre. Off by default: annotations that mirror about a line
        off the centre (faces96's do) lose accuracy when mirrored about the
        centre (:class:`CascadeRegressor` measures the axis: ``flip_axis``).
    image_shape : (int, int) or None, default=None
        Image ``(height, width)``; None infers a square.
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        The keypoints' names, flip pairs and eyes, or a registered layout's
        name. None is a plain layout ``k0, k1, ...`` (deprecated on 15 or
        68 keypoints, which it still takes as Kaggle's or iBUG's, with a
        ``FutureWarning``).
    uncertainty : bool, default=False
        Also fit the error model behind ``predict(X, return_std=True)``: a
        ridge from the same features to the log squared error the ridge
        leaves on held-out training faces (5 folds), calibrated on them.
        Off by default because the cross-fitting makes this quick fit
        several times as long (:class:`CascadeRegressor` fits its own at a
        small part of its fit time, from the cross-fitting it does anyway).

    Attributes
    ----------
    features_ : HOGFeatures or PatchFeatures
        The fitted feature extractor.
    ridge_ : KeypointRidge
        The fitted regressor.
    error_model_ : ErrorModel or None
        Predicts each coordinate's error variance (``uncertainty=True``).
    layout_ : KeypointLayout
        Names and flip pairs of the fitted keypoints.
    mean_shape_ : ndarray of shape (K, 2)
        Mean training keypoints.
    image_shape_ : (int, int)
    n_features_in_ : int

    Examples
    --------
    >>> from fkp_classic import KeypointRegressor
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(200, random_state=0, return_X_y=True)
    >>> model = KeypointRegressor(layout="kaggle15").fit(X[:150], y[:150])
    >>> model.predict(X[150:]).shape
    (50, 30)
    """

    _keypoint_capabilities = frozenset({RETURN_STD})

    _parameter_constraints = {
        "features": [StrOptions({"hog", "patch"})],
        "orientations": [Interval(numbers.Integral, 1, None, closed="left")],
        "pixels_per_cell": [NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)],
        "cells_per_block": [NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)],
        "block_norm": [StrOptions(set(_BLOCK_NORMS))],
        "transform_sqrt": ["boolean"],
        "patch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "alpha": [
            Interval(numbers.Real, 0, None, closed="neither"),
            NumberSequence(Interval(numbers.Real, 0, None, closed="neither")),
        ],
        "flip": ["boolean"],
        "image_shape": [IMAGE_SHAPE, None],
        "layout": [KeypointLayout, StrOptions(set(LAYOUT_NAMES)), None],
        "uncertainty": ["boolean"],
    }

    def __init__(
        self,
        features="hog",
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(2, 2),
        block_norm="L2-Hys",
        transform_sqrt=True,
        patch_size=32,
        alpha=100.0,
        flip=False,
        image_shape=None,
        layout=None,
        uncertainty=False,
    ):
        self.features = features
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.transform_sqrt = transform_sqrt
        self.patch_size = patch_size
        self.alpha = alpha
        self.flip = flip
        self.image_shape = image_shape
        self.layout = layout
        self.uncertainty = uncertainty

    def _make_features(self):
        if self.features == "hog":
            return HOGFeatures(
                orientations=self.orientations,
                pixels_per_cell=self.pixels_per_cell,
                cells_per_block=self.cells_per_block,
                block_norm=self.block_norm,
                transform_sqrt=self.transform_sqrt,
                image_shape=self.image_shape_,
            )
        return PatchFeatures(size=self.patch_size, image_shape=self.image_shape_)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the feature extractor and the per-keypoint ridge.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
            Flattened grayscale images (uint8 or float).
        y : array-like of shape (n_samples, 2K)
            Keypoints ``x1, y1, ...`` in pixels; NaN where missing.

        Returns
        -------
        self : KeypointRegressor
        """
        X, y = fit_images(self, X, y)
        if self.flip:
            X, y = flip_augment(X, y, image_shape=self.image_shape_, layout=self.layout_)
        self.features_ = self._make_features()
        F = self.features_.fit_transform(X, y)
        self.ridge_ = KeypointRidge(alpha=self.alpha, layout=self.layout_).fit(F, y)
        self.error_model_ = None
        if self.uncertainty:
            n = len(X) // (2 if self.flip else 1)
            fold = np.random.RandomState(0).permutation(n) % _ERROR_FOLDS  # a face and its mirror share a fold
            fold = np.tile(fold, len(X) // n)
            if n >= 2 * _ERROR_FOLDS:
                folds = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(_ERROR_FOLDS)]
                residual = y - _cross_fit(self.ridge_, F, y, folds)
                alpha = self.alpha if np.ndim(self.alpha) == 0 else float(np.median(self.ridge_.alpha_))
                self.error_model_ = fit_error_model(F, residual, fold, _ERROR_FOLDS, ERROR_ALPHA * alpha,
                                                    scale_rows=slice(0, n))
        return self

    def predict(self, X, return_std=False, check_input=True):
        """Predict keypoints for each image, and how far off each coordinate may be.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        return_std : bool, default=False
            Also return the predicted standard deviation of each
            coordinate's error, in pixels (see ``uncertainty``).
        check_input : bool, default=True
            False skips validating ``X``, which must then be a numeric
            ndarray of shape (n_samples, height * width).

        Returns
        -------
        y_pred : ndarray of shape (n_samples, 2K)
        y_std : ndarray of shape (n_samples, 2K)
            Only with ``return_std=True``.
        """
        check_is_fitted(self, "ridge_")
        if check_input:
            X = validate_images(self, X, reset=False)
        F = self.features_.transform(X)
        y_pred = self.ridge_.predict(F)
        if not return_std:
            return y_pred
        if getattr(self, "error_model_", None) is None:
            raise ValueError(
                "this KeypointRegressor has no error model for return_std=True: fit it with uncertainty=True "
                f"(and at least {2 * _ERROR_FOLDS} faces)"
            )
        return y_pred, np.exp(self.error_model_.log_variance(F) / 2)

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        tags.input_tags.positive_only = self.features == "hog" and bool(self.transform_sqrt)
        return tags
