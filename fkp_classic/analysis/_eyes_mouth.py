"""Eye openness, mouth openness and a few geometric expression measures, free of face size and pose.

The points are first brought into the frontal plane of the 3D mean face:
the pose solver's camera ``s * R[:2]`` restricted to the face's x and y axes
is a 2 x 2 matrix ``B``, and ``q = B^-1 (p - t - s R[:2, 2] z)``, with ``z``
each point's depth on the mean face, undoes scale, roll, the
foreshortening of yaw and pitch and the parallax of the face's relief (exactly
for the mean face; for a real face up to how its relief and expression
differ from the mean's). Every measure is taken on ``q``, whose unit
is the distance between the outer eye corners of the mean face.

Measures (iBUG 68 points; Kaggle's 15 have no eyelids nor inner lips, so
its eye openness and mouth openness are NaN):

- ``eyes``: the eye aspect ratio of each eye [1]_, ``(|p2 - p6| + |p3 - p5|)
  / (2 |p1 - p4|)``, and their mean; ``brow_raise``: the mean height of the
  brows above the eye centres;
- ``mouth``: ``open``, the mean gap between the inner lips (points 61-67,
  62-66, 63-65); ``aspect``, that gap over the inner lips' width;
  ``smile_width``, the distance between the mouth corners;
  ``lip_corner_height``, how far the mouth corners sit above the middle of
  the lips (negative: below).

References
----------
.. [1] Soukupová, T. and Čech, J. "Real-time eye blink detection using facial
   landmarks", 21st Computer Vision Winter Workshop, 2016.
"""

from functools import lru_cache

import numpy as np

from ..keypoints import get_layout
from ._mean_face_3d import layout_points, mean_face_3d
from ._pose import fit_layout

__all__ = ["frontal_points", "eye_measures", "mouth_measures"]


def _p(*i):
    return tuple(f"p{k}" for k in i)


# Per registered layout, by name: which points each measure reads.
_PARTS = {
    "ibug68": {
        "right_eye": _p(36, 37, 38, 39, 40, 41), "left_eye": _p(42, 43, 44, 45, 46, 47),
        "right_brow": _p(17, 18, 19, 20, 21), "left_brow": _p(22, 23, 24, 25, 26),
        "inner_lips": _p(60, 61, 62, 63, 64, 65, 66, 67), "corners": _p(48, 54), "lip_middle": _p(51, 57),
    },
    "kaggle15": {
        "right_eye_centre": ("right_eye_center",), "left_eye_centre": ("left_eye_center",),
        "right_brow": ("right_eyebrow_inner_end", "right_eyebrow_outer_end"),
        "left_brow": ("left_eyebrow_inner_end", "left_eyebrow_outer_end"),
        "corners": ("mouth_right_corner", "mouth_left_corner"),
        "lip_middle": ("mouth_center_top_lip", "mouth_center_bottom_lip"),
    },
}


def _parts(layout, what):
    layout = get_layout(layout) if isinstance(layout, str) else layout
    return layout, _part_indices(layout, what)


@lru_cache(maxsize=8)
def _part_indices(layout, what):
    if layout.name not in _PARTS:
        raise ValueError(f"{what} needs a registered layout ({sorted(_PARTS)}), got the {layout._title} layout")
    return {part: list(layout.indices(names)) for part, names in _PARTS[layout.name].items()}


