"""The 3D mean face the pose solver fits, and which of a layout's points it fits.

The shape (``mean_face_3d.csv`` beside this module) was learnt by rigid
factorisation of the 68 iBUG points of the 3561 annotated YouTube Faces
frames of ``frames/frames.csv`` (``tools/fit_mean_face_3d.py``); it is this
project's own data, not published coordinates. Axes are those of a frontal
face in camera coordinates: x towards the image's right (the subject's
left), y down, z away from the camera; the unit is the distance between the
outer eye corners (``p36``-``p45``), the origin the shape's centroid; the
nose tip is nearer the camera (negative z) than the eyes.
"""

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..keypoints import get_layout, ibug68_to_kaggle15

__all__ = ["mean_face_3d", "layout_points"]

_CSV = Path(__file__).with_name("mean_face_3d.csv")

# Per registered layout, by name: the points the solver fits. Left out: the jaw contour (it slides over the cheek as
# the head turns), the inner and lower lips (they move as the mouth opens) and the nose bridge above the tip
# (p27-p29, placed along the bridge differently by different annotators: on 300-W faces they bias pitch most).
_POSE_POINTS = {
    "ibug68": tuple(f"p{i}" for i in (*range(17, 27), *range(30, 48), 48, 51, 54)),
    "kaggle15": ("left_eye_center", "right_eye_center", "left_eye_inner_corner", "left_eye_outer_corner",
                 "right_eye_inner_corner", "right_eye_outer_corner", "left_eyebrow_inner_end",
                 "left_eyebrow_outer_end", "right_eyebrow_inner_end", "right_eyebrow_outer_end", "nose_tip",
                 "mouth_left_corner", "mouth_right_corner", "mouth_center_top_lip"),
}


def _known(layout, what="the head pose"):
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if layout.name not in _POSE_POINTS:
        raise ValueError(
            f"{what} needs a registered layout ({sorted(_POSE_POINTS)}): the {layout._title} layout's points have no "
            "known place on the 3D mean face"
        )
    return layout


@lru_cache(maxsize=1)
def _ibug68():
    table = np.genfromtxt(_CSV, delimiter=",", skip_header=1, usecols=(1, 2, 3))
    if table.shape != (68, 3):
        raise ValueError(f"{_CSV}: expected 68 rows of x, y, z, got {table.shape}")
    table.setflags(write=False)
    return table


def mean_face_3d(layout="ibug68"):
    """The 3D mean face's points in a layout's order.

    Parameters
    ----------
    layout : {"ibug68", "kaggle15"} or KeypointLayout, default="ibug68"
        A registered layout (Kaggle's eye centres are the means of iBUG's six
        eye points, as :func:`~fkp_classic.keypoints.ibug68_to_kaggle15` maps them).

    Returns
    -------
    points : ndarray of shape (K, 3)
        ``x, y, z`` in units of the outer eye corner distance (axes in the
        module's docstring).

    Examples
    --------
    >>> from fkp_classic.analysis import mean_face_3d
    >>> face = mean_face_3d("ibug68")
    >>> bool(face[30, 2] < face[36, 2])  # the nose tip is in front of the eyes
    True
    """
    layout = _known(layout)
    shape = _ibug68()
    if layout.name == "ibug68":
        return shape.copy()
    xy = ibug68_to_kaggle15(shape[:, :2].reshape(1, -1)).reshape(-1, 2)
    xz = ibug68_to_kaggle15(shape[:, [0, 2]].reshape(1, -1)).reshape(-1, 2)
    return np.column_stack([xy, xz[:, 1]])


def layout_points(layout, what="the head pose"):
    """Indices of the points of ``layout`` the pose solver fits, and the 3D mean face at them.

    Returns
    -------
    indices : tuple of int
    model : ndarray of shape (len(indices), 3)
    """
    return _layout_points(_known(layout, what))


@lru_cache(maxsize=8)
def _layout_points(layout):
    indices = layout.indices(_POSE_POINTS[layout.name])
    model = mean_face_3d(layout)[list(indices)]
    model.setflags(write=False)
    return indices, model
