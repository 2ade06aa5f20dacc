"""Blinks in a video: eye openness with hysteresis, fed one frame at a time.

References
----------
.. [1] Soukupová, T. and Čech, J. "Real-time eye blink detection using facial
   landmarks", 21st Computer Vision Winter Workshop, 2016.
"""

import math
import numbers

from sklearn.utils._param_validation import Interval

from ..utils._constraints import check_params

__all__ = ["BlinkDetector"]


class BlinkDetector:
    """Blink events from a stream of eye openness values (eye aspect ratios), with hysteresis.

    The eyes close when the openness falls below ``close_below`` and open
    again when it rises above ``open_above``; a closure is a blink if it
    lasts at most ``max_duration`` seconds (longer ones are eyes kept shut,
    not counted). Frames without a value (no face, or NaN) neither close nor
    open the eyes.

    Parameters
    ----------
    fps : float, default=25.0
        Frames a second, to turn frame numbers into seconds when
        :meth:`update` is given no time.
    close_below : float, default=0.15
    open_above : float, default=0.2
        Must be at least ``close_below``.
    max_duration : float, default=0.8
        Seconds.

    Attributes
    ----------
    events_ : list of dict
        One per blink: ``start`` and ``end`` (seconds: the first frame
        below ``close_below`` and the first back above ``open_above``),
        ``duration`` (seconds) and ``start_frame``, ``end_frame``.
    n_frames_ : int
        Frames seen.
    elapsed_ : float
        Seconds from the first frame seen to the last.

    Examples
    --------
    >>> from fkp_classic.analysis import BlinkDetector
    >>> blinks = BlinkDetector(fps=10)
    >>> for value in [0.3, 0.3, 0.1, 0.1, 0.3, 0.3]:
    ...     _ = blinks.update(value)
    >>> blinks.events_[0]["duration"], blinks.n_frames_
    (0.2, 6)
    """

    _parameter_constraints = {
        "fps": [Interval(numbers.Real, 0, None, closed="neither")],
        "close_below": [Interval(numbers.Real, 0, None, closed="neither")],
        "open_above": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_duration": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(self, *, fps=25.0, close_below=0.15, open_above=0.2, max_duration=0.8):
        self.fps = fps
        self.close_below = close_below
        self.open_above = open_above
        self.max_duration = max_duration

    def _start(self):
        check_params(self)
        if self.open_above < self.close_below:
            raise ValueError(f"open_above ({self.open_above}) must be at least close_below ({self.close_below})")
        self.events_, self.n_frames_, self.elapsed_ = [], 0, 0.0
        self._first, self._closed_at = None, None

    def get_params(self, deep=True):
        """The parameters, as scikit-learn's estimators give them."""
        return {k: getattr(self, k) for k in ("fps", "close_below", "open_above", "max_duration")}

    def reset(self):
        """Forget the frames seen so far."""
        self._start()
        return self

    def update(self, openness, *, time=None):
        """Feed one frame; the blink it ends, if any.

        Parameters
        ----------
        openness : float, Face or None
            The frame's eye openness, or a face whose ``eyes`` analysis
            (:class:`Eyes`) gives it; None or NaN for a frame without one.
        time : float, optional
            The frame's time in seconds; by default its number over ``fps``.

        Returns
        -------
        event : dict or None
        """
        if not hasattr(self, "events_"):
            self._start()
        frame = self.n_frames_
        self.n_frames_ += 1
        now = frame / self.fps if time is None else float(time)
        self._first = now if self._first is None else self._first
        self.elapsed_ = now - self._first
        if openness is not None and not isinstance(openness, numbers.Real):
            eyes = getattr(openness, "eyes", None)
            if eyes is None:
                raise TypeError("update() takes an eye openness or a Face analysed by the Eyes analyser (face.eyes), "
                                f"got {type(openness).__name__}")
            openness = eyes["openness"]
        if openness is None or math.isnan(openness):
            return None
        if self._closed_at is None:
            if openness < self.close_below:
                self._closed_at = (now, frame)
            return None
        if openness <= self.open_above:
            return None
        (start, start_frame), self._closed_at = self._closed_at, None
        duration = now - start
        if duration > self.max_duration:
            return None
        event = {"start": start, "end": now, "duration": round(duration, 9), "start_frame": start_frame,
                 "end_frame": frame}
        self.events_.append(event)
        return event

    @property
    def closed(self):
        """Whether the eyes are closed now (below ``close_below`` and not yet back above ``open_above``)."""
        return getattr(self, "_closed_at", None) is not None

    @property
    def blinks_per_minute(self):
        """Blinks a minute over the frames seen (NaN before a second frame)."""
        if not getattr(self, "elapsed_", 0):
            return float("nan")
        return 60.0 * len(self.events_) / self.elapsed_
