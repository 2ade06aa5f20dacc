# The declared public API of fkp_classic: the lazy loader (fkp_classic/__init__.py), the reference
# generator (docs/make_reference.py) and the command line (fkp_classic/cli.py) all read this one list.
# Each subpackage's own __all__ declares the rest of its public names.

from . import (
    analysis,
    datasets,
    estimators,
    evaluation,
    features,
    flip,
    keypoints,
    metrics,
    persistence,
    photo,
    plotting,
    video,
)
from ._version import __version__
from .analysis import BlinkDetector, face_chips, head_pose, make_analysers
from .datasets import DataError, load_frames, load_kaggle, load_kaggle_test, load_landmarks, write_submission
from .estimators import (
    CascadeRegressor,
    KeypointRegressor,
    KeypointRidge,
    MeanKeypoints,
    MeanPatchTemplateSearch,
)
from .features import HOGFeatures, PatchFeatures
from .keypoints import KeypointLayout, get_layout
from .persistence import load_default_model, load_model, save_model
from .photo import Face, HOGFaceDetector, KeypointDetector, LBPFaceDetector, PartRefiner, detect_keypoints, read_photo
from .video import FaceTracker, read_video, track_video
