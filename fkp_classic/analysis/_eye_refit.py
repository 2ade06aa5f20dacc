"""Eye contours refitted at the eye's own resolution: a cascade on crops cut from the photo around each eye.

A face model sees an eye in a few pixels of its 96 x 96 crop (an eye is
about a tenth of the crop wide), so its eyelid points lean towards the mean
eye and eye openness from them is compressed. Here each eye is cut from the
photo itself into its own square crop, turned so that its corners lie level
and scaled so that it spans the same share of every crop (``EYE_SPAN``
times the distance between its corners), and a keypoint model of the eye's
points refits them there, as part-based refinements of face alignment do
(e.g. the local models of Zhu & Ramanan 2012 and Xiong & De la Torre 2013's
coarse-to-fine cascades). One model serves both eyes: the other eye is cut
from the mirrored photo and its points mirrored into the first eye's order
by the layout's flip pairs.

Which points an eye model refits is said by its layout's names (those of
one eye of the face's layout, such as iBUG's ``p36``-``p41``), never
guessed from a number of points.

References
----------
.. [1] Zhu, X. and Ramanan, D. "Face detection, pose estimation, and landmark
   localization in the wild", CVPR 2012.
.. [2] Xiong, X. and De la Torre, F. "Supervised descent method and its
   applications to face alignment", CVPR 2013.
"""

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..keypoints import KeypointLayout, get_layout

__all__ = ["EYE_SPAN", "MIN_EYE_WIDTH", "eye_training_crops", "refit_eyes", "eye_cascade"]

EYE_SPAN = 2.0
"""An eye crop's side over the distance between the eye's corners (its first and fourth contour points)."""

MIN_EYE_WIDTH = 18.0
"""Eyes narrower than this (corner distance, photo pixels) keep the face model's points: its 96-pixel crop
already shows an eye of 12-16 pixels at about its own resolution, and the eye model does no better there."""

EYE_FRAMING_NOISE = (0.08, 0.10, 5.0)
"""Standard deviations of the perturbed training crops' centre shift (over the side), log scale and turn
(degrees): about a face model's eye error, from which the eye model starts."""


def _eye_indices(layout, eye_names):
    """Indices in ``layout`` of the eye model's points, and of the other eye's in the same order (by flip pairs)."""
    index = {name: i for i, name in enumerate(layout.names)}
    missing = [name for name in eye_names if name not in index]
    if missing:
        raise ValueError(f"the eye model's points {list(eye_names)} are not all in the {layout._title} layout "
                         f"(missing {missing})")
    partner = {a: b for pair in layout.flip_pairs for a, b in (pair, pair[::-1])}
    other = [partner.get(name) for name in eye_names]
    if None in other or set(other) & set(eye_names):
        raise ValueError(f"the {layout._title} layout's flip pairs do not map the eye model's points "
                         f"{list(eye_names)} onto the other eye's")
    return np.array([index[n] for n in eye_names]), np.array([index[n] for n in other])


def _eye_frames(eye, rng=None, noise=None):
    """Turned square frames ``(x0, y0, side, angle)`` (n, 4) around eyes ``(n, k, 2)``: centred on the points'
    mean, ``EYE_SPAN`` times the corner distance wide, turned so that the corners lie level."""
    centre = eye.mean(axis=1)
    corners = eye[:, 3] - eye[:, 0]
    side = EYE_SPAN * np.hypot(corners[:, 0], corners[:, 1])
    tilt = np.degrees(np.arctan2(corners[:, 1], corners[:, 0]))
    if noise is not None:
        shift, log_scale, turn = noise
        centre = centre + rng.normal(0, shift, centre.shape) * side[:, None]
        side = side * np.exp(rng.normal(0, log_scale, len(side)))
        tilt = tilt + rng.normal(0, turn, len(tilt))
    return np.c_[centre - side[:, None] / 2, side, -tilt]


def _both_eyes(gray, points, own, other):
    """The eyes of faces ``(n, K, 2)``: each face's own eye as it is, and its other eye from the mirrored photo,
    mirrored into the own eye's order. Gives ``(photo, eyes (n, k, 2), mirrored)`` twice."""
    width = gray.shape[1]
    mirrored = points[:, other].copy()
    mirrored[..., 0] = width - 1 - mirrored[..., 0]
    return (gray, points[:, own], False), (np.ascontiguousarray(gray[:, ::-1]), mirrored, True)


