"""Keypoints on photos of any size: detect faces, crop, predict, re-crop around the points, verify.

:class:`KeypointDetector` holds the parts (keypoint model, face detector,
face verifier), loaded once; :func:`detect_keypoints` is the one-line
function over it.
"""

import functools
import inspect
import os

import numpy as np
from PIL import Image
from sklearn.pipeline import Pipeline

from ..keypoints import KAGGLE_15
from ..utils._validation import is_real_number
from ._boxes import non_max_suppression
from ._crop import CROP_SIZE, box_frames, crop_frames, frame_boxes, reframe, to_photo
from ._face_detectors import as_face_detector
from ._hog_face_detector import HOGFaceDetector
from ._image import as_gray8
from ._read import read_photo
from ._result import Face
from ._verifier import fused_verifier

__all__ = ["KeypointDetector", "detect_keypoints", "model_layout", "KAGGLE_MEAN_SHAPE"]

KAGGLE_MEAN_SHAPE = np.array([
    65.05, 38.19, 30.65, 38.44, 58.27, 38.52, 71.46, 37.87, 37.31, 38.7, 24.2, 38.15, 57.7, 27.02, 78.59, 29.16, 37.73,
    27.22, 16.31, 29.57, 48.86, 58.82, 62.26, 76.36, 34.37, 76.59, 48.8, 72.25, 48.95, 83.61,
]).reshape(15, 2)
"""Mean Kaggle keypoints of the faces96 crops: the framing for a 15-point model that records no ``mean_shape_``."""


@functools.cache
def _packaged(what):
    """The packaged default model or verifier, loaded once per process (only ever read, never changed)."""
    from .. import persistence

    return persistence.load_default_model() if what == "model" else persistence.load_default_verifier()


def model_layout(model):
    """The keypoint layout and mean shape ``(K, 2)`` a fitted keypoint model (or Pipeline) records.

    Every fkp_classic estimator records ``layout_`` and ``mean_shape_`` at
    fit. A model without them (say, a user's own scikit-learn pipeline) is
    taken to predict the 15 Kaggle keypoints, which is checked on its first
    prediction.

    Returns
    -------
    layout : KeypointLayout
    mean_shape : ndarray of shape (K, 2)
    recorded : bool
        Whether the model recorded them.
    """
    final = model[-1] if isinstance(model, Pipeline) else model
    layout, mean_shape = getattr(final, "layout_", None), getattr(final, "mean_shape_", None)
    if layout is None or mean_shape is None:
        return KAGGLE_15, KAGGLE_MEAN_SHAPE, False
    return layout, np.asarray(mean_shape, dtype=float).reshape(-1, 2), True


