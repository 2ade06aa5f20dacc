"""Keypoint estimators: images (or features) in, keypoints ``(n_samples, 2K)`` out.

All follow scikit-learn's conventions and learn from partially labelled rows (NaN).
"""

from ._capabilities import RETURN_STD, STAGED_PREDICT, keypoint_capabilities
from ._cascade import DENSE_LAYOUT_PARAMS, CascadeRegressor
from ._mean import MeanKeypoints
from ._regressor import KeypointRegressor
from ._ridge import KeypointRidge
from ._ridge_sums import RidgeSums
from ._template import MeanPatchTemplateSearch, ncc_search

__all__ = [
    "CascadeRegressor",
    "DENSE_LAYOUT_PARAMS",
    "KeypointRegressor",
    "KeypointRidge",
    "MeanKeypoints",
    "MeanPatchTemplateSearch",
    "RETURN_STD",
    "RidgeSums",
    "STAGED_PREDICT",
    "keypoint_capabilities",
    "ncc_search",
]
