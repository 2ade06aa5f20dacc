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
solved by least squares (the affine camera made scaled-orthonormal as a
start, then Gauss-Newton steps on rotation and scale), for all faces at once. The translation in
3D assumes a focal length (by default the photo's larger side in pixels, a
field of view of about 53 degrees, with the principal point at the photo's
centre) and an outer eye corner distance of 90 mm (an adult's, roughly):
``Z = f * 90 / s``. Uncertainty: each point's ``point_std`` propagated to
the angles through the fit's Jacobian at the solution (independent Gaussian
coordinates, a linearisation: good while the standard deviations are small
beside the face).

References
----------
.. [1] Tomasi, C. and Kanade, T. "Shape and motion from image streams under
   orthography: a factorization method", IJCV 9(2), 1992.
.. [2] Umeyama, S. "Least-squares estimation of transformation parameters
   between two point patterns", IEEE TPAMI 13(4), 1991.
"""

from functools import lru_cache

import numpy as np

from ..keypoints import get_layout
from ._mean_face_3d import layout_points, mean_face_3d

__all__ = ["head_pose", "fit_pose", "fit_layout", "pose_axes", "angles_to_rotation", "rotation_to_angles",
           "project_mean_face", "EYE_DISTANCE_MM"]

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


def _skew(v):
    """Cross-product matrices ``[v]x`` (..., 3, 3) of vectors ``v`` (..., 3)."""
    out = np.zeros(v.shape[:-1] + (3, 3))
    out[..., 0, 1], out[..., 0, 2], out[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    out[..., 1, 0], out[..., 2, 0], out[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    return out


def _model_terms(model):
    """What every fit to ``model`` (K, 3) uses: its centroid, centred points, their pseudo-inverse and ``[X]x``."""
    model = np.asarray(model, dtype=float)
    x_mean = model.mean(axis=0)
    xc = model - x_mean
    return x_mean, xc, xc @ np.linalg.inv(xc.T @ xc), _skew(xc)


@lru_cache(maxsize=8)
def _cached_model_terms(name):
    return _model_terms(layout_points(name)[1])


def fit_pose(points, model, *, n_iter=4, start=None):
    """Fit ``p = s * R[:2] @ X + t`` (scaled orthography) to each face's 2D points, by least squares.

    Starts from the least-squares affine camera made scaled-orthonormal, then
    Gauss-Newton steps on the rotation (as ``R @ exp([w]x)``) and the scale;
    the translation is the centroids' offset.

    Parameters
    ----------
    points : ndarray of shape (n, K, 2)
    model : ndarray of shape (K, 3)
    n_iter : int, default=4
        Gauss-Newton steps.
    start : (rotation, scale) or None, default=None
        Start from this pose instead of the affine camera (e.g. a nearby
        fit: the points redrawn around it).

    Returns
    -------
    rotation : ndarray of shape (n, 3, 3)
    scale : ndarray of shape (n,)
    translation : ndarray of shape (n, 2)
        Image position of the model's origin.
    """
    points, model = np.asarray(points, dtype=float), np.asarray(model, dtype=float)
    if points.ndim != 3 or points.shape[2] != 2 or model.shape != (points.shape[1], 3):
        raise ValueError(f"points must be of shape (n, K, 2) and model of shape (K, 3), got {points.shape} and "
                         f"{model.shape}")
    if not (np.isfinite(points).all() and np.isfinite(model).all()):
        raise ValueError("points and model must be finite (a face has NaN or infinite keypoints)")
    return _fit_pose(points, _model_terms(model), n_iter, start)


def _fit_pose(p, terms, n_iter, start):
    x_mean, xc, pinv, skew_x = terms
    n, k = p.shape[:2]
    p_mean = p.mean(axis=1, keepdims=True)
    pc = p - p_mean
    if start is None:
        affine = np.swapaxes(pc, 1, 2) @ pinv  # (n, 2, 3): least squares of pc = xc @ affine.T
        u, sv, vt = np.linalg.svd(affine, full_matrices=False)
        rows = u @ vt
        scale = sv.mean(axis=1)
        rot = np.concatenate([rows, np.cross(rows[:, 0], rows[:, 1])[:, None]], axis=1)
    else:
        rot, scale = (np.array(a, dtype=float) for a in start)
    jac = np.empty((n, k, 2, 4))
    for _ in range(n_iter):
        proj = xc @ np.swapaxes(rot[:, :2], 1, 2)  # (n, K, 2)
        resid = (pc - scale[:, None, None] * proj).reshape(n, -1)
        jac[..., :3] = -scale[:, None, None, None] * (rot[:, None, :2] @ skew_x)  # d(model point)/dw
        jac[..., 3] = proj
        flat = jac.reshape(n, -1, 4)
        normal = np.swapaxes(flat, 1, 2) @ flat
        step = np.linalg.solve(normal, (np.swapaxes(flat, 1, 2) @ resid[..., None]))[..., 0]
        rot = rot @ _rodrigues(step[:, :3])
        scale = scale + step[:, 3]
    translation = p_mean[:, 0] - scale[:, None] * (rot[:, :2] @ x_mean)
    return rot, scale, translation


def _rodrigues(w):
    """Rotation matrices ``exp([w]x)`` (n, 3, 3) of rotation vectors ``w`` (n, 3)."""
    angle = np.linalg.norm(w, axis=1)[:, None, None]
    k = _skew(w / np.maximum(angle[..., 0], 1e-300))
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


@lru_cache(maxsize=8)
def _fit_bytes(name, shape, data):
    pts = np.frombuffer(data, dtype=float).reshape(shape)
    indices, _ = layout_points(name)
    fitted = _fit_pose(pts[:, list(indices)], _cached_model_terms(name), 4, None)
    for array in fitted:
        array.setflags(write=False)
    return fitted


def _angle_std(terms, rot, scale, std):
    """Standard deviations of yaw, pitch, roll (degrees) from independent point errors ``std`` (n, K, 2), linearised;
    ``terms`` are the fitted model's (:func:`_model_terms`)."""
    _, xc, _, skew_x = terms
    n = len(rot)
    proj = xc @ np.swapaxes(rot[:, :2], 1, 2)
    jac = np.concatenate([-scale[:, None, None, None] * (rot[:, None, :2] @ skew_x), proj[..., None]],
                         axis=3).reshape(n, -1, 4)
    inv = np.linalg.inv(np.swapaxes(jac, 1, 2) @ jac)
    middle = np.swapaxes(jac, 1, 2) @ (std.reshape(n, -1, 1) ** 2 * jac)
    cov = (inv @ middle @ inv)[:, :3, :3]  # of the rotation increment w
    # d(angles)/dw by central differences of small turns R @ exp([w]x), all six turns of all faces at once
    delta = 1e-5
    turns = np.eye(3) + delta * _skew(np.eye(3))  # first order is enough at this step
    both = rotation_to_angles(rot[:, None] @ np.concatenate([turns, np.swapaxes(turns, 1, 2)])).reshape(n, 2, 3, 3)
    diff = np.swapaxes(both[:, 0] - both[:, 1], 1, 2) / (2 * delta)  # (n, 3 angles, 3 w)
    return np.sqrt(np.einsum("nai,nij,naj->na", diff, cov, diff))