def frontal_points(points, *, layout):
    """Keypoints in the frontal plane of the 3D mean face (module docstring), for all faces at once.

    Parameters
    ----------
    points : array-like of shape (n, K, 2) or (K, 2)
    layout : {"ibug68", "kaggle15"} or KeypointLayout

    Returns
    -------
    frontal : ndarray of shape (n, K, 2)
        In units of the outer eye corner distance; x towards the subject's
        left, y down.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    pts = np.asarray(points, dtype=float)
    pts = pts[None] if pts.ndim == 2 else pts
    if pts.ndim != 3 or pts.shape[1:] != (layout.n_keypoints, 2):
        raise ValueError(f"points must be of shape (n, {layout.n_keypoints}, 2) for the {layout._title} layout, "
                         f"got {np.shape(points)}")
    layout_points(layout, "the face's measures")  # a clear error for a layout the mean face does not know
    rot, scale, center = fit_layout(pts, layout)
    plane = scale[:, None, None] * rot[:, :2, :2]  # image offset of the face's x and y unit vectors
    depth = _depth(layout)  # each point's depth on the mean face: its parallax is taken out
    parallax = scale[:, None, None] * rot[:, None, :2, 2] * depth[None, :, None]
    return np.einsum("nij,nkj->nki", np.linalg.inv(plane), pts - center[:, None] - parallax)


@lru_cache(maxsize=8)
def _depth(layout):
    return mean_face_3d(layout)[:, 2]


def _ear(eye):
    d = lambda a, b: np.linalg.norm(eye[:, a] - eye[:, b], axis=-1)  # noqa: E731
    return (d(1, 5) + d(2, 4)) / (2 * d(0, 3))


def eye_measures(points, *, layout):
    """Eye aspect ratio of each eye and brow raise, on the frontal points (module docstring).

    Parameters
    ----------
    points : array-like of shape (n, K, 2) or (K, 2)
    layout : {"ibug68", "kaggle15"} or KeypointLayout

    Returns
    -------
    measures : dict of ndarray of shape (n,)
        ``left``, ``right``, ``openness`` (their mean; NaN for a layout
        without eyelids) and ``brow_raise``.

    Examples
    --------
    >>> from fkp_classic.analysis import eye_measures, project_mean_face
    >>> m = eye_measures(project_mean_face(0, 0, 0), layout="ibug68")
    >>> bool(0.15 < m["openness"][0] < 0.45)
    True
    """
    layout, parts = _parts(layout, "eye openness")
    q = frontal_points(points, layout=layout)
    if "right_eye" in parts:
        right_eye, left_eye = q[:, parts["right_eye"]], q[:, parts["left_eye"]]
        right, left = _ear(right_eye), _ear(left_eye)
        centres = right_eye.mean(axis=1), left_eye.mean(axis=1)
    else:
        right = left = np.full(len(q), np.nan)
        centres = q[:, parts["right_eye_centre"]].mean(axis=1), q[:, parts["left_eye_centre"]].mean(axis=1)
    brow = ((centres[0][:, 1] - q[:, parts["right_brow"], 1].mean(axis=1))
            + (centres[1][:, 1] - q[:, parts["left_brow"], 1].mean(axis=1))) / 2
    return {"left": left, "right": right, "openness": (left + right) / 2, "brow_raise": brow}


def mouth_measures(points, *, layout):
    """Mouth openness, smile width and lip corner height, on the frontal points (module docstring).

    Parameters
    ----------
    points : array-like of shape (n, K, 2) or (K, 2)
    layout : {"ibug68", "kaggle15"} or KeypointLayout

    Returns
    -------
    measures : dict of ndarray of shape (n,)
        ``open`` and ``aspect`` (NaN for a layout without inner lips),
        ``smile_width``, ``lip_corner_height``.
    """
    layout, parts = _parts(layout, "mouth openness")
    q = frontal_points(points, layout=layout)
    if "inner_lips" in parts:
        lips = q[:, parts["inner_lips"]]
        gap = np.linalg.norm(lips[:, [1, 2, 3]] - lips[:, [7, 6, 5]], axis=-1).mean(axis=1)
        width = np.linalg.norm(lips[:, 0] - lips[:, 4], axis=-1)
        aspect = gap / width
    else:
        gap = aspect = np.full(len(q), np.nan)
    corners = q[:, parts["corners"]]
    smile = np.linalg.norm(corners[:, 1] - corners[:, 0], axis=-1)
    corner_height = q[:, parts["lip_middle"], 1].mean(axis=1) - corners[..., 1].mean(axis=1)
    return {"open": gap, "aspect": aspect, "smile_width": smile, "lip_corner_height": corner_height}
