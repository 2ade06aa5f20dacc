"""Video in and out through PyAV (FFmpeg ships inside its wheels): files, URLs, standard input, cameras."""

import numbers
import os
import re
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._atomic import atomic_write
from ..utils._constraints import check_params
from ..utils._deprecation import keyword_only_after
from ..utils._stdin import piped_stdin

__all__ = ["VideoError", "Video", "CapturedFrame", "STDIN", "read_video", "VideoWriter", "video_format",
           "WRITE_FORMATS"]

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
    """A video that is missing, unreadable, or not a video: a file, a stream, standard input or a camera."""


STDIN = "-"
"""The path that names standard input (``read_video("-")``, ``fkp track -``)."""

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # http://, rtsp://, ...: whatever FFmpeg opens, not a path
_CAMERA_INPUTS = {"linux": "v4l2", "darwin": "avfoundation", "win32": "dshow"}  # FFmpeg's camera input per platform


class CapturedFrame(NamedTuple):
    """A frame as :meth:`Video.frames` gives it.

    Attributes
    ----------
    image : ndarray of shape (h, w, 3)
        uint8 RGB.
    index : int
        Its place among the frames decoded from the source (0 for the
        first), the dropped ones counted.
    time_s : float
        Seconds from the first frame: ``index / fps`` when every frame is
        read, its time stamp in live mode.
    captured_at : float
        The :func:`time.perf_counter` at which it was decoded and offered:
        where its latency starts.
    skipped : int
        Frames dropped just before it (live mode: newer frames replaced
        them while the reader was busy); 0 when every frame is read.
    """

    image: np.ndarray
    index: int
    time_s: float
    captured_at: float
    skipped: int


