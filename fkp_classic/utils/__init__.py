"""Helpers shared by the library's modules: input and parameter validation, keyword-only signatures with a
grace period, atomic file writes, progress reports."""

from ._atomic import atomic_write, check_writable
from ._constraints import IMAGE_SHAPE, NumberSequence, check_params
from ._deprecation import keyword_only_after
from ._progress import Progress
from ._validation import (
    as_images,
    check_keypoints,
    fit_images,
    half_missing,
    nan_mean_keypoints,
    plain_layout,
    resolve_image_shape,
    resolve_layout,
    set_keypoint_layout,
    set_keypoint_tags,
)

__all__ = [
    "atomic_write",
    "check_writable",
    "Progress",
    "IMAGE_SHAPE",
    "NumberSequence",
    "check_params",
    "keyword_only_after",
    "half_missing",
    "as_images",
    "check_keypoints",
    "fit_images",
    "nan_mean_keypoints",
    "resolve_image_shape",
    "resolve_layout",
    "plain_layout",
    "set_keypoint_layout",
    "set_keypoint_tags",
]
