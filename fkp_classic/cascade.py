"""Cascaded shape regression: local gradient descriptors at the current points, ridge on the residual."""

import numpy as np
from scipy.ndimage import uniform_filter
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .flip import flip_images, flip_keypoints
from .hog import central_gradients
from .regressor import KeypointRegressor
from .ridge import KeypointRidge
from .sampling import sample_patches
from .validation import as_images, fit_images, set_keypoint_tags

__all__ = ["CascadeRegressor", "local_descriptors", "orientation_maps"]


def orientation_maps(images, n_bins, chunk_size=256):
    """Gradient magnitude soft-binned by unsigned orientation: (n, n_bins, h, w), float32."""
    maps = np.empty((images.shape[0], n_bins) + images.shape[1:], dtype=np.float32)
    for first in range(0, len(images), chunk_size):
        sl = slice(first, first + chunk_size)
        maps[sl] = _orientation_maps(np.asarray(images[sl], dtype=np.float32), n_bins)
    return maps


def _orientation_maps(images, n_bins):
    g_row, g_col = central_gradients(images)
    magnitude = np.hypot(g_row, g_col)
    position = (np.arctan2(g_row, g_col) % np.pi) * (n_bins / np.pi) - 0.5
    low = np.floor(position)
    frac = position - low
    low = low.astype(np.intp) % n_bins
    high = (low + 1) % n_bins
    maps = np.empty((images.shape[0], n_bins) + images.shape[1:], dtype=np.float32)
    for b in range(n_bins):
        maps[:, b] = magnitude * ((low == b) * (1 - frac) + (high == b) * frac)
    return maps


def _box_filter(maps, size):
    """Mean over ``size x size`` boxes; output pixel (i, j) covers input rows i - size // 2 .. i - size // 2 + size - 1."""
    return uniform_filter(maps, size=(1, 1, size, size), mode="nearest")


def local_descriptors(maps, points, cell_size, grid=4):
    """SIFT-like gradient descriptors around every point of every image.

    For each point, a ``grid x grid`` array of square cells of ``cell_size``
    pixels centred on it; each cell holds the orientation histogram
    (``n_bins`` unsigned bins, soft-assigned) of the gradient magnitude inside
    it, read at sub-pixel positions by bilinear interpolation of box-filtered
    orientation maps. Each point's descriptor is normalised like HOG's
    L2-Hys (unit norm, clipped at 0.2, unit norm again).

    Parameters
    ----------
    maps : ndarray of shape (n, n_bins, height, width)
        :func:`orientation_maps` of the images.
    points : ndarray of shape (n, M, 2)
        ``(x, y)`` per point; several shapes of one image may be stacked along M.
    cell_size : int
    grid : int, default=4

    Returns
    -------
    ndarray of shape (n, M, grid * grid * n_bins), float32
    """
    n, m, _ = points.shape
    n_bins = maps.shape[1]
    boxed = _box_filter(maps, cell_size)
    # The box around pixel p starts at p - size // 2: shift so cells are centred on the samples.
    shift = (cell_size - 1) / 2 - cell_size // 2
    flat = boxed.reshape(n * n_bins, *boxed.shape[2:])
    centers = np.repeat(points + shift, n_bins, axis=0)
    cells = sample_patches(flat, centers, grid, spacing=cell_size).astype(np.float32)
    desc = cells.reshape(n, n_bins, m, grid, grid).transpose(0, 2, 3, 4, 1).reshape(n, m, -1)
    desc /= np.sqrt((desc**2).sum(axis=-1, keepdims=True)) + 1e-6
    np.minimum(desc, 0.2, out=desc)
    desc /= np.sqrt((desc**2).sum(axis=-1, keepdims=True)) + 1e-6
    return desc


