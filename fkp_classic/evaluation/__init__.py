"""Measuring and calibrating the photo path on faces with known keypoints (not used at run time).

Faces pasted into larger canvases (:func:`paste_faces`), the photo pipeline's error on them
(:func:`pasted_face_errors`), a face detector's framing fit (:func:`fit_framing`) and the framing
verifier's training crops (:func:`framing_examples`).
"""

from ._framing import fit_framing, framed_mean_offset
from ._pasted import nearest_box, paste_faces, pasted_face_errors
from ._verifier_examples import framing_examples

__all__ = ["paste_faces", "nearest_box", "pasted_face_errors", "fit_framing", "framed_mean_offset", "framing_examples"]
