"""Video files in and out through PyAV (FFmpeg ships inside its wheels)."""

import numbers
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._atomic import atomic_write
from ..utils._constraints import check_params
from ..utils._deprecation import keyword_only_after

__all__ = ["VideoError", "Video", "read_video", "VideoWriter", "video_format", "WRITE_FORMATS"]

WRITE_FORMATS = {
    ".mp4": ("mp4", "libx264"),
    ".m4v": ("mp4", "libx264"),
    ".mov": ("mov", "libx264"),
    ".mkv": ("matroska", "libx264"),
    ".avi": ("avi", "mpeg4"),
}
"""Output suffix -> (container, codec) of :class:`VideoWriter`."""

_STILL_FORMATS = ("image2", "gif")  # and every "*_pipe" demuxer: single pictures, not videos
_MAX_FRAME_PIXELS = 50_000_000  # frames larger than 8K (33 megapixels) with room to spare: a header that lies


class VideoError(ValueError):
    """A video file that is missing, unreadable, or not a video."""


class Video:
    """A video file's frames as RGB arrays, decoded one at a time.

    Iterate over it for ``(h, w, 3)`` uint8 frames; it can be iterated
    more than once (each pass decodes the file again).

    Attributes
    ----------
    path : Path
    fps : float
        Average frame rate.
    n_frames : int or None
        Frames the container announces (None when it does not say).
    width, height : int
    duration : float or None
        Seconds.
    """

    def __init__(self, path):
        import av

        self.path = Path(path)
        if self.path.is_dir():
            raise VideoError(f"cannot read video {self.path}: it is a folder")
        if not self.path.is_file():
            raise VideoError(f"cannot read video {self.path}: no such file")
        try:
            with av.open(os.fspath(self.path)) as container:
                if container.format.name in _STILL_FORMATS or container.format.name.endswith("_pipe"):
                    raise VideoError(f"{self.path} is a still image ({container.format.name}), not a video; "
                                     f"use fkp detect for photos")
                if not container.streams.video:
                    raise VideoError(f"{self.path} holds no video stream (streams: "
                                     f"{[s.type for s in container.streams] or 'none'})")
                stream = container.streams.video[0]
                self.fps = float(stream.average_rate or stream.guessed_rate or 25)
                if not 0 < self.fps < 10_000:  # a damaged header's rate: time stamps would be nonsense
                    raise VideoError(f"{self.path}: its header gives {self.fps:g} frames per second; a damaged file?")
                self.n_frames = int(stream.frames) or None
                self.width, self.height = stream.codec_context.width, stream.codec_context.height
                _check_frame_size(self.path, self.width, self.height)
                self.duration = float(stream.duration * stream.time_base) if stream.duration else None
        except VideoError:
            raise
        except MemoryError:
            raise VideoError(f"{self.path}: not enough memory to open it (a damaged header?)") from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg and PyAV raise many kinds for damaged files
            raise VideoError(f"{self.path} is not a video FFmpeg can read ({exc or type(exc).__name__})") from None

    def __repr__(self):
        return f"Video({str(self.path)!r}, {self.width}x{self.height}, {self.fps:g} fps, {self.n_frames} frames)"

    def __iter__(self):
        import av

        n = 0
        try:
            with av.open(os.fspath(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    _check_frame_size(self.path, frame.width, frame.height, f"frame {n}")  # one frame in memory
                    pixels = frame.to_ndarray(format="rgb24")
                    n += 1
                    yield pixels
        except VideoError:
            raise
        except MemoryError:
            raise VideoError(f"{self.path}: not enough memory to decode frame {n}") from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg and PyAV raise many kinds for damaged files
            raise VideoError(f"{self.path}: decoding failed at frame {n} ({exc or type(exc).__name__})") from None
        if n == 0:
            raise VideoError(f"{self.path}: no video frame could be decoded (an empty or damaged file)")


def _check_frame_size(path, width, height, what="its frames"):
    """Refuse frames above :data:`_MAX_FRAME_PIXELS` (or of no pixels) before they are converted."""
    if width * height > _MAX_FRAME_PIXELS:
        raise VideoError(f"{path}: {what} of {width}x{height} pixels are above the limit of "
                         f"{_MAX_FRAME_PIXELS / 1e6:.0f} megapixels (a damaged header?)")


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def read_video(path):
    """Open a video file (any format FFmpeg reads) for frame-by-frame reading.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Video
        Iterable of ``(h, w, 3)`` uint8 RGB frames, with ``fps``,
        ``n_frames``, ``width``, ``height``.

    Raises
    ------
    VideoError
        Naming the file, when it is missing, not a video, or unreadable.
    """
    return Video(path)


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def video_format(path):
    """The ``(container, codec)`` :class:`VideoWriter` uses for ``path``'s suffix (:data:`WRITE_FORMATS`).

    Raises
    ------
    VideoError
        For a suffix that names no video format written here.
    """
    path = Path(path)
    if path.suffix.lower() not in WRITE_FORMATS:
        raise VideoError(f"{path}: the suffix names no video format written here; use one of {', '.join(WRITE_FORMATS)}")
    return WRITE_FORMATS[path.suffix.lower()]


class VideoWriter:
    """Write RGB frames to a video file, atomically (the file appears complete or not at all).

    Parameters
    ----------
    path : str or Path
        Its suffix picks the container and codec (:data:`WRITE_FORMATS`):
        H.264 in ``.mp4``/``.mov``/``.mkv``, MPEG-4 part 2 in ``.avi``.
    fps : float
        Frames per second, above 0.
    quality : int, default=23
        The H.264 constant rate factor, 0 to 51 (lower is better and larger).

    Raises
    ------
    VideoError
        For a suffix that names no video format written here.
    ValueError
        For a parameter out of its range (``InvalidParameterError``, naming it).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grey.mp4"
    >>> with VideoWriter(path, fps=25) as out:
    ...     for _ in range(10):
    ...         out.write(np.full((48, 64, 3), 128, np.uint8))
    >>> sum(1 for _ in read_video(path))
    10
    """

    _parameter_constraints = {
        "path": [str, os.PathLike],
        "fps": [Interval(numbers.Real, 0, None, closed="neither")],
        "quality": [Interval(numbers.Integral, 0, 51, closed="both")],
    }

    @keyword_only_after
    def __init__(self, path, *, fps, quality=23):
        self.path, self.fps, self.quality = path, fps, quality
        check_params(self)
        self.path = Path(path)
        self._format, self._codec = video_format(self.path)
        self._file = self._container = self._stream = None

    def __enter__(self):
        import av

        self._writing = atomic_write(self.path, "wb")
        self._file = self._writing.__enter__()
        self._container = av.open(self._file, mode="w", format=self._format)
        return self

    def write(self, frame):
        """Append one ``(h, w, 3)`` uint8 RGB frame (every frame must have the first one's size)."""
        import av

        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if self._stream is None:
            height, width = frame.shape[:2]
            rate = Fraction(self.fps).limit_denominator(1001)
            self._stream = self._container.add_stream(self._codec, rate=rate)
            self._stream.width, self._stream.height = width + width % 2, height + height % 2  # yuv420p: even sides
            self._stream.pix_fmt = "yuv420p"
            if self._codec == "libx264":
                self._stream.options = {"crf": str(self.quality), "preset": "veryfast"}
            self._size = frame.shape[:2]
        if frame.shape[:2] != self._size:
            raise VideoError(f"{self.path}: frame of size {frame.shape[1]}x{frame.shape[0]} after frames of "
                             f"{self._size[1]}x{self._size[0]}")
        if frame.shape[0] % 2 or frame.shape[1] % 2:
            frame = np.pad(frame, ((0, frame.shape[0] % 2), (0, frame.shape[1] % 2), (0, 0)), mode="edge")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self._container.mux(packet)

    def __exit__(self, kind, error, trace):
        if error is None and self._stream is None:
            error = VideoError(f"{self.path}: no frame was written")
        try:
            if error is None:
                for packet in self._stream.encode():  # flush the encoder's delayed frames
                    self._container.mux(packet)
            self._container.close()
        except Exception as exc:  # noqa: BLE001 - whatever FFmpeg raised, the file must not be kept
            error = error or VideoError(f"cannot write video {self.path}: {exc}")
        if error is None:
            self._writing.__exit__(None, None, None)  # the complete file replaces the target
            return False
        self._writing.__exit__(type(error), error, error.__traceback__)  # removes the temporary file
        if kind is None:
            raise error
        return False