def eye_training_crops(photos, eye_names, *, size=48, n_perturbations=4, framing_noise=EYE_FRAMING_NOISE,
                       random_state=None):
    """Square crops of both eyes of every annotated face, framed as :func:`refit_eyes` frames them.

    Each eye gives one crop framed from its true points and
    ``n_perturbations`` shifted, scaled and turned at random
    (``framing_noise``), since :func:`refit_eyes` frames an eye from a face
    model's points, never exactly. The other eye is cut from the mirrored
    photo, its points mirrored into the first eye's order.

    Parameters
    ----------
    photos : AnnotatedPhotos
        From :func:`~fkp_classic.datasets.load_300w` (or the other readers).
    eye_names : sequence of str
        One eye's points in the photos' layout, its corners first and fourth
        (iBUG: ``p36``-``p41``); the other eye's come from the flip pairs.
    size : int, default=48
        Side of the crops in pixels (the eye model's ``image_shape_``).
    n_perturbations : int, default=4
    framing_noise : (float, float, float), default=EYE_FRAMING_NOISE
        Standard deviations of the centre shift (over the side), log scale
        and turn (degrees) of the perturbed crops.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    crops : Bunch
        ``data`` (n_crops, size * size) uint8, ``target`` (n_crops, 2k) the
        eye's points in crop pixels, ``groups`` (n_crops,) the crops' photos,
        ``layout`` (the eye's :class:`~fkp_classic.keypoints.KeypointLayout`),
        ``image_shape``.
    """
    from ..photo import crop_frames, to_crop

    eye_names = tuple(eye_names)
    own, other = _eye_indices(photos.layout, eye_names)
    if len(eye_names) < 4:
        raise ValueError(f"an eye model needs at least the eye's corners and lids (4 points), got {list(eye_names)}")
    rng = check_random_state(random_state)
    data, target, groups = [], [], []
    for _, gray, faces in photos.iter_photos():
        points = photos.points[faces].reshape(len(faces), -1, 2)
        if np.isnan(points[:, np.r_[own, other]]).any():
            raise ValueError(f"{photos.sources[faces[0]]}: a face lacks eye points; take() the complete faces")
        for image, eyes, _ in _both_eyes(gray, points, own, other):
            for k in range(1 + n_perturbations):
                frames = _eye_frames(eyes, rng, framing_noise if k else None)
                crops, rounded = crop_frames(image, frames, size=size)
                data.append(crops)
                target.append(to_crop(eyes.reshape(len(eyes), -1), rounded, size=size))
                groups.append(photos.groups[faces])
    return Bunch(data=np.concatenate(data), target=np.concatenate(target), groups=np.concatenate(groups),
                 layout=KeypointLayout(eye_names), image_shape=(size, size))


def eye_cascade(**params):
    """The :class:`~fkp_classic.estimators.CascadeRegressor` settings of the packaged eye model (a few close points on
    a crop of one eye), with ``params`` overriding them."""
    from ..estimators import CascadeRegressor

    settings = {"grid": 4, "n_bins": 4, "cell_sizes": (8, 6, 4), "alpha": 40.0, "n_perturbations": 2,
                "uncertainty": False}
    return CascadeRegressor(**{**settings, **params})


def refit_eyes(photo, points, eye_model, *, layout, min_width=MIN_EYE_WIDTH):
    """Faces' keypoints with both eyes' points refitted by an eye model on crops cut from the photo.

    Parameters
    ----------
    photo : array-like
        The photo the points are in (any form
        :func:`~fkp_classic.photo.as_gray8` takes).
    points : array-like of shape (n, K, 2)
        The faces' keypoints in photo pixels.
    eye_model : fitted estimator
        A keypoint model of one eye's crops (``image_shape_`` square, its
        ``layout_`` naming the eye's points in ``layout``), such as
        :func:`~fkp_classic.persistence.load_eye_model`'s, fitted on
        :func:`eye_training_crops`.
    layout : KeypointLayout or str
        The faces' layout.
    min_width : float, default=MIN_EYE_WIDTH
        Eyes whose corners are closer than this many photo pixels keep their
        points.

    Returns
    -------
    points : ndarray of shape (n, K, 2)
        A copy, the eyes at least ``min_width`` wide refitted.

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic import detect_keypoints, load_default_model
    >>> from fkp_classic.analysis import refit_eyes
    >>> from fkp_classic.persistence import load_eye_model
    >>> photo = data.astronaut()
    >>> face = detect_keypoints(photo, model=load_default_model(layout="ibug68"), max_faces=1)[0]
    >>> refit_eyes(photo, face.points[None], load_eye_model(), layout="ibug68").shape
    (1, 68, 2)
    """
    from ..photo import as_gray8, crop_frames, to_photo

    layout = get_layout(layout) if isinstance(layout, str) else layout
    pts = np.array(points, dtype=float).reshape(-1, layout.n_keypoints, 2)
    own, other = _eye_indices(layout, eye_model.layout_.names)
    widths = [np.hypot(*(pts[:, side[3]] - pts[:, side[0]]).T) for side in (own, other)]
    wide = [w >= min_width for w in widths]  # NaN widths (missing points) are not
    out = pts.copy()
    if not any(w.any() for w in wide):
        return out
    size = eye_model.image_shape_[0]
    # only the part of the photo around the eyes is made grey (a video frame is far larger than its faces' eyes)
    image = np.asarray(photo)
    eyes = pts[wide[0] | wide[1]][:, np.r_[own, other]]
    reach = EYE_SPAN * max(w[m].max() for w, m in zip(widths, wide) if m.any())
    low = np.floor(eyes.min(axis=(0, 1)) - reach).astype(int).clip(0)
    high = np.ceil(eyes.max(axis=(0, 1)) + reach).astype(int) + 1
    if (high <= low).any() or (low >= image.shape[1::-1]).any():
        low, high = np.zeros(2, dtype=int), np.array(image.shape[1::-1])
    gray = as_gray8(image[low[1]:high[1], low[0]:high[0]])
    cut = [crop_frames(part, _eye_frames(eye[m]), size=size)
           for (part, eye, _), m in zip(_both_eyes(gray, pts - low, own, other), wide)]
    fitted = eye_model.predict(np.concatenate([crops for crops, _ in cut]))  # both eyes in one call
    for (_, rounded), part, m, mirrored in zip(cut, np.split(fitted, [len(cut[0][1])]), wide, (False, True)):
        if not m.any():  # no eye of this side is wide enough
            continue
        eye = to_photo(part, rounded, size=size).reshape(m.sum(), len(own), 2)
        if mirrored:
            eye[..., 0] = gray.shape[1] - 1 - eye[..., 0]
        out[np.ix_(m, other if mirrored else own)] = eye + low
    return out
