"""Faces in video: tracking with temporal smoothing; video in (files, URLs, standard input, cameras, live) and out.

>>> from fkp_classic.video import FaceTracker, read_video
"""

from ._io import STDIN, WRITE_FORMATS, CapturedFrame, Video, VideoError, VideoWriter, read_video, video_format
from ._one_euro import OneEuroFilter
from ._tracker import FaceTracker, track_video

__all__ = [
    "FaceTracker",
    "track_video",
    "OneEuroFilter",
    "read_video",
    "Video",
    "CapturedFrame",
    "VideoWriter",
    "VideoError",
    "video_format",
    "WRITE_FORMATS",
    "STDIN",
]
