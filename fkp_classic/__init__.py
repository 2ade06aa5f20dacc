"""fkp_classic: classical facial keypoint detection as scikit-learn estimators.

>>> from fkp_classic import CascadeRegressor

The estimators live in :mod:`fkp_classic.estimators`, the features in
:mod:`fkp_classic.features`, the photo path in :mod:`fkp_classic.photo` and the data loaders in
:mod:`fkp_classic.datasets`; the names below are imported on first use, so ``fkp --version``
and ``import fkp_classic`` stay fast.
"""

import importlib

from ._version import __version__

_LAZY = {
    "CascadeRegressor": "estimators",
    "KeypointRegressor": "estimators",
    "KeypointRidge": "estimators",
    "MeanKeypoints": "estimators",
    "MeanPatchTemplateSearch": "estimators",
    "HOGFeatures": "features",
    "PatchFeatures": "features",
    "KeypointDetector": "photo",
    "HOGFaceDetector": "photo",
    "detect_keypoints": "photo",
    "read_photo": "photo",
    "FaceTracker": "video",
    "load_default_model": "persistence",
    "load_model": "persistence",
    "save_model": "persistence",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
