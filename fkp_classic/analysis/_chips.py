"""Aligned face chips: each face cut out by a similarity transform fitted to a reference shape.

Two templates:

- ``"dlib"``, as dlib's ``get_face_chip``: a least-squares similarity from
  the chip to the photo fitted between a reference shape's points ``ref``
  (iBUG 17-67 but the lower lip: brows, nose, eyes, upper lip and mouth
  corners), placed at ``(padding + ref) / (1 + 2 * padding) * size``, and
  the face's points. The reference shape is this project's own mean face
  (the frontal view of :func:`~fkp_classic.analysis.mean_face_3d`, learnt
  from YouTube Faces frames), not dlib's numbers; only where it sits in the
  unit square was measured from dlib (``tools/fit_chip_reference.py``,
  ``chip_reference.csv``): chips agree with dlib's up to the difference of
  the two mean shapes;
- ``"arcface"``: the five-point template (eye centres, nose tip, mouth
  corners) in a 112 x 112 chip that ArcFace-style recognition models expect
  (InsightFace's ``arcface_dst``, MIT licence, Copyright (c) InsightFace
  authors), scaled to ``size``; the similarity from the photo to the chip
  is fitted by least squares as InsightFace's ``estimate_norm`` does.

Chips are sampled bilinearly, all faces of a photo in one call; outside the
photo is black.

References
----------
.. [1] King, D. E. "Dlib-ml: A machine learning toolkit", JMLR 10, 2009.
.. [2] Deng, J., Guo, J., Xue, N. and Zafeiriou, S. "ArcFace: additive angular
   margin loss for deep face recognition", CVPR 2019.
"""

import numbers
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import ndimage
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..keypoints import get_layout, ibug68_to_kaggle15

__all__ = ["face_chips", "chip_transforms", "ARCFACE_TEMPLATE"]

ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]])
"""InsightFace's five points in a 112 x 112 chip (MIT licence): the eye on the image's left, the other eye, the nose
tip, the mouth corner on the image's left, the other corner."""
ARCFACE_TEMPLATE.setflags(write=False)

# Per registered layout, by name: the points the dlib-style fit uses and the five points of the ArcFace template.
_FIVE = {
    "ibug68": ((36, 37, 38, 39, 40, 41), (42, 43, 44, 45, 46, 47), (30,), (48,), (54,)),
    "kaggle15": (("right_eye_center",), ("left_eye_center",), ("nose_tip",), ("mouth_right_corner",),
                 ("mouth_left_corner",)),
}


_CSV = Path(__file__).with_name("chip_reference.csv")
_DLIB_FIT = tuple(i for i in range(17, 68) if not (55 <= i <= 59 or 65 <= i <= 67))  # dlib leaves the lower lip out


@lru_cache(maxsize=2)
def _dlib_reference(name):
    ref = np.genfromtxt(_CSV, delimiter=",", skip_header=1, usecols=(1, 2))
    if ref.shape != (68, 2):
        raise ValueError(f"{_CSV}: expected 68 rows of x, y, got {ref.shape}")
    if name == "ibug68":
        return ref, np.array(_DLIB_FIT)
    return ibug68_to_kaggle15(ref.reshape(1, -1)).reshape(-1, 2), np.arange(14)  # all but the bottom lip


def _layout(layout):
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if layout.name not in _FIVE:
        raise ValueError(f"face chips need a registered layout ({sorted(_FIVE)}): the {layout._title} layout's points "
                         "have no place on the chip's reference shape")
    return layout


def _similarity(src, dst):
    """Least-squares similarities taking src (n, K, 2) to dst (n, K, 2) (Umeyama): (n, 3, 3) matrices."""
    ms, md = src.mean(axis=1, keepdims=True), dst.mean(axis=1, keepdims=True)
    s, d = src - ms, dst - md
    h = np.einsum("nki,nkj->nij", d, s) / src.shape[1]
    u, sv, vt = np.linalg.svd(h)
    sign = np.ones((len(src), 2))
    sign[:, 1] = np.sign(np.linalg.det(u @ vt))
    rot = np.einsum("nij,nj,njk->nik", u, sign, vt)
    scale = (sv * sign).sum(axis=1) / (s**2).sum(axis=(1, 2)) * src.shape[1]
    out = np.zeros((len(src), 3, 3))
    out[:, :2, :2] = scale[:, None, None] * rot
    out[:, :2, 2] = md[:, 0] - np.einsum("nij,nj->ni", out[:, :2, :2], ms[:, 0])
    out[:, 2, 2] = 1
    return out


