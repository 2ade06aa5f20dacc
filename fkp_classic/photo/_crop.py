"""Square crops of a photo and the maps between photo and crop coordinates.

A crop is described by its frame ``(x0, y0, side)``: the photo square whose
top-left corner is ``(x0, y0)``, resampled to ``size`` pixels a side (the
keypoint model's ``image_shape_``; :data:`CROP_SIZE`, Kaggle's 96, by
default). Pixel centres sit at integers in both, so a crop point ``u`` is
the photo point ``x0 + (u + 0.5) * side / size - 0.5``.

A frame may carry a fourth number, ``angle``: the square is then turned by
``angle`` degrees about its centre, counterclockwise as the photo is seen
(as :func:`skimage.transform.rotate` turns a photo), so that a face turned
that much in the photo stands upright in its crop. Frames of three numbers
and frames whose angle is 0 are the axis-aligned squares.
"""

import numpy as np
from PIL import Image

from ..keypoints import KAGGLE_IMAGE_SIZE
from ._image import as_gray

__all__ = ["CROP_SIZE", "box_frames", "frame_boxes", "to_photo", "to_crop", "crop_frames", "reframe", "point_angles"]

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
    """The square boxes ``(x, y, w, w)`` whose crop frames under ``framing`` are ``frames`` (inverse of :func:`box_frames`).

    A turned frame's box is the axis-aligned square with its centre and side.
    """
    scale, dx, dy = framing
    x0, y0, side = _frames(frames)[:, :3].T
    w = side / scale
    return np.stack([x0 + side / 2 - dx * w - w / 2, y0 + side / 2 - dy * w - w / 2, w, w], axis=1)


def _frames(frames):
    """Frames as an ``(n, 4)`` float array ``(x0, y0, side, angle)`` (angle 0 for three-number frames)."""
    frames = np.asarray(frames, dtype=float)
    if frames.ndim == 1 and frames.size in (0, 3, 4):
        frames = frames.reshape(-1, frames.size or 3)
    if frames.ndim != 2 or frames.shape[1] not in (3, 4):
        raise ValueError(f"crop frames must have shape (n, 3) (x0, y0, side) or (n, 4) with an angle, "
                         f"got {frames.shape}")
    return frames if frames.shape[1] == 4 else np.c_[frames, np.zeros(len(frames))]


def _turn(vectors, degrees):
    """Vectors ``(n, m, 2)`` turned by each row's angle, counterclockwise as seen (y points down)."""
    theta = np.deg2rad(degrees)[:, None]
    cos, sin = np.cos(theta), np.sin(theta)
    x, y = vectors[..., 0], vectors[..., 1]
    return np.stack([x * cos + y * sin, y * cos - x * sin], axis=-1)


def _centres(frames):
    return frames[:, :2] + frames[:, 2:3] / 2 - 0.5


def to_photo(points, frames, *, size=CROP_SIZE):
    """Map keypoints ``(n, 2K)`` of ``size``-pixel crops to photo pixels, one frame ``(x0, y0, side[, angle])`` per row."""
    points = np.asarray(points, dtype=float)
    pts = points.reshape(len(points), -1, 2)
    frames = _frames(frames)
    scale = frames[:, 2] / size
    upright = frames[:, None, :2] + (pts + 0.5) * scale[:, None, None] - 0.5
    if frames[:, 3].any():
        centres = _centres(frames)[:, None]
        upright = centres + _turn(upright - centres, frames[:, 3])
    return upright.reshape(points.shape)


