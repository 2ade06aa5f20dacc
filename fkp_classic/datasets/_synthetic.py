"""Procedurally drawn 96x96 faces with exactly known Kaggle keypoints."""

import numbers

import numpy as np
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from ..keypoints import KAGGLE_15, KAGGLE_COLUMNS, KAGGLE_IMAGE_SIZE, KAGGLE_NAMES
from ..utils._deprecation import keyword_only_after

__all__ = ["make_faces", "KAGGLE_CORE_KEYPOINTS"]

KAGGLE_CORE_KEYPOINTS = ("left_eye_center", "right_eye_center", "nose_tip", "mouth_center_bottom_lip")
"""The four keypoints labelled on (almost) every row of Kaggle's training set."""

_SIZE = KAGGLE_IMAGE_SIZE
_CENTER = np.array([48.0, 52.0])  # canonical face centre (rotation/scale pivot)


def _canonical_keypoints(rng, n):
    """Keypoints of ``n`` faces in the canonical (untransformed) frame, plus drawing params."""
    u = lambda lo, hi: rng.uniform(lo, hi, n)  # noqa: E731
    eye_dx = u(16, 20)  # half distance between eye centres
    eye_y = u(35, 39)
    eye_w = u(6, 8)  # half width of an eye
    eye_h = eye_w * u(0.35, 0.55)
    gaze = u(-1.5, 1.5)
    brow_y = eye_y - u(8, 12)
    brow_in = u(3, 6)  # inner brow end offset beyond eye's inner corner (towards midline)
    brow_out = u(5, 9)  # outer brow end beyond eye's outer corner
    brow_tilt = u(-2, 2)
    nose_y = u(58, 64)
    mouth_y = u(74, 80)
    mouth_w = u(12, 18)  # half width
    mouth_open = u(0, 5)
    lip = u(2.0, 3.5)
    cx = 48.0
    kp = {}
    for side, sign in (("left", 1.0), ("right", -1.0)):  # subject's left = image right
        centre = cx + sign * eye_dx
        kp[f"{side}_eye_center"] = (centre + gaze, eye_y)
        kp[f"{side}_eye_inner_corner"] = (centre - sign * eye_w, eye_y)
        kp[f"{side}_eye_outer_corner"] = (centre + sign * eye_w, eye_y)
        kp[f"{side}_eyebrow_inner_end"] = (centre - sign * (eye_w + brow_in - 6), brow_y + brow_tilt)
        kp[f"{side}_eyebrow_outer_end"] = (centre + sign * (eye_w + brow_out - 4), brow_y - brow_tilt + 2)
    kp["nose_tip"] = (np.full(n, cx), nose_y)
    kp["mouth_left_corner"] = (cx + mouth_w, mouth_y)
    kp["mouth_right_corner"] = (cx - mouth_w, mouth_y)
    kp["mouth_center_top_lip"] = (np.full(n, cx), mouth_y - lip - mouth_open / 2)
    kp["mouth_center_bottom_lip"] = (np.full(n, cx), mouth_y + lip + mouth_open / 2)
    points = np.stack([np.stack(np.broadcast_arrays(*kp[name]), axis=-1) for name in KAGGLE_NAMES], axis=1)
    shape = dict(eye_w=eye_w, eye_h=eye_h, mouth_w=mouth_w, mouth_open=mouth_open, lip=lip)
    return points, shape


def _soft(signed_distance, softness):
    """Soft inside-mask: 1 inside (negative distance), 0 outside."""
    return 1.0 / (1.0 + np.exp(np.clip(signed_distance / softness, -30, 30)))


def _ellipse(u, v, cx, cy, ax, ay):
    """Approximate signed distance (pixels) to axis-aligned ellipses, batched."""
    r = np.sqrt(((u - cx) / ax) ** 2 + ((v - cy) / ay) ** 2)
    return (r - 1.0) * np.minimum(ax, ay)


def _segment(u, v, p, q, half_width):
    """Signed distance to thick segments from ``p`` to ``q`` (each (n, 2)), batched."""
    d = q - p
    length2 = np.maximum((d**2).sum(-1), 1e-9)[:, None, None]
    t = np.clip(((u - p[:, 0, None, None]) * d[:, 0, None, None] + (v - p[:, 1, None, None]) * d[:, 1, None, None]) / length2, 0, 1)
    du = u - (p[:, 0, None, None] + t * d[:, 0, None, None])
    dv = v - (p[:, 1, None, None] + t * d[:, 1, None, None])
    return np.sqrt(du**2 + dv**2) - half_width