class Video:
    """A video's frames as RGB arrays, decoded one at a time: a file, a URL, standard input or a camera.

    Iterate over it for ``(h, w, 3)`` uint8 frames, or over :meth:`frames`
    for each frame with its index, time, capture time and the frames
    skipped before it. A file can be iterated more than once (each pass
    decodes it again); a URL, standard input or a camera once.

    In live mode a thread decodes the frames as they come into a one-slot
    buffer where a newer frame replaces one not yet taken, and each frame
    asked for is the newest: a slow reader drops frames rather than fall
    behind. A file or standard input is then played at its frame rate, as
    a camera gives its frames.

    Parameters
    ----------
    path : str or Path, optional
        A video file (any format FFmpeg reads), a URL (``scheme://...``:
        http, https, rtsp, rtmp, ...: whatever FFmpeg opens), or ``"-"``
        for standard input.
    camera : int or str, optional
        A camera instead: its number (0 is the first) or its device name,
        through FFmpeg's v4l2 (Linux: ``/dev/video<N>``), avfoundation
        (macOS) or dshow (Windows: by name) input.
    live : bool, optional
        Default: True for cameras and URLs, False for files and standard
        input (a pipe holds its writer back: no frame is lost).
    timeout : float, default=10.0
        Seconds a URL or camera has to open, and then to give each read.

    Attributes
    ----------
    path : Path, str or None
        The file (a Path), the URL or ``"-"``; None for a camera.
    name : str
        The source as messages name it (a URL without its password).
    live : bool
    fps : float
        Average frame rate (the announced one for a stream).
    n_frames : int or None
        Frames the container announces (None when it does not say).
    width, height : int
    duration : float or None
        Seconds.
    n_dropped : int
        Frames dropped in live mode so far.
    """

    def __init__(self, path=None, *, camera=None, live=None, timeout=10.0):
        if (path is None) == (camera is None):
            raise ValueError("give a video (a file, a URL or '-' for standard input) or a camera: one of them")
        self.timeout, self.n_dropped = float(timeout), 0
        self._container, self._stdin = None, None
        if camera is not None:
            self.kind, self.path = "camera", None
            self._device, self._format, self.name = _camera_input(camera)
        elif isinstance(path, str) and path == STDIN:
            self.kind, self.path, self.name = "stdin", STDIN, "standard input"
        elif isinstance(path, str) and _URL.match(path):
            self.kind, self.path, self.name = "url", path, re.sub(r"://([^/@:]*):[^/@]*@", r"://\1:***@", path)
        else:
            self.kind, self.path = "file", Path(path)
            self.name = str(self.path)
            if self.path.is_dir():
                raise VideoError(f"cannot read video {self.path}: it is a folder")
            if not self.path.is_file():
                raise VideoError(f"cannot read video {self.path}: no such file")
        self.live = self.kind in ("camera", "url") if live is None else bool(live)
        container = self._open()
        try:
            self._describe(container)
        except BaseException as exc:
            container.close()
            if isinstance(exc, MemoryError):
                raise VideoError(f"{self.name}: not enough memory to open it (a damaged header?)") from None
            if isinstance(exc, Exception) and not isinstance(exc, VideoError):  # FFmpeg and PyAV raise many kinds
                raise VideoError(self._open_failed(exc)) from None
            raise
        if self.kind == "file":
            container.close()  # each pass opens the file again
        else:
            self._container = container  # a stream is read once, from where it was opened

    def _open(self):
        """The source opened by FFmpeg, or a :class:`VideoError` saying why not."""
        import av

        try:
            if self.kind == "file":
                return av.open(os.fspath(self.path))
            if self.kind == "stdin":
                self._stdin = _Counted(_standard_input())
                return av.open(self._stdin, "r")
            if self.kind == "url":
                return av.open(self.path, "r", timeout=self.timeout)
            return av.open(self._device, "r", format=self._format, timeout=self.timeout)
        except VideoError:
            raise
        except MemoryError:
            raise VideoError(f"{self.name}: not enough memory to open it (a damaged header?)") from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg and PyAV raise many kinds for damaged files
            raise VideoError(self._open_failed(exc)) from None

    def _open_failed(self, exc):
        """Why opening failed, in a sentence naming the source."""
        import av

        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        if self.kind == "file":
            return f"{self.name} is not a video FFmpeg can read ({exc or type(exc).__name__})"
        if self.kind == "stdin":
            if self._stdin.n_bytes == 0:
                return "standard input is empty: pipe a video in (e.g. cat clip.mkv | fkp track -)"
            return f"standard input is not a video FFmpeg can read ({reason})"
        if isinstance(exc, (av.ExitError, TimeoutError)):
            return f"cannot open {self.name}: no answer in {self.timeout:g} s"
        if self.kind == "camera" and isinstance(exc, FileNotFoundError):
            return f"cannot open {self.name}: no such camera"
        return f"cannot open {self.name}: {reason}"

    def _describe(self, container):
        """Read the frame rate, frame count and size from the opened container."""
        if container.format.name in _STILL_FORMATS or container.format.name.endswith("_pipe"):
            raise VideoError(f"{self.name} is a still image ({container.format.name}), not a video; "
                             f"use fkp detect for photos")
        if not container.streams.video:
            raise VideoError(f"{self.name} holds no video stream (streams: "
                             f"{[s.type for s in container.streams] or 'none'})")
        stream = container.streams.video[0]
        self.fps = float(stream.average_rate or stream.guessed_rate or 25)
        if not 0 < self.fps < 10_000:  # a damaged header's rate: time stamps would be nonsense
            raise VideoError(f"{self.name}: its header gives {self.fps:g} frames per second; a damaged file?")
        self.n_frames = int(stream.frames) or None
        self.width, self.height = stream.codec_context.width, stream.codec_context.height
        _check_frame_size(self.name, self.width, self.height)
        self.duration = float(stream.duration * stream.time_base) if stream.duration else None

    def __repr__(self):
        return (f"Video({self.name!r}, {self.width}x{self.height}, {self.fps:g} fps, {self.n_frames} frames"
                + (", live)" if self.live else ")"))

    def __iter__(self):
        for frame in self.frames():
            yield frame.image

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def close(self):
        """Close a stream, standard input or camera not read to its end (a file is closed after each pass)."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def frames(self):
        """The frames, each a :class:`CapturedFrame`: image, index, time, capture time, frames skipped before it.

        In live mode each is the newest frame decoded when it is asked
        for; ``skipped`` counts those dropped since the one before (and
        :attr:`n_dropped` all of them). Otherwise every frame, in order.

        Raises
        ------
        VideoError
            Naming the source, when a frame cannot be decoded, when none
            can, or when a stream is read a second time.
        """
        if not self.live:
            for frame, index, _, captured_at in self._decode():
                yield CapturedFrame(self._pixels(frame, index), index, index / self.fps, captured_at, 0)
            return
        from ._live import newest_frames

        last = -1
        for frame, index, time_s, captured_at in newest_frames(self._decode(), pace=self.kind in ("file", "stdin")):
            skipped, last = index - last - 1, index
            self.n_dropped += skipped
            yield CapturedFrame(self._pixels(frame, index), index, time_s, captured_at, skipped)

    def _decode(self):
        """``(av frame, index, time_s from its time stamp, perf_counter when decoded)`` for every frame, in order."""
        if self.kind == "file":
            container = self._open()
        else:
            if self._container is None:
                raise VideoError(f"{self.name} was read already (or closed): a stream is read once")
            container, self._container = self._container, None
        n, first, last = 0, None, -1.0
        try:
            with container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE" if self.live else "AUTO"  # frame threads hold frames back: latency
                for frame in container.decode(stream):
                    captured_at = time.perf_counter()
                    if frame.time is None:
                        time_s = n / self.fps
                    else:
                        first = frame.time if first is None else first
                        time_s = frame.time - first
                    time_s = last = time_s if time_s > last else last + 1 / self.fps  # increasing, whatever the stamps
                    yield frame, n, time_s, captured_at
                    n += 1
        except VideoError:
            raise
        except MemoryError:
            raise VideoError(f"{self.name}: not enough memory to decode frame {n}") from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg and PyAV raise many kinds for damaged files
            hint = ""
            if self.kind == "stdin" and container.format.name.startswith("mov"):
                hint = ("; an MP4 or MOV file whose index is at its end cannot be read from a pipe: give its path, or "
                        "pipe a streamable format (ffmpeg -i clip.mp4 -c copy -f matroska -)")
            raise VideoError(f"{self.name}: decoding failed at frame {n} ({exc or type(exc).__name__}){hint}") from None
        if n == 0:
            raise VideoError(f"{self.name}: no video frame could be decoded (an empty or damaged file)")

    def _pixels(self, frame, index):
        """A decoded frame as an ``(h, w, 3)`` uint8 RGB array (one frame in memory)."""
        _check_frame_size(self.name, frame.width, frame.height, f"frame {index}")
        try:
            return frame.to_ndarray(format="rgb24")
        except MemoryError:
            raise VideoError(f"{self.name}: not enough memory to decode frame {index}") from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg and PyAV raise many kinds for damaged files
            raise VideoError(f"{self.name}: decoding failed at frame {index} ({exc or type(exc).__name__})") from None


class _Counted:
    """A binary stream whose bytes read are counted: empty standard input is told from a bad video."""

    def __init__(self, raw):
        self.raw, self.n_bytes = raw, 0

    def read(self, size=-1):
        data = self.raw.read(size)
        self.n_bytes += len(data)
        return data


def _standard_input():
    """Standard input's bytes, refused when there are none to come (no stream, or a terminal)."""
    return piped_stdin(VideoError, "standard input", "pipe a video in (e.g. cat clip.mkv | fkp track -)")


