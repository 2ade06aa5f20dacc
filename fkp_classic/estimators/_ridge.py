"""Per-keypoint ridge regression that trains each keypoint on the rows where it is labelled."""

import numbers

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.linear_model import RidgeCV
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..keypoints import LAYOUT_NAMES, KeypointLayout
from ._reduced_rank import reduce_rank
from ..utils._constraints import NumberSequence
from ..utils._plain_state import pack_plain_state, unpack_plain_state
from ..utils._validation import check_keypoints, set_keypoint_layout, set_keypoint_tags

__all__ = ["KeypointRidge"]


def _row_set_groups(labelled):
    """Group keypoints whose labelled-row sets are identical.

    Returns a list of ``(keypoint_indices, row_mask)``.
    """
    groups = {}
    for k in range(labelled.shape[1]):
        key = np.packbits(labelled[:, k]).tobytes()
        groups.setdefault(key, ([], labelled[:, k]))[0].append(k)
    return [(np.array(ks), mask) for ks, mask in groups.values()]


def _coordinate_columns(keypoints):
    """Columns ``x, y`` of each keypoint index, interleaved."""
    return np.stack([2 * keypoints, 2 * keypoints + 1], axis=1).ravel()


class _PrimalSolver:
    """Ridge solves over row subsets with the intercept as an unpenalised column.

    The Gram matrix is computed once for a base row set (all rows, and the
    rows labelled everywhere); a subset that differs from a base by a few
    rows is solved by a low-rank (Woodbury) update of the base's Cholesky
    factor, so the rows that share a missing-label pattern share one
    factorisation.
    """

    def __init__(self, Z, alpha, max_rank):
        self.Z = Z
        self.penalty = np.full(Z.shape[1], float(alpha))
        self.penalty[-1] = 0.0
        self.max_rank = max_rank
        self._factors = {}

    def _factor(self, key, rows):
        if key not in self._factors:
            Zr = self.Z[rows]
            gram = Zr.T @ Zr
            gram[np.diag_indices_from(gram)] += self.penalty
            self._factors[key] = linalg.cho_factor(gram, lower=True, check_finite=False)
        return self._factors[key]

    def solve(self, rows, rhs, bases):
        """Solve ``(Z_R' Z_R + P) W = rhs`` for the row mask ``rows``."""
        best = None
        for key, base_rows in bases.items():
            added = np.flatnonzero(rows & ~base_rows)
            removed = np.flatnonzero(base_rows & ~rows)
            rank = len(added) + len(removed)
            if best is None or rank < best[0]:
                best = (rank, key, base_rows, added, removed)
        rank, key, base_rows, added, removed = best
        if rank > self.max_rank:
            return self._direct(rows, rhs)
        factor = self._factor(key, base_rows)
        w = linalg.cho_solve(factor, rhs, check_finite=False)
        if rank == 0:
            return w
        U = np.concatenate([self.Z[added], self.Z[removed]])
        sign = np.concatenate([np.ones(len(added)), -np.ones(len(removed))])
        BinvUt = linalg.cho_solve(factor, U.T, check_finite=False)
        # (B + U' S U)^-1 = B^-1 - B^-1 U' (S^-1 + U B^-1 U')^-1 U B^-1, with S = diag(sign).
        core = np.diag(sign) + U @ BinvUt
        return w - BinvUt @ linalg.solve(core, U @ w, check_finite=False)

    def _direct(self, rows, rhs):
        Zr = self.Z[rows]
        gram = Zr.T @ Zr
        gram[np.diag_indices_from(gram)] += self.penalty
        return linalg.solve(gram, rhs, assume_a="pos", check_finite=False)


class _DualSolver:
    """Centred ridge in the dual (kernel) form, for row sets smaller than the feature count.

    The kernel of the union of all such rows is computed once; each row set
    takes its sub-matrix and centres it, so sets that share rows share work.
    """

    def __init__(self, X, rows_union, alpha):
        self.X = X
        self.alpha = float(alpha)
        self.position = np.full(len(X), -1)
        self.position[rows_union] = np.arange(rows_union.sum())
        Xu = X[rows_union]
        self.kernel = Xu @ Xu.T

    def solve(self, rows, Y):
        sub = self.position[rows]
        K = self.kernel[np.ix_(sub, sub)]
        row_mean = K.mean(axis=0)
        K = K - row_mean[:, None] - row_mean[None, :] + row_mean.mean()
        K[np.diag_indices_from(K)] += self.alpha
        y_mean = Y.mean(axis=0)
        dual = linalg.solve(K, Y - y_mean, assume_a="pos", check_finite=False)
        Xr = self.X[rows]
        coef = Xr.T @ dual  # the dual weights sum to zero, so centring X is implicit
        return coef, y_mean - Xr.mean(axis=0) @ coef


