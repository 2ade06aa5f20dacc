"""Keypoint error metrics that ignore missing (NaN) targets: Kaggle's RMSE, and the landmark field's NME, CED, AUC and failure rate."""

import numbers
import warnings

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .keypoints import KeypointLayout
from .utils._deprecation import keyword_only_after

from .utils._validation import resolve_layout

__all__ = [
    "rmse",
    "per_keypoint_rmse",
    "nme",
    "mean_nme",
    "ced",
    "ced_auc",
    "failure_rate",
    "rmse_scorer",
    "nme_scorer",
    "auc_scorer",
]


def _check_pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has {y_pred.shape}")
    if y_true.ndim != 2 or y_true.shape[1] % 2:
        raise ValueError(
            f"keypoint arrays must be (n_samples, 2 * n_keypoints), got shape {y_true.shape}"
        )
    labelled = ~np.isnan(y_true)
    if np.isnan(y_pred[labelled]).any():
        raise ValueError("y_pred has NaN where y_true is labelled")
    return y_true, y_pred, labelled


def rmse(y_true, y_pred):
    """Root-mean-square error over every labelled coordinate.

    The Kaggle competition metric: coordinates whose target is NaN are left
    out, and the mean is pooled over all remaining ``(row, column)`` cells.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, 2 * K)
        True keypoints, NaN where missing.
    y_pred : array-like of shape (n_samples, 2 * K)

    Returns
    -------
    float
    """
    y_true, y_pred, labelled = _check_pair(y_true, y_pred)
    if not labelled.any():
        raise ValueError("y_true has no labelled coordinate")
    diff = (y_true - y_pred)[labelled]
    return float(np.sqrt(np.mean(diff**2)))


def per_keypoint_rmse(y_true, y_pred):
    """RMSE of each keypoint over its labelled rows (x and y pooled).

    Returns
    -------
    ndarray of shape (K,)
        NaN for a keypoint labelled on no row.
    """
    y_true, y_pred, labelled = _check_pair(y_true, y_pred)
    sq = np.where(labelled, (y_true - np.where(labelled, y_pred, 0.0)) ** 2, 0.0)
    n_keypoints = y_true.shape[1] // 2
    total = sq.reshape(len(sq), n_keypoints, 2).sum(axis=(0, 2))
    count = labelled.reshape(len(sq), n_keypoints, 2).sum(axis=(0, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(total / count)


@keyword_only_after
@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "normalization": [StrOptions({"inter-ocular", "inter-pupil", "diagonal"})],
     "eyes": [tuple, list, None], "layout": [KeypointLayout, StrOptions({"kaggle15", "ibug68"}), None]},
    prefer_skip_nested_validation=True,
)
def nme(y_true, y_pred, *, normalization="inter-ocular", eyes=None, layout=None):
    """Normalised mean error of each face: mean point-to-point distance over the face's size.

    The field's standard for comparing landmark methods across face sizes
    (a face with NME above 0.08 or 0.10 is usually counted as a failure).
    Missing true points (NaN) are left out of a face's mean.

    Parameters
    ----------
    y_true : array-like of shape (n_faces, 2 * K)
        True keypoints, NaN where missing.
    y_pred : array-like of shape (n_faces, 2 * K)
    normalization : {"inter-ocular", "inter-pupil", "diagonal"}, default="inter-ocular"
        The face's size. "inter-ocular": the distance between the eyes the
        layout declares (:attr:`KeypointLayout.eyes`: the outer eye corners
        for iBUG's 68 points, as 300-W reports; the eye centres for
        Kaggle's 15); "inter-pupil": between its pupils (for 68 points, the
        means of each eye's six points); "diagonal": the diagonal of the
        true points' bounding box (needs no layout).
    eyes : (int, int) or None, default=None
        Two keypoints whose true distance normalises instead.
    layout : KeypointLayout, str or None, default=None
        The points' scheme (``"kaggle15"``, ``"ibug68"`` or a user's
        :class:`~fkp_classic.keypoints.KeypointLayout` with ``eyes``),
        needed to normalise by the eyes. None with 15 or 68 points still
        means Kaggle's or iBUG's layout, with a ``FutureWarning``.

    Returns
    -------
    ndarray of shape (n_faces,)
        NaN for a face with no true point, or whose normalising points are missing.

    Raises
    ------
    ValueError
        If normalising by the eyes and the layout declares none (or none is given).

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.keypoints import KeypointLayout
    >>> from fkp_classic.metrics import nme
    >>> two = KeypointLayout(("left_eye", "right_eye"), eyes=(("right_eye",), ("left_eye",)))
    >>> truth = np.array([[60.0, 40, 30, 40]])
    >>> nme(truth, truth + [3, 0, 3, 0], layout=two)
    array([0.1])
    """
    y_true, y_pred, labelled = _check_pair(y_true, y_pred)
    true, pred = y_true.reshape(len(y_true), -1, 2), y_pred.reshape(len(y_pred), -1, 2)
    n_keypoints = true.shape[1]
    if eyes is not None:
        a, b = eyes
        if not (0 <= a < n_keypoints and 0 <= b < n_keypoints) or a == b:
            raise ValueError(f"eyes must be two different keypoints of the {n_keypoints}, got {eyes}")
        sides = ((a,), (b,))
    elif normalization in ("inter-ocular", "inter-pupil"):
        sides = resolve_layout(layout, n_keypoints).eye_indices(normalization)
    else:  # "diagonal"
        sides = None
    with warnings.catch_warnings():  # a face with no true point is NaN, quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        if sides is None:
            size = np.linalg.norm(np.nanmax(true, axis=1) - np.nanmin(true, axis=1), axis=1)
        else:
            left, right = (true[:, list(side)].mean(axis=1) for side in sides)
            size = np.linalg.norm(left - right, axis=1)
        if (size <= 0).any():
            raise ValueError(f"row {int(np.argmax(size <= 0))}: the face's normalising points coincide")
        return np.nanmean(np.linalg.norm(true - pred, axis=2), axis=1) / size


