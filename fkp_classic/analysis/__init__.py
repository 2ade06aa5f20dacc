"""What the keypoints are for: head pose, eye and mouth measures, blinks, aligned face chips.

Functions work on arrays of points of any number of faces at once; the
analysers (:class:`HeadPose`, :class:`Eyes`, :class:`Mouth`,
:class:`FaceChips`) plug them into :class:`~fkp_classic.photo.KeypointDetector`
and :class:`~fkp_classic.video.FaceTracker` (``analysers=``), adding
``face.pose``, ``face.eyes``, ``face.mouth``, ``face.chip``.
"""

from ._analysers import ANALYSERS, Eyes, FaceChips, HeadPose, Mouth, flat_analyses, make_analysers
from ._blinks import BlinkDetector
from ._chips import ARCFACE_TEMPLATE, chip_transforms, face_chips
from ._eyes_mouth import eye_measures, frontal_points, mouth_measures
from ._mean_face_3d import mean_face_3d
from ._pose import (
    EYE_DISTANCE_MM,
    angles_to_rotation,
    fit_layout,
    fit_pose,
    head_pose,
    pose_axes,
    project_mean_face,
    rotation_to_angles,
)

__all__ = [
    "ANALYSERS",
    "ARCFACE_TEMPLATE",
    "BlinkDetector",
    "EYE_DISTANCE_MM",
    "Eyes",
    "FaceChips",
    "HeadPose",
    "Mouth",
    "angles_to_rotation",
    "chip_transforms",
    "eye_measures",
    "face_chips",
    "fit_layout",
    "flat_analyses",
    "fit_pose",
    "frontal_points",
    "head_pose",
    "make_analysers",
    "mean_face_3d",
    "mouth_measures",
    "pose_axes",
    "project_mean_face",
    "rotation_to_angles",
]