class KeypointRidge(RegressorMixin, BaseEstimator):
    """Ridge regression per keypoint, each fitted on the rows where it is labelled.

    Kaggle's training file labels only 4 of 15 keypoints on most rows.
    Instead of discarding those rows, each keypoint's ridge uses every row
    that labels it. Keypoints labelled on the same rows share one solve, and
    row sets that differ from "all rows" or "complete rows" by a few rows are
    solved by a low-rank update of one shared factorisation, so a
    Kaggle-sized file costs about as much as a single multi-output ridge.

    Parameters
    ----------
    alpha : float or array-like of float, default=1.0
        L2 penalty (the intercept is not penalised). Several values select
        one per coordinate by efficient leave-one-out cross-validation, as
        :class:`sklearn.linear_model.RidgeCV` does (note that near-duplicate
        rows, such as frames of one video, bias leave-one-out towards small
        penalties: prefer ``GridSearchCV`` with ``GroupKFold`` then).
    max_update_rank : int, default=256
        Largest row difference from a shared base solved by low-rank update;
        larger differences are solved directly.
    rank : int or None, default=None
        Reduced-rank ridge: keep the predictions to the ``rank`` leading
        principal directions of the fitted values on the training rows
        (all of them, labelled or not), so that the outputs move only
        along the few modes the features really predict (for many
        keypoints: the shape's main modes). None keeps every output
        direction. The weights are then stored as ``rank`` rows of
        scores, a fraction of the full matrix.
    layout : KeypointLayout, {"kaggle15", "ibug68"} or None, default=None
        The keypoints' names, flip pairs and eyes, or a registered layout's
        name. None is a plain layout ``k0, k1, ...`` (deprecated on 15 or
        68 keypoints, which it still takes as Kaggle's or iBUG's, with a
        ``FutureWarning``).

    Attributes
    ----------
    coef_ : ndarray of shape (2K, n_features)
    intercept_ : ndarray of shape (2K,)
    alpha_ : ndarray of shape (2K,)
        Penalty used for each coordinate.
    n_labelled_ : ndarray of shape (K,)
        Rows each keypoint was fitted on.
    output_basis_ : ndarray of shape (2K, rank) or None
        Orthonormal output directions that ``coef_`` and the predictions'
        deviations from their training mean lie in (None without ``rank``,
        or with ``rank >= 2K``).
    layout_ : KeypointLayout
    mean_shape_ : ndarray of shape (K, 2)
        Mean training keypoints.
    n_features_in_ : int

    References
    ----------
    .. [1] Izenman, A. J., "Reduced-rank regression for the multivariate
           linear model", Journal of Multivariate Analysis 5(2), 248-264,
           1975. :DOI:`10.1016/0047-259X(75)90042-1`
    .. [2] Mukherjee, A. and Zhu, J., "Reduced rank ridge regression and its
           kernel extensions", Statistical Analysis and Data Mining 4(6),
           612-622, 2011 (``rank``: the ridge's fitted values projected on
           their leading principal directions, as here).
           :DOI:`10.1002/sam.10138`

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic import KeypointRidge
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 5))
    >>> y = X[:, :4] * 3 + 1
    >>> y[::2, 2:] = np.nan  # keypoint 1 missing on half the rows
    >>> model = KeypointRidge(alpha=1e-6).fit(X, y)
    >>> bool(np.allclose(model.coef_[:, :4], 3 * np.eye(4), atol=1e-3))
    True
    >>> model.n_labelled_
    array([50, 25])
    """

    _parameter_constraints = {
        "alpha": [
            Interval(numbers.Real, 0, None, closed="neither"),
            NumberSequence(Interval(numbers.Real, 0, None, closed="neither")),
        ],
        "max_update_rank": [Interval(numbers.Integral, 1, None, closed="left")],
        "rank": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "layout": [KeypointLayout, StrOptions(set(LAYOUT_NAMES)), None],
    }

    def __init__(self, alpha=1.0, max_update_rank=256, rank=None, layout=None):
        self.alpha = alpha
        self.max_update_rank = max_update_rank
        self.rank = rank
        self.layout = layout

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit one ridge per keypoint on its labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples, 2K)
            Keypoints ``x1, y1, ...``; NaN where missing.

        Returns
        -------
        self : KeypointRidge
        """
        X = validate_data(self, X, dtype=np.float64)
        y = check_keypoints(y, len(X))
        alphas = np.atleast_1d(np.asarray(self.alpha, dtype=np.float64))  # positive: _parameter_constraints
        set_keypoint_layout(self, y)  # refuses a keypoint missing on every row
        labelled = ~np.isnan(y[:, 0::2])
        self.n_labelled_ = labelled.sum(axis=0)
        n_outputs = y.shape[1]
        self.coef_ = np.zeros((n_outputs, X.shape[1]))
        self.intercept_ = np.zeros(n_outputs)
        self.alpha_ = np.full(n_outputs, alphas[0])
        groups = _row_set_groups(labelled)
        if len(alphas) > 1:
            self._fit_cv(X, y, groups, alphas)
        else:
            self._fit_fixed(X, y, groups, alphas[0])
        self.output_basis_ = None
        if self.rank is not None:
            fitted = X @ self.coef_.T + self.intercept_
            moments = np.vstack([X.T @ fitted, fitted.sum(axis=0)])
            reduce_rank(self, moments, len(X), self.rank)
        return self

    def _fit_fixed(self, X, y, groups, alpha):
        n, d = X.shape
        primal = [(k, rows) for k, rows in groups if rows.sum() >= d + 1]
        dual = [(k, rows) for k, rows in groups if rows.sum() < d + 1]
        if primal:
            Z = np.hstack([X, np.ones((n, 1))])
            solver = _PrimalSolver(Z, alpha, self.max_update_rank)
            masks = np.stack([rows for _, rows in groups])
            bases = {"any": masks.any(axis=0)}
            complete = masks.all(axis=0)
            if complete.sum() > d:
                bases["complete"] = complete
            for keypoints, rows in primal:
                cols = _coordinate_columns(keypoints)
                W = solver.solve(rows, Z[rows].T @ y[np.ix_(rows, cols)], bases)
                self.coef_[cols], self.intercept_[cols] = W[:-1].T, W[-1]
        if dual:
            solver = _DualSolver(X, np.stack([rows for _, rows in dual]).any(axis=0), alpha)
            for keypoints, rows in dual:
                cols = _coordinate_columns(keypoints)
                coef, intercept = solver.solve(rows, y[np.ix_(rows, cols)])
                self.coef_[cols], self.intercept_[cols] = coef.T, intercept

    def _fit_cv(self, X, y, groups, alphas):
        for keypoints, rows in groups:
            cols = _coordinate_columns(keypoints)
            model = RidgeCV(alphas=alphas, alpha_per_target=True).fit(X[rows], y[np.ix_(rows, cols)])
            self.coef_[cols] = model.coef_
            self.intercept_[cols] = model.intercept_
            self.alpha_[cols] = model.alpha_

    def predict(self, X):
        """Predict keypoints.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2K)
        """
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

    def __getstate__(self):
        # A reduced-rank ridge is stored as its output basis and rank rows of scores, not the full weights.
        state = dict(super().__getstate__())  # object.__getstate__ may hand back __dict__ itself
        state.pop("_factored", None)  # the predict path's cached factors (_cross_fitting._weights)
        weights, scores = state.pop("_scores_of", (None, None))  # the scores coef_ was built from, if unchanged
        basis = state.get("output_basis_")
        if basis is not None and state.get("coef_") is not None:
            coef = state.pop("coef_")
            state["_coef_scores"] = scores if weights is coef else (basis.T @ coef).astype(coef.dtype)
        return pack_plain_state(state)  # its parameters as one JSON entry: a safe model file rebuilds each object

    def __setstate__(self, state):
        state = unpack_plain_state(state)
        scores = state.pop("_coef_scores", None)
        if scores is not None:  # kept, so that saving the model again writes them unchanged (bit for bit)
            # The weights in float64 straight from the (narrowed) scores: rounding the full weights to the scores'
            # float16 and widening them back cost most of a packaged 68-point model's load time.
            state["coef_"] = state["output_basis_"] @ scores.astype(np.float64)
            state["_scores_of"] = (state["coef_"], scores)
        super().__setstate__(state)
        self.widen_weights()  # weights narrowed to keep a file small come back as float64

    def widen_weights(self):
        """Hold ``coef_`` as float64 again after it was narrowed (to float32 or float16) to keep a saved model small.

        Predictions are made in float64 either way (so that a face's
        keypoints do not depend on its batch), and narrowed weights would be
        widened on every call. Unpickling does this by itself.

        Returns
        -------
        self : KeypointRidge
        """
        coef = getattr(self, "coef_", None)
        if coef is not None and coef.dtype != np.float64:
            self.coef_ = np.ascontiguousarray(coef, dtype=np.float64)
            kept = getattr(self, "_scores_of", None)
            if kept is not None and kept[0] is coef:  # the widened weights still come from the stored scores
                self._scores_of = (self.coef_, kept[1])
        return self

    def __sklearn_tags__(self):
        tags = set_keypoint_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = False
        return tags