def _errors(errors):
    errors = np.asarray(errors, dtype=np.float64).ravel()
    if (errors < 0).any():
        raise ValueError("errors must be non-negative (NME per face; inf for a face not found)")
    kept = errors[~np.isnan(errors)]
    if len(kept) == 0:
        raise ValueError("no face has an error (all NaN)")
    return kept


@keyword_only_after
@validate_params({"errors": ["array-like"], "thresholds": ["array-like", None]}, prefer_skip_nested_validation=True)
def ced(errors, *, thresholds=None):
    """Cumulative error distribution: the fraction of faces whose error is at most each threshold.

    Parameters
    ----------
    errors : array-like of shape (n_faces,)
        NME per face (:func:`nme`); NaN faces are left out, ``inf`` (a
        face not found) counts as above every threshold.
    thresholds : array-like or None, default=None
        None: 0 to 0.10 in steps of 0.001.

    Returns
    -------
    thresholds : ndarray
    fraction : ndarray of the same shape

    Examples
    --------
    >>> from fkp_classic.metrics import ced
    >>> ced([0.02, 0.05, 0.2], thresholds=[0.01, 0.05, 0.1])[1]
    array([0.        , 0.66666667, 0.66666667])
    """
    errors = np.sort(_errors(errors))
    thresholds = np.linspace(0, 0.1, 101) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    return thresholds, np.searchsorted(errors, thresholds, side="right") / len(errors)


@keyword_only_after
@validate_params(
    {"errors": ["array-like"], "threshold": [Interval(numbers.Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def ced_auc(errors, *, threshold=0.08):
    """Area under the CED curve from 0 to ``threshold``, over ``threshold`` (1 for a perfect method).

    Exact: the mean over faces of ``max(0, threshold - error) / threshold``.

    Examples
    --------
    >>> from fkp_classic.metrics import ced_auc
    >>> float(ced_auc([0.0, 0.04, float("inf")], threshold=0.08))
    0.5
    """
    errors = _errors(errors)
    return float(np.mean(np.clip(threshold - errors, 0, None)) / threshold)


@keyword_only_after
@validate_params(
    {"errors": ["array-like"], "threshold": [Interval(numbers.Real, None, None, closed="both")]},
    prefer_skip_nested_validation=True,
)
def failure_rate(errors, *, threshold=0.10):
    """Fraction of faces whose error is above ``threshold`` (``inf`` for a face not found counts).

    Examples
    --------
    >>> from fkp_classic.metrics import failure_rate
    >>> failure_rate([0.02, 0.12, float("inf"), float("nan")])
    0.6666666666666666
    """
    return float(np.mean(_errors(errors) > threshold))


@keyword_only_after
@validate_params(
    {"y_true": ["array-like"], "y_pred": ["array-like"], "normalization": [StrOptions({"inter-ocular", "inter-pupil", "diagonal"})], "layout": [KeypointLayout, StrOptions({"kaggle15", "ibug68"}), None]},
    prefer_skip_nested_validation=True,
)
def mean_nme(y_true, y_pred, *, normalization="inter-ocular", layout=None):
    """Mean of :func:`nme` over the faces (NaN faces left out): the figure papers report."""
    return float(np.nanmean(nme(y_true, y_pred, normalization=normalization, layout=layout)))


def _fitted_layout(estimator):
    """The layout a fitted estimator (or a Pipeline's last step) records, or None."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return getattr(final, "layout_", None)


class _LayoutScorer:
    """A scorer ``(estimator, X, y) -> float`` that normalises NME by the fitted estimator's own layout."""

    def __init__(self, score, sign, name):
        self._score, self._sign, self._name = score, sign, name

    def __call__(self, estimator, X, y):
        return self._sign * self._score(y, estimator.predict(X), layout=_fitted_layout(estimator))

    def __repr__(self):
        return self._name


def _auc_of(y_true, y_pred, threshold=0.08, normalization="inter-ocular", layout=None):
    return ced_auc(nme(y_true, y_pred, normalization=normalization, layout=layout), threshold=threshold)


rmse_scorer = make_scorer(rmse, greater_is_better=False)
"""Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: returns ``-rmse``."""

nme_scorer = _LayoutScorer(mean_nme, -1.0, "nme_scorer")
"""Scorer returning ``-mean_nme`` (inter-ocular normalisation, by the fitted estimator's ``layout_``)."""

auc_scorer = _LayoutScorer(_auc_of, 1.0, "auc_scorer")
"""Scorer returning the CED's AUC up to 0.08 (greater is better; NME by the fitted estimator's ``layout_``)."""
