"""Data sets: Kaggle-format files (training, test, lookup table, submission), annotated photos (frames.csv, 300-W
folders, dlib's XML, a CSV of photos and points), training crops cut from annotated photos as the photo path
frames a face (:func:`photo_training_crops`, :func:`fit_from_photos`), face-free photos, and synthetic faces.

Every loader takes each form a user may have: a ``.csv``, its ``.zip``, the
competition archive, or a folder holding any of these; with no path, the
``FKP_DATA`` environment variable names it.
"""

from ._kaggle import (
    IMAGE_SIZE,
    KEYPOINT_MARGIN,
    DataError,
    find_data,
    load_groups,
    load_kaggle,
    load_kaggle_test,
    iter_kaggle_test,
    load_lookup,
    write_submission,
)
from ._landmarks import layout_from_columns, load_landmarks
from ._backgrounds import BACKGROUND_NAMES, HELD_OUT_BACKGROUNDS, load_backgrounds
from ._frames import face_squares, load_frames
from ._synthetic import KAGGLE_CORE_KEYPOINTS, make_faces
from ._annotated_photos import AnnotatedPhotos
from ._pts import PHOTO_EXTENSIONS, PTS_PHOTO_PATTERN, load_300w, read_pts
from ._dlib_xml import load_dlib_xml
from ._photo_points import load_photo_points
from ._photo_crops import FRAMING_NOISE, photo_training_crops, resize_crops
from ._photo_fit import PHOTO_LICENCE_NOTE, fit_from_photos, photo_cascade

__all__ = [
    "DataError",
    "find_data",
    "load_kaggle",
    "load_kaggle_test",
    "iter_kaggle_test",
    "load_lookup",
    "load_groups",
    "write_submission",
    "load_landmarks",
    "layout_from_columns",
    "load_frames",
    "face_squares",
    "load_backgrounds",
    "BACKGROUND_NAMES",
    "HELD_OUT_BACKGROUNDS",
    "make_faces",
    "IMAGE_SIZE",
    "KEYPOINT_MARGIN",
    "KAGGLE_CORE_KEYPOINTS",
    "AnnotatedPhotos",
    "load_300w",
    "read_pts",
    "load_dlib_xml",
    "load_photo_points",
    "PHOTO_EXTENSIONS",
    "PTS_PHOTO_PATTERN",
    "photo_training_crops",
    "resize_crops",
    "FRAMING_NOISE",
    "fit_from_photos",
    "photo_cascade",
    "PHOTO_LICENCE_NOTE",
]