class CascadeRegressor(RegressorMixin, BaseEstimator):
    """Supervised-descent cascade: refine keypoints by regressing on local descriptors.

    Start from an initial estimate (a :class:`KeypointRegressor` by default),
    then at each stage describe the image around the *current* keypoints
    (:func:`local_descriptors`, cells shrinking over stages) and move every
    keypoint by a ridge regression of the remaining offset on those
    descriptors (Xiong & De la Torre's SDM, with ridge in place of trees).

    Each stage trains on the estimates the previous stages really produce on
    faces the initial estimator did not see (cross-fitted starts), from
    several randomly perturbed starts per face. Missing keypoints (NaN) are
    handled per keypoint by :class:`KeypointRidge`.

    Parameters
    ----------
    init : estimator or None, default=None
        Initial estimate; None means ``KeypointRegressor()``.
    cell_sizes : tuple of int, default=(10, 8, 6, 5)
        Descriptor cell size per stage (one stage per entry).
    grid : int, default=4
        Cells per side of each descriptor.
    n_bins : int, default=9
        Orientation bins.
    alpha : float, default=100.0
        Ridge penalty of every stage.
    n_perturbations : int, default=3
        Extra perturbed starts per training face.
    perturbation : (float, float, float), default=(2.0, 0.04, 4.0)
        Standard deviations of the start jitter: translation (px), scale
        (relative), rotation (degrees), about the start's centroid.
    cv : int, default=3
        Folds for the cross-fitted starts on training faces.
    flip_test : bool, default=False
        Also predict the mirrored face and average. Off by default: on
        faces96, whose nose and mouth sit about 1 px off the image's mirror
        axis, it costs about 0.2 px.
    random_state : int, RandomState or None, default=0
    image_shape : (int, int) or None, default=None
    layout : KeypointLayout or None, default=None

    Attributes
    ----------
    init_ : estimator
        The initial estimator, fitted on all training faces.
    stages_ : list of KeypointRidge
    image_shape_ : (int, int)
    n_features_in_ : int
    """

    def __init__(
        self,
        init=None,
        cell_sizes=(10, 8, 6, 5),
        grid=4,
        n_bins=9,
        alpha=100.0,
        n_perturbations=3,
        perturbation=(2.0, 0.04, 4.0),
        cv=3,
        flip_test=False,
        random_state=0,
        image_shape=None,
        layout=None,
    ):
        self.init = init
        self.cell_sizes = cell_sizes
        self.grid = grid
        self.n_bins = n_bins
        self.alpha = alpha
        self.n_perturbations = n_perturbations
        self.perturbation = perturbation
        self.cv = cv
        self.flip_test = flip_test
        self.random_state = random_state
        self.image_shape = image_shape
        self.layout = layout

    def _features(self, maps, shapes, stage):
        """Descriptors of ``shapes`` (n_images, n_rep, K, 2), one row per (image, rep)."""
        n, rep, k, _ = shapes.shape
        out = np.empty((n, rep, k * self.grid * self.grid * self.n_bins), dtype=np.float32)
        for first in range(0, n, 128):
            sl = slice(first, first + 128)
            block = shapes[sl].reshape(-1, rep * k, 2)
            desc = local_descriptors(maps[sl], block, self.cell_sizes[stage], self.grid)
            out[sl] = desc.reshape(len(block), rep, -1)
        return out.reshape(n * rep, -1)

    def _perturb(self, starts, rng):
        """Jitter whole start shapes (n, K, 2) by translation, scale and rotation."""
        t_sd, s_sd, r_sd = self.perturbation
        n = len(starts)
        centroid = starts.mean(axis=1, keepdims=True)
        angle = np.deg2rad(rng.normal(0, r_sd, n))[:, None]
        scale = (1 + rng.normal(0, s_sd, n))[:, None]
        rel = starts - centroid
        x = scale * (np.cos(angle) * rel[..., 0] - np.sin(angle) * rel[..., 1])
        y = scale * (np.sin(angle) * rel[..., 0] + np.cos(angle) * rel[..., 1])
        return np.stack([x, y], axis=-1) + centroid + rng.normal(0, t_sd, (n, 1, 2))

    def fit(self, X, y):
        """Fit the initial estimator and every stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        y : array-like of shape (n_samples, 2K), NaN where missing

        Returns
        -------
        self : CascadeRegressor
        """
        X, y = fit_images(self, X, y)
        rng = check_random_state(self.random_state)
        init = KeypointRegressor() if self.init is None else self.init
        self.init_ = clone(init).fit(X, y)
        if len(X) >= 2 * self.cv:
            folds = KFold(self.cv, shuffle=True, random_state=rng.randint(2**31 - 1))
            starts = cross_val_predict(clone(init), X, y, cv=folds)
        else:
            starts = self.init_.predict(X)
        n, k = len(X), y.shape[1] // 2
        starts = starts.reshape(n, 1, k, 2)
        shapes = np.concatenate(
            [starts] + [self._perturb(starts[:, 0], rng)[:, None] for _ in range(self.n_perturbations)], axis=1
        )
        rep = shapes.shape[1]
        target = np.repeat(y.reshape(n, 1, k, 2), rep, axis=1)
        maps = orientation_maps(as_images(X, self.image_shape_), self.n_bins)
        self.stages_ = []
        for stage in range(len(self.cell_sizes)):
            F = self._features(maps, shapes, stage)
            residual = (target - shapes).reshape(n * rep, 2 * k)
            ridge = KeypointRidge(alpha=self.alpha).fit(F, residual)
            shapes = shapes + ridge.predict(F).reshape(n, rep, k, 2)
            self.stages_.append(ridge)
        return self

    def staged_predict(self, X):
        """Predictions after the start and after each stage.

        Returns
        -------
        list of ndarray of shape (n_samples, 2K), ``len(cell_sizes) + 1`` long
        """
        check_is_fitted(self, "stages_")
        X = validate_data(self, X, dtype=None, reset=False)
        out = self._staged(X)
        if self.flip_test:
            width = self.image_shape_[1]
            mirrored = self._staged(flip_images(X, self.image_shape_))
            out = [(a + flip_keypoints(b, width, self.layout)) / 2 for a, b in zip(out, mirrored)]
        return out

    def _staged(self, X):
        maps = orientation_maps(as_images(X, self.image_shape_), self.n_bins)
        shape = self.init_.predict(X).reshape(len(X), 1, -1, 2)
        out = [shape.reshape(len(X), -1)]
        for stage, ridge in enumerate(self.stages_):
            shape = shape + ridge.predict(self._features(maps, shape, stage)).reshape(shape.shape)
            out.append(shape.reshape(len(X), -1))
        return out

    def predict(self, X):
        """Predict keypoints.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)

        Returns
        -------
        ndarray of shape (n_samples, 2K)
        """
        return self.staged_predict(X)[-1]

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        tags.input_tags.positive_only = True  # the default initial estimator square-roots pixels
        return tags
