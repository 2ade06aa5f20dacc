"""Keypoints on photos: face detectors, crop geometry, the framing verifier and the pipeline over them.

>>> from fkp_classic.photo import detect_keypoints
"""

from ._crop import CROP_SIZE, box_frames, crop_frames, frame_boxes, point_angles, reframe, to_crop, to_photo
from ._face_detectors import DLIB_FRAMING, CallableFaceDetector, LBPFaceDetector, as_face_detector, confirmed_boxes
from ._boxes import box_overlaps, held_back, non_max_suppression
from ._hog_face_detector import HOGFaceDetector
from ._image import as_gray, as_gray8, as_rgb8
from ._part_refiner import PART_SHARES, PART_SPANS, PartRefiner
from ._pipeline import KAGGLE_MEAN_SHAPE, KeypointDetector, detect_keypoints, model_layout
from ._collection import detect_photos, photo_paths
from ._read import MAX_PIXELS, PhotoError, read_photo
from ._result import Face
from ._verifier import make_face_verifier, make_framing_verifier

__all__ = [
    "KeypointDetector",
    "detect_keypoints",
    "Face",
    "PartRefiner",
    "PART_SHARES",
    "PART_SPANS",
    "HOGFaceDetector",
    "LBPFaceDetector",
    "non_max_suppression",
    "held_back",
    "box_overlaps",
    "CallableFaceDetector",
    "as_face_detector",
    "confirmed_boxes",
    "DLIB_FRAMING",
    "as_gray",
    "as_gray8",
    "as_rgb8",
    "read_photo",
    "detect_photos",
    "photo_paths",
    "PhotoError",
    "MAX_PIXELS",
    "CROP_SIZE",
    "box_frames",
    "frame_boxes",
    "crop_frames",
    "reframe",
    "point_angles",
    "to_crop",
    "to_photo",
    "make_framing_verifier",
    "make_face_verifier",
    "model_layout",
    "KAGGLE_MEAN_SHAPE",
]