def _render(rng, points, shape):
    """Draw the faces whose canonical keypoints are ``points`` (n, 15, 2) on the canonical grid."""
    n = len(points)
    idx = {name: i for i, name in enumerate(KAGGLE_NAMES)}
    col = lambda name, axis: points[:, idx[name], axis][:, None, None]  # noqa: E731
    b = lambda a: np.asarray(a)[:, None, None]  # noqa: E731
    grid_v, grid_u = np.mgrid[0:_SIZE, 0:_SIZE].astype(np.float64)
    u, v = grid_u[None], grid_v[None]
    soft = b(rng.uniform(0.5, 1.6, n))
    background = b(rng.uniform(20, 235, n))
    skin = b(rng.uniform(110, 210, n))
    img = np.broadcast_to(background, (n, _SIZE, _SIZE)).copy()
    # Head, then hair as a dark cap above the brows.
    head = _soft(_ellipse(u, v, 48, 54, b(rng.uniform(33, 38, n)), b(rng.uniform(44, 50, n))), soft)
    img += head * (skin - img)
    hair_line = b(rng.uniform(10, 20, n))
    hair = head * _soft(v - hair_line, soft * 2)
    img += hair * (b(rng.uniform(10, 80, n)) - img)
    for side in ("left", "right"):
        ex = (col(f"{side}_eye_inner_corner", 0) + col(f"{side}_eye_outer_corner", 0)) / 2
        ey = col(f"{side}_eye_center", 1)
        sclera = _soft(_ellipse(u, v, ex, ey, b(shape["eye_w"]), b(shape["eye_h"])), soft * 0.6)
        img += sclera * (np.minimum(skin + 45, 250) - img)
        iris = sclera * _soft(_ellipse(u, v, col(f"{side}_eye_center", 0), ey, 2.6, 2.6), soft * 0.5)
        img += iris * (b(rng.uniform(10, 60, n)) - img)
        p = points[:, [idx[f"{side}_eyebrow_inner_end"]]].reshape(n, 2)
        q = points[:, [idx[f"{side}_eyebrow_outer_end"]]].reshape(n, 2)
        brow = _soft(_segment(u, v, p, q, 1.8), soft * 0.7)
        img += brow * (skin * 0.35 - img)
    nx, ny = col("nose_tip", 0), col("nose_tip", 1)
    bridge = _soft(_segment(u, v, np.c_[points[:, idx["nose_tip"], 0], points[:, idx["nose_tip"], 1] - 18],
                            points[:, idx["nose_tip"]], 1.0), soft * 1.5)
    img += 0.35 * bridge * (skin * 0.7 - img)
    for sign in (-1.0, 1.0):
        nostril = _soft(_ellipse(u, v, nx + sign * 4.5, ny + 1.5, 2.2, 1.4), soft * 0.6)
        img += nostril * (skin * 0.4 - img)
    tip = _soft(_ellipse(u, v, nx, ny - 1.0, 3.0, 2.2), soft)
    img += 0.5 * tip * (np.minimum(skin + 30, 250) - img)
    mx = col("mouth_center_top_lip", 0)
    my = (col("mouth_center_top_lip", 1) + col("mouth_center_bottom_lip", 1)) / 2
    half_h = (col("mouth_center_bottom_lip", 1) - col("mouth_center_top_lip", 1)) / 2
    lips = _soft(_ellipse(u, v, mx, my, b(shape["mouth_w"]), half_h), soft * 0.6)
    img += lips * (skin * b(rng.uniform(0.45, 0.7, n)) - img)
    opening = _soft(_ellipse(u, v, mx, my, b(shape["mouth_w"]) * 0.8, b(shape["mouth_open"]) / 2 + 0.3), soft * 0.5)
    img += opening * (skin * 0.15 - img)
    return img