def fit_layout(points, layout):
    """:func:`fit_pose` of faces of a registered layout to the 3D mean face at the layout's pose points.

    The last few fits are remembered, so the pose, eye and mouth analysers of
    one photo or frame share one fit.

    Parameters
    ----------
    points : ndarray of shape (n, K, 2)
    layout : KeypointLayout or str

    Returns
    -------
    rotation, scale, translation : ndarray
        As :func:`fit_pose` (read-only).
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    layout_points(layout)  # a clear error for a layout the mean face does not know
    pts = np.ascontiguousarray(points, dtype=float)
    return _fit_bytes(layout.name, pts.shape, pts.tobytes())


def head_pose(points, *, layout, point_std=None, image_size=None, focal_length=None):
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

    Returns
    -------
    pose : dict of ndarray
        ``yaw``, ``pitch``, ``roll`` (n,) in degrees; ``rotation`` (n, 3, 3);
        ``scale`` (n,) in pixels per outer eye corner distance; ``center``
        (n, 2), the mean face's origin in the photo; with ``image_size``,
        ``translation`` (n, 3) in millimetres; with ``point_std``, the stds.
    """
    layout = get_layout(layout) if isinstance(layout, str) else layout
    indices, _ = layout_points(layout)
    pts = np.asarray(points, dtype=float)
    pts = pts.reshape((-1,) + pts.shape[-2:]) if pts.ndim >= 2 else pts
    if pts.ndim != 3 or pts.shape[1:] != (layout.n_keypoints, 2):
        raise ValueError(f"points must be of shape (n, {layout.n_keypoints}, 2) for the {layout._title} layout, "
                         f"got {np.shape(points)}")
    if not np.isfinite(pts).all():
        raise ValueError("points must be finite (a face has NaN or infinite keypoints)")
    idx = list(indices)
    rot, scale, center = fit_layout(pts, layout)
    angles = rotation_to_angles(rot)
    out = {"yaw": angles[:, 0], "pitch": angles[:, 1], "roll": angles[:, 2], "rotation": rot, "scale": scale,
           "center": center}
    if image_size is not None:
        w, h = image_size
        f = float(max(w, h) if focal_length is None else focal_length)
        z = f * EYE_DISTANCE_MM / scale
        out["translation"] = np.column_stack([(center[:, 0] - (w - 1) / 2) * z / f,
                                              (center[:, 1] - (h - 1) / 2) * z / f, z])
    if point_std is not None:
        std = np.broadcast_to(np.asarray(point_std, dtype=float).reshape(pts.shape), pts.shape)[:, idx]
        spread = _angle_std(_cached_model_terms(layout.name), rot, scale, std)
        out.update(yaw_std=spread[:, 0], pitch_std=spread[:, 1], roll_std=spread[:, 2])
    return out


def pose_axes(pose, *, length=0.5):
    """Where to draw a face's pose axes: the image ends of the mean face's x, y and z axes from its origin.

    Parameters
    ----------
    pose : dict
        A face's ``pose`` (from :class:`HeadPose`: ``rotation``, ``scale``, ``center``).
    length : float, default=0.5
        Axis length in outer eye corner distances.

    Returns
    -------
    origin : ndarray of shape (2,)
    ends : ndarray of shape (3, 2)
        Ends of the x (towards the subject's left), y (down) and z (into the head) axes, in photo pixels.

    Examples
    --------
    >>> from fkp_classic.analysis import head_pose, pose_axes, project_mean_face
    >>> pose = head_pose(project_mean_face(0, 0, 0, scale=100, center=(50, 60)), layout="ibug68")
    >>> origin, ends = pose_axes({k: v[0] for k, v in pose.items()})
    >>> origin.round(3).tolist(), ends.round(3).tolist()
    ([50.0, 60.0], [[100.0, 60.0], [50.0, 110.0], [50.0, 60.0]])
    """
    rot = np.asarray(pose["rotation"], dtype=float).reshape(3, 3)
    origin = np.asarray(pose["center"], dtype=float)
    return origin, origin + float(pose["scale"]) * length * rot[:2].T
