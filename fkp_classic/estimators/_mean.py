"""The mean-shape baseline."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..flip import flip_keypoints
from ..keypoints import LAYOUT_NAMES, KeypointLayout
from ..utils._constraints import IMAGE_SHAPE
from ..utils._validation import (
    check_keypoints,
    nan_mean_keypoints,
    resolve_image_shape,
    set_keypoint_layout,
    set_keypoint_tags,
)

__all__ = ["MeanKeypoints"]


class MeanKeypoints(RegressorMixin, BaseEstimator):
    """Predict the NaN-aware mean position of every keypoint, whatever the face.

    Parameters
    ----------
    flip : bool, default=False
        Also average the mirrored training keypoints (a symmetric mean shape).
    image_shape : (int, int) or None, default=None
        Needed only with ``flip``; None infers a square.
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        The keypoints' names, flip pairs and eyes, or a registered layout's
        name. None is a plain layout ``k0, k1, ...`` (deprecated on 15 or
        68 keypoints, which it still takes as Kaggle's or iBUG's, with a
        ``FutureWarning``).

    Attributes
    ----------
    mean_ : ndarray of shape (2K,)
        The prediction (symmetric with ``flip``).
    layout_ : KeypointLayout
    mean_shape_ : ndarray of shape (K, 2)
        Mean training keypoints (without mirrors).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic import MeanKeypoints
    >>> y = np.array([[10.0, 20.0], [np.nan, np.nan], [14.0, 22.0]])
    >>> MeanKeypoints().fit(np.zeros((3, 4)), y).predict(np.zeros((1, 4)))
    array([[12., 21.]])
    """

    _parameter_constraints = {
        "flip": ["boolean"],
        "image_shape": [IMAGE_SHAPE, None],
        "layout": [KeypointLayout, StrOptions(set(LAYOUT_NAMES)), None],
    }

    def __init__(self, flip=False, image_shape=None, layout=None):
        self.flip = flip
        self.image_shape = image_shape
        self.layout = layout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Average each keypoint over the rows that label it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, 2K)

        Returns
        -------
        self : MeanKeypoints
        """
        X = validate_data(self, X, dtype=None)
        y = check_keypoints(y, len(X))
        set_keypoint_layout(self, y)
        if self.flip:
            width = resolve_image_shape(X.shape[1], self.image_shape)[1]
            y = np.concatenate([y, flip_keypoints(y, width=width, layout=self.layout_)])
        self.mean_ = nan_mean_keypoints(y)
        return self

    def predict(self, X):
        """The mean shape, once per row of ``X``.

        Returns
        -------
        ndarray of shape (n_samples, 2K)
        """
        check_is_fitted(self, "mean_")
        X = validate_data(self, X, dtype=None, reset=False)
        return np.tile(self.mean_, (len(X), 1))

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        return tags
