"""Synthetic videos with exact keypoints: a real labelled photo moved along a smooth random path."""

import numpy as np
from PIL import Image

__all__ = ["moving_face_sequence", "tracking_errors"]


def _smooth_path(rng, n_frames, n_waves=3, cycles=(0.3, 2.0)):
    """A smooth random signal over ``n_frames`` with values in [-1, 1]: a sum of slow sines."""
    t = np.linspace(0, 1, n_frames)
    freq = rng.uniform(*cycles, n_waves)
    phase = rng.uniform(0, 2 * np.pi, n_waves)
    amp = rng.uniform(0.5, 1.0, n_waves)
    wave = (amp[:, None] * np.sin(2 * np.pi * freq[:, None] * t + phase[:, None])).sum(axis=0)
    return wave / amp.sum()


def moving_face_sequence(photo, keypoints, n_frames=150, random_state=None, shift=0.12, zoom=0.15, turn=8.0,
                         light=0.2, noise=3.0):
    """Frames of a photo moved by a smooth random similarity, with its keypoints moved alike.

    Translation, scale, in-plane rotation (about the keypoints' centre)
    and brightness each follow a sum of slow random sines over the
    sequence; every frame gets fresh Gaussian camera noise. The frame keeps
    the photo's size; what moves in from outside is the photo's edge.

    Parameters
    ----------
    photo : ndarray of shape (h, w, 3) or (h, w), uint8
    keypoints : array-like of shape (2K,)
        The photo's true keypoints, ``x1, y1, ...`` in pixels.
    n_frames : int, default=150
    random_state : int or Generator, optional
    shift : float, default=0.12
        Largest translation, as a fraction of the photo's width and height.
    zoom : float, default=0.15
        Largest log-scale change.
    turn : float, default=8.0
        Largest rotation, in degrees.
    light : float, default=0.2
        Largest relative brightness change.
    noise : float, default=3.0
        Standard deviation of the camera noise, in grey levels.

    Returns
    -------
    frames : ndarray of shape (n_frames, h, w[, 3]), uint8
    truth : ndarray of shape (n_frames, 2K)
        The keypoints in every frame.
    """
    rng = np.random.default_rng(random_state)
    photo = np.asarray(photo, dtype=np.uint8)
    height, width = photo.shape[:2]
    points = np.asarray(keypoints, dtype=float).reshape(-1, 2)
    centre = points.mean(axis=0)
    dx, dy, s, r, b = (_smooth_path(rng, n_frames) for _ in range(5))
    scale = np.exp(zoom * s)
    angle = np.deg2rad(turn * r)
    move = np.stack([shift * width * dx, shift * height * dy], axis=1)
    image = Image.fromarray(photo)
    frames = np.empty((n_frames, *photo.shape), dtype=np.uint8)
    truth = np.empty((n_frames, points.size))
    for i in range(n_frames):  # one affine warp per frame
        rotation = scale[i] * np.array([[np.cos(angle[i]), -np.sin(angle[i])], [np.sin(angle[i]), np.cos(angle[i])]])
        offset = centre + move[i] - rotation @ centre  # forward map: p -> rotation @ p + offset
        truth[i] = (points @ rotation.T + offset).ravel()
        inverse = np.linalg.inv(rotation)
        # PIL reads the source at coeffs applied to output pixel centres (x + 0.5, y + 0.5), in its
        # own coordinates where pixel i spans [i, i + 1]; ours have pixel centres at integers
        back = -inverse @ offset
        coeffs = (inverse[0, 0], inverse[0, 1], back[0] + 0.5 - 0.5 * (inverse[0, 0] + inverse[0, 1]),
                  inverse[1, 0], inverse[1, 1], back[1] + 0.5 - 0.5 * (inverse[1, 0] + inverse[1, 1]))
        warped = np.asarray(image.transform((width, height), Image.AFFINE, coeffs, Image.BILINEAR), dtype=float)
        lit = warped * (1 + light * b[i]) + rng.normal(0, noise, warped.shape)
        frames[i] = np.clip(np.rint(lit), 0, 255)
    return frames, truth


def tracking_errors(truth, pred, eyes=(0, 1)):
    """Accuracy and jitter of keypoints over a sequence, normalised by the true inter-ocular distance.

    Parameters
    ----------
    truth : ndarray of shape (n_frames, 2K)
    pred : ndarray of shape (n_frames, 2K)
        NaN on frames without a prediction.
    eyes : (int, int), default=(0, 1)
        Keypoints whose distance normalises (the Kaggle eye centres).

    Returns
    -------
    nme : ndarray of shape (n_frames,)
        Mean point error over the inter-ocular distance, per frame (NaN where missed).
    jitter : float
        RMS over frames and points of the second difference in time of the
        error vector, over the mean inter-ocular distance (frames next to a
        miss are left out).
    """
    truth = np.asarray(truth, dtype=float).reshape(len(truth), -1, 2)
    pred = np.asarray(pred, dtype=float).reshape(truth.shape)
    iod = np.linalg.norm(truth[:, eyes[0]] - truth[:, eyes[1]], axis=1)
    error = pred - truth
    nme = np.linalg.norm(error, axis=2).mean(axis=1) / iod
    second = error[2:] - 2 * error[1:-1] + error[:-2]
    ok = np.isfinite(second).all(axis=(1, 2))
    jitter = np.sqrt((second[ok] ** 2).sum(axis=2).mean()) / iod.mean() if ok.any() else np.nan
    return nme, jitter