class KeypointDetector:
    """Faces and their keypoints in photos of any size.

    For each photo: convert it to grayscale once, find face boxes, cut each
    box's crop (its framing turns a box into the square the model was
    trained on), predict keypoints, then ``reframe_passes`` times re-crop
    around the predicted keypoints (:func:`reframe`) and predict again,
    which removes most of the box's jitter. A verifier then scores the crop
    framed around each face's final keypoints and drops those below
    ``min_score`` (the detector's false alarms: ears, text, part of a face);
    a face's score is the verifier's plus ``detector_weight`` times the HOG
    detector's, which is independent evidence (faces96 frames: the
    detector scores false alarms around 0.5 and faces around 3). A face
    scored within ``retry_scores`` is tried once more from its detection
    box enlarged ``retry_scale`` times, and keeps the better scored of the
    two fits: the box of a turned, cut-off or blurred face can be so small
    that the keypoint model settles on too small a face.
    Each face's box is the square its final keypoints frame (mapped back
    through the detector's framing), so box and points agree; two
    detections that settle on the same face give one face, the better
    scored.

    Parameters
    ----------
    model : fitted keypoint estimator or "default", default="default"
        Predicts keypoints from flattened 96x96 crops; its ``layout_`` names
        the points and its ``mean_shape_`` frames the re-crops. "default" is
        the packaged :func:`fkp_classic.load_default_model`.
    face_detector : str, detector or callable, default="hog"
        ``"hog"`` (the packaged :class:`HOGFaceDetector`), ``"lbp"``
        (:class:`LBPFaceDetector`), any object with ``__call__(gray) ->
        boxes`` and a ``framing`` (:mod:`fkp_classic.photo`), or a plain
        function ``gray -> boxes`` (framed as dlib's HOG boxes).
    verifier : classifier, "default" or None, default="default"
        Gives ``decision_function`` on 96x96 crops, positive for a whole
        face; "default" is the packaged one (:func:`fkp_classic.photo.make_face_verifier`),
        None keeps every face.
    min_score : float, default=0.3
        Lowest face score kept.
    reframe_passes : int, default=1
        Re-crops around the predicted keypoints (a second pass changed
        neither the error nor the failures on the photo benchmark's frames).
    framing_stages : int or None, default=3
        Stages the model runs on every pass but the last (with
        ``reframe_passes`` >= 1), when it can stop early (a
        ``staged_predict(X, n_stages, check_input)`` such as
        :class:`~fkp_classic.CascadeRegressor`'s): those passes only frame
        the face for the next, and the cascade's first three stages frame it
        as well as all five (photo benchmark). None runs every stage.
    max_detect_pixels : int, default=4_000_000
        Photos larger than this (a 12-megapixel phone photo, say) are
        searched for faces on a copy downscaled to this many pixels; the
        keypoints still come from crops of the full-resolution photo (every
        photo is handled as 8-bit grayscale). Time and memory stay bounded
        whatever the photo's size; the smallest face found is then
        ``min_size`` at the downscaled size.
    detector_weight : float, default=0.5
        Share of the HOG face detector's score (above its own ``threshold``;
        negative for a candidate below it) added to the verifier's; other
        detectors give no score.
    candidate_margin : float, default=0.5
        How far below its own ``threshold`` (0.25 for the packaged
        detector, set for using it alone) a HOG detector's window may score
        and still be proposed as a face: candidates from -0.25 by default.
        A margin finds more of the small, blurred and turned faces; the
        verifier judges them. Other detectors propose what they return.
    retry_scale : float or None, default=1.4
        How much a doubtful face's detection box is enlarged (about its
        centre) for its second fit; None never retries (nor does a
        pipeline without a verifier, which has no score to compare).
    retry_scores : (float, float), default=(-0.5, 1.0)
        Faces scoring at least the first and below the second are retried:
        doubtful, but not clearly something else. Faces in photos score
        about 3.

        ``detector_weight``, ``min_score``, ``candidate_margin`` and the
        retry were chosen on the photo benchmark's fold-0 training people
        (split in two by person): the candidates and the retry found 0.7%
        more of the faces and 2 more of 60 multi-face canvases complete
        (59/60) at the same failure rate; ``min_score`` 0.25 to 0.35 kept
        those pasted faces with 0.008-0.009 false alarms per frame (most of
        the benchmark's false alarms are real faces its frames leave
        unannotated: people behind, photos on a wall).

    Attributes
    ----------
    layout : KeypointLayout
        Names of the points every face carries (the model's).
    mean_shape : ndarray of shape (K, 2)
        Where the model's training crops have their keypoints.

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.photo import KeypointDetector
    >>> detector = KeypointDetector()
    >>> faces = detector.detect(data.astronaut())
    >>> best = max(faces, key=lambda face: face.score)  # her face; faces come largest first
    >>> len(best.keypoints), bool(best.score > 1)
    (15, True)
    """

    def __init__(
        self, model="default", face_detector="hog", verifier="default", min_score=0.3, reframe_passes=1,
        max_detect_pixels=4_000_000, detector_weight=0.5, framing_stages=3, candidate_margin=0.5,
        retry_scale=1.4, retry_scores=(-0.5, 1.0),
    ):
        if isinstance(model, str):
            if model != "default":
                raise ValueError(f"model must be a fitted estimator or 'default', got {model!r}")
            model = _packaged("model")
        if isinstance(verifier, str):
            if verifier != "default":
                raise ValueError(f"verifier must be a fitted classifier, 'default' or None, got {verifier!r}")
            verifier = _packaged("verifier")
        if not hasattr(model, "predict"):
            raise TypeError(f"model must be a fitted keypoint estimator with predict, got {type(model).__name__}")
        if int(reframe_passes) != reframe_passes or reframe_passes < 0:
            raise ValueError(f"reframe_passes must be a whole number >= 0, got {reframe_passes!r}")
        if int(max_detect_pixels) != max_detect_pixels or max_detect_pixels < 10_000:
            raise ValueError(f"max_detect_pixels must be a whole number >= 10000, got {max_detect_pixels!r}")
        shape = getattr(model[-1] if isinstance(model, Pipeline) else model, "image_shape_", None)
        if shape is not None and tuple(shape) != (CROP_SIZE, CROP_SIZE):
            raise ValueError(
                f"the model was fitted on {shape[0]}x{shape[1]} images; the photo path cuts {CROP_SIZE}x{CROP_SIZE} crops"
            )
        self.model = model
        self.face_detector = as_face_detector(face_detector)
        self.verifier = verifier
        self.min_score = float(min_score)
        self.reframe_passes = int(reframe_passes)
        self.max_detect_pixels = int(max_detect_pixels)
        if not np.isfinite(detector_weight) or detector_weight < 0:
            raise ValueError(f"detector_weight must be a number >= 0, got {detector_weight!r}")
        self.detector_weight = float(detector_weight)
        if framing_stages is not None and (int(framing_stages) != framing_stages or framing_stages < 0):
            raise ValueError(f"framing_stages must be a whole number >= 0 or None, got {framing_stages!r}")
        self.framing_stages = None if framing_stages is None else int(framing_stages)
        if not (is_real_number(candidate_margin) and candidate_margin >= 0):
            raise ValueError(f"candidate_margin must be a number >= 0, got {candidate_margin!r}")
        self.candidate_margin = float(candidate_margin)
        if retry_scale is not None and not (is_real_number(retry_scale) and retry_scale > 0 and retry_scale != 1):
            raise ValueError(f"retry_scale must be a positive number other than 1, or None; got {retry_scale!r}")
        self.retry_scale = None if retry_scale is None else float(retry_scale)
        try:
            low, high = retry_scores
            valid = is_real_number(low, finite=False) and is_real_number(high, finite=False) and low <= high
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(f"retry_scores must be two numbers (lowest, highest), lowest first; got {retry_scores!r}")
        self.retry_scores = (float(low), float(high))
        self.layout, self.mean_shape, self._layout_recorded = model_layout(model)

    def __repr__(self):
        return (f"KeypointDetector(model={type(self.model).__name__}, face_detector={self.face_detector!r}, "
                f"verifier={'None' if self.verifier is None else type(self.verifier).__name__}, "
                f"min_score={self.min_score}, reframe_passes={self.reframe_passes}, "
                f"max_detect_pixels={self.max_detect_pixels}, detector_weight={self.detector_weight}, "
                f"framing_stages={self.framing_stages}, candidate_margin={self.candidate_margin}, "
                f"retry_scale={self.retry_scale}, retry_scores={self.retry_scores})")

    def detect(self, image, name="photo"):
        """Faces in one photo, largest first.

        Parameters
        ----------
        image : array-like of shape (h, w), (h, w, 3) or (h, w, 4), or path
            Gray or RGB(A) photo: uint8, uint16, or float in [0, 1]; or a
            photo file, read by :func:`read_photo`.
        name : str, default="photo"
            Names the photo in error messages (a file's path by default).

        Returns
        -------
        faces : list of Face
        """
        if isinstance(image, (str, os.PathLike)):
            image, name = read_photo(image)[0], str(image)
        return self.detect_batch([image], [name])[0]

    def detect_batch(self, images, names=None):
        """Faces in each of several photos; the keypoint model runs once for all their faces.

        Parameters
        ----------
        images : sequence of array-like
        names : sequence of str, optional
            Name each photo in error messages.

        Returns
        -------
        faces : list of list of Face
            One list per photo, largest face first.
        """
        names = [f"photo {i}" for i in range(len(images))] if names is None else list(names)
        return self._detect_grays([self._gray(image, name) for image, name in zip(images, names)])

    def _detect_grays(self, grays):
        """:meth:`detect_batch` of photos already made 8-bit gray (:meth:`_gray`)."""
        found = [self._boxes(gray) for gray in grays]
        frames = [box_frames(boxes, self.face_detector.framing) for boxes, _ in found]
        detector_scores = [scores for _, scores in found]
        faces = self._faces(grays, frames, self.reframe_passes, drop=False, detector_scores=detector_scores)
        return [self._kept_faces(f) for f in self._retried(grays, frames, detector_scores, faces)]

    def _retried(self, grays, frames, detector_scores, faces):
        """``faces`` (per photo, one per crop of ``frames``) with each doubtful one (score within ``retry_scores``)
        fitted again from its crop enlarged ``retry_scale`` times, the better scored fit kept."""
        if self.retry_scale is None or self.verifier is None:
            return faces
        low, high = self.retry_scores
        doubtful = [np.flatnonzero([low <= face.score < high for face in photo_faces]) for photo_faces in faces]
        if not any(len(d) for d in doubtful):
            return faces
        # each crop square, enlarged about its centre: the framing (scale, 0, 0) of the square as a box
        enlarged = [box_frames(np.c_[f[d], f[d, 2]], (self.retry_scale, 0.0, 0.0)) for f, d in zip(frames, doubtful)]
        extra = [None if s is None else s[d] for s, d in zip(detector_scores, doubtful)]
        again = self._faces(grays, enlarged, self.reframe_passes, drop=False, detector_scores=extra)
        out = []
        for photo_faces, d, retried in zip(faces, doubtful, again):
            photo_faces = list(photo_faces)
            for i, face in zip(d, retried):
                if face.score > photo_faces[i].score:
                    photo_faces[i] = face
            out.append(photo_faces)
        return out

    def _kept_faces(self, faces):
        """The faces :func:`_kept` keeps (scored at least ``min_score``, no duplicates), largest first."""
        if not faces:
            return []
        final = box_frames(np.array([face.box for face in faces]), self.face_detector.framing)
        scores = None if faces[0].score is None else np.array([face.score for face in faces])
        return [faces[i] for i in _kept(final, scores, self.min_score)]

    def _gray(self, image, name):
        """The photo as 8-bit grayscale: what the face detector, the crops and the models all take."""
        return as_gray8(image, name)

    def _boxes(self, gray8):
        """Face boxes in photo pixels (searched on a copy downscaled to ``max_detect_pixels`` if larger), and how
        far each box's detector score clears its threshold (None for a detector that gives no score).

        The packaged kind of detector scans the 8-bit photo itself; any other
        is given float grayscale in [0, 1], as documented for detectors.
        """
        height, width = gray8.shape
        factor = min(1.0, np.sqrt(self.max_detect_pixels / (height * width)))
        size = (width, height)
        if factor < 1.0:
            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            gray8 = np.asarray(Image.fromarray(gray8).resize(size, Image.BOX))
        scores = None
        if isinstance(self.face_detector, HOGFaceDetector):  # its score above its threshold joins the face's
            lowest = self.face_detector.threshold - self.candidate_margin
            boxes, scores = self.face_detector.detect(gray8, return_scores=True, threshold=lowest)
            scores = scores - self.face_detector.threshold
        else:
            boxes = self.face_detector(gray8 / 255.0)
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        return boxes * np.array([width / size[0], height / size[1]] * 2), scores

    def from_boxes(self, image, boxes, name="photo"):
        """Faces from given boxes ``(x, y, w, h)`` (framed with the face detector's framing), as :meth:`detect` would give them."""
        gray = self._gray(image, name)
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        return self._faces([gray], [box_frames(boxes, self.face_detector.framing)], self.reframe_passes)[0]

    def refine(self, image, points, passes=1, name="photo"):
        """Faces re-fitted from given keypoints, for tracking: crop around them, predict, repeat ``passes`` times.

        Parameters
        ----------
        image : array-like
            The photo (e.g. the next video frame).
        points : array-like of shape (n_faces, 2K)
            Keypoints in photo pixels (e.g. the previous frame's).
        passes : int, default=1

        Returns
        -------
        faces : list of Face
            In the order of ``points`` (none dropped by the verifier: each
            face's ``score`` tells whether it is still a whole face). Their
            boxes are the squares the face detector's framing maps to the
            final crops.
        """
        gray = self._gray(image, name)
        points = self._check_points(np.asarray(points, dtype=float).reshape(len(points), -1))
        return self._faces([gray], [reframe(points, self.mean_shape)], passes - 1, drop=False)[0]

    def _check_points(self, points):
        expected = 2 * len(self.mean_shape)
        if points.ndim != 2:
            raise ValueError(
                f"the model ({type(self.model).__name__}) predicts an array of shape {points.shape}, not keypoints "
                f"(n_faces, {expected})"
            )
        if points.shape[1] != expected:
            what = "recorded by the model" if self._layout_recorded else "assumed (the model records no layout_)"
            raise ValueError(
                f"the model predicts {points.shape[1] // 2} keypoints but its layout, {what}, has {expected // 2}"
            )
        return points

    def _predict(self, grays, frames, return_crops=False, framing=False, return_std=False):
        """Photo keypoints of the crops ``frames`` (one array per photo), one model call for all (and the crops);
        with ``framing``, the model stops after ``framing_stages`` stages if it can. With ``return_std``, also
        each coordinate's predicted error scale in photo pixels (per photo; None if the model gives none)."""
        cut = [crop_frames(gray, f) for gray, f in zip(grays, frames)]
        crops = np.concatenate([c for c, _ in cut])
        rounded = np.concatenate([r for _, r in cut])
        std = [None] * len(grays)
        if len(crops) == 0:
            points = [np.zeros((0, 2 * len(self.mean_shape))) for _ in grays]
            if return_std and _gives_std(self.model):
                std = [np.zeros((0, 2 * len(self.mean_shape))) for _ in grays]
        else:
            if return_std and _gives_std(self.model):
                predicted, predicted_std = self.model.predict(crops, return_std=True, check_input=False)
                std = _per_photo(predicted_std * (rounded[:, 2] / CROP_SIZE)[:, None], frames)
            elif _stops_early(self.model):  # the crops are ours: valid by construction
                n_stages = self.framing_stages if framing else None
                predicted = self.model.staged_predict(crops, n_stages=n_stages, check_input=False)[-1]
            else:
                predicted = self.model.predict(crops)
            points = self._check_points(np.asarray(predicted, dtype=float))
            points = _per_photo(to_photo(points, rounded), frames)
        out = (points,) + ((crops,) if return_crops else ()) + ((std,) if return_std else ())
        return out if len(out) > 1 else points

    def _verifier_scores(self, crops):
        """The verifier's scores of crops; the packaged kind of verifier runs fused (same scores, a fifth the time)."""
        if getattr(self, "_fused", (None,))[0] is not self.verifier:
            self._fused = (self.verifier, fused_verifier(self.verifier))
        return np.asarray(self._fused[1].decision_function(crops), dtype=float)

    def _faces(self, grays, frames, passes, drop=True, detector_scores=None):
        """Faces of crops ``frames`` (per photo): predicted, re-cropped ``passes`` times, verified (the verifier's
        score plus ``detector_weight`` times ``detector_scores``, per photo an array or None); with ``drop``,
        those below ``min_score`` and duplicates removed, largest first."""
        for _ in range(passes):  # each pass but the last only frames the face for the next
            frames = [reframe(p, self.mean_shape) for p in self._predict(grays, frames, framing=True)]
        points, std = self._predict(grays, frames, return_std=True)
        final = [reframe(p, self.mean_shape) for p in points]  # where the faces now are: verified, boxed
        scores = [None] * len(grays)
        if self.verifier is not None:
            crops = np.concatenate([crop_frames(g, f)[0] for g, f in zip(grays, final)])
            if len(crops):
                scores = _per_photo(self._verifier_scores(crops), final)
                for score, extra in zip(scores, detector_scores or []):
                    if extra is not None and self.detector_weight:
                        score += self.detector_weight * np.asarray(extra, dtype=float)
        out = []
        for p, f, s, e in zip(points, final, scores, std):
            faces = [
                Face(box, pts.reshape(-1, 2), self.layout.names, None if s is None else s[i],
                     None if e is None else e[i].reshape(-1, 2))
                for i, (box, pts) in enumerate(zip(frame_boxes(f, self.face_detector.framing), p))
            ]
            out.append(self._kept_faces(faces) if drop else faces)
        return out


