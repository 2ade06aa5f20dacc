"""Cascaded shape regression: shape-indexed gradient descriptors, ridge on the residual."""

import numbers
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..features._descriptors import grid_descriptors
from ..flip import flip_images, flip_keypoints
from ..keypoints import LAYOUT_NAMES, KeypointLayout
from ..utils._constraints import IMAGE_SHAPE, NumberSequence
from ..utils._plain_state import pack_plain_state, unpack_plain_state
from ..utils._shape_geometry import as_complex, as_points
from ..utils._threads import one_blas_thread
from ..utils._validation import set_keypoint_tags, validate_images
from ._capabilities import RETURN_STD, STAGED_PREDICT
from ._cascade_trainer import _CascadeTrainer
from ._chunked_fit import fit_chunked
from ._cross_fitting import _linear, _weights
from ._shape_indexed import ShapeIndexedDescriptors, face_integrals

__all__ = ["CascadeRegressor", "DENSE_LAYOUT_PARAMS"]

DENSE_LAYOUT_PARAMS = {
    "grid": 4, "n_bins": 4, "cell_sizes": (12, 10, 8, 6, 5, 4), "alpha": 40.0, "rank": 12, "n_perturbations": 1,
    "flip": True,
}
"""CascadeRegressor settings for layouts of many close points, such as iBUG's 68.

``CascadeRegressor(**DENSE_LAYOUT_PARAMS, layout=IBUG_68)``. Neighbouring
points share most of their image, so each can afford fewer orientations:
4 bins instead of 6 (5440 features at 68 points instead of 7616);
reduced-rank ridges (``rank=12``) move the shape only along its leading
modes, which lets a sixth stage and a lighter penalty help instead of
overfit. With that many features the stages are short of faces, so the
mirror images join them (``flip``, about the annotations' measured
``flip_axis``), and one perturbed start per face instead of two keeps the
fit time down. The figures behind these choices, against the defaults and
the alternatives, are in ``benchmarks/results/ibug68/``.
"""

_CHUNK = 64  # faces per block on the predict path: small enough to stay in cache


def _pixel_std(log_variance, frame):
    """Standard deviations in pixels (n, 2K) of errors whose log variances ``log_variance`` (n, 2K) are in the
    frame of the shape (the similarity ``frame`` (n,) complex): scaled, and x and y mixed by its rotation."""
    variance = np.exp(log_variance).reshape(len(frame), -1, 2)
    cos2 = (frame.real**2 / np.abs(frame) ** 2)[:, None]
    scale2 = (np.abs(frame) ** 2)[:, None]
    vx = scale2 * (cos2 * variance[..., 0] + (1 - cos2) * variance[..., 1])
    vy = scale2 * ((1 - cos2) * variance[..., 0] + cos2 * variance[..., 1])
    return np.sqrt(np.stack([vx, vy], axis=-1)).reshape(len(frame), -1)