def _camera_input(camera):
    """``(device, FFmpeg input format, name)`` of ``camera`` (a number or a device name) on this platform."""
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    fmt = _CAMERA_INPUTS.get(platform)
    if fmt is None:
        raise VideoError(f"camera {camera}: cameras are read through FFmpeg's v4l2 (Linux), avfoundation (macOS) "
                         f"or dshow (Windows) input, and this platform is {sys.platform}")
    number = int(camera) if isinstance(camera, numbers.Integral) or str(camera).isdigit() else None
    if fmt == "v4l2":
        device = f"/dev/video{number}" if number is not None else str(camera)
    elif fmt == "avfoundation":
        device = str(camera)  # a number or a name: video only
    elif number is not None:
        raise VideoError(f"camera {camera}: DirectShow opens cameras by name; give the name (ffmpeg -list_devices "
                         f"true -f dshow -i dummy lists them), e.g. \"Integrated Camera\"")
    else:
        device = camera if camera.startswith("video=") else f"video={camera}"
    shown = "" if device == str(camera) else f"{device} "
    return device, fmt, f"camera {camera} ({shown}through FFmpeg's {fmt})"


def _check_frame_size(name, width, height, what="its frames"):
    """Refuse frames above :data:`_MAX_FRAME_PIXELS` (or of no pixels) before they are converted."""
    if width * height > _MAX_FRAME_PIXELS:
        raise VideoError(f"{name}: {what} of {width}x{height} pixels are above the limit of "
                         f"{_MAX_FRAME_PIXELS / 1e6:.0f} megapixels (a damaged header?)")


@validate_params(
    {"path": [str, os.PathLike, None], "camera": [Interval(numbers.Integral, 0, None, closed="left"), str, None],
     "live": ["boolean", None], "timeout": [Interval(numbers.Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def read_video(path=None, *, camera=None, live=None, timeout=10.0):
    """Open a video for frame-by-frame reading: a file, a URL, standard input or a camera.

    Parameters
    ----------
    path : str or Path, optional
        A video file (any format FFmpeg reads), a URL (``scheme://...``:
        http, https, rtsp, rtmp, ...: whatever FFmpeg opens), or ``"-"``
        for standard input.
    camera : int or str, optional
        A camera instead of ``path``: its number (0 is the first) or its
        device name (FFmpeg's v4l2, avfoundation or dshow input, whichever
        the platform has).
    live : bool, optional
        Never fall behind: a thread decodes the frames as they come and
        each frame read is the newest, those a slow reader had no time for
        dropped (and counted: :meth:`Video.frames`). Default: True for
        cameras and URLs, False for files and standard input.
    timeout : float, default=10.0
        Seconds a URL or camera has to open, and then to give each read.

    Returns
    -------
    Video
        Iterable of ``(h, w, 3)`` uint8 RGB frames, with ``fps``,
        ``n_frames``, ``width``, ``height``; :meth:`Video.frames` gives
        each with its index, time and latency start.

    Raises
    ------
    VideoError
        Naming the source, when it is missing, not a video, unreadable,
        empty (standard input), or does not answer (a URL, a camera).
    """
    return Video(path, camera=camera, live=live, timeout=timeout)


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
