"""Measuring and calibrating the photo path on faces with known keypoints (not used at run time).

Faces pasted into larger canvases (:func:`paste_faces`), the photo pipeline's error on them
(:func:`pasted_face_errors`), a face detector's framing fit (:func:`fit_framing`) and the framing
verifier's training crops (:func:`framing_examples`), face detections matched to known faces
(:func:`match_faces`), crop frames against the frames true points give (:func:`framing_errors`,
:func:`eye_rotation`), multi-face canvases (:func:`multi_face_canvas`,
:func:`multi_face_canvases`), and synthetic videos of
a moving labelled face with the accuracy and jitter of points tracked through them
(:func:`moving_face_sequence`, :func:`tracking_errors`), and larger training sets of faces jittered
chunk by chunk (:class:`JitteredFaces`).
"""

from ._box_noise import eye_rotation, framing_errors
from ._detection import match_faces, multi_face_canvas, multi_face_canvases
from ._jittered import JitteredFaces, jitter_faces
from ._framing import fit_framing, framed_mean_offset
from ._poses import turn_components
from ._pasted import nearest_box, paste_faces, pasted_face_errors
from ._sequences import moving_face_sequence, tracking_errors
from ._verifier_examples import detection_examples, framing_examples

__all__ = ["framing_errors", "eye_rotation", "match_faces", "multi_face_canvas", "multi_face_canvases", "paste_faces", "nearest_box", "pasted_face_errors", "fit_framing", "framed_mean_offset", "framing_examples", "detection_examples",
           "turn_components", "moving_face_sequence", "tracking_errors", "JitteredFaces", "jitter_faces"]