@keyword_only_after
@validate_params(
    {
        "n_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "missing": [Interval(numbers.Real, 0, 1, closed="both")],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_faces(n_samples=500, *, random_state=None, missing=0.0, return_X_y=False):
    """Draw synthetic 96x96 grayscale faces with exact Kaggle keypoints.

    Each face is drawn in a canonical frame (head, hair, eyes with irises,
    brows, nose with nostrils, lips with an opening), with random
    expression (gaze, brow height and tilt, mouth width and opening), then
    rotated (about 7 degrees s.d.), scaled (0.85-1.15) and shifted (about
    4 px s.d.), lit by a random linear gradient, and corrupted with blur-like
    soft edges and Gaussian noise. The mean-shape baseline scores far worse
    than a learned model on them.

    Parameters
    ----------
    n_samples : int, default=500
    random_state : int, RandomState or None
    missing : float in [0, 1], default=0.0
        Probability that a row keeps only the four core keypoints (eye
        centres, nose tip, bottom lip) with the rest NaN, as in about 70% of
        Kaggle's training rows.
    return_X_y : bool, default=False

    Returns
    -------
    data : Bunch
        ``data`` (n, 9216) uint8, ``images`` (n, 96, 96), ``target`` (n, 30),
        ``target_names``, ``layout`` (Kaggle's 15 keypoints: pass it to the
        estimators), ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True
    """
    rng = check_random_state(random_state)
    n = int(n_samples)
    points, shape = _canonical_keypoints(rng, n)
    angle = np.deg2rad(np.clip(rng.normal(0, 7, n), -18, 18))
    scale = rng.uniform(0.85, 1.15, n)
    shift = np.clip(rng.normal(0, 4, (n, 2)), -10, 10)
    # Image pixel p shows canonical point R^-1 (p - c - t) / s + c.
    images = np.empty((n, _SIZE, _SIZE))
    for start in range(0, n, 256):
        sl = slice(start, min(start + 256, n))
        canon = _render(rng, points[sl], {k: v[sl] for k, v in shape.items()})
        images[sl] = _warp(canon, angle[sl], scale[sl], shift[sl])
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    rel = points - _CENTER
    x = scale[:, None] * (cos * rel[..., 0] - sin * rel[..., 1]) + _CENTER[0] + shift[:, :1]
    y = scale[:, None] * (sin * rel[..., 0] + cos * rel[..., 1]) + _CENTER[1] + shift[:, 1:]
    target = np.stack([x, y], axis=-1).reshape(n, 30)
    # Lighting gradient and sensor noise.
    grid_v, grid_u = np.mgrid[0:_SIZE, 0:_SIZE] / (_SIZE - 1) - 0.5
    theta = rng.uniform(0, 2 * np.pi, n)[:, None, None]
    ramp = np.cos(theta) * grid_u + np.sin(theta) * grid_v
    images = images * rng.uniform(0.7, 1.2, n)[:, None, None] + rng.uniform(-70, 70, n)[:, None, None] * ramp
    images += rng.normal(0, 1, images.shape) * rng.uniform(2, 10, n)[:, None, None]
    data = np.clip(np.round(images), 0, 255).astype(np.uint8).reshape(n, -1)
    if missing > 0:
        core = np.isin(KAGGLE_NAMES, KAGGLE_CORE_KEYPOINTS)
        blank_rows = rng.uniform(size=n) < missing
        blank = np.repeat(blank_rows[:, None] & ~core[None, :], 2, axis=1)
        target[blank] = np.nan
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        images=data.reshape(n, _SIZE, _SIZE),
        target=target,
        target_names=list(KAGGLE_COLUMNS),
        layout=KAGGLE_15,
        DESCR=f"{n} synthetic faces drawn by fkp_classic.datasets.make_faces",
    )


def _warp(canon, angle, scale, shift):
    """Resample canonical images so that canonical point c maps to s R (c - C) + C + t."""
    from scipy.ndimage import map_coordinates

    n = len(canon)
    grid_v, grid_u = np.mgrid[0:_SIZE, 0:_SIZE].astype(np.float64)
    du = grid_u[None] - _CENTER[0] - shift[:, 0, None, None]
    dv = grid_v[None] - _CENTER[1] - shift[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    s = scale[:, None, None]
    cu = (cos * du + sin * dv) / s + _CENTER[0]
    cv = (-sin * du + cos * dv) / s + _CENTER[1]
    face = np.broadcast_to(np.arange(n)[:, None, None], cu.shape)
    return map_coordinates(canon, [face, cv, cu], order=1, mode="nearest")
