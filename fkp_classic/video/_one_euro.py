"""The One Euro filter: smoothing that removes jitter when still and follows fast motion without lag."""

import numpy as np

__all__ = ["OneEuroFilter"]


def _alpha(dt, cutoff):
    """Smoothing factor of a first-order low-pass filter of ``cutoff`` Hz over ``dt`` seconds."""
    tau = 1.0 / (2 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Adaptive low-pass filter of keypoints over time (Casiez, Roussel & Vogel, CHI 2012).

    Each point is smoothed by an exponential filter whose cutoff frequency
    grows with the point's speed: ``min_cutoff + beta * speed``. A still
    point is filtered hard (no jitter); a moving one hardly at all (no
    lag). Speed is measured in face sizes per second (``scale``), so the
    same parameters suit faces of any size in pixels.

    Parameters
    ----------
    min_cutoff : float, default=1.0
        Cutoff frequency (Hz) of a still point: lower removes more jitter.
    beta : float, default=1.0
        How fast the cutoff grows with speed (per face size per second):
        higher follows motion with less lag.
    d_cutoff : float, default=1.0
        Cutoff frequency (Hz) of the filter on the speed itself.

    References
    ----------
    .. [1] G. Casiez, N. Roussel and D. Vogel, "1 Euro Filter: A Simple
           Speed-based Low-pass Filter for Noisy Input in Interactive
           Systems", Proc. CHI 2012, pp. 2527-2530.
           :DOI:`10.1145/2207676.2208639`

    Examples
    --------
    >>> import numpy as np
    >>> smooth = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    >>> points = np.array([[10.0, 20.0]])
    >>> smooth(0.0, points, scale=50.0)
    array([[10., 20.]])
    >>> smooth(0.04, points + 1.0, scale=50.0).round(3)  # a 1-pixel jump is mostly held back
    array([[10.201, 20.201]])
    """

    def __init__(self, min_cutoff=1.0, beta=1.0, d_cutoff=1.0):
        for name, value in (("min_cutoff", min_cutoff), ("d_cutoff", d_cutoff)):
            if not value > 0:
                raise ValueError(f"{name} must be a positive frequency in Hz, got {value!r}")
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        self.min_cutoff = float(min_cutoff)
        self.beta = float(beta)
        self.d_cutoff = float(d_cutoff)
        self.reset()

    def reset(self):
        """Forget the past: the next value passes unchanged."""
        self._t = self._x = None
        self._dx = 0.0

    def __call__(self, t, points, scale=1.0):
        """Filtered points at time ``t`` (seconds).

        Parameters
        ----------
        t : float
            Time of these points; must increase from call to call.
        points : ndarray of shape (K, 2)
            Raw points (pixels).
        scale : float, default=1.0
            The face's size in pixels: speeds are divided by it.

        Returns
        -------
        ndarray of shape (K, 2)
        """
        points = np.asarray(points, dtype=float)
        if self._x is None or self._x.shape != points.shape:
            self._t, self._x, self._dx = t, points.copy(), np.zeros(len(points))
            return points.copy()
        dt = t - self._t
        if not dt > 0:
            raise ValueError(f"times must increase: got {t} after {self._t}")
        speed = np.hypot(*(points - self._x).T) / dt / max(float(scale), 1e-9)
        self._dx = self._dx + _alpha(dt, self.d_cutoff) * (speed - self._dx)
        weight = _alpha(dt, self.min_cutoff + self.beta * self._dx)[:, None]
        self._x = self._x + weight * (points - self._x)
        self._t = t
        return self._x.copy()