def to_crop(points, frames, *, size=CROP_SIZE):
    """Map photo keypoints ``(n, 2K)`` into each row's ``size``-pixel crop (inverse of :func:`to_photo`)."""
    points = np.asarray(points, dtype=float)
    pts = points.reshape(len(points), -1, 2)
    frames = _frames(frames)
    if frames[:, 3].any():
        centres = _centres(frames)[:, None]
        pts = centres + _turn(pts - centres, -frames[:, 3])
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
    frames : array-like of shape (n, 3) or (n, 4)
        ``(x0, y0, side)`` in photo pixels, and optionally the square's
        ``angle`` in degrees (a turned frame's crop shows the face upright).
    size : int, default=CROP_SIZE
        The crops' side in pixels.

    Returns
    -------
    crops : ndarray of shape (n, size * size), uint8
    frames : ndarray of shape (n, 3) or (n, 4)
        The rounded frames (corner and side; an angle is kept as given),
        which map the crops' points back exactly.
    """
    gray = np.asarray(gray)
    if gray.ndim != 2 or not (gray.dtype == np.uint8 or np.issubdtype(gray.dtype, np.floating)):
        gray = as_gray(gray)
    scale = 1.0 if gray.dtype == np.uint8 else 255.0
    turned = np.asarray(frames, dtype=float).ndim == 2 and np.asarray(frames).shape[1:] == (4,)
    frames = _frames(frames)
    corners = np.round(frames[:, :2]).astype(int)
    sides = np.maximum(np.round(frames[:, 2]).astype(int), 8)
    size = int(size)
    crops = np.empty((len(frames), size * size), dtype=np.uint8)
    for i, ((c0, r0), n, angle) in enumerate(zip(corners, sides, frames[:, 3])):  # one resample per face
        if angle:
            crop = _turned_crop(gray, c0, r0, n, angle, size, scale)
        else:
            region = _region(gray, c0, r0, n, scale)
            # Pillow's bilinear filter widens with the shrink factor, so a large face is averaged, not aliased.
            crop = np.asarray(Image.fromarray(region, mode="F").resize((size, size), Image.BILINEAR))
        crops[i] = np.clip(np.round(crop), 0, 255).astype(np.uint8).ravel()
    rounded = np.c_[corners, sides].astype(float)
    return crops, (np.c_[rounded, frames[:, 3]] if turned else rounded)


def _region(gray, c0, r0, n, scale):
    """The photo's ``n``-pixel square at column ``c0``, row ``r0`` as float32 times ``scale``; past the photo's
    edge, its border pixels repeat."""
    height, width = gray.shape
    if c0 >= 0 and r0 >= 0 and c0 + n <= width and r0 + n <= height:  # inside: a slice, not a gather
        region = np.array(gray[r0:r0 + n, c0:c0 + n], dtype=np.float32)
    else:
        rows = np.clip(np.arange(r0, r0 + n), 0, height - 1)
        cols = np.clip(np.arange(c0, c0 + n), 0, width - 1)
        # two one-axis takes: a third of the time of one two-axis gather
        region = gray.take(rows, axis=0).take(cols, axis=1).astype(np.float32, copy=False)
    if scale != 1.0:
        region *= np.float32(scale)
    return region


def _turned_crop(gray, c0, r0, n, angle, size, scale):
    """The crop of the square ``(c0, r0, n)`` turned by ``angle`` degrees: the square's bounding region
    shrunk to the crop's scale first (Pillow's widened filter: no aliasing), then sampled bilinearly on the
    turned grid (Pillow's affine map, from the images' pixel corners)."""
    centre = np.array([c0 + n / 2 - 0.5, r0 + n / 2 - 0.5])
    theta = np.deg2rad(angle)
    reach = n / 2 * (abs(np.cos(theta)) + abs(np.sin(theta))) + 2
    left, top = np.floor(centre - reach).astype(int)
    extent = int(np.ceil(2 * reach)) + 1
    region = _region(gray, left, top, extent, scale)
    shrunk = max(int(round(extent * size / n)), 2)
    factor = shrunk / extent
    region = Image.fromarray(region, mode="F").resize((shrunk, shrunk), Image.BILINEAR)
    # Crop pixel (u, v) lies at photo point centre + turn((u + 1/2) n / size - n / 2, (v + 1/2) n / size - n / 2)
    # (to_photo); in the shrunk region's pixels, one crop pixel is a step of n / size * factor along the turned axes.
    step = n / size * factor
    step_x = step * np.array([np.cos(theta), -np.sin(theta)])
    step_y = step * np.array([np.sin(theta), np.cos(theta)])
    middle = (centre - [left, top] + 0.5) * factor - 0.5  # the crop's centre in the shrunk region's pixel centres
    corner = middle + 0.5 - size / 2 * (step_x + step_y)  # Pillow maps pixel corners: (i + 1/2, j + 1/2) -> source
    matrix = (step_x[0], step_y[0], corner[0], step_x[1], step_y[1], corner[1])
    return np.asarray(region.transform((size, size), Image.AFFINE, matrix, resample=Image.BILINEAR))


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


def point_angles(points, mean_shape):
    """The in-plane angle of each face: the turn that best maps the mean shape onto its points.

    Degrees, counterclockwise as the photo is seen: the rotation of the
    least-squares similarity from the (centred) mean shape to the (centred)
    points, as in Procrustes analysis.

    Parameters
    ----------
    points : ndarray of shape (n_faces, 2K)
    mean_shape : array-like of shape (K, 2) or (2K,)

    Returns
    -------
    ndarray of shape (n_faces,)
    """
    points = np.asarray(points, dtype=float)
    mean = np.asarray(mean_shape, dtype=float).reshape(-1, 2)
    pts = points.reshape(len(points), len(mean), 2)
    p = pts - pts.mean(axis=1, keepdims=True)
    m = mean - mean.mean(axis=0)
    cross = (p[..., 0] * m[:, 1] - p[..., 1] * m[:, 0]).sum(axis=1)
    dot = (p[..., 0] * m[:, 0] + p[..., 1] * m[:, 1]).sum(axis=1)
    return np.rad2deg(np.arctan2(cross, dot))


def reframe(points, mean_shape, *, size=CROP_SIZE, turn=False):
    """Crop frames that put photo keypoints where the training crops have them.

    The frame's scale matches the points' spread (RMS distance to their
    centroid) to the mean shape's, and its position matches the centroids:
    a crop made this way is framed like the training faces whatever the
    detector's box did. With ``turn``, the frame is also turned by the
    face's in-plane angle (:func:`point_angles`), so that the crop shows a
    tilted face upright.

    Parameters
    ----------
    points : ndarray of shape (n_faces, 2K)
        Keypoints in photo pixels.
    mean_shape : array-like of shape (K, 2) or (2K,)
        Mean keypoints of the training crops (a fitted model's ``mean_shape_``).
    size : int, default=CROP_SIZE
        The training crops' side (the model's ``image_shape_``).
    turn : bool, default=False
        Give turned frames ``(x0, y0, side, angle)``.

    Returns
    -------
    frames : ndarray of shape (n_faces, 3), or (n_faces, 4) with ``turn``

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
    if not turn:
        corner = centre - (mean_centre + 0.5) * (side / size)[:, None] + 0.5
        return np.c_[corner, side]
    # the mean shape's centroid, as an offset from the crop's centre, turned with the face
    angle = point_angles(points, mean)
    offset = _turn(((mean_centre + 0.5 - size / 2) * (side / size)[:, None])[:, None], angle)[:, 0]
    corner = centre - offset - side[:, None] / 2 + 0.5
    return np.c_[corner, side, angle]