def chip_transforms(points, *, layout, size=150, padding=0.25, template="dlib"):
    """The similarity from photo pixels to chip pixels of each face.

    Parameters
    ----------
    points : array-like of shape (n, K, 2) or (K, 2)
    layout : {"ibug68", "kaggle15"} or KeypointLayout
    size : int, default=150
    padding : float, default=0.25
        ``"dlib"`` only: the margin around the reference shape, as a share
        of its size.
    template : {"dlib", "arcface"}, default="dlib"

    Returns
    -------
    transforms : ndarray of shape (n, 3, 3)
        Homogeneous matrices: ``chip = T @ (x, y, 1)``.
    """
    layout = _layout(layout)
    pts = np.asarray(points, dtype=float)
    pts = pts[None] if pts.ndim == 2 else pts
    if pts.ndim != 3 or pts.shape[1:] != (layout.n_keypoints, 2):
        raise ValueError(f"points must be of shape (n, {layout.n_keypoints}, 2) for the {layout._title} layout, "
                         f"got {np.shape(points)}")
    if template == "dlib":
        ref, used = _dlib_reference(layout.name)
        chip = (padding + ref[used]) / (1 + 2 * padding) * size
        to_photo = _similarity(np.broadcast_to(chip, (len(pts),) + chip.shape), pts[:, used])
        return np.linalg.inv(to_photo)
    if template != "arcface":
        raise ValueError(f"template must be 'dlib' or 'arcface', got {template!r}")
    groups = [list(g) if layout.name == "ibug68" else list(layout.indices(g)) for g in _FIVE[layout.name]]
    five = np.stack([pts[:, g].mean(axis=1) for g in groups], axis=1)
    dst = ARCFACE_TEMPLATE * (size / 112.0)
    return _similarity(five, np.broadcast_to(dst, five.shape))


@validate_params(
    {
        "photo": ["array-like"],
        "faces": [list, tuple],
        "size": [Interval(numbers.Integral, 8, None, closed="left")],
        "padding": [Interval(numbers.Real, 0, None, closed="left")],
        "template": [StrOptions({"dlib", "arcface"})],
    },
    prefer_skip_nested_validation=True,
)
def face_chips(photo, faces, *, size=150, padding=0.25, template="dlib"):
    """Each face cut out of the photo, aligned to a reference shape (module docstring).

    Parameters
    ----------
    photo : ndarray of shape (H, W, 3) or (H, W)
        The photo the faces were found in (RGB or gray; 8-bit, or floats in [0, 1]).
    faces : list of Face
        From :class:`~fkp_classic.photo.KeypointDetector` (any registered layout).
    size : int, default=150
        Chip side in pixels (``"arcface"``: 112 is the models' size).
    padding : float, default=0.25
    template : {"dlib", "arcface"}, default="dlib"

    Returns
    -------
    chips : ndarray of shape (n_faces, size, size, 3), uint8
        RGB (a gray photo's gray repeated).

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.analysis import face_chips, project_mean_face
    >>> from fkp_classic.photo import Face
    >>> face = Face((0, 0, 100, 100), project_mean_face(0, 0, 0, scale=40, center=(50, 50))[0], layout="ibug68")
    >>> face_chips(np.zeros((100, 100, 3), np.uint8), [face]).shape
    (1, 150, 150, 3)
    """
    image = np.asarray(photo)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"photo must be of shape (H, W), (H, W, 3) or (H, W, 4), got {image.shape}")
    image = image[..., :3]
    if image.dtype != np.uint8:
        image = np.clip(np.asarray(image, float) * (255 if image.max() <= 1 else 1), 0, 255)
    out = np.zeros((len(faces), size, size, 3), np.uint8)
    if not faces:
        return out
    by_layout = {}
    for i, face in enumerate(faces):
        by_layout.setdefault(face.layout, []).append(i)
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    grid = np.stack([cols.ravel(), rows.ravel(), np.ones(size * size)])
    for layout, which in by_layout.items():
        transforms = chip_transforms(np.stack([faces[i].points for i in which]), layout=layout, size=size,
                                     padding=padding, template=template)
        xy = np.linalg.inv(transforms)[:, :2] @ grid  # (n, 2, size*size): photo position of each chip pixel
        coords = np.stack([xy[:, 1], xy[:, 0]]).reshape(2, -1)
        for c in range(3):
            values = ndimage.map_coordinates(image[..., c].astype(float), coords, order=1, cval=0.0)
            out[which, ..., c] = np.clip(np.rint(values), 0, 255).reshape(len(which), size, size)
    return out
