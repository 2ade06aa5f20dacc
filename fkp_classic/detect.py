"""The photo path's names as fkp_classic 0.2 had them; new code imports from :mod:`fkp_classic.photo`."""

from .evaluation import fit_framing, framed_mean_offset, nearest_box, paste_faces, pasted_face_errors
from . import photo
from .photo import KAGGLE_MEAN_SHAPE, LBPFaceDetector, as_gray, box_frames

__all__ = [
    "FRAMING",
    "MEAN_SHAPE",
    "detect_faces",
    "crop_faces",
    "crop_frames",
    "detect_keypoints",
    "reframe",
    "paste_faces",
    "nearest_box",
    "fit_framing",
    "framed_mean_offset",
    "pasted_face_errors",
]

FRAMING = LBPFaceDetector.framing
"""The LBP detector's box-to-crop transform ``(scale, dx, dy)``."""

MEAN_SHAPE = KAGGLE_MEAN_SHAPE.ravel()
"""Mean Kaggle keypoints of the faces96 crops ``(x1, y1, ...)``."""


def detect_faces(image, min_size=40, scale_factor=1.1, min_neighbors=4, min_relative_size=0.75, mirror_check=True):
    """Boxes ``(x, y, w, h)`` of :class:`fkp_classic.photo.LBPFaceDetector` on a photo, largest first."""
    detector = LBPFaceDetector(min_size=min_size, scale_factor=scale_factor, min_neighbors=min_neighbors,
                               min_relative_size=min_relative_size, mirror_check=mirror_check)
    return detector(as_gray(image))


def detect_keypoints(image, model="default", *args, face_detector="lbp", **kwargs):
    """:func:`fkp_classic.photo.detect_keypoints` with 0.2's face detector, the LBP cascade, by default."""
    return photo.detect_keypoints(image, model, *args, face_detector=face_detector, **kwargs)


def crop_faces(image, boxes, framing=FRAMING):
    """96x96 uint8 crops ``(n, 9216)`` framed by detection boxes, and their frames ``(x0, y0, side)``."""
    return photo.crop_frames(as_gray(image), box_frames(boxes, framing))


def crop_frames(image, frames):
    """96x96 uint8 crops of the square photo regions ``frames`` ``(x0, y0, side)``, and the rounded frames."""
    return photo.crop_frames(as_gray(image), frames)


def reframe(points, mean_shape=MEAN_SHAPE):
    """Crop frames that put photo keypoints where the training crops (of ``mean_shape``) have them."""
    return photo.reframe(points, mean_shape)