def _gives_std(model):
    """True if the model predicts each coordinate's error scale (``predict(X, return_std=True,
    check_input=False)``): a cascade or keypoint regressor fitted with its error model."""
    return getattr(model, "error_model_", None) is not None and _takes(type(model), "predict", "return_std", "check_input")


def _stops_early(model):
    """True if the model's ``staged_predict`` takes ``n_stages`` and ``check_input`` (as
    :class:`~fkp_classic.CascadeRegressor`'s)."""
    return _takes(type(model), "staged_predict", "n_stages", "check_input")


@functools.lru_cache(maxsize=None)
def _takes(model_type, method, *names):
    """Whether the class's ``method`` exists and takes all of ``names``: its signature is read once per class,
    not on every prediction."""
    function = getattr(model_type, method, None)
    try:
        return function is not None and set(names) <= set(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False


def _kept(frames, scores, min_score, overlap=0.5):
    """Indices of the faces kept, largest first: face score at least ``min_score`` (if scored), and no better
    scored face whose final crop square overlaps theirs by more than ``overlap`` (two detections of one face)."""
    index = np.arange(len(frames))
    if scores is not None:
        index = index[scores >= min_score]
    if len(index) > 1:
        squares = np.c_[frames[index], frames[index, 2]]
        index = index[non_max_suppression(squares, np.zeros(len(index)) if scores is None else scores[index], overlap)]
    return index[np.argsort(-frames[index, 2], kind="stable")]


def _per_photo(values, frames):
    """Split rows for the faces of all photos into one array per photo (``frames`` holds each photo's)."""
    return np.split(values, np.cumsum([len(f) for f in frames])[:-1])


def detect_keypoints(
    image, model="default", min_size=40, reframe_passes=1, verifier="default", min_score=0.3, face_detector="hog",
    detector=None,
):
    """Find the faces in a photo and their keypoints.

    A one-line use of :class:`KeypointDetector` (see it for the
    parameters); the packaged parts are loaded once per process.

    Parameters
    ----------
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4), or path
        Gray or RGB(A) photo of any size: uint8, uint16, or float in [0, 1];
        or a photo file (:func:`read_photo`).
    model : fitted estimator or "default", default="default"
        None also means the packaged model.
    min_size : int, default=40
        Smallest face searched, in pixels (for a face detector given by name).
    face_detector : {"hog", "lbp"}, detector or callable, default="hog"
        Finds the faces: a name, a detector object, or any function taking
        a float grayscale photo in [0, 1] and returning ``(x, y, w, h)``
        boxes (see :class:`CallableFaceDetector` for dlib's).
    detector : detector or callable, optional
        The same as ``face_detector`` (give one or the other).

    Returns
    -------
    faces : list of Face
        Largest first: ``box`` ``(x, y, width, height)``, ``keypoints`` (a
        dict of name -> ``(x, y)`` in photo pixels, named by the model's
        layout), ``score`` (the verifier's score, positive for a face).

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.photo import detect_keypoints
    >>> faces = detect_keypoints(data.astronaut(), min_score=1.75)  # only the surest faces
    >>> len(faces), faces[0].keypoints["nose_tip"][0] > faces[0].box[0]
    (1, True)
    """
    model = "default" if model is None else model
    if detector is not None:
        if not (isinstance(face_detector, str) and face_detector == "hog"):
            raise ValueError("give the face detector as face_detector= or detector=, not both")
        face_detector = detector
    if isinstance(face_detector, str):
        face_detector = as_face_detector(face_detector, min_size=min_size)
    detector = KeypointDetector(model, face_detector, verifier, min_score, reframe_passes)
    return detector.detect(image)
