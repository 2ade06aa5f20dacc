"""Faces grouped by how far they turn, from their keypoints: components for the HOG face detector."""

import numpy as np

from ..keypoints import KAGGLE_15

__all__ = ["turn_components"]


def turn_components(keypoints, turned_fraction=0.5):
    """Component of each face for :meth:`fkp_classic.photo.HOGFaceDetector.fit`: 0 turned one way, 1 frontal, 2 the other.

    The turn is the nose tip's offset from the midpoint of the eye centres,
    over the eye distance; the most turned ``turned_fraction`` of the faces
    go to components 0 and 2 by its sign, so a mirrored face of component
    ``k`` has component ``2 - k``.

    Parameters
    ----------
    keypoints : array-like of shape (n_faces, 30)
        The 15 Kaggle keypoints of each face (no NaN in eyes and nose).
    turned_fraction : float, default=0.5

    Returns
    -------
    components : ndarray of shape (n_faces,), int
    """
    points = np.asarray(keypoints, dtype=float).reshape(len(keypoints), -1, 2)
    names = list(KAGGLE_15.names)
    left, right, nose = (points[:, names.index(n)] for n in ("left_eye_center", "right_eye_center", "nose_tip"))
    turn = (nose[:, 0] - (left[:, 0] + right[:, 0]) / 2) / np.linalg.norm(left - right, axis=1)
    if not np.isfinite(turn).all():
        raise ValueError("turn_components needs the eye centres and nose tip of every face")
    limit = np.quantile(np.abs(turn), 1 - turned_fraction)
    return np.where(turn < -limit, 0, np.where(turn > limit, 2, 1))
