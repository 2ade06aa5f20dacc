"""Training crops cut from annotated photos, framed as the photo path frames a face, with augmentation."""

import io
import numbers

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ._annotated_photos import AnnotatedPhotos

__all__ = ["FRAMING_NOISE", "photo_training_crops", "resize_crops"]

FRAMING_NOISE = (0.036, 0.11)
"""Default standard deviations of the framing noise: centre shift (x and y, over the crop's side) and log scale.

Those of the packaged HOG face detector's proposals against the frames the true points give, on the 300-W
training photos (``benchmarks/wild.py framing``, ``benchmarks/results/wild/framing.md``): the first crop
the photo path cuts. Training at this noise scored better end to end than at the smaller noise of the
photo path's re-crops (``benchmarks/results/wild/README.md``)."""


def _packaged_mean_shape(layout, size):
    """The packaged model's mean shape for ``layout``, in ``size``-pixel crops (so the packaged verifier's framing holds)."""
    if layout.name not in ("ibug68", "kaggle15"):
        raise ValueError(
            f"no packaged model has the {layout.name or f'{layout.n_keypoints}-point'} layout to take a mean shape "
            "from: pass mean_shape= (where the keypoints should sit in a crop)"
        )
    from ..persistence import load_default_model

    model = load_default_model(layout=layout.name)
    side = model.image_shape_[1]
    return (np.asarray(model.mean_shape_, dtype=float).reshape(-1, 2) + 0.5) * (size / side) - 0.5


def _mirror(gray, points, flip_permutation):
    """The photo mirrored left-right and its faces' points mirrored to match (flip pairs swapped)."""
    width = gray.shape[1]
    pts = points.reshape(len(points), -1, 2)[:, flip_permutation].copy()
    pts[..., 0] = width - 1 - pts[..., 0]
    return gray[:, ::-1], pts.reshape(points.shape)


def _rotated_crops(gray, frames, angles, size):
    """Crops of ``frames`` with the photo turned ``angles`` degrees (counter-clockwise as seen) about each frame's
    centre, and the map of photo points into them: ``(crops, centres, rounded frames)``.

    Each face's neighbourhood is turned at the photo's own resolution, then cut and resampled as
    :func:`fkp_classic.photo.crop_frames` cuts the photo path's crops."""
    from ..photo import crop_frames

    crops = np.empty((len(frames), size * size), dtype=np.uint8)
    rounded = np.empty((len(frames), 3))
    for i, ((x0, y0, side), angle) in enumerate(zip(frames, angles)):  # one neighbourhood per face
        half = 0.75 * side + 2  # covers the crop square turned by any angle (its half-diagonal is 0.71 side)
        cx, cy = x0 + side / 2 - 0.5, y0 + side / 2 - 0.5
        n = int(np.ceil(2 * half))
        window, wframe = crop_frames(gray, [[cx - n / 2 + 0.5, cy - n / 2 + 0.5, n]], size=n)
        wx0, wy0, n = wframe[0]
        n = int(n)
        window = window.reshape(n, n)
        if angle:
            turned = Image.fromarray(window).rotate(angle, Image.BILINEAR, center=(cx - wx0 + 0.5, cy - wy0 + 0.5))
            window = np.asarray(turned)
        crop, r = crop_frames(window, [[x0 - wx0, y0 - wy0, side]], size=size)
        crops[i], rounded[i] = crop[0], r[0] + [wx0, wy0, 0]
    return crops, rounded


def _turn(points, centres, angles):
    """Points ``(n, 2K)`` turned ``angles`` degrees counter-clockwise (as seen, y down) about ``centres`` ``(n, 2)``."""
    pts = points.reshape(len(points), -1, 2) - centres[:, None]
    a = np.radians(angles)[:, None]
    c, s = np.cos(a), np.sin(a)
    x, y = pts[..., 0], pts[..., 1]
    turned = np.stack([c * x + s * y, -s * x + c * y], axis=-1) + centres[:, None]
    return turned.reshape(points.shape)


def _photometric(crops, rng, size, blur, contrast, brightness, jpeg_quality):
    """Blur, contrast, brightness and JPEG re-encoding of uint8 crops ``(n, size * size)``, each drawn per crop."""
    n = len(crops)
    images = crops.reshape(n, size, size).astype(np.float32)
    if blur:
        sigma = np.round(rng.uniform(0, blur, n) * 4) / 4  # a few levels: one filter call per level
        for level in np.unique(sigma[sigma > 0]):
            rows = sigma == level
            images[rows] = gaussian_filter(images[rows], (0, level, level), mode="nearest")
    if contrast or brightness:
        gain = np.exp(rng.normal(0, contrast, n))[:, None, None]
        mean = images.mean(axis=(1, 2), keepdims=True)
        images = (images - mean) * gain + mean + rng.normal(0, brightness, n)[:, None, None]
    out = np.clip(np.round(images), 0, 255).astype(np.uint8)
    if jpeg_quality is not None:
        low, high = jpeg_quality
        for i, quality in enumerate(rng.randint(low, high + 1, n)):  # the codec takes one image at a time
            buffer = io.BytesIO()
            Image.fromarray(out[i]).save(buffer, format="JPEG", quality=int(quality))
            out[i] = np.asarray(Image.open(buffer))
    return out.reshape(n, size * size)