class CascadeRegressor(RegressorMixin, BaseEstimator):
    """Supervised-descent cascade: refine keypoints by regressing on shape-indexed descriptors.

    Start from a whole-face estimate, then at each stage describe the image
    around the *current* keypoints and move every keypoint by a ridge
    regression of the remaining offset on those descriptors (Xiong & De la
    Torre's SDM, with ridge in place of least squares). Descriptors and
    offsets live in the frame of the current shape: cells are scaled and
    turned with it (a similarity fitted to the mean shape), so a tilted or
    larger face looks like an upright one of mean size to the regressors.
    Every descriptor is read from one integral image of gradient
    orientations per face (:mod:`fkp_classic.features`).

    Each stage trains on the estimates the previous stages really produce on
    faces they did not see (cross-fitted: every estimate on a training face
    comes from models fitted without it), from several randomly perturbed
    starts per face. Missing keypoints (NaN) are handled per keypoint by
    :class:`KeypointRidge`. :meth:`fit_chunked` fits the same model from
    chunks of faces, one in memory at a time, here or on a Dask cluster.

    Parameters
    ----------
    init : estimator or None, default=None
        Initial estimate. None uses a ridge on HOG-like cells of the whole
        face, read from the same integral images (no second gradient pass);
        an estimator (e.g. :class:`KeypointRegressor`) is fitted and
        cross-fitted instead.
    cell_sizes : tuple of float, default=(12, 10, 8, 6, 4)
        Descriptor cell side in pixels, at the mean shape's size, per stage
        (one stage per entry).
    grid : int, default=4
        Cells per side of each descriptor.
    n_bins : int, default=6
        Unsigned orientation bins.
    pool : int, default=2
        Side of the pixel blocks whose structure tensor gives one
        orientation in the integral images (gradients are taken at full
        resolution).
    intensity : bool, default=True
        Add each cell's mean brightness (normalised per keypoint) to the
        gradient histograms.
    alpha : float or sequence of float, default=30.0
        Ridge penalty of the first stage (then times ``alpha_growth`` per
        stage), or one per stage.
    alpha_growth : float, default=2.0
        Factor between the penalties of successive stages when ``alpha`` is
        a single value: later stages correct smaller, noisier offsets and
        are regularised harder.
    init_alpha : float, default=100.0
        Ridge penalty of the default initial estimate.
    rank : int or None, default=None
        Reduced-rank ridges (:class:`KeypointRidge`'s ``rank``) for the
        default initial estimate, every stage and the error model: each
        moves the shape (or its error's log variance) only along its
        ``rank`` leading modes. None keeps every direction (at Kaggle's 15
        points the outputs are few); for many points, as
        :data:`DENSE_LAYOUT_PARAMS` sets, it is both more accurate and
        smaller (the weights are stored and applied as ``rank`` rows).
    n_perturbations : int, default=3
        Extra perturbed starts per training face.
    perturbation : (float, float, float), default=(2.0, 0.04, 4.0)
        Standard deviations of the start jitter: translation (px), scale
        (relative), rotation (degrees), about the start's centroid.
    cv : int, default=5
        Folds for cross-fitting on the training faces: the starts of each
        stage are the held-out estimates of the initial estimate and of
        the previous stages, as on unseen faces (below 2, no cross-fitting).
    flip : bool, default=False
        Train on the mirrored faces too (their keypoints mirrored about
        ``flip_axis``): twice the faces, for a longer fit.
    flip_test : bool, default=False
        Also predict the mirrored face and average (twice the predict time).
    flip_axis : float, "auto" or None, default="auto"
        The x coordinate the annotations mirror about, for ``flip`` and
        ``flip_test``: a point at ``x`` on a face is at ``2 * flip_axis - x``
        on its mirror image. None is the image's centre, ``(width - 1) / 2``,
        right when every point sits on the pixel it marks. "auto" measures it
        on the training faces: a whole-face ridge fitted on them predicts
        their mirror images, and its points land off by twice the axis's
        distance from the centre. Annotations that mirror about a line off
        the centre, mirrored about the centre, would teach every point a
        shift of that distance and cost accuracy.
        :meth:`fit_chunked` measures it on the first chunk.
    uncertainty : bool, default=True
        Also fit the error model behind ``predict(X, return_std=True)``: a
        ridge from the last stage's descriptors to the log squared error
        each coordinate is left with on held-out training faces, calibrated
        on them (needs ``cv >= 2`` to be honest; a little more fit time, and
        two more passes over the chunks of :meth:`fit_chunked`).
    n_jobs : int or None, default=None
        Threads for predicting blocks of faces (None means 1, -1 all cores).
    random_state : int, RandomState or None, default=0
    image_shape : (int, int) or None, default=None
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        The keypoints' names, flip pairs and eyes, or a registered layout's
        name. None is a plain layout ``k0, k1, ...`` (deprecated on 15 or
        68 keypoints, which it still takes as Kaggle's or iBUG's, with a
        ``FutureWarning``).
    verbose : int, default=0
        Above 0, ``fit`` writes a line to stderr as the start and each stage
        are fitted, with the time taken so far.

    Attributes
    ----------
    init_ : KeypointRidge or estimator
        The initial estimate, fitted on all training faces.
    stages_ : list of KeypointRidge
        One per stage, from descriptors to offsets in the current shape's frame.
    error_model_ : ErrorModel or None
        Predicts each coordinate's error variance (``uncertainty=True``).
    mean_shape_ : ndarray of shape (K, 2)
        Mean training keypoints: the reference frame of the descriptors.
    flip_axis_ : float or None
        The x the annotations mirror about (``flip_axis``), with ``flip``
        or ``flip_test``; else None.
    layout_ : KeypointLayout
        Names and flip pairs of the fitted keypoints.
    image_shape_ : (int, int)
    n_features_in_ : int

    Notes
    -----
    The defaults are tuned for a few keypoints (Kaggle's 15). For many
    close ones, such as iBUG's 68, use :data:`DENSE_LAYOUT_PARAMS`
    (coarser descriptors, more regularisation): more accurate there, and
    faster to fit. Measured figures: ``benchmarks/results/``.

    References
    ----------
    .. [1] Xiong, X. and De la Torre, F., "Supervised Descent Method and its
           Applications to Face Alignment", IEEE Conference on Computer Vision
           and Pattern Recognition (CVPR), 2013 (a cascade of linear
           regressions from gradient-histogram descriptors read at the current
           points to the remaining offset, trained from perturbed starts).
    .. [2] Cao, X., Wei, Y., Wen, F. and Sun, J., "Face Alignment by Explicit
           Shape Regression", IEEE Conference on Computer Vision and Pattern
           Recognition (CVPR), 2012 (shape-indexed features and regression
           targets taken in the frame of the similarity from the mean shape to
           the current one). :DOI:`10.1109/CVPR.2012.6248015`

    Examples
    --------
    >>> from fkp_classic import CascadeRegressor
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(300, random_state=0, return_X_y=True)
    >>> model = CascadeRegressor(cell_sizes=(10, 6), n_perturbations=1, layout="kaggle15").fit(X[:200], y[:200])
    >>> model.predict(X[200:]).shape
    (100, 30)
    """

    _keypoint_capabilities = frozenset({STAGED_PREDICT, RETURN_STD})

    _parameter_constraints = {
        "init": [HasMethods(["fit", "predict"]), None],
        "cell_sizes": [NumberSequence(Interval(numbers.Real, 0, None, closed="neither"))],
        "grid": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_bins": [Interval(numbers.Integral, 2, None, closed="left")],
        "pool": [Interval(numbers.Integral, 1, None, closed="left")],
        "intensity": ["boolean"],
        "alpha": [
            Interval(numbers.Real, 0, None, closed="neither"),
            NumberSequence(Interval(numbers.Real, 0, None, closed="neither")),
        ],
        "alpha_growth": [Interval(numbers.Real, 0, None, closed="neither")],
        "init_alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "rank": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_perturbations": [Interval(numbers.Integral, 0, None, closed="left")],
        "perturbation": [NumberSequence(Interval(numbers.Real, 0, None, closed="left"), length=3)],
        "cv": [Interval(numbers.Integral, 0, None, closed="left")],
        "flip": ["boolean"],
        "flip_test": ["boolean"],
        "flip_axis": [Interval(numbers.Real, None, None, closed="neither"), StrOptions({"auto"}), None],
        "uncertainty": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
        "image_shape": [IMAGE_SHAPE, None],
        "layout": [KeypointLayout, StrOptions(set(LAYOUT_NAMES)), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        init=None,
        cell_sizes=(12, 10, 8, 6, 4),
        grid=4,
        n_bins=6,
        pool=2,
        intensity=True,
        alpha=30.0,
        alpha_growth=2.0,
        init_alpha=100.0,
        rank=None,
        n_perturbations=3,
        perturbation=(2.0, 0.04, 4.0),
        cv=5,
        flip=False,
        flip_test=False,
        flip_axis="auto",
        uncertainty=True,
        n_jobs=None,
        random_state=0,
        image_shape=None,
        layout=None,
        verbose=0,
    ):
        self.init = init
        self.cell_sizes = cell_sizes
        self.grid = grid
        self.n_bins = n_bins
        self.pool = pool
        self.intensity = intensity
        self.alpha = alpha
        self.alpha_growth = alpha_growth
        self.init_alpha = init_alpha
        self.rank = rank
        self.n_perturbations = n_perturbations
        self.perturbation = perturbation
        self.cv = cv
        self.flip = flip
        self.flip_test = flip_test
        self.flip_axis = flip_axis
        self.uncertainty = uncertainty
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.image_shape = image_shape
        self.layout = layout
        self.verbose = verbose

    def __getstate__(self):
        # its parameters as one JSON entry in a safe model file, which rebuilds each object one by one
        return pack_plain_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(unpack_plain_state(state))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the initial estimate and every stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        y : array-like of shape (n_samples, 2K), NaN where missing

        Returns
        -------
        self : CascadeRegressor
        """
        _CascadeTrainer(self).fit(X, y)
        return self

    def fit_chunked(self, X, y=None, client=None):
        """Fit one chunk of faces at a time (out of core), here or on a Dask cluster.

        The same model as :meth:`fit` on all the chunks' faces stacked in
        order (to rounding), with
        memory for one chunk, the ridge sums (per fold, a few hundred MB at
        the defaults, whatever the number of faces) and a few hundred bytes
        per face. The chunks are read once per stage (``len(cell_sizes) + 2``
        passes, and two more for the error model with ``uncertainty``);
        each pass adds up every chunk's ridge sums (:class:`RidgeSums`), and
        the stage is solved once from them.

        Parameters
        ----------
        X : iterable of (images, keypoints) pairs, or dask array of shape (n_samples, height * width)
            Chunks of faces: a list, or any object whose ``__iter__``
            reads its chunks afresh each time (from files, say), giving
            the same chunks every time. Or a dask array of images, chunked
            by rows, with ``y``.
        y : dask array of shape (n_samples, 2K) or None
            The keypoints, with a dask array ``X`` (NaN where missing).
        client : dask.distributed.Client or None
            Run each pass on this cluster: a task per chunk on the workers,
            their sums added there, only the stage's solve on this process.
            Chunks of a list are sent to the cluster once and kept there;
            the blocks of a dask array are computed again on every pass.

        Returns
        -------
        self : CascadeRegressor
        """
        self._validate_params()
        fit_chunked(_CascadeTrainer(self), X, y, client)
        return self

    def widen_weights(self):
        """Hold every ridge's weights as float64 again after they were narrowed to keep a saved model small.

        The initial estimate's, every stage's and the error model's ridge
        (:meth:`KeypointRidge.widen_weights`; a custom ``init_`` with a
        ``coef_`` too). Loading a model does this by itself, ridge by ridge.

        Returns
        -------
        self : CascadeRegressor
        """
        error = getattr(self, "error_model_", None)
        for ridge in [getattr(self, "init_", None), *getattr(self, "stages_", []), getattr(error, "ridge", None)]:
            if hasattr(ridge, "widen_weights"):
                ridge.widen_weights()
            elif getattr(ridge, "coef_", None) is not None and ridge.coef_.dtype != np.float64:
                ridge.coef_ = np.ascontiguousarray(ridge.coef_, dtype=np.float64)
        return self

    def _staged_block(self, X, weights, scratch, error=None):
        """Staged predictions for one block of faces; ``scratch`` is a dict of this thread's reused memory.
        With an ``error`` model, the predicted standard deviations (in pixels) follow them."""
        height, width = self.image_shape_
        size = (height // self.pool + 1) * (width // self.pool + 1) * len(X) * (self.n_bins + bool(self.intensity))
        if scratch.get("size", 0) < size:  # fresh memory is paid in page faults, on every block if not kept
            scratch.update(size=size, integrals=np.empty(size, np.float32), work=np.empty(size, np.float32))
        integrals = face_integrals(X, self.image_shape_, self.n_bins, self.pool, self.intensity, scratch["integrals"])
        reader = ShapeIndexedDescriptors(self.mean_shape_, self.cell_sizes, self.grid, self.pool, self.intensity)
        if self.init is None:
            shape = _linear(weights[0], grid_descriptors(integrals, pool=self.pool, intensity=self.intensity))
        else:
            shape = self.init_.predict(X)
        out = [shape]
        shape = shape.reshape(len(X), -1, 2)
        work = scratch["work"]
        for stage, stage_weights in enumerate(weights[1:]):
            F, frame = reader.describe(integrals, shape, stage, work)
            move = _linear(stage_weights, F)
            shape = shape + as_points(frame[:, None] * as_complex(move.reshape(shape.shape)))
            out.append(shape.reshape(len(X), -1))
        if error is not None:
            out.append(_pixel_std(error.log_variance(F, move), frame))
        return out

    def _staged(self, X, n_stages=None, return_std=False):
        blocks = [X[i : i + _CHUNK] for i in range(0, len(X), _CHUNK)]
        stages = self.stages_[:n_stages]
        weights = [_weights(self.init_) if self.init is None else None] + [_weights(r) for r in stages]
        error = self._error_model() if return_std else None
        n_jobs = min(effective_n_jobs(self.n_jobs), len(blocks))
        threads = threading.local()  # vars(threads) is a dict of each thread's own
        if n_jobs > 1:
            # Blocks run in threads (numpy releases the GIL); BLAS keeps to one thread per block.
            with one_blas_thread(), ThreadPoolExecutor(n_jobs) as pool:
                results = list(pool.map(lambda block: self._staged_block(block, weights, vars(threads), error), blocks))
        else:
            results = [self._staged_block(block, weights, vars(threads), error) for block in blocks]
        return [np.concatenate(parts) for parts in zip(*results)]

    def _error_model(self):
        """The fitted error model, or a clear error if there is none."""
        error = getattr(self, "error_model_", None)
        if error is None and not self.stages_:
            raise ValueError("return_std=True needs at least one stage (cell_sizes is empty)")
        if error is None:
            why = ("it was fitted with uncertainty=False" if getattr(self, "uncertainty", None) is False
                   else "it was fitted by a version without one")
            raise ValueError(f"this CascadeRegressor has no error model for return_std=True: {why}; refit it "
                             "with uncertainty=True")
        return error

    def staged_predict(self, X, n_stages=None, check_input=True):
        """Predictions after the initial estimate and after each stage.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        n_stages : int or None, default=None
            Run only the first ``n_stages`` stages (a coarse estimate at a
            fraction of the cost); None runs them all.
        check_input : bool, default=True
            False skips validating ``X``, which must then be a numeric
            ndarray of shape (n_samples, height * width), as the photo path's
            crops are (as ``check_input`` of scikit-learn's trees: only for
            callers that made ``X`` themselves).

        Returns
        -------
        list of ndarray of shape (n_samples, 2K)
            ``n_stages + 1`` long (``len(cell_sizes) + 1`` by default).
        """
        check_is_fitted(self, "stages_")
        if n_stages is not None and (int(n_stages) != n_stages or n_stages < 0):
            raise ValueError(f"n_stages must be a whole number >= 0 or None, got {n_stages!r}")
        return self._predicted(X, n_stages, check_input)[0]

    def predict(self, X, return_std=False, check_input=True):
        """Predict keypoints, and how far off each coordinate may be.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        return_std : bool, default=False
            Also return the predicted standard deviation of each
            coordinate's error, in pixels (see ``uncertainty``): calibrated
            on held-out training faces, so that about 90% of errors on new
            faces of the same kind lie within ``1.645 * y_std`` (measured
            coverage: ``benchmarks/results/uncertainty.md``).
        check_input : bool, default=True
            False skips validating ``X`` (see :meth:`staged_predict`).

        Returns
        -------
        y_pred : ndarray of shape (n_samples, 2K)
        y_std : ndarray of shape (n_samples, 2K)
            Only with ``return_std=True``.
        """
        check_is_fitted(self, "stages_")
        staged, y_std = self._predicted(X, None, check_input, return_std)
        return (staged[-1], y_std) if return_std else staged[-1]

    def _predicted(self, X, n_stages, check_input, return_std=False):
        """The staged predictions of :meth:`staged_predict`, averaged with the mirrored face's under
        ``flip_test``; and with ``return_std`` the last stage's standard deviations (else None)."""
        if check_input:
            X = validate_images(self, X, reset=False)
        out = self._staged(X, n_stages, return_std)
        std = out.pop() if return_std else None
        if self.flip_test:
            mirrored = self._staged(flip_images(X, image_shape=self.image_shape_), n_stages, return_std)
            mirrored_std = mirrored.pop() if return_std else None
            width = self.image_shape_[1]
            axis = getattr(self, "flip_axis_", None)  # a model saved before flip_axis: the image's centre
            out = [(a + flip_keypoints(b, width=width, layout=self.layout_, axis=axis)) / 2 for a, b in zip(out, mirrored)]
            if return_std:
                # the mean of two estimates with these errors: taken as independent at worst, no better than either
                perm = self.layout_.flip_permutation
                mirrored_std = mirrored_std.reshape(len(X), -1, 2)[:, perm].reshape(std.shape)
                std = np.sqrt((std**2 + mirrored_std**2) / 2)
        return out, std

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        if self.init is not None:
            tags.input_tags.positive_only = self.init.__sklearn_tags__().input_tags.positive_only
        return tags
