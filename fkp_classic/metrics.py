"""Keypoint error metrics that ignore missing (NaN) targets, as Kaggle scores them."""

import numpy as np
from sklearn.metrics import make_scorer

__all__ = ["rmse", "per_keypoint_rmse", "rmse_scorer", "nme"]


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


def nme(y_true, y_pred, eyes=(0, 1)):
    """Normalised mean error of each face: mean point-to-point distance over the distance between the eyes.

    The field's standard for comparing landmark methods across face sizes
    (a face with NME above 0.10 is usually counted as a failure).

    Parameters
    ----------
    y_true : array-like of shape (n_faces, 2 * K)
        True keypoints (no NaN).
    y_pred : array-like of shape (n_faces, 2 * K)
    eyes : (int, int), default=(0, 1)
        Keypoints whose true distance normalises each face: the Kaggle
        layout's left and right eye centres by default.

    Returns
    -------
    ndarray of shape (n_faces,)

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.metrics import nme
    >>> truth = np.array([[60.0, 40, 30, 40]])
    >>> nme(truth, truth + [3, 0, 3, 0])
    array([0.1])
    """
    y_true, y_pred, labelled = _check_pair(y_true, y_pred)
    if not labelled.all():
        raise ValueError("nme needs every true keypoint (y_true has NaN)")
    true, pred = y_true.reshape(len(y_true), -1, 2), y_pred.reshape(len(y_pred), -1, 2)
    a, b = eyes
    if not (0 <= a < true.shape[1] and 0 <= b < true.shape[1]) or a == b:
        raise ValueError(f"eyes must be two different keypoints of the {true.shape[1]}, got {eyes}")
    spacing = np.linalg.norm(true[:, a] - true[:, b], axis=1)
    if (spacing <= 0).any():
        raise ValueError(f"row {int(np.argmax(spacing <= 0))}: the two eye keypoints coincide")
    return np.linalg.norm(true - pred, axis=2).mean(axis=1) / spacing


rmse_scorer = make_scorer(rmse, greater_is_better=False)
"""Scorer for ``scoring=`` in ``cross_val_score`` / ``GridSearchCV``: returns ``-rmse``."""
