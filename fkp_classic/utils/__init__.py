"""Helpers shared by the library's modules: input validation and atomic file writes."""

from ._atomic import atomic_write
from ._validation import (
    as_images,
    check_keypoints,
    fit_images,
    nan_mean_keypoints,
    resolve_image_shape,
    resolve_layout,
    set_keypoint_layout,
    set_keypoint_tags,
)

__all__ = [
    "atomic_write",
    "as_images",
    "check_keypoints",
    "fit_images",
    "nan_mean_keypoints",
    "resolve_image_shape",
    "resolve_layout",
    "set_keypoint_layout",
    "set_keypoint_tags",
]
