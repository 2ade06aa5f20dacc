"""Fitting and checking a face detector's framing: the transform from its boxes to training-like crops."""

import numpy as np
from scipy.optimize import least_squares

from ..photo import LBPFaceDetector, box_frames, to_crop, to_photo
from ._pasted import nearest_box, paste_faces

__all__ = ["fit_framing", "framed_mean_offset"]


def _detected(images, target, face_detector, random_state):
    """Boxes found on pasted faces ``(n, 4)`` and those faces' keypoints in canvas pixels ``(n, 2K)``."""
    canvases, frames = paste_faces(images, random_state)
    target = np.asarray(target, dtype=float)
    found = [nearest_box(face_detector(canvas), frame) for canvas, frame in zip(canvases, frames)]
    rows = [i for i, box in enumerate(found) if box is not None]
    boxes = np.array([found[i] for i in rows]).reshape(-1, 4)
    return boxes, to_photo(target[rows], frames[rows])


def fit_framing(images, target, random_state=0, face_detector=None):
    """Fit a face detector's framing so that its crops match the training crops.

    Each face is pasted into a canvas (:func:`paste_faces`) and the detector
    runs; the transform ``(scale, dx, dy)`` is chosen by least squares so
    that the mean keypoints of the detector-framed crops equal the mean of
    ``target`` (the faces' keypoints in their own 96x96 crops).

    Parameters
    ----------
    images : array-like of shape (n_faces, 9216)
    target : array-like of shape (n_faces, 2K)
    random_state : int, default=0
    face_detector : face detector, optional
        Defaults to :class:`fkp_classic.photo.LBPFaceDetector`.

    Returns
    -------
    framing : (float, float, float)
    n_detected : int
    """
    face_detector = LBPFaceDetector() if face_detector is None else face_detector
    boxes, points = _detected(images, target, face_detector, random_state)
    goal = np.nanmean(np.asarray(target, dtype=float), axis=0)

    def offsets(framing):
        return np.nanmean(to_crop(points, box_frames(boxes, framing)), axis=0) - goal

    fit = least_squares(offsets, x0=(1.2, 0.0, 0.0))
    return tuple(float(v) for v in fit.x), len(boxes)


def framed_mean_offset(images, target, framing=None, random_state=1, face_detector=None):
    """Mean keypoints of detector-framed crops minus the mean of ``target`` (px, per coordinate).

    ``framing`` defaults to the face detector's own.

    Returns the offsets ``(2K,)`` and the number of faces the detector found.
    """
    face_detector = LBPFaceDetector() if face_detector is None else face_detector
    framing = face_detector.framing if framing is None else framing
    boxes, points = _detected(images, target, face_detector, random_state)
    framed = to_crop(points, box_frames(boxes, framing))
    return np.nanmean(framed, axis=0) - np.nanmean(np.asarray(target, dtype=float), axis=0), len(boxes)
