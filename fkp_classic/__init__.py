"""fkp_classic: classical facial keypoint detection as scikit-learn estimators.

>>> from fkp_classic import KeypointRegressor
"""

from ._version import __version__

from .cascade import CascadeRegressor
from .hog import HOGFeatures
from .mean import MeanKeypoints
from .patch import PatchFeatures
from .persistence import load_default_model, load_model, save_model
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
    "load_default_model",
    "load_model",
    "save_model",
    "__version__",
]
