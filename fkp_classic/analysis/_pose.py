"""Head pose from 2D keypoints: a rigid 3D mean face fitted by scaled orthographic projection.

Convention. Camera coordinates: x to the image's right, y down, z away
from the camera. The rotation ``R`` takes the 3D mean face
(:func:`~fkp_classic.analysis.mean_face_3d`, frontal face = identity) into
the camera frame, ``R = Rz(roll) @ Ry(-yaw) @ Rx(-pitch)`` with the
right-handed elementary rotations, so that, in degrees:

- **yaw** > 0: the face turns towards the image's right (the subject's
  left): the nose tip moves right;
- **pitch** > 0: the face tilts up: the nose tip moves up;
- **roll** > 0: the face turns clockwise on the screen (the eye on the
  image's right drops). Rotating the photo counter-clockwise by ``a``
  degrees changes roll by ``-a``; a mirrored photo has yaw and roll negated.

Projection. Scaled orthography (weak perspective): ``p = s * R[:2] @ X + t``,
right for faces further from the camera than a few times their depth;
solved by alternating 3D Procrustes fits with the depths the current pose
gives (the affine fit as a start), for all faces at once. The translation in
3D assumes a focal length (by default the photo's larger side in pixels, a
field of view of about 53 degrees, with the principal point at the photo's
centre) and an outer eye corner distance of 90 mm (an adult's, roughly):
``Z = f * 90 / s``. Uncertainty: the pose's standard deviation over fits to
points redrawn from each face's ``point_std``.

References
----------
.. [1] Tomasi, C. and Kanade, T. "Shape and motion from image streams under
   orthography: a factorization method", IJCV 9(2), 1992.
.. [2] Umeyama, S. "Least-squares estimation of transformation parameters
   between two point patterns", IEEE TPAMI 13(4), 1991.
"""

import numpy as np

from ..keypoints import get_layout
from ._mean_face_3d import layout_points, mean_face_3d

__all__ = ["head_pose", "fit_pose", "angles_to_rotation", "rotation_to_angles", "project_mean_face", "EYE_DISTANCE_MM"]

EYE_DISTANCE_MM = 90.0
"""Assumed distance between the outer eye corners, for the translation in millimetres."""


def angles_to_rotation(yaw, pitch, roll):
    """Rotation matrices of yaw, pitch and roll in degrees (the module's convention).

    Returns
    -------
    rotation : ndarray of shape (n, 3, 3)
    """
    yaw, pitch, roll = (np.radians(np.atleast_1d(np.asarray(a, dtype=float))) for a in (yaw, pitch, roll))
    yaw, pitch, roll = np.broadcast_arrays(yaw, pitch, roll)
    b, a, g = -yaw, -pitch, roll
    one, zero = np.ones_like(a), np.zeros_like(a)
    rx = np.stack([one, zero, zero, zero, np.cos(a), -np.sin(a), zero, np.sin(a), np.cos(a)], -1).reshape(-1, 3, 3)
    ry = np.stack([np.cos(b), zero, np.sin(b), zero, one, zero, -np.sin(b), zero, np.cos(b)], -1).reshape(-1, 3, 3)
    rz = np.stack([np.cos(g), -np.sin(g), zero, np.sin(g), np.cos(g), zero, zero, zero, one], -1).reshape(-1, 3, 3)
    return rz @ ry @ rx


def rotation_to_angles(rotation):
    """Yaw, pitch and roll in degrees of rotation matrices (inverse of :func:`angles_to_rotation`).

    Returns
    -------
    angles : ndarray of shape (n, 3)
        ``yaw, pitch, roll``.
    """
    r = np.asarray(rotation, dtype=float).reshape(-1, 3, 3)
    b = np.arcsin(np.clip(-r[:, 2, 0], -1, 1))
    a = np.arctan2(r[:, 2, 1], r[:, 2, 2])
    g = np.arctan2(r[:, 1, 0], r[:, 0, 0])
    return np.degrees(np.column_stack([-b, -a, g]))


def project_mean_face(yaw, pitch, roll, *, layout="ibug68", scale=100.0, center=(0.0, 0.0)):
    """The 3D mean face's points seen at a pose, by scaled orthography: synthetic faces with known angles.

    Parameters
    ----------
    yaw, pitch, roll : float or array-like of shape (n,)
        Degrees.
    layout : {"ibug68", "kaggle15"}, default="ibug68"
    scale : float, default=100.0
        Pixels per outer eye corner distance.
    center : (float, float), default=(0.0, 0.0)
        Where the mean face's origin lands.

    Returns
    -------
    points : ndarray of shape (n, K, 2)

    Examples
    --------
    >>> from fkp_classic.analysis import head_pose, project_mean_face
    >>> pts = project_mean_face(20, -10, 5)
    >>> head_pose(pts, layout="ibug68")["yaw"].round(3)
    array([20.])
    """
    model = mean_face_3d(layout)
    rot = angles_to_rotation(yaw, pitch, roll)
    return scale * np.einsum("nij,kj->nki", rot[:, :2], model) + np.asarray(center, dtype=float)


