"""Smoothing a face's keypoints over time: its pose by a constant-velocity filter, its shape by a One Euro filter."""

import numpy as np

from ..utils._shape_geometry import as_complex, as_points, similarity
from ._one_euro import OneEuroFilter

__all__ = ["AlphaBetaFilter", "FaceSmoother"]


class AlphaBetaFilter:
    """Constant-velocity tracking filter (the steady-state Kalman filter of a position and its speed).

    Each new value is predicted from the last estimate and speed, then
    corrected by ``alpha`` times the prediction's miss (and the speed by
    ``beta`` times it per frame interval). Smooth motion is followed
    without the lag of a low-pass filter; noise is damped.

    Parameters
    ----------
    alpha : float, default=0.6
        Share of each frame's miss taken into the position (0 < alpha <= 1;
        lower is smoother).
    beta : float, default=0.2
        Share taken into the speed (0 <= beta < 2, below 4 - 2 alpha for stability).

    Examples
    --------
    >>> f = AlphaBetaFilter(alpha=0.5, beta=0.1)
    >>> [round(float(f(t, np.array([2.0 * t]))[0]), 2) for t in range(5)]  # catches up with steady motion
    [0.0, 1.0, 2.6, 4.54, 6.66]
    """

    def __init__(self, alpha=0.6, beta=0.2):
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if not 0 <= beta < min(2.0, 4 - 2 * alpha):
            raise ValueError(f"beta must be in [0, min(2, 4 - 2 alpha)), got {beta!r}")
        self.alpha, self.beta = float(alpha), float(beta)
        self._x = None

    def __call__(self, t, value):
        value = np.asarray(value, dtype=float)
        if self._x is None or self._x.shape != value.shape:
            self._t, self._x, self._v = t, value.copy(), np.zeros_like(value)
            return value.copy()
        dt = t - self._t
        if not dt > 0:
            raise ValueError(f"times must increase: got {t} after {self._t}")
        predicted = self._x + self._v * dt
        miss = value - predicted
        self._x = predicted + self.alpha * miss
        self._v = self._v + self.beta / dt * miss
        self._t = t
        return self._x.copy()


class FaceSmoother:
    """Smooth one face's keypoints over time, pose and shape apart.

    Each frame's points are split into a pose (the similarity -
    translation, scale, rotation - that best maps the model's mean shape
    onto them) and a shape (the points brought back into the mean shape's
    frame). The pose, estimated from all points at once, follows the head's
    motion through an :class:`AlphaBetaFilter` (no lag on smooth motion);
    the shape, which holds the per-point noise and the expression, goes
    through a :class:`OneEuroFilter`. Rigid motion thus leaves the shape
    still, and the shape filter can be strong without making the points lag.

    Parameters
    ----------
    mean_shape : array-like of shape (K, 2)
    min_cutoff, beta : float
        The shape's :class:`OneEuroFilter`.
    pose_alpha, pose_beta : float
        The pose's :class:`AlphaBetaFilter`.
    """

    def __init__(self, mean_shape, min_cutoff=0.5, beta=1.0, pose_alpha=0.6, pose_beta=0.2):
        self._mean_shape = np.asarray(mean_shape, dtype=float).reshape(-1, 2)
        self._mean = as_complex(self._mean_shape)
        self._size = float(np.sqrt((np.abs(self._mean - self._mean.mean()) ** 2).mean()))
        self._shape = OneEuroFilter(min_cutoff, beta)
        self._pose = AlphaBetaFilter(pose_alpha, pose_beta)

    def __call__(self, t, points):
        """Smoothed points ``(K, 2)`` of the face at time ``t`` (seconds) from its raw points ``(K, 2)``."""
        z = as_complex(points)
        turn = similarity(points, self._mean_shape)  # scale * rotation
        shift = z.mean() - turn * self._mean.mean()
        shape = (z - shift) / turn
        smooth = self._shape(t, as_points(shape), scale=self._size)
        pose = self._pose(t, np.array([shift.real, shift.imag, np.log(abs(turn)), np.angle(turn)]))
        turn = np.exp(pose[2] + 1j * pose[3])
        return as_points(turn * as_complex(smooth) + pose[0] + 1j * pose[1])
