"""Square crops of a photo and the maps between photo and crop coordinates.

A crop is described by its frame ``(x0, y0, side)``: the photo square whose
top-left corner is ``(x0, y0)``, resampled to ``size`` pixels a side (the
keypoint model's ``image_shape_``; :data:`CROP_SIZE`, Kaggle's 96, by
default). Pixel centres sit at integers in both, so a crop point ``u`` is
the photo point ``x0 + (u + 0.5) * side / size - 0.5``.
"""

import numpy as np
from PIL import Image

from ..keypoints import KAGGLE_IMAGE_SIZE
from ._image import as_gray

__all__ = ["CROP_SIZE", "box_frames", "frame_boxes", "to_photo", "to_crop", "crop_frames", "reframe"]

CROP_SIZE = KAGGLE_IMAGE_SIZE
"""The side of Kaggle's face crops: the default crop size of a model that records no ``image_shape_``."""


def box_frames(boxes, framing):
    """Crop frames ``(x0, y0, side)`` of detection boxes ``(x, y, w, h)`` under a framing ``(scale, dx, dy)``.

    The frame is the square of side ``scale * w`` centred at ``(x + w/2 + dx*w, y + h/2 + dy*w)``.
    """
    scale, dx, dy = framing
    x, y, w, h = np.asarray(boxes, dtype=float).reshape(-1, 4).T
    side = scale * w
    return np.stack([x + w / 2 + dx * w - side / 2, y + h / 2 + dy * w - side / 2, side], axis=1)


def frame_boxes(frames, framing):
    """The square boxes ``(x, y, w, w)`` whose crop frames under ``framing`` are ``frames`` (inverse of :func:`box_frames`)."""
    scale, dx, dy = framing
    x0, y0, side = np.asarray(frames, dtype=float).reshape(-1, 3).T
    w = side / scale
    return np.stack([x0 + side / 2 - dx * w - w / 2, y0 + side / 2 - dy * w - w / 2, w, w], axis=1)


def to_photo(points, frames, *, size=CROP_SIZE):
    """Map keypoints ``(n, 2K)`` of ``size``-pixel crops to photo pixels, one frame ``(x0, y0, side)`` per row."""
    points = np.asarray(points, dtype=float)
    pts = points.reshape(len(points), -1, 2)
    scale = frames[:, 2] / size
    return (frames[:, None, :2] + (pts + 0.5) * scale[:, None, None] - 0.5).reshape(points.shape)


def to_crop(points, frames, *, size=CROP_SIZE):
    """Map photo keypoints ``(n, 2K)`` into each row's ``size``-pixel crop (inverse of :func:`to_photo`)."""
    points = np.asarray(points, dtype=float)
    pts = points.reshape(len(points), -1, 2)
    scale = size / frames[:, 2]
    return ((pts - frames[:, None, :2] + 0.5) * scale[:, None, None] - 0.5).reshape(points.shape)


def crop_frames(gray, frames, *, size=CROP_SIZE):
    """Resample the square photo regions ``frames`` to uint8 crops.

    Only each frame's window of the photo is read; a frame reaching past the
    photo's edge repeats its border pixels. Frames are rounded to whole
    pixels (sides of at least 8).

    Parameters
    ----------
    gray : ndarray of shape (h, w)
        Float grayscale photo in [0, 1] (:func:`fkp_classic.photo.as_gray`),
        or uint8 grayscale (:func:`fkp_classic.photo.as_gray8`); any other
        photo is converted by :func:`as_gray` first.
    frames : array-like of shape (n, 3)
        ``(x0, y0, side)`` in photo pixels.
    size : int, default=CROP_SIZE
        The crops' side in pixels.

    Returns
    -------
    crops : ndarray of shape (n, size * size), uint8
    frames : ndarray of shape (n, 3)
        The rounded frames, which map the crops' points back exactly.
    """
    gray = np.asarray(gray)
    if gray.ndim != 2 or not (gray.dtype == np.uint8 or np.issubdtype(gray.dtype, np.floating)):
        gray = as_gray(gray)
    scale = 1.0 if gray.dtype == np.uint8 else 255.0
    frames = np.asarray(frames, dtype=float).reshape(-1, 3)
    corners = np.round(frames[:, :2]).astype(int)
    sides = np.maximum(np.round(frames[:, 2]).astype(int), 8)
    height, width = gray.shape
    size = int(size)
    crops = np.empty((len(frames), size * size), dtype=np.uint8)
    for i, ((c0, r0), n) in enumerate(zip(corners, sides)):  # one resample per face
        rows = np.clip(np.arange(r0, r0 + n), 0, height - 1)
        cols = np.clip(np.arange(c0, c0 + n), 0, width - 1)
        region = np.asarray(gray[rows[:, None], cols[None, :]], dtype=np.float32)
        if scale != 1.0:
            region *= np.float32(scale)
        # Pillow's bilinear filter widens with the shrink factor, so a large face is averaged, not aliased.
        crop = np.asarray(Image.fromarray(region, mode="F").resize((size, size), Image.BILINEAR))
        crops[i] = np.clip(np.round(crop), 0, 255).astype(np.uint8).ravel()
    return crops, np.c_[corners, sides].astype(float)


def point_spread(points):
    """RMS distance of each face's points to their centroid: the face's size in pixels.

    Parameters
    ----------
    points : ndarray of shape (n_faces, 2K)

    Returns
    -------
    ndarray of shape (n_faces,)
    """
    points = np.asarray(points, dtype=float)
    pts = points.reshape(len(points), points.shape[1] // 2, 2)
    return np.sqrt(((pts - pts.mean(axis=1, keepdims=True)) ** 2).sum(axis=2).mean(axis=1))


def reframe(points, mean_shape, *, size=CROP_SIZE):
    """Crop frames that put photo keypoints where the training crops have them.

    The frame's scale matches the points' spread (RMS distance to their
    centroid) to the mean shape's, and its position matches the centroids:
    a crop made this way is framed like the training faces whatever the
    detector's box did.

    Parameters
    ----------
    points : ndarray of shape (n_faces, 2K)
        Keypoints in photo pixels.
    mean_shape : array-like of shape (K, 2) or (2K,)
        Mean keypoints of the training crops (a fitted model's ``mean_shape_``).
    size : int, default=CROP_SIZE
        The training crops' side (the model's ``image_shape_``).

    Returns
    -------
    frames : ndarray of shape (n_faces, 3)

    Raises
    ------
    ValueError
        If the points and the mean shape have different numbers of keypoints.
    """
    points = np.asarray(points, dtype=float)
    mean = np.asarray(mean_shape, dtype=float).reshape(-1, 2)
    if points.ndim != 2 or points.shape[1] != mean.size:
        raise ValueError(
            f"points have shape {points.shape} but the mean shape has {len(mean)} keypoints "
            f"(expected (n_faces, {mean.size}))"
        )
    centre, mean_centre = points.reshape(len(points), len(mean), 2).mean(axis=1), mean.mean(axis=0)
    side = size * point_spread(points) / point_spread(mean.reshape(1, -1))[0]
    corner = centre - (mean_centre + 0.5) * (side / size)[:, None] + 0.5
    return np.c_[corner, side]