def fit_pose(points, model, *, n_iter=30):
    """Fit ``p = s * R[:2] @ X + t`` (scaled orthography) to each face's 2D points.

    Parameters
    ----------
    points : ndarray of shape (n, K, 2)
    model : ndarray of shape (K, 3)
    n_iter : int, default=30
        Alternations of depth completion and 3D Procrustes.

    Returns
    -------
    rotation : ndarray of shape (n, 3, 3)
    scale : ndarray of shape (n,)
    translation : ndarray of shape (n, 2)
        Image position of the model's origin.
    """
    p = np.asarray(points, dtype=float)
    model = np.asarray(model, dtype=float)
    p_mean, x_mean = p.mean(axis=1, keepdims=True), model.mean(axis=0)
    pc, xc = p - p_mean, model - x_mean
    # start: the least-squares affine camera, made scaled-orthonormal
    affine = np.einsum("nki,kj->nij", pc, xc) @ np.linalg.inv(xc.T @ xc)
    u, sv, vt = np.linalg.svd(affine, full_matrices=False)
    rows = u @ vt
    scale = sv.mean(axis=1)
    rot = np.concatenate([rows, np.cross(rows[:, 0], rows[:, 1])[:, None]], axis=1)
    norm = (xc**2).sum()
    for _ in range(n_iter):
        depth = scale[:, None] * (xc @ rot[:, 2].T).T  # (n, K)
        target = np.concatenate([pc, depth[..., None]], axis=2)
        h = np.einsum("kj,nki->nji", xc, target)  # sum_k X_k target_k^T
        u, sv, vt = np.linalg.svd(h)
        d = np.ones((len(p), 3))
        d[:, 2] = np.sign(np.linalg.det(u @ vt))
        rot = np.einsum("nji,nj,nkj->nik", vt, d, u)  # V diag(d) U^T
        scale = (sv * d).sum(axis=1) / norm
    translation = p_mean[:, 0] - scale[:, None] * np.einsum("nij,j->ni", rot[:, :2], x_mean)
    return rot, scale, translation


def head_pose(points, *, layout, point_std=None, image_size=None, focal_length=None, n_draws=32, random_state=0):
    """Yaw, pitch and roll of faces from their keypoints (module docstring: convention and model).

    Parameters
    ----------
    points : array-like of shape (n, K, 2) or (K, 2)
        Keypoints in photo pixels, in the layout's order.
    layout : {"ibug68", "kaggle15"} or KeypointLayout
        A registered layout (its points are placed on the 3D mean face; the
        68 points give a finer pose than the 15).
    point_std : array-like of shape (n, K, 2), optional
        Each coordinate's standard deviation: adds ``yaw_std``, ``pitch_std``, ``roll_std``.
    image_size : (width, height), optional
        For the 3D translation (principal point at the centre); without it
        the translation is left out.
    focal_length : float, optional
        In pixels; default the larger side of ``image_size``.
    n_draws : int, default=32
        Redraws of the points from ``point_std`` for the uncertainty.
    random_state : int, default=0

    Returns
    -------
    pose : dict of ndarray
        ``yaw``, ``pitch``, ``roll`` (n,) in degrees; ``rotation`` (n, 3, 3);
        ``scale`` (n,) in pixels per outer eye corner distance; ``center``
        (n, 2), the mean face's origin in the photo; with ``image_size``,
        ``translation`` (n, 3) in millimetres; with ``point_std``, the stds.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    indices, model = layout_points(layout)
    pts = np.asarray(points, dtype=float)
    pts = pts.reshape((-1,) + pts.shape[-2:]) if pts.ndim >= 2 else pts
    if pts.ndim != 3 or pts.shape[1:] != (layout.n_keypoints, 2):
        raise ValueError(f"points must be of shape (n, {layout.n_keypoints}, 2) for the {layout._title} layout, "
                         f"got {np.shape(points)}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite (a face has NaN or infinite keypoints)")
    idx = list(indices)
    rot, scale, center = fit_pose(pts[:, idx], model)
    angles = rotation_to_angles(rot)
    out = {"yaw": angles[:, 0], "pitch": angles[:, 1], "roll": angles[:, 2], "rotation": rot, "scale": scale,
           "center": center}
    if image_size is not None:
        w, h = image_size
        f = float(max(w, h) if focal_length is None else focal_length)
        z = f * EYE_DISTANCE_MM / scale
        out["translation"] = np.column_stack([(center[:, 0] - (w - 1) / 2) * z / f,
                                              (center[:, 1] - (h - 1) / 2) * z / f, z])
    if point_std is not None and n_draws:
        std = np.broadcast_to(np.asarray(point_std, dtype=float).reshape(pts.shape), pts.shape)[:, idx]
        noise = np.random.default_rng(random_state).standard_normal((n_draws,) + std.shape) * std
        drawn = (pts[:, idx] + noise).reshape((-1,) + std.shape[1:])
        draws = rotation_to_angles(fit_pose(drawn, model)[0]).reshape(n_draws, len(pts), 3)
        diff = (draws - angles + 180) % 360 - 180  # around the fitted angles, wrapped
        spread = np.sqrt((diff**2).mean(axis=0))
        out.update(yaw_std=spread[:, 0], pitch_std=spread[:, 1], roll_std=spread[:, 2])
    return out
