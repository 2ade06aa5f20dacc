"""How far crop frames (a face detector's, or the photo path's re-crops) sit from the frames true keypoints give."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ..photo import reframe

__all__ = ["framing_errors", "eye_rotation"]


def eye_rotation(points, layout):
    """In-plane rotation of each face, in degrees: the angle of the line from its right eye to its left eye.

    Zero for an upright face; positive when the subject's left eye (image
    right) is lower in the photo (y grows downwards).

    Parameters
    ----------
    points : array-like of shape (n_faces, 2K)
    layout : KeypointLayout
        Names the eyes (:meth:`KeypointLayout.eye_indices`).

    Returns
    -------
    angles : ndarray of shape (n_faces,)
    """
    pts = np.asarray(points, dtype=float).reshape(len(points), -1, 2)
    right, left = (np.nanmean(pts[:, list(group)], axis=1) for group in layout.eye_indices())
    d = left - right
    return np.degrees(np.arctan2(d[:, 1], d[:, 0]))


@validate_params(
    {
        "frames": ["array-like"],
        "points": ["array-like"],
        "mean_shape": ["array-like"],
        "size": [Interval(numbers.Integral, 8, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def framing_errors(frames, points, mean_shape, *, size):
    """Centre offset and scale of crop frames against the frames the faces' true keypoints give.

    The reference frame of a face is ``reframe(points, mean_shape,
    size=size)``: where the face sits in a training crop framed from its true
    points. A frame ``(x0, y0, side)`` is then described by its centre's
    offset from the reference centre, in units of the reference side, and
    its side over the reference side.

    Parameters
    ----------
    frames : array-like of shape (n_faces, 3)
        Crop frames ``(x0, y0, side)`` in photo pixels, one per face.
    points : array-like of shape (n_faces, 2K)
        The faces' true keypoints in photo pixels.
    mean_shape : array-like of shape (K, 2) or (2K,)
        The training crops' mean keypoints (a model's ``mean_shape_``).
    size : int
        The crops' side (the model's ``image_shape_``).

    Returns
    -------
    shift : ndarray of shape (n_faces, 2)
        ``(dx, dy)`` of each frame's centre, over the reference side.
    scale : ndarray of shape (n_faces,)
        Each frame's side over the reference side (above 1: the face looks smaller).
    """
    frames = np.asarray(frames, dtype=float).reshape(-1, 3)
    points = np.asarray(points, dtype=float)
    if len(frames) != len(points):
        raise ValueError(f"frames has {len(frames)} rows but points has {len(points)}")
    truth = reframe(points, mean_shape, size=size)
    centre = frames[:, :2] + frames[:, 2:] / 2
    true_centre = truth[:, :2] + truth[:, 2:] / 2
    return (centre - true_centre) / truth[:, 2:], frames[:, 2] / truth[:, 2]
