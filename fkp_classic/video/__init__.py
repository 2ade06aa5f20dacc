"""Faces in video: tracking with temporal smoothing, and video files in and out.

>>> from fkp_classic.video import FaceTracker, read_video
"""

from ._io import WRITE_FORMATS, Video, VideoError, VideoWriter, read_video, video_format
from ._one_euro import OneEuroFilter
from ._tracker import FaceTracker, track_video

__all__ = [
    "FaceTracker",
    "track_video",
    "OneEuroFilter",
    "read_video",
    "Video",
    "VideoWriter",
    "VideoError",
    "video_format",
    "WRITE_FORMATS",
]
