"""Mean-patch template search: normalised cross-correlation around a starting shape."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context, clone
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._mean import MeanKeypoints
from ..keypoints import LAYOUT_NAMES, KeypointLayout
from ..features._sampling import normalize_patches, sample_patches
from ..utils._constraints import IMAGE_SHAPE
from ..utils._validation import as_images, fit_images, set_keypoint_tags, validate_images

__all__ = ["MeanPatchTemplateSearch", "ncc_search"]


def ncc_search(images, starts, templates, radius, spacing=1.0, chunk_size=64):
    """Best normalised cross-correlation of templates within a window.

    Parameters
    ----------
    images : ndarray of shape (n, height, width)
    starts : ndarray of shape (n, K, 2)
        Search centres ``(x, y)``.
    templates : ndarray of shape (K, p, p)
        Zero-mean, unit-norm templates.
    radius : int
        Offsets ``-radius .. radius`` (in samples) are tried along x and y.
    spacing : float, default=1.0
        Pixels per sample of templates and offsets.
    chunk_size : int, default=64
        Faces processed at once.

    Returns
    -------
    offsets : ndarray of shape (n, K, 2)
        Best offset in pixels, refined to sub-pixel by a parabola through the
        peak and its neighbours along each axis.
    scores : ndarray of shape (n, K)
        The correlation at the best integer offset (in [-1, 1]).

    References
    ----------
    .. [1] Lewis, J. P., "Fast Normalized Cross-Correlation", Vision
           Interface, 1995 (the window sums of the denominator from running
           sum tables, as here).
    """
    n, K, _ = starts.shape
    p = templates.shape[-1]
    side = 2 * radius + 1
    offsets = np.zeros((n, K, 2))
    scores = np.zeros((n, K))
    for first in range(0, n, chunk_size):
        sl = slice(first, first + chunk_size)
        window = sample_patches(images[sl], starts[sl], p + 2 * radius, spacing)
        num = np.zeros(window.shape[:2] + (side, side))
        for i in range(p):  # templates are zero-mean: no window centring needed
            for j in range(p):
                num += templates[None, :, i, j, None, None] * window[:, :, i : i + side, j : j + side]
        sums = _box_sums(window, p)
        sq = _box_sums(window**2, p)
        var = np.maximum(sq - sums**2 / (p * p), 1e-8)
        ncc = num / np.sqrt(var)
        flat = ncc.reshape(ncc.shape[0], K, -1)
        best = flat.argmax(axis=-1)
        row, col = np.divmod(best, side)
        scores[sl] = np.take_along_axis(flat, best[..., None], axis=-1)[..., 0]
        offsets[sl, :, 0] = (col - radius + _parabola_peak(ncc, row, col, axis=1)) * spacing
        offsets[sl, :, 1] = (row - radius + _parabola_peak(ncc, row, col, axis=0)) * spacing
    return offsets, scores


def _box_sums(a, p):
    """Sums of every ``p x p`` window over the last two axes, via an integral image."""
    c = np.zeros(a.shape[:-2] + (a.shape[-2] + 1, a.shape[-1] + 1))
    c[..., 1:, 1:] = a.cumsum(axis=-2).cumsum(axis=-1)
    return c[..., p:, p:] - c[..., :-p, p:] - c[..., p:, :-p] + c[..., :-p, :-p]


def _parabola_peak(ncc, row, col, axis):
    """Sub-sample shift of the peak along ``axis`` (0: rows, 1: columns), in [-0.5, 0.5]."""
    side = ncc.shape[-1]
    pos = col if axis == 1 else row
    inner = (pos > 0) & (pos < side - 1)
    lo, hi = np.clip(pos - 1, 0, side - 1), np.clip(pos + 1, 0, side - 1)

    def at(r, c):
        flat = ncc.reshape(ncc.shape[:2] + (-1,))
        return np.take_along_axis(flat, (r * side + c)[..., None], axis=-1)[..., 0]

    if axis == 1:
        left, mid, right = at(row, lo), at(row, col), at(row, hi)
    else:
        left, mid, right = at(lo, col), at(row, col), at(hi, col)
    curvature = left - 2 * mid + right
    shift = np.where(curvature < 0, 0.5 * (left - right) / np.where(curvature < 0, curvature, -1), 0.0)
    return np.where(inner, np.clip(shift, -0.5, 0.5), 0.0)


class MeanPatchTemplateSearch(RegressorMixin, BaseEstimator):
    """Refine keypoints by matching each one's mean training patch.

    ``fit`` learns, for every keypoint, the mean of the zero-mean, unit-norm
    patches around it over the training faces. ``predict`` starts from an
    initial shape (the mean shape, or another estimator's output), searches
    a window around each keypoint for the best normalised
    cross-correlation, refines it to sub-pixel, and moves each keypoint by a
    learnt fraction of the found offset: the fraction (one per keypoint) is
    fitted by least squares on cross-fitted starts, so a poor template
    barely moves a good start.

    Parameters
    ----------
    init : estimator or None, default=None
        Gives the starting shape; None uses :class:`MeanKeypoints`. It is
        cloned and fitted on the training data; one that takes a ``layout``
        and was given none gets this estimator's.
    patch_size : int, default=16
        Template side, in samples.
    search_radius : int, default=6
        Offsets ``-r .. r`` samples are searched along x and y.
    spacing : float, default=1.0
        Pixels per sample.
    cv : int, default=3
        Folds used to get honest starting shapes on the training faces for
        fitting the step fractions (unused when ``init`` is None).
    random_state : int, RandomState or None, default=0
        Shuffles the rows into those folds.
    image_shape : (int, int) or None, default=None
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        The keypoints' names, flip pairs and eyes, or a registered layout's
        name. None is a plain layout ``k0, k1, ...`` (deprecated on 15 or
        68 keypoints, which it still takes as Kaggle's or iBUG's, with a
        ``FutureWarning``).

    Attributes
    ----------
    init_ : estimator
        The fitted initial estimator.
    templates_ : ndarray of shape (K, patch_size, patch_size)
    step_ : ndarray of shape (K,)
        Fraction of the found offset applied, per keypoint.
    layout_ : KeypointLayout
    mean_shape_ : ndarray of shape (K, 2)
    image_shape_ : (int, int)
    n_features_in_ : int

    References
    ----------
    .. [1] Lewis, J. P., "Fast Normalized Cross-Correlation", Vision
           Interface, 1995 (the window sums of the denominator from running
           sum tables, as here).

    Examples
    --------
    >>> from fkp_classic import MeanPatchTemplateSearch
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(120, random_state=0, return_X_y=True)
    >>> model = MeanPatchTemplateSearch(layout="kaggle15").fit(X[:100], y[:100])
    >>> model.predict(X[100:]).shape
    (20, 30)
    """

    _parameter_constraints = {
        "init": [HasMethods(["fit", "predict"]), None],
        "patch_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "search_radius": [Interval(numbers.Integral, 0, None, closed="left")],
        "spacing": [Interval(numbers.Real, 0, None, closed="neither")],
        "cv": [Interval(numbers.Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "image_shape": [IMAGE_SHAPE, None],
        "layout": [KeypointLayout, StrOptions(set(LAYOUT_NAMES)), None],
    }

    def __init__(self, init=None, patch_size=16, search_radius=6, spacing=1.0, cv=3, random_state=0, image_shape=None,
                 layout=None):
        self.init = init
        self.patch_size = patch_size
        self.search_radius = search_radius
        self.spacing = spacing
        self.cv = cv
        self.random_state = random_state
        self.image_shape = image_shape
        self.layout = layout

    def __setstate__(self, state):
        state.setdefault("layout", None)  # saved before the template search took a layout
        super().__setstate__(state)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the mean patches and the step fractions.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        y : array-like of shape (n_samples, 2K), NaN where missing

        Returns
        -------
        self : MeanPatchTemplateSearch
        """
        X, y = fit_images(self, X, y)
        images = as_images(X, self.image_shape_)
        n, K = len(X), y.shape[1] // 2
        points = y.reshape(n, K, 2)
        labelled = ~np.isnan(points[..., 0])
        patches = normalize_patches(sample_patches(images, np.nan_to_num(points), self.patch_size, self.spacing))
        mean = (patches * labelled[:, :, None, None]).sum(axis=0) / np.maximum(labelled.sum(axis=0), 1)[:, None, None]
        self.templates_ = normalize_patches(mean)
        init = MeanKeypoints(layout=self.layout_) if self.init is None else clone(self.init)
        if self.init is not None and init.get_params().get("layout", False) is None:
            init.set_params(layout=self.layout_)  # told the keypoints' layout once, for both
        self.init_ = init.fit(X, y)  # a fresh estimator of its own either way
        if self.init is None or len(X) < 2 * self.cv:
            starts = self.init_.predict(X)
        else:
            # Starts as the init estimator makes them on faces it has not seen.
            folds = KFold(self.cv, shuffle=True, random_state=self.random_state)
            starts = cross_val_predict(clone(init), X, y, cv=folds)
        starts = starts.reshape(n, K, 2)
        found, _ = ncc_search(images, starts, self.templates_, self.search_radius, self.spacing)
        # Least-squares step per keypoint: target offset ~ step * found offset.
        target = np.nan_to_num(points - starts)
        w = labelled[:, :, None]
        num = (w * target * found).sum(axis=(0, 2))
        den = (w * found * found).sum(axis=(0, 2))
        self.step_ = np.clip(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0), 0.0, 1.0)
        return self

    def predict(self, X):
        """Search around the initial shape and move each keypoint.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)

        Returns
        -------
        ndarray of shape (n_samples, 2K)
        """
        check_is_fitted(self, "templates_")
        X = validate_images(self, X, reset=False)
        images = as_images(X, self.image_shape_)
        starts = self.init_.predict(X).reshape(len(X), -1, 2)
        found, _ = ncc_search(images, starts, self.templates_, self.search_radius, self.spacing)
        return (starts + self.step_[None, :, None] * found).reshape(len(X), -1)

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        return tags
