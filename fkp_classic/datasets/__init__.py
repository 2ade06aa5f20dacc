"""Data sets: Kaggle-format files (training, test, lookup table, submission) and synthetic faces.

Every loader takes each form a user may have: a ``.csv``, its ``.zip``, the
competition archive, or a folder holding any of these; with no path, the
``FKP_DATA`` environment variable names it.
"""

from ._kaggle import (
    IMAGE_SIZE,
    DataError,
    find_data,
    load_groups,
    load_kaggle,
    load_kaggle_test,
    load_lookup,
    write_submission,
)
from ._synthetic import KAGGLE_CORE_KEYPOINTS, make_faces

__all__ = [
    "DataError",
    "find_data",
    "load_kaggle",
    "load_kaggle_test",
    "load_lookup",
    "load_groups",
    "write_submission",
    "make_faces",
    "IMAGE_SIZE",
    "KAGGLE_CORE_KEYPOINTS",
]
