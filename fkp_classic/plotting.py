"""Drawing keypoints: on a photo at its own resolution, and grids of faces with true and predicted points.

Colours follow the face region of each keypoint (its layout's :attr:`~fkp_classic.keypoints.KeypointLayout.regions`).
"""

import functools
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_params

from .utils import atomic_write, resolve_image_shape
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
_TEXT_SHARE, _MIN_TEXT = 0.022, 12  # text height: 2.2% of the photo's shorter side, at least 12 px
_BACKING, _BACKING_ALPHA = (0, 0, 0), 0.6  # the box behind text: 60% black
_CIRCLE_OPACITY = 0.55  # error circles: the points and lines show through them


def _text_size(width, height):
    """Pixel height of the legend's and labels' text on a photo of this size."""
    return max(_MIN_TEXT, round(_TEXT_SHARE * min(width, height)))


@functools.lru_cache(maxsize=8)
def _font(size):
    """A scalable font of ``size`` pixels: Pillow's own (10.1 and later), else matplotlib's DejaVu Sans."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 (no size), or no FreeType
        pass
    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)
    except (OSError, ImportError):
        return ImageFont.load_default()


def _check_faces(faces):
    for i, face in enumerate(faces):
        if not all(hasattr(face, attr) for attr in ("box", "points", "layout")):
            raise ValueError(f"faces must be Face objects (from detect_keypoints or a FaceTracker), but faces[{i}] is "
                             f"a {type(face).__name__}; Face.from_dict makes one from a record")


def _radius(face):
    """Default point radius: 1.5% of the box side, but at most a third of the gap between neighbouring points
    (its lower quartile over the points), so that dense layouts (68 points on a small face) stay dots, not blobs."""
    r = 0.015 * face.box[2]
    points = face.points[np.isfinite(face.points).all(axis=1)]
    if len(points) > 1:
        gaps = np.linalg.norm(points[:, None] - points[None], axis=2)
        np.fill_diagonal(gaps, np.inf)
        r = min(r, np.percentile(gaps.min(axis=1), 25) / 3)
    return max(1.0, r)


def _line_width(face):
    """Width of the contour lines and error circles of a face: 0.5% of its box side, at least 1 px."""
    return max(1, round(face.box[2] / 200))


def _polylines(face):
    """The face's contours as ``(xy, region)`` polylines: split at a missing point or a change of region (a
    segment takes the region of the point it starts from)."""
    points, regions = face.points, face.layout.regions
    for indices, closed in face.layout.contour_indices():
        run = list(indices) + [indices[0]] * closed
        line, region = [], None
        for a, b in zip(run[:-1], run[1:]):
            if not (np.isfinite(points[a]).all() and np.isfinite(points[b]).all()) or regions[a] != region:
                if len(line) > 1:
                    yield line, region
                line, region = [], regions[a]
            if np.isfinite(points[a]).all() and np.isfinite(points[b]).all():
                line = line or [tuple(points[a])]
                line.append(tuple(points[b]))
        if len(line) > 1:
            yield line, region


def _legend_regions(faces):
    used = {region for face in faces for region, ok in zip(face.layout.regions, np.isfinite(face.points).all(axis=1))
            if ok}
    return [region for region in REGION_COLOURS if region in used]


def _backed_text(canvas, draw, xy, lines, size):
    """Write ``lines`` (``(text, colour, swatch)``) from ``xy`` on a 60% black box; returns the box.

    A swatch is a dot of the colour before the text, as a legend has.
    """
    font, pad, step = _font(size), max(2, size // 3), round(1.4 * size)
    dot = round(0.7 * size) if any(swatch for _, _, swatch in lines) else 0
    width = max(draw.textlength(text, font=font) for text, _, _ in lines)
    x0, y0 = (max(0, round(v)) for v in xy)
    x1, y1 = x0 + 3 * pad + dot + round(width), y0 + 2 * pad + step * len(lines)
    box = (x0, y0, min(canvas.width, x1), min(canvas.height, y1))
    if box[2] > box[0] and box[3] > box[1]:
        from PIL import Image

        region = canvas.crop(box)
        canvas.paste(Image.blend(region, Image.new("RGB", region.size, _BACKING), _BACKING_ALPHA), box[:2])
    for i, (text, colour, swatch) in enumerate(lines):
        middle = y0 + pad + step * i + step / 2
        x = x0 + pad
        if swatch:
            draw.ellipse([x, middle - dot / 2, x + dot, middle + dot / 2], fill=colour)
            x += dot + pad
        top, bottom = font.getbbox(text)[1::2]
        draw.text((x, middle - (top + bottom) / 2), text, fill=colour, font=font)
    return box


@keyword_only_after
@validate_params(
    {
        "image": ["array-like"],
        "faces": [list, tuple],
        "legend": ["boolean"],
        "radius": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "error_circles": ["boolean"],
        "contours": ["boolean"],
        "ax": "no_validation",  # checked below: a matplotlib Axes, without importing matplotlib
    },
    prefer_skip_nested_validation=True,
)
def draw_faces(image, faces, *, legend=True, radius=None, error_circles=True, contours=True, ax=None):
    """Draw each face's box, keypoints, contours (and error circles, track id) on a copy of the photo.

    Marks and text scale with the photo, so a 4000x3000 photo reads as well as a 320x240 video frame.

    Parameters
    ----------
    image : array-like
        The photo the faces were found in (gray or RGB(A), any dtype the photo path takes).
    faces : list of fkp_classic.photo.Face
        What to draw (the photo's data, with the photo the second positional argument).
    legend : bool, default=True
        Name the colour of each face region drawn, in the top-left corner on a dark box; its text is 2.2% of the
        photo's shorter side high (at least 12 px).
    radius : float, optional
        Point radius in pixels; by default 1.5% of the face's box side, at most a third of the usual gap between
        neighbouring points (at least 1).
    error_circles : bool, default=True
        Draw the circles of faces with ``point_std`` (below).
    contours : bool, default=True
        Join the points along their layout's :attr:`~fkp_classic.keypoints.KeypointLayout.contours`, in the colour
        of their region: for iBUG's 68 points the jaw, brows, nose, eyes and lips, as dlib's and MediaPipe's
        drawings do; for Kaggle's 15 the brows, eyes and mouth.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes instead (for notebooks): the photo with :meth:`~matplotlib.axes.Axes.imshow`, the marks
        as matplotlib artists in its pixel coordinates, the colour key as the axes' legend.

    Returns
    -------
    PIL.Image.Image or matplotlib.axes.Axes
        Without ``ax``: RGB, of exactly the photo's width and height, so the faces' coordinates are its pixels.
        With ``ax``: ``ax``. A face with ``point_std`` gets a circle of 1.645 standard deviations (a 90% interval)
        around each point; one with a ``track_id`` gets it written above its box.

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.analysis import project_mean_face
    >>> from fkp_classic.photo import Face
    >>> points = project_mean_face(0, 0, 0, scale=45, center=(226, 115))[0]  # a 68-point face, 45 px between the eyes
    >>> face = Face((170, 60, 110, 110), points, layout="ibug68")
    >>> draw_faces(data.astronaut(), [face]).size
    (512, 512)
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> draw_faces(data.astronaut(), [face], ax=ax) is ax
    True
    """
    from .photo import as_rgb8

    _check_faces(faces)
    if ax is not None and not callable(getattr(ax, "imshow", None)):
        raise InvalidParameterError(f"The 'ax' parameter of draw_faces must be a matplotlib Axes or None. "
                                    f"Got {type(ax).__name__} instead.")
    rgb = as_rgb8(image)
    options = dict(legend=legend, radius=radius, error_circles=error_circles, contours=contours)
    if ax is not None:
        return _draw_on_axes(ax, rgb, faces, **options)
    return _draw_on_image(rgb, faces, **options)


def _faint_circles(canvas, centres, radii, colours, width):
    """Circles at :data:`_CIRCLE_OPACITY`, under what is drawn next: the 90% circles of a dense layout overlap,
    and the lines and dots must stay readable through them."""
    from PIL import Image, ImageDraw

    keep = np.isfinite(radii) & (radii > 0)
    if not keep.any():
        return
    centres, radii, colours = centres[keep], radii[keep], [c for c, k in zip(colours, keep) if k]
    lo = np.floor((centres - radii[:, None]).min(axis=0)) - width
    hi = np.ceil((centres + radii[:, None]).max(axis=0)) + width + 1
    box = (max(0, int(lo[0])), max(0, int(lo[1])), min(canvas.width, int(hi[0])), min(canvas.height, int(hi[1])))
    if box[2] <= box[0] or box[3] <= box[1]:
        return
    region = canvas.crop(box).convert("RGBA")
    layer = Image.new("RGBA", region.size, (0, 0, 0, 0))
    draw, alpha = ImageDraw.Draw(layer), round(255 * _CIRCLE_OPACITY)
    for (px, py), e, colour in zip(centres - box[:2], radii, colours):
        draw.ellipse([px - e, py - e, px + e, py + e], outline=(*colour, alpha), width=width)
    canvas.paste(Image.alpha_composite(region, layer).convert("RGB"), box[:2])


def _draw_on_image(rgb, faces, *, legend, radius, error_circles, contours):
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(rgb)
    draw = ImageDraw.Draw(canvas)
    labels = []
    for face in faces:
        x, y, w, h = face.box
        width = _line_width(face)
        draw.rectangle([x, y, x + w, y + h], outline=_BOX, width=max(1, round(w / 100)))
        ok = np.isfinite(face.points).all(axis=1)
        points, colours = face.points[ok], [REGION_COLOURS[r] for r, keep in zip(face.layout.regions, ok) if keep]
        if error_circles and face.point_std_array is not None:
            _faint_circles(canvas, points, 1.645 * face.point_std_array[ok].mean(axis=1), colours, width)
        if contours:
            for line, region in _polylines(face):
                draw.line(line, fill=REGION_COLOURS[region], width=width, joint="curve")
        r = radius if radius is not None else _radius(face)
        for (px, py), colour in zip(points, colours):
            draw.ellipse([px - r, py - r, px + r, py + r], fill=colour)
        if face.track_id is not None:
            labels.append(((x, y), f"id {face.track_id}"))
    size = _text_size(canvas.width, canvas.height)
    margin = max(2, size // 3)
    for (x, y), text in labels:  # above the box, inside the photo
        _backed_text(canvas, draw, (x, max(0, y - round(1.4 * size) - 2 * margin)), [(text, _BOX, False)], size)
    regions = _legend_regions(faces)
    if legend and regions:
        _backed_text(canvas, draw, (margin, margin), [(r, REGION_COLOURS[r], True) for r in regions], size)
    return canvas


def _draw_on_axes(ax, rgb, faces, *, legend, radius, error_circles, contours):
    from matplotlib.collections import EllipseCollection, LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    def colour(region):
        return tuple(c / 255 for c in REGION_COLOURS[region])

    ax.imshow(rgb)
    for face in faces:
        x, y, w, h = face.box
        ax.add_patch(Rectangle((x, y), w, h, fill=False, edgecolor=tuple(c / 255 for c in _BOX), linewidth=1.5))
        if contours:
            lines = list(_polylines(face))
            if lines:
                ax.add_collection(LineCollection([line for line, _ in lines], colors=[colour(r) for _, r in lines],
                                                 linewidths=1, capstyle="round", joinstyle="round"))
        ok = np.isfinite(face.points).all(axis=1)
        points = face.points[ok]
        colours = [colour(r) for r, keep in zip(face.layout.regions, ok) if keep]
        if error_circles and face.point_std_array is not None:
            e = 2 * 1.645 * face.point_std_array[ok].mean(axis=1)
            ax.add_collection(EllipseCollection(e, e, 0, units="xy", offsets=points, offset_transform=ax.transData,
                                                facecolors="none", edgecolors=colours, linewidths=0.8,
                                                alpha=_CIRCLE_OPACITY))
        d = 2 * (radius if radius is not None else _radius(face))
        ax.add_collection(EllipseCollection(d, d, 0, units="xy", offsets=points, offset_transform=ax.transData,
                                            facecolors=colours, edgecolors="none"))
        if face.track_id is not None:
            ax.text(x, y, f"id {face.track_id}", color=tuple(c / 255 for c in _BOX), va="bottom", fontsize=9,
                    bbox=dict(facecolor=_BACKING, alpha=_BACKING_ALPHA, linewidth=0))
    regions = _legend_regions(faces)
    if legend and regions:
        handles = [Line2D([], [], color=colour(r), marker="o", linestyle="-" if contours else "none", label=r)
                   for r in regions]
        ax.legend(handles=handles, loc="upper left", facecolor=_BACKING, framealpha=_BACKING_ALPHA,
                  edgecolor="none", labelcolor="linecolor", fontsize=9)
    return ax


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
        "contours": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def save_annotated(image, faces, *, path, legend=True, error_circles=True, contours=True):
    """Write :func:`draw_faces` to ``path`` atomically, in the format its suffix names (:func:`image_format`).

    Parameters
    ----------
    image : array-like
        The photo the faces were found in.
    faces : list of fkp_classic.photo.Face
    path : str or Path
        The image file to write (``.png``, ``.jpg``, ...).
    legend, error_circles, contours : bool, default=True
        As for :func:`draw_faces`.
    """
    fmt = image_format(path)
    annotated = draw_faces(image, faces, legend=legend, error_circles=error_circles, contours=contours)
    with atomic_write(path, "wb") as fh:
        annotated.save(fh, format=fmt)


def _grid_images(images, image_shape):
    """``images`` as an (n, h, w) or (n, h, w, 3|4) array: flat rows (as estimators take ``X``) reshaped."""
    try:
        images = np.asarray(images, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"face_grid's images must be an array of pixel values, got {type(images).__name__}") from None
    if images.ndim == 3 and images.shape[-1] in (3, 4) and images.shape[1] > 4:
        raise ValueError(f"face_grid's images has shape {images.shape}: one colour photo, not faces; it draws a batch "
                         "of face crops, (n, h*w) rows as estimators take them or (n, h, w) images (pass [photo] for "
                         "one, or use draw_faces for the faces found in a photo)")
    if images.ndim == 2:
        try:
            shape = resolve_image_shape(images.shape[1], image_shape)
        except ValueError as exc:
            raise ValueError(f"face_grid's images of shape {images.shape} are read as {len(images)} flat faces, but "
                             f"{exc} (for one face image, pass [image])") from None
        return images.reshape(len(images), *shape)
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] in (3, 4)):
        return images
    raise ValueError(f"face_grid's images must be (n, h*w) flat rows, (n, h, w) or (n, h, w, 3) images, got shape "
                     f"{images.shape}")


def _grid_points(points, n, name):
    """Keypoints as an (n, 2K) array, or a clear error naming the parameter."""
    if points is None:
        return None
    try:
        points = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"face_grid's {name} must be numbers, one row x1, y1, x2, y2, ... per face; got "
                         f"{type(points).__name__}" + (f" of {type(points[0]).__name__}" if len(points) else "")
                         ) from None
    if points.ndim == 3 and points.shape[2] == 2:
        points = points.reshape(len(points), -1)
    if points.ndim != 2 or points.shape[1] % 2:
        raise ValueError(f"face_grid's {name} must have shape (n_faces, 2K) or (n_faces, K, 2), got {points.shape}")
    if len(points) < n:
        raise ValueError(f"face_grid's {name} has {len(points)} rows for {n} faces")
    return points


@keyword_only_after
@validate_params(
    {
        "images": ["array-like"],
        "true": ["array-like", None],
        "pred": ["array-like", None],
        "n_cols": [Interval(numbers.Integral, 1, None, closed="left")],
        "size": [Interval(numbers.Real, 0, None, closed="neither")],
        "titles": ["array-like", None],
        "image_shape": [tuple, None],
        "legend": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def face_grid(images, *, true=None, pred=None, n_cols=8, size=1.6, titles=None, image_shape=None, legend=True):
    """A matplotlib figure of face crops with true (green dots) and predicted (red crosses) keypoints.

    For looking at data and predictions in the 96x96 format (``fkp show`` draws one); for faces found in a photo,
    see :func:`draw_faces`.

    Parameters
    ----------
    images : array-like of shape (n, h * w), (n, h, w) or (n, h, w, 3)
        The faces: flat rows, as every estimator's ``X`` (square unless ``image_shape`` says otherwise), or images.
        Gray values in [0, 255], or in [0, 1] when none is above 1.
    true, pred : array-like of shape (n, 2K) or (n, K, 2), optional
        Keypoints ``x1, y1, x2, y2, ...`` in the faces' pixels, as ``y``; NaN points are not drawn.
    n_cols : int, default=8
        Faces per row.
    size : float, default=1.6
        Inches per face.
    titles : sequence of str, optional
        One title per face.
    image_shape : (int, int), optional
        ``(height, width)`` of flat rows that are not square.
    legend : bool, default=True
        Put the key of the markers (which are true, which predicted) under the grid.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot: save it with ``fig.savefig``, or show it in a notebook as the cell's value.

    Raises
    ------
    ValueError
        For images that are not a batch of faces (one photo of shape ``(h, w, 3)``, rows that are not square without
        ``image_shape``), or keypoints that are not numbers of shape ``(n, 2K)``.

    Examples
    --------
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(6, random_state=0, return_X_y=True)
    >>> fig = face_grid(X, true=y, pred=y + 1, n_cols=3)
    >>> len(fig.axes), fig.legends[0].texts[1].get_text()
    (6, 'predicted')
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    images = _grid_images(images, image_shape)
    n = len(images)
    if n == 0:
        raise ValueError("face_grid needs at least one face")
    true, pred = _grid_points(true, n, "true"), _grid_points(pred, n, "pred")
    if titles is not None and len(titles) < n:
        raise ValueError(f"face_grid has {len(titles)} titles for {n} faces")
    cols = min(n, n_cols)
    rows = int(np.ceil(n / cols))
    keys = [Line2D([], [], color="lime", marker="o", linestyle="none", label="true")] * (true is not None) + [
        Line2D([], [], color="red", marker="x", linestyle="none", label="predicted")] * (pred is not None)
    keys = keys if legend else []
    fontsize = max(8, min(12, 5 * size))
    # inches above the faces (for their titles) and under them (for the key), added so that the faces keep their size
    top, bottom = 0.3 if titles is not None else 0.02, 2.2 * fontsize / 72 if keys else 0.02
    height = size * rows + top + bottom
    fig = Figure(figsize=(size * cols, height))
    axes = fig.subplots(rows, cols, squeeze=False)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=bottom / height, top=1 - top / height, wspace=0.05,
                        hspace=0.25 if titles is not None else 0.05)
    if keys:
        fig.legend(handles=keys, loc="lower center", ncol=len(keys), frameon=False, fontsize=fontsize)
    vmax = 1 if np.nanmax(images) <= 1 else 255
    marker = 4 * size
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        face = images[i] / vmax if images.ndim == 4 else images[i]
        ax.imshow(np.clip(face, 0, 1) if images.ndim == 4 else face, cmap="gray", vmin=0, vmax=vmax)
        ax.autoscale(False)  # every face the same size: a point off the face is not drawn, not a smaller face
        if true is not None:
            ax.scatter(true[i][0::2], true[i][1::2], s=marker, c="lime", label="true")
        if pred is not None:
            ax.scatter(pred[i][0::2], pred[i][1::2], s=marker, c="red", marker="x", label="predicted")
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    return fig
