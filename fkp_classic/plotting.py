"""Drawing keypoints: on a photo at its own resolution, and grids of faces with true and predicted points.

Colours follow the face region of each keypoint (its layout's :attr:`~fkp_classic.keypoints.KeypointLayout.regions`).
"""

import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from .utils import atomic_write
from .utils._deprecation import keyword_only_after

__all__ = ["REGION_COLOURS", "draw_faces", "save_annotated", "image_format", "face_grid"]

REGION_COLOURS = {
    "eyes": (0, 200, 255),
    "eyebrows": (255, 150, 0),
    "nose": (255, 60, 60),
    "mouth": (255, 0, 200),
    "jaw": (120, 255, 80),
    "other": (255, 255, 255),
}
"""RGB colour of each face region."""

_BOX = (255, 230, 0)
_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


@keyword_only_after
@validate_params(
    {
        "image": ["array-like"],
        "faces": [list, tuple],
        "legend": ["boolean"],
        "radius": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "error_circles": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def draw_faces(image, faces, *, legend=True, radius=None, error_circles=True):
    """Draw each face's box, keypoints (and error circles, track id) on a copy of the photo.

    Parameters
    ----------
    image : array-like
        The photo the faces were found in (gray or RGB(A), any dtype the photo path takes).
    faces : list of fkp_classic.photo.Face
        What to draw (the photo's data, with the photo the second positional argument).
    legend : bool, default=True
        Write the colour of each face region in the top-left corner.
    radius : int, optional
        Point radius in pixels; by default 1.5% of the face's box side (at least 2).
    error_circles : bool, default=True
        Draw the circles of faces with ``point_std`` (below).

    Returns
    -------
    PIL.Image.Image
        RGB, of exactly the photo's width and height, so the faces' coordinates are its pixels.
        A face with ``point_std`` gets a circle of 1.645 standard deviations (a 90% interval) around
        each point; one with a ``track_id`` gets it written above its box.
    """
    from PIL import Image, ImageDraw

    from .photo import as_rgb8

    canvas = Image.fromarray(as_rgb8(image))
    draw = ImageDraw.Draw(canvas)
    used = []
    for face in faces:
        x, y, w, h = face.box
        draw.rectangle([x, y, x + w, y + h], outline=_BOX, width=max(1, round(w / 100)))
        r = radius if radius is not None else max(2, round(0.015 * w))
        regions = face.layout.regions
        for k, ((px, py), region) in enumerate(zip(face.points, regions)):
            colour = REGION_COLOURS[region]
            if region not in used:
                used.append(region)
            if error_circles and face.point_std_array is not None:
                e = 1.645 * float(np.mean(face.point_std_array[k]))
                draw.ellipse([px - e, py - e, px + e, py + e], outline=colour)
            draw.ellipse([px - r, py - r, px + r, py + r], fill=colour)
        if face.track_id is not None:
            draw.text((x, max(0, y - 12)), f"id {face.track_id}", fill=_BOX)
    if legend and used:
        for i, region in enumerate(used):
            draw.rectangle([4, 4 + 12 * i, 12, 12 + 12 * i], fill=REGION_COLOURS[region])
            draw.text((16, 2 + 12 * i), region, fill=REGION_COLOURS[region])
    return canvas


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def image_format(path):
    """The Pillow format named by the suffix of ``path`` (".png" -> "PNG", ".jpg" -> "JPEG", ...).

    Raises
    ------
    ValueError
        For a suffix that names no image format this can write.
    """
    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: the suffix names no image format; use one of {', '.join(sorted(_FORMATS))}")
    return fmt


@keyword_only_after
@validate_params(
    {
        "image": ["array-like"],
        "faces": [list, tuple],
        "path": [str, os.PathLike],
        "legend": ["boolean"],
        "error_circles": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def save_annotated(image, faces, *, path, legend=True, error_circles=True):
    """Write :func:`draw_faces` to ``path`` atomically, in the format its suffix names (:func:`image_format`).

    Parameters
    ----------
    image : array-like
        The photo the faces were found in.
    faces : list of fkp_classic.photo.Face
    path : str or Path
        The image file to write (``.png``, ``.jpg``, ...).
    legend, error_circles : bool, default=True
        As for :func:`draw_faces`.
    """
    fmt = image_format(path)
    annotated = draw_faces(image, faces, legend=legend, error_circles=error_circles)
    with atomic_write(path, "wb") as fh:
        annotated.save(fh, format=fmt)


@keyword_only_after
@validate_params(
    {
        "images": ["array-like"],
        "true": ["array-like", None],
        "pred": ["array-like", None],
        "n_cols": [Interval(numbers.Integral, 1, None, closed="left")],
        "size": [Interval(numbers.Real, 0, None, closed="neither")],
        "titles": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def face_grid(images, *, true=None, pred=None, n_cols=8, size=1.6, titles=None):
    """A matplotlib figure of faces with true (green dots) and predicted (red crosses) keypoints.

    Parameters
    ----------
    images : array-like of shape (n, h, w)
    true, pred : array-like of shape (n, 2K), optional
        Keypoints in the faces' pixels; NaN points are not drawn.
    n_cols : int, default=8
    size : float, default=1.6
        Inches per face.
    titles : sequence of str, optional
        One title per face.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("face_grid needs at least one face")
    cols = min(n, n_cols)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(size * cols, size * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255 if images.dtype == np.uint8 or images.max() > 1 else 1)
        if true is not None:
            ax.scatter(true[i][0::2], true[i][1::2], s=4 * size, c="lime", label="true")
        if pred is not None:
            ax.scatter(pred[i][0::2], pred[i][1::2], s=4 * size, c="red", marker="x", label="predicted")
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    return fig