@validate_params(
    {
        "photos": [AnnotatedPhotos],
        "size": [Interval(numbers.Integral, 8, None, closed="left")],
        "mean_shape": ["array-like", None],
        "n_perturbations": [Interval(numbers.Integral, 0, None, closed="left")],
        "framing_noise": [tuple, list],
        "rotation": [Interval(numbers.Real, 0, 90, closed="both")],
        "mirror": ["boolean"],
        "blur": [Interval(numbers.Real, 0, None, closed="left")],
        "contrast": [Interval(numbers.Real, 0, None, closed="left")],
        "brightness": [Interval(numbers.Real, 0, None, closed="left")],
        "jpeg_quality": [tuple, list, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def photo_training_crops(
    photos, *, size=96, mean_shape=None, n_perturbations=1, framing_noise=FRAMING_NOISE, rotation=0.0,
    mirror=True, blur=0.0, contrast=0.0, brightness=0.0, jpeg_quality=None, random_state=None,
):
    """Square training crops of annotated faces, framed as the photo path frames a face, and augmented.

    Each face gives one crop framed exactly from its true points
    (:func:`fkp_classic.photo.reframe` with ``mean_shape``: where the photo
    path's re-crop puts a face it has fitted perfectly) and
    ``n_perturbations`` crops whose frame is shifted and scaled at random
    (``framing_noise``: the photo path frames a face from its predicted
    points, never exactly), turned in the plane (``rotation``) and degraded
    (``blur``, ``contrast``, ``brightness``, ``jpeg_quality``). With
    ``mirror``, the photo is mirrored before cropping and every crop is cut
    again from the mirrored photo with the mirrored points (the layout's
    flip pairs swapped): mirrored crops are framed exactly as the others.
    Photos are read one at a time.

    Parameters
    ----------
    photos : AnnotatedPhotos
        From :func:`load_300w`, :func:`load_dlib_xml` or :func:`load_photo_points`.
    size : int, default=96
        Side of the crops in pixels (the model's ``image_shape_``).
    mean_shape : array-like of shape (K, 2) or None, default=None
        Where the points sit in a crop (only their centroid and spread
        matter to the framing). None takes the packaged model's of the
        photos' layout (``ibug68`` or ``kaggle15``), scaled to ``size``, so
        that the packaged face verifier sees crops framed as it was trained.
    n_perturbations : int, default=1
        Perturbed crops per face (and per mirror image), beside the exact one.
    framing_noise : (float, float), default=FRAMING_NOISE
        Standard deviations of the perturbed frames' centre shift (x and y
        each, over the frame's side) and of their log scale.
    rotation : float, default=0.0
        Standard deviation of the perturbed crops' in-plane turn, in degrees.
    mirror : bool, default=True
        Also cut every crop from the mirrored photo.
    blur : float, default=0.0
        Perturbed crops are blurred with a Gaussian of sigma drawn uniformly
        in ``[0, blur]`` crop pixels.
    contrast : float, default=0.0
        Standard deviation of the log contrast gain of the perturbed crops (about their mean).
    brightness : float, default=0.0
        Standard deviation of the grey-level offset of the perturbed crops.
    jpeg_quality : (int, int) or None, default=None
        Perturbed crops are JPEG-encoded at a quality drawn in this range.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    crops : Bunch
        ``data`` (n_crops, size * size) uint8; ``target`` (n_crops, 2K),
        the points in crop pixels (NaN where not given); ``face`` (n_crops,),
        the row of ``photos.points`` each crop shows; ``mirrored`` and
        ``perturbed`` (n_crops,) bool; ``groups`` (n_crops,), the crops'
        photos (for ``GroupKFold``); ``frames`` (n_crops, 3), each crop's frame
        ``(x0, y0, side)`` in its (mirrored, for a mirrored crop) photo
        before any turn; ``layout``, ``mean_shape``, ``image_shape``.

    Raises
    ------
    ValueError
        If a face has a missing point (the frame needs all of them), or the
        mean shape does not fit the layout.

    Examples
    --------
    >>> from fkp_classic.datasets import load_300w, photo_training_crops
    >>> photos = load_300w("../shared/data/300w")  # doctest: +SKIP
    >>> crops = photo_training_crops(photos.take(range(10)), size=128, random_state=0)  # doctest: +SKIP
    >>> crops.data.shape  # doctest: +SKIP
    (40, 16384)
    """
    from ..photo import crop_frames, reframe, to_crop

    if len(framing_noise) != 2 or not all(np.isfinite(v) and v >= 0 for v in framing_noise):
        raise ValueError(f"framing_noise must be two numbers >= 0 (shift, log scale), got {framing_noise!r}")
    if jpeg_quality is not None and not (len(jpeg_quality) == 2 and 1 <= jpeg_quality[0] <= jpeg_quality[1] <= 100):
        raise ValueError(f"jpeg_quality must be (lowest, highest) within 1..100, got {jpeg_quality!r}")
    layout = photos.layout
    mean = _packaged_mean_shape(layout, size) if mean_shape is None else np.asarray(mean_shape, dtype=float)
    mean = mean.reshape(-1, 2)
    if len(mean) != layout.n_keypoints:
        raise ValueError(f"mean_shape has {len(mean)} points but the photos' layout has {layout.n_keypoints}")
    missing = np.isnan(photos.points).any(axis=1)
    if missing.any():
        face = int(np.flatnonzero(missing)[0])
        raise ValueError(f"{photos.sources[face]}: face {face} has missing points; a crop is framed from all of them "
                         "(take() the complete faces)")
    rng = check_random_state(random_state)
    shift_sd, scale_sd = map(float, framing_noise)
    per_face = (1 + n_perturbations) * (2 if mirror else 1)
    n = photos.n_faces * per_face
    data = np.empty((n, size * size), dtype=np.uint8)
    target = np.empty((n, photos.points.shape[1]))
    face_of, mirrored, perturbed = np.empty(n, dtype=np.intp), np.zeros(n, bool), np.zeros(n, bool)
    frames_out = np.empty((n, 3))
    flip = layout.flip_permutation
    row = 0
    for _, gray, faces in photos.iter_photos():
        views = [(gray, photos.points[faces], False)]
        if mirror:
            views.append((*_mirror(gray, photos.points[faces], flip), True))
        for image, points, is_mirror in views:
            exact = reframe(points, mean, size=size)
            for k in range(1 + n_perturbations):
                rows = slice(row, row + len(faces))
                frames, angles = exact.copy(), np.zeros(len(faces))
                if k:
                    frames[:, 2] *= np.exp(rng.normal(0, scale_sd, len(faces)))
                    centre = exact[:, :2] + exact[:, 2:] / 2 + rng.normal(0, shift_sd, (len(faces), 2)) * exact[:, 2:]
                    frames[:, :2] = centre - frames[:, 2:] / 2
                    if rotation:
                        angles = rng.normal(0, rotation, len(faces))
                if angles.any():
                    crops, rounded = _rotated_crops(image, frames, angles, size)
                    centres = rounded[:, :2] + rounded[:, 2:] / 2 - 0.5
                    pts = _turn(points, centres, angles)
                else:
                    crops, rounded = crop_frames(image, frames, size=size)
                    pts = points
                if k:
                    crops = _photometric(crops, rng, size, blur, contrast, brightness, jpeg_quality)
                data[rows], target[rows] = crops, to_crop(pts, rounded, size=size)
                face_of[rows], mirrored[rows], perturbed[rows], frames_out[rows] = faces, is_mirror, bool(k), frames
                row += len(faces)
    return Bunch(
        data=data, target=target, face=face_of, mirrored=mirrored, perturbed=perturbed,
        groups=photos.groups[face_of], frames=frames_out, layout=layout, mean_shape=mean, image_shape=(size, size),
    )


def resize_crops(X, y, size):
    """Square crops ``(n, s * s)`` and their points ``(n, 2K)`` resampled to ``size`` pixels a side.

    Points follow the pixel-centre convention of the crops: ``u' = (u + 0.5) * size / s - 0.5``.
    For adding ready-cut crops (faces96's 96x96) to crops cut at another size.
    """
    X = np.asarray(X)
    side = int(round(np.sqrt(X.shape[1])))
    if side * side != X.shape[1]:
        raise ValueError(f"crops of {X.shape[1]} pixels are not square")
    y = (np.asarray(y, dtype=float) + 0.5) * (size / side) - 0.5
    if side == size:
        return X, y
    out = np.empty((len(X), size * size), dtype=np.uint8)
    for i, crop in enumerate(X.reshape(len(X), side, side).astype(np.float32)):  # Pillow resamples one image at a time
        out[i] = np.clip(np.round(np.asarray(Image.fromarray(crop, mode="F").resize((size, size), Image.BILINEAR))),
                         0, 255).astype(np.uint8).ravel()
    return out, y
