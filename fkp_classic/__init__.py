"""fkp_classic: classical facial keypoint detection as scikit-learn estimators.

>>> from fkp_classic import KeypointRegressor
"""

__version__ = "0.1.0"

from .cascade import CascadeRegressor
from .hog import HOGFeatures
from .mean import MeanKeypoints
from .patch import PatchFeatures
from .regressor import KeypointRegressor
from .ridge import KeypointRidge
from .template import MeanPatchTemplateSearch

__all__ = [
    "CascadeRegressor",
    "HOGFeatures",
    "PatchFeatures",
    "KeypointRidge",
    "KeypointRegressor",
    "MeanKeypoints",
    "MeanPatchTemplateSearch",
    "__version__",
]
