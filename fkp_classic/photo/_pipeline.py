"""Keypoints on photos of any size: detect faces, crop, predict, re-crop around the points, verify.

:class:`KeypointDetector` holds the parts (keypoint model, face detector,
face verifier, per-face analysers), loaded once; :func:`detect_keypoints`
is the one-line function over it. Its steps are public, so that the video
tracker and a user's own loop use the same ones: :meth:`~KeypointDetector.propose`
(face detector -> crop frames), :meth:`~KeypointDetector.fit_faces` (crop,
predict, re-crop, verify -> :class:`Face`), :meth:`~KeypointDetector.verify`,
:meth:`~KeypointDetector.select` and :meth:`~KeypointDetector.analyse`.
"""

import copy
import functools
import numbers
import os
import warnings

import numpy as np
from PIL import Image
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ..estimators._capabilities import RETURN_STD, STAGED_PREDICT, keypoint_capabilities
from ..flip import flip_images
from ..keypoints import get_layout
from ..utils._constraints import NumberSequence, check_params
from ..utils._deprecation import keyword_only_after
from ..utils._threads import one_blas_thread
from ._analysis import check_analysers, run_analysers
from ._boxes import FRONT, non_max_suppression
from ._crop import _frames, box_frames, crop_frames, frame_boxes, point_angles, reframe, to_photo
from ._face_detectors import as_face_detector
from ._image import as_gray8
from ._keypoint_model import KAGGLE_MEAN_SHAPE, crop_size_of, model_geometry, model_layout
from ._read import read_photo
from ._result import Face
from ._verifier import fused_verifier

__all__ = ["KeypointDetector", "detect_keypoints", "model_layout", "KAGGLE_MEAN_SHAPE"]


UPRIGHT_TOLERANCE = 15.0
"""Degrees a face may turn in the photo's plane and still be cropped axis-aligned (the training faces' own tilts)."""


@functools.cache
def _packaged(what):
    """The packaged default model, verifier or part refiner, loaded once per process (only ever read, never changed)."""
    from .. import persistence

    if what == "refiner":
        return persistence.load_part_refiner()
    return persistence.load_default_model() if what == "model" else persistence.load_default_verifier()


class KeypointDetector:
    """Faces and their keypoints in photos of any size.

    For each photo: convert it to grayscale once, find face boxes, cut each
    box's crop (its framing turns a box into the square the model was
    trained on), predict keypoints, then ``reframe_passes`` times re-crop
    around the predicted keypoints (:func:`reframe`) and predict again,
    which removes most of the box's jitter. A face tilted in the photo's
    plane beyond :data:`UPRIGHT_TOLERANCE` gets re-crops turned with it
    (:meth:`face_frames`), so that the model sees it as upright as its
    training faces; a detector that finds tilted faces (the packaged HOG
    detector) gives the first crop its angle too. A verifier then scores
    the crop framed around each face's keypoints, turned upright, and its
    mirror image (a face's mirror image is a face; a pattern that happens
    to look like one seldom does both ways round), and drops those below
    ``min_score`` (the detector's false alarms: ears, text, part of a face);
    a face's score is the verifier's plus ``detector_weight`` times the HOG
    detector's, which is independent evidence (faces96 frames: the
    detector scores false alarms around 0.5 and faces around 3). A face
    scored within ``retry_scores`` is tried once more from its detection
    box enlarged ``retry_scale`` times, and keeps the better scored of the
    two fits: the box of a turned, cut-off or blurred face can be so small
    that the keypoint model settles on too small a face. Windows that lie
    inside a better-scored one (the HOG detector's ``cover``) are held
    back, not dropped: when the better one's face scores below
    ``min_score``, they are fitted too (a head tilted beyond the filters'
    angles can score below a larger window around it).
    Each face's box is the axis-aligned square its final keypoints frame
    (mapped back through the detector's framing), so box and points agree;
    two detections that settle on the same face give one face, the better
    scored. Faces come surest first (highest score; largest first without
    a verifier). Last, a part refiner refits the eyes, brows, mouth, nose
    and jaw of the faces kept on crops of each cut from the photo at their own
    resolution (:class:`PartRefiner`); box and angle follow the refitted
    points.

    Parameters
    ----------
    model : fitted keypoint estimator or "default", default="default"
        Predicts keypoints from flattened square crops of the size it was
        fitted on (its ``image_shape_``; 96x96 for a model that records
        none); its ``layout_`` names the points and its ``mean_shape_``
        frames the re-crops. "default" is the packaged
        :func:`fkp_classic.load_default_model`.
    face_detector : str, detector or callable, default="hog"
        ``"hog"`` (the packaged :class:`HOGFaceDetector`), ``"lbp"``
        (:class:`LBPFaceDetector`), any object with ``__call__(gray) ->
        boxes`` and a ``framing`` (:mod:`fkp_classic.photo`), or a plain
        function ``gray -> boxes`` (framed as dlib's HOG boxes).
    verifier : classifier, "default" or None, default="default"
        Gives ``decision_function`` on square crops of the size it was
        fitted on (its own ``image_shape_``), positive for a whole face; a
        crop's score is the mean of its own and its mirror image's.
        "default" is the packaged one
        (:func:`fkp_classic.photo.make_face_verifier`), None keeps every face.
    refiner : PartRefiner, "default" or None, default="default"
        Refits the parts of each face from the model's points, on crops of
        the photo (:class:`PartRefiner`); "default" is the packaged one
        (:func:`fkp_classic.persistence.load_part_refiner`, iBUG's 68
        points) for a model in its layout, and none for others; None
        refits nothing. A face's ``point_std`` stays the face model's.
    min_score : float, default=0.3
        Lowest face score kept.
    max_point_std : float, "auto" or None, default="auto"
        Largest error the keypoint model may expect of a face's points for
        it to be kept: the mean of its ``point_std`` over its box's side.
        A pattern the detector and verifier pass (a lamp, a blur of lights)
        seldom gives the keypoint model a face it is sure of, and its
        error model says so. "auto" takes the model's own limit, its
        ``point_std_limit_`` (the packaged models carry one:
        :func:`fkp_classic.load_default_model`), where it was measured: for
        faces a scoring face detector (the HOG detector) proposes and a
        verifier judges. It sets none for a model without one, for other
        face detectors (their boxes frame faces differently, and some true
        faces come out doubted) and without a verifier (every face kept);
        None sets none. Only a model that gives ``point_std``
        (``predict(X, return_std=True)``) is limited.
    max_faces : int or None, default=None
        Keep at most this many faces per photo, the surest.
    rotations : {"upright", "all"} or None, default=None
        Which in-plane angles the HOG face detector searches:
        ``"upright"``, faces within 45 degrees or so of upright (what its
        filters were trained for); ``"all"``, also the photo turned by 90,
        180 and 270 degrees, for faces at any angle (about four times the
        detector's time). None keeps the detector's own setting.
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
        split in two by person (how, and what they bought:
        ``benchmarks/results/photos.md``).
    analysers : sequence of analysers, default=()
        Run on every face returned (the analyser protocol of
        :mod:`fkp_classic.photo`: a ``name`` and ``analyse(photo, faces)``);
        each adds its values to the faces' ``analyses``.

    Attributes
    ----------
    layout : KeypointLayout
        Names of the points every face carries (the model's).
    mean_shape : ndarray of shape (K, 2)
        Where the model's training crops have their keypoints.
    crop_size : int
        Side of the crops the keypoint model takes (its ``image_shape_``).
    verifier_size : int or None
        Side of the crops the verifier takes (its ``image_shape_``).

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.photo import KeypointDetector
    >>> detector = KeypointDetector()
    >>> faces = detector.detect(data.astronaut())
    >>> best = faces[0]  # the surest face: hers
    >>> len(best.keypoints), bool(best.score > 1)
    (15, True)
    """

    _parameter_constraints = {
        "model": [StrOptions({"default"}), HasMethods(["predict"])],
        "face_detector": [StrOptions({"hog", "lbp"}), callable],
        "verifier": [StrOptions({"default"}), HasMethods(["decision_function"]), None],
        "refiner": [StrOptions({"default"}), HasMethods(["refine"]), None],
        "min_score": [Interval(numbers.Real, None, None, closed="both")],
        "max_point_std": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "max_faces": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "rotations": [StrOptions({"upright", "all"}), None],
        "reframe_passes": [Interval(numbers.Integral, 0, None, closed="left")],
        "max_detect_pixels": [Interval(numbers.Integral, 10_000, None, closed="left")],
        "detector_weight": [Interval(numbers.Real, 0, None, closed="left")],
        "framing_stages": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "candidate_margin": [Interval(numbers.Real, 0, None, closed="left")],
        "retry_scale": [Interval(numbers.Real, 0, 1, closed="neither"), Interval(numbers.Real, 1, None, closed="neither"),
                        None],
        "retry_scores": [NumberSequence(Interval(numbers.Real, None, None, closed="both"), length=2)],
        "analysers": "no_validation",  # check_analysers names what is wrong with one
    }

    @keyword_only_after
    def __init__(
        self, model="default", *, face_detector="hog", verifier="default", refiner="default", min_score=0.3,
        max_point_std="auto", max_faces=None, rotations=None, reframe_passes=1, max_detect_pixels=4_000_000,
        detector_weight=0.5, framing_stages=3, candidate_margin=0.5, retry_scale=1.4, retry_scores=(-0.5, 1.0),
        analysers=(),
    ):
        # checked as given, then the parts are loaded and the numbers stored as plain floats and ints
        check_params(self, model=model, face_detector=face_detector, verifier=verifier, refiner=refiner,
                     min_score=min_score, max_point_std=max_point_std, max_faces=max_faces, rotations=rotations,
                     reframe_passes=reframe_passes, max_detect_pixels=max_detect_pixels,
                     detector_weight=detector_weight, framing_stages=framing_stages,
                     candidate_margin=candidate_margin, retry_scale=retry_scale, retry_scores=retry_scores,
                     analysers=analysers)
        low, high = retry_scores
        if low > high:
            raise ValueError(f"retry_scores must be (lowest, highest), lowest first; got {tuple(retry_scores)!r}")
        self.model = _packaged("model") if isinstance(model, str) else model
        self.face_detector = as_face_detector(face_detector)
        if rotations is not None:
            if "rotations" not in getattr(self.face_detector, "_parameter_constraints", {}):
                raise ValueError(f"rotations={rotations!r} needs a face detector that searches turned photos (the "
                                 f"HOG detector), not {type(self.face_detector).__name__}")
            if self.face_detector.rotations != rotations:  # a copy: the packaged detector is shared
                self.face_detector = copy.copy(self.face_detector).set_params(rotations=rotations)
        self.max_faces = None if max_faces is None else int(max_faces)
        self.verifier = _packaged("verifier") if isinstance(verifier, str) else verifier
        self.min_score = float(min_score)
        if isinstance(max_point_std, str):  # "auto": the model's own limit, where it was measured
            measured = self.verifier is not None and getattr(self.face_detector, "scores_faces", False)
            max_point_std = getattr(self.model, "point_std_limit_", None) if measured else None
        self.max_point_std = None if max_point_std is None else float(max_point_std)
        self.reframe_passes = int(reframe_passes)
        self.max_detect_pixels = int(max_detect_pixels)
        self.detector_weight = float(detector_weight)
        self.framing_stages = None if framing_stages is None else int(framing_stages)
        self.candidate_margin = float(candidate_margin)
        self.retry_scale = None if retry_scale is None else float(retry_scale)
        self.retry_scores = (float(low), float(high))
        self.analysers = check_analysers(analysers)
        geometry = model_geometry(self.model)
        self.layout, self.mean_shape, self.crop_size = geometry.layout, geometry.mean_shape, geometry.crop_size
        self._layout_recorded = geometry.recorded
        self.refiner = self._part_refiner(refiner)
        self.verifier_size = None if self.verifier is None else crop_size_of(self.verifier, "verifier")

    def _part_refiner(self, refiner):
        if refiner is None:
            return None
        if isinstance(refiner, str):  # the packaged refiner refits iBUG's 68 points: not loaded for other models
            if self.layout.names != get_layout("ibug68").names:
                return None
            return _packaged("refiner")
        names = getattr(getattr(refiner, "layout_", None), "names", None)
        if names != self.layout.names:
            raise ValueError(f"the part refiner ({type(refiner).__name__}) "
                             + ("is not fitted" if names is None else f"refits {len(names)}-point faces")
                             + f", but the model predicts the {self.layout._title} layout's points")
        return refiner

    def __repr__(self):
        return (f"KeypointDetector(model={type(self.model).__name__}, face_detector={self.face_detector!r}, "
                f"verifier={'None' if self.verifier is None else type(self.verifier).__name__}, "
                f"refiner={'None' if self.refiner is None else type(self.refiner).__name__}, "
                f"min_score={self.min_score}, max_point_std={self.max_point_std}, max_faces={self.max_faces}, "
                f"reframe_passes={self.reframe_passes}, "
                f"max_detect_pixels={self.max_detect_pixels}, detector_weight={self.detector_weight}, "
                f"framing_stages={self.framing_stages}, candidate_margin={self.candidate_margin}, "
                f"retry_scale={self.retry_scale}, retry_scores={self.retry_scores}, "
                f"analysers={[a.name for a in self.analysers]})")

    def detect(self, image, name="photo"):
        """Faces in one photo, surest first.

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
            One list per photo, surest face first, each face with the
            values of the detector's ``analysers``.
        """
        names = [f"photo {i}" for i in range(len(images))] if names is None else list(names)
        faces = self._detect_grays([as_gray8(image, name) for image, name in zip(images, names)])
        return [self.analyse(image, f) for image, f in zip(images, faces)]

    def detect_gray(self, gray):
        """:meth:`detect` of a photo already made 8-bit gray (:func:`fkp_classic.photo.as_gray8`), without analysers.

        The whole photo path but the analysers: :meth:`propose`,
        :meth:`fit_faces`, a second fit of each doubtful face from a larger
        box, a second look at the windows held back behind a rejected one,
        :meth:`select`.
        """
        return self._detect_grays([gray])[0]

    def _detect_grays(self, grays):
        with one_blas_thread():  # small products (a level's windows, a few faces): BLAS's threads cost more
            found = [self._proposals(gray) for gray in grays]
            front = [behind == FRONT for _, _, behind in found]
            frames = [f[m] for (f, _, _), m in zip(found, front)]
            detector_scores = [None if s is None else s[m] for (_, s, _), m in zip(found, front)]
            faces = self._fit_batch(grays, frames, self.reframe_passes, detector_scores, refine=False)
            faces = self._second_look(grays, found, self._retried(grays, frames, detector_scores, faces))
            return self._refined(grays, [self.select(f) for f in faces])  # the parts of the faces kept only

    # -- the public middle: the steps the video tracker and a user's own loop share -----------------------------

    def propose(self, gray):
        """Where the face detector finds faces: crop frames, and how far each clears the detector's threshold.

        Photos larger than ``max_detect_pixels`` are searched on a
        downscaled copy; the frames are in the photo's own pixels.

        Parameters
        ----------
        gray : ndarray of shape (h, w), uint8
            The photo as 8-bit grayscale (:func:`fkp_classic.photo.as_gray8`).

        Returns
        -------
        frames : ndarray of shape (n_faces, 4)
            Crop frames ``(x0, y0, side, angle)`` for :meth:`fit_faces`
            (the angle the detector found each face at; 0 for a detector
            that gives none).
        detector_scores : ndarray of shape (n_faces,) or None
            Each box's score above the detector's own threshold (negative
            for candidates below it), for a detector that scores its faces
            (``scores_faces``); None for others.
        """
        frames, scores, behind = self._proposals(gray)
        front = behind == FRONT
        return frames[front], None if scores is None else scores[front]

    def _proposals(self, gray):
        """:meth:`propose`'s crop frames and scores, with the windows the detector holds back behind better ones
        (``holds_back``) after them: for each, the index of the frame it is behind (-1 for those :meth:`propose`
        gives)."""
        boxes, scores, angles, behind = self._boxes(gray)
        return np.c_[box_frames(boxes, self.face_detector.framing), angles], scores, behind

    def fit_faces(self, gray, frames, *, passes=None, detector_scores=None, verify=True, return_crops=False):
        """The faces at given crop frames of one photo: crop, predict, re-crop ``passes`` times, verify the face
        model's points, refit the parts (``refiner``).

        Parameters
        ----------
        gray : ndarray of shape (h, w), uint8
            The photo as 8-bit grayscale (:func:`fkp_classic.photo.as_gray8`).
        frames : array-like of shape (n_faces, 3) or (n_faces, 4)
            Crop frames ``(x0, y0, side[, angle])``: from :meth:`propose`,
            from boxes (:func:`box_frames`) or from earlier keypoints
            (:func:`reframe` with this detector's ``mean_shape`` and
            ``crop_size``).
        passes : int or None, default=None
            Re-crops around the predicted keypoints; None: ``reframe_passes``.
        detector_scores : array-like of shape (n_faces,) or None, default=None
            Added to the verifier's scores, ``detector_weight`` times each.
        verify : bool, default=True
            Score each face with the verifier (if the detector has one).
        return_crops : bool, default=False
            Also return the crops the final keypoints were predicted from.

        Returns
        -------
        faces : list of Face
            One per frame, in order, none dropped (:meth:`select` drops and
            orders); ``point_std`` when the model gives it.
        crops : ndarray of shape (n_faces, crop_size ** 2), uint8
            With ``return_crops``.
        """
        frames = _frames(frames)
        passes = self.reframe_passes if passes is None else int(passes)
        scores = None if detector_scores is None else [np.asarray(detector_scores, dtype=float)]
        out = self._fit_batch([gray], [frames], passes, scores, verify=verify, return_crops=return_crops)
        return (out[0][0], out[1]) if return_crops else out[0]

    def verify(self, gray, points):
        """The verifier's scores of faces at given keypoints (their crops framed as the training faces, each the
        mean of the crop's score and its mirror image's).

        Parameters
        ----------
        gray : ndarray of shape (h, w), uint8
        points : array-like of shape (n_faces, 2K)
            Keypoints in photo pixels.

        Returns
        -------
        scores : ndarray of shape (n_faces,) or None
            Positive for a whole face; None without a verifier.
        """
        if self.verifier is None:
            return None
        points = np.asarray(points, dtype=float).reshape(-1, 2 * len(self.mean_shape))
        crops, _ = crop_frames(gray, self._verifier_frames(points), size=self.verifier_size)
        return self._verifier_scores(crops)

    def select(self, faces):
        """The faces kept: scored at least ``min_score`` (if scored), not doubted by the keypoint model
        (``max_point_std``), no two on one face (the better scored kept), at most ``max_faces``; surest first
        (largest first when unscored)."""
        faces = [face for face, doubted in zip(faces, self._doubted(faces)) if not doubted]
        if not faces:
            return []
        final = box_frames(np.array([face.box for face in faces]), self.face_detector.framing)
        scores = None if faces[0].score is None else np.array([face.score for face in faces])
        return [faces[i] for i in _kept(final, scores, self.min_score)[:self.max_faces]]

    def _doubted(self, faces):
        """Which of ``faces`` the keypoint model doubts: mean ``point_std`` above ``max_point_std`` of the box's
        side."""
        if self.max_point_std is None:
            return np.zeros(len(faces), dtype=bool)
        return np.array([face.point_std_array is not None
                         and face.point_std_array.mean() > self.max_point_std * face.box[2]
                         for face in faces], dtype=bool)

    def analyse(self, photo, faces):
        """Run the detector's ``analysers`` on the faces of one photo (each adds its values to every face)."""
        return run_analysers(self.analysers, photo, faces)

    def face_boxes(self, points):
        """Square boxes ``(x, y, w, h)`` of faces from their keypoints ``(n_faces, 2K)`` (the face detector's framing)."""
        return frame_boxes(self._reframe(np.asarray(points, dtype=float)), self.face_detector.framing)

    # -- the rest ----------------------------------------------------------------------------------------------

    def from_boxes(self, image, boxes, name="photo"):
        """Faces from given boxes ``(x, y, w, h)`` (framed with the face detector's framing), as :meth:`detect` would give them."""
        gray = as_gray8(image, name)
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        faces = self.select(self.fit_faces(gray, box_frames(boxes, self.face_detector.framing)))
        return self.analyse(image, faces)

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
        gray = as_gray8(image, name)
        points = self._check_points(np.asarray(points, dtype=float).reshape(len(points), -1))
        return self.analyse(image, self.fit_faces(gray, self._reframe(points), passes=passes - 1))

    def face_frames(self, points):
        """Crop frames ``(x0, y0, side, angle)`` of faces at keypoints ``(n_faces, 2K)``, as the photo path frames them.

        Framed by :func:`reframe`; a face turned by more than
        :data:`UPRIGHT_TOLERANCE` degrees gets a crop turned by the excess,
        so that it stands in its crop as upright as the training faces do
        (faces within it are cropped as the model's training faces were,
        axis-aligned).
        """
        frames = reframe(np.asarray(points, dtype=float), self.mean_shape, size=self.crop_size, turn=True)
        excess = np.abs(frames[:, 3]) - UPRIGHT_TOLERANCE
        frames[:, 3] = np.sign(frames[:, 3]) * np.maximum(excess, 0.0)
        return frames

    def _reframe(self, points):
        return self.face_frames(points)

    def _verifier_frames(self, points):
        """The verifier's crop frames: turned by the face's whole angle (its score then holds at any tilt)."""
        return reframe(np.asarray(points, dtype=float), self.mean_shape, size=self.crop_size, turn=True)

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
        enlarged = [np.c_[box_frames(np.c_[f[d, :3], f[d, 2]], (self.retry_scale, 0.0, 0.0)), _frames(f)[d, 3]]
                    for f, d in zip(frames, doubtful)]
        extra = [None if s is None else s[d] for s, d in zip(detector_scores, doubtful)]
        again = self._fit_batch(grays, enlarged, self.reframe_passes, extra, refine=False)
        out = []
        for photo_faces, d, retried in zip(faces, doubtful, again):
            photo_faces = list(photo_faces)
            for i, face in zip(d, retried):
                if face.score > photo_faces[i].score:
                    photo_faces[i] = face
            out.append(photo_faces)
        return out

    def _second_look(self, grays, found, faces):
        """``faces`` (per photo, one per front window of ``found``) and the faces fitted at the windows held back
        behind a front window whose face scored below ``min_score``: a face whose window lies inside a larger,
        better-scored window that proves no face (as a head tilted beyond the filters' angles can be) is found,
        at the cost of a fit only where a window was rejected."""
        if self.verifier is None:
            return faces
        looks = []
        for (_, _, behind), photo_faces in zip(found, faces):
            front = np.flatnonzero(behind == FRONT)
            low = np.array([face.score < self.min_score for face in photo_faces], dtype=bool)
            rejected = front[low | self._doubted(photo_faces)]
            looks.append(np.flatnonzero(np.isin(behind, rejected)))
        if not any(len(look) for look in looks):
            return faces
        frames = [f[look] for (f, _, _), look in zip(found, looks)]
        scores = [None if s is None else s[look] for (_, s, _), look in zip(found, looks)]
        again = self._fit_batch(grays, frames, self.reframe_passes, scores, refine=False)
        again = self._retried(grays, frames, scores, again)
        return [list(photo_faces) + list(more) for photo_faces, more in zip(faces, again)]

    def _boxes(self, gray8):
        """Face boxes in photo pixels (searched on a copy downscaled to ``max_detect_pixels`` if larger), how
        far each box's detector score clears its threshold (None for a detector that gives no score), the
        angle each was found at (0 for a detector that gives none), and the box each is held back behind (-1
        for the faces found; only a detector that ``holds_back`` holds any).

        A detector that scores its faces (``scores_faces``, as the packaged
        kind does) scans the 8-bit photo itself; any other is given float
        grayscale in [0, 1], as documented for detectors.
        """
        height, width = gray8.shape
        factor = min(1.0, np.sqrt(self.max_detect_pixels / (height * width)))
        size = (width, height)
        if factor < 1.0:
            size = (max(1, round(width * factor)), max(1, round(height * factor)))
            gray8 = np.asarray(Image.fromarray(gray8).resize(size, Image.BOX))
        scores, angles, behind = None, None, None
        if getattr(self.face_detector, "scores_faces", False):  # its score above its threshold joins the face's
            lowest = self.face_detector.threshold - self.candidate_margin
            with_angles = getattr(self.face_detector, "finds_angles", False)
            with_held = getattr(self.face_detector, "holds_back", False)  # windows inside better ones: held back
            asked = {"return_angles": True} if with_angles else {}
            if with_held:
                asked["return_held"] = True
            boxes, scores, *rest = self.face_detector.detect(gray8, return_scores=True, threshold=lowest, **asked)
            angles = rest.pop(0) if with_angles else None
            behind = rest.pop(0) if with_held else None
            scores = scores - self.face_detector.threshold
        else:
            boxes = self.face_detector(gray8 / 255.0)
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        angles = np.zeros(len(boxes)) if angles is None else np.asarray(angles, dtype=float)
        behind = np.full(len(boxes), FRONT, dtype=np.intp) if behind is None else np.asarray(behind, dtype=np.intp)
        return boxes * np.array([width / size[0], height / size[1]] * 2), scores, angles, behind

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

    def _predict(self, grays, frames, framing=False):
        """Photo keypoints of the crops ``frames`` (one array per photo), one model call for all, and each
        coordinate's predicted error scale in photo pixels (per photo; None if the model gives none), and the crops.
        With ``framing``, the model stops after ``framing_stages`` stages if it can, and gives no error scale."""
        cut = [crop_frames(gray, f, size=self.crop_size) for gray, f in zip(grays, frames)]
        crops = np.concatenate([c for c, _ in cut])
        rounded = np.concatenate([r for _, r in cut])
        can = keypoint_capabilities(self.model)
        with_std = not framing and RETURN_STD in can
        std = [None] * len(grays)
        if len(crops) == 0:
            points = [np.zeros((0, 2 * len(self.mean_shape))) for _ in grays]
            if with_std:
                std = [np.zeros((0, 2 * len(self.mean_shape))) for _ in grays]
            return points, std, crops
        if with_std:
            predicted, predicted_std = self.model.predict(crops, return_std=True, check_input=False)
            std = _per_photo(predicted_std * (rounded[:, 2] / self.crop_size)[:, None], frames)
        elif STAGED_PREDICT in can:  # the crops are ours: valid by construction
            n_stages = self.framing_stages if framing else None
            predicted = self.model.staged_predict(crops, n_stages=n_stages, check_input=False)[-1]
        else:
            predicted = self.model.predict(crops)
        points = self._check_points(np.asarray(predicted, dtype=float))
        return _per_photo(to_photo(points, rounded, size=self.crop_size), frames), std, crops

    def _verifier_scores(self, crops):
        """The verifier's scores of crops: the mean of each crop's and its mirror image's. A face's mirror image is
        a face; a pattern that happens to look like one seldom does both ways round. The packaged kind of verifier
        runs fused (same scores, a fifth the time)."""
        if getattr(self, "_fused", (None,))[0] is not self.verifier:
            self._fused = (self.verifier, fused_verifier(self.verifier))
        mirrored = flip_images(crops, image_shape=(self.verifier_size, self.verifier_size))
        scores = np.asarray(self._fused[1].decision_function(np.concatenate([crops, mirrored])), dtype=float)
        return (scores[:len(crops)] + scores[len(crops):]) / 2

    def _fit_batch(self, grays, frames, passes, detector_scores=None, verify=True, return_crops=False, refine=True):
        """:meth:`fit_faces` over several photos (``frames`` and ``detector_scores`` per photo), one model call a pass.
        The verifier judges the face model's points; the parts are refitted after (with ``refine``)."""
        for _ in range(passes):  # each pass but the last only frames the face for the next
            frames = [self._reframe(p) for p in self._predict(grays, frames, framing=True)[0]]
        points, std, crops = self._predict(grays, frames)
        scores = [None] * len(grays)
        if verify and self.verifier is not None:
            verifier_crops = np.concatenate([crop_frames(g, self._verifier_frames(p), size=self.verifier_size)[0]
                                             for g, p in zip(grays, points)])
            if len(verifier_crops):
                scores = _per_photo(self._verifier_scores(verifier_crops), points)
                for score, extra in zip(scores, detector_scores or []):
                    if extra is not None and self.detector_weight:
                        score += self.detector_weight * np.asarray(extra, dtype=float)
        if refine:
            points = self._refit_parts(grays, points)
        out = [self._faces(p, s, e) for p, s, e in zip(points, scores, std)]
        return (out, crops) if return_crops else out

    def _refit_parts(self, grays, points):
        """Each photo's face points ``(n, 2K)`` with their parts refitted by the ``refiner`` (if any)."""
        if self.refiner is None:
            return points
        return [self.refiner.refine(g, p).reshape(len(p), -1) if len(p) else p for g, p in zip(grays, points)]

    def _refined(self, grays, faces):
        """Each photo's ``faces`` with their parts refitted (box and angle follow the refitted points)."""
        if self.refiner is None or not any(faces):
            return faces
        width = 2 * len(self.mean_shape)
        points = [np.array([f.points.ravel() for f in photo_faces]).reshape(len(photo_faces), width)
                  for photo_faces in faces]
        return [self._faces(p, [f.score for f in photo_faces], [f.point_std_array for f in photo_faces])
                for p, photo_faces in zip(self._refit_parts(grays, points), faces)]

    def _faces(self, points, scores=None, std=None):
        """Faces from one photo's points ``(n, 2K)``, with their scores and error scales (None or one per face)."""
        boxes = frame_boxes(self._reframe(points), self.face_detector.framing)  # where the faces now are: boxed
        angles = point_angles(points, self.mean_shape)  # the final crop's turn
        return [Face(box, pts.reshape(-1, 2), layout=self.layout, score=None if scores is None else scores[i],
                     point_std=None if std is None or std[i] is None else np.reshape(std[i], (-1, 2)), angle=angles[i])
                for i, (box, pts) in enumerate(zip(boxes, points))]


def _kept(frames, scores, min_score, overlap=0.5):
    """Indices of the faces kept, surest first (largest first if unscored): face score at least ``min_score``
    (if scored), and no better scored face whose final crop square overlaps theirs by more than ``overlap``
    (two detections of one face)."""
    index = np.arange(len(frames))
    if scores is not None:
        index = index[scores >= min_score]
    if len(index) > 1:
        squares = np.c_[frames[index, :3], frames[index, 2]]
        index = index[non_max_suppression(squares, np.zeros(len(index)) if scores is None else scores[index], overlap)]
    if scores is None:
        return index[np.argsort(-frames[index, 2], kind="stable")]
    return index[np.argsort(-scores[index], kind="stable")]


def _per_photo(values, frames):
    """Split rows for the faces of all photos into one array per photo (``frames`` holds each photo's)."""
    return np.split(values, np.cumsum([len(f) for f in frames])[:-1])


@keyword_only_after
@validate_params(
    {
        "image": "no_validation",  # read_photo and as_gray8 name what is wrong with a photo
        "model": [StrOptions({"default"}), HasMethods(["predict"]), None],
        "min_size": [Interval(numbers.Integral, 8, None, closed="left")],
        "reframe_passes": [Interval(numbers.Integral, 0, None, closed="left")],
        "verifier": [StrOptions({"default"}), HasMethods(["decision_function"]), None],
        "refiner": [StrOptions({"default"}), HasMethods(["refine"]), None],
        "min_score": [Interval(numbers.Real, None, None, closed="both")],
        "max_point_std": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "max_faces": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "rotations": [StrOptions({"upright", "all"}), None],
        "face_detector": [StrOptions({"hog", "lbp"}), callable],
        "detector": [callable, None],
        "analysers": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def detect_keypoints(
    image, model="default", *, min_size=40, reframe_passes=1, verifier="default", refiner="default", min_score=0.3,
    max_point_std="auto", max_faces=None, rotations=None, face_detector="hog", detector=None, analysers=(),
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
        "default" is the packaged model (None, its old spelling, still
        works with a ``FutureWarning``).
    min_size : int, default=40
        Smallest face searched, in pixels (for a face detector given by name).
    refiner : PartRefiner, "default" or None, default="default"
        Refits the eyes, brows, mouth, nose and jaw of 68-point faces (see
        :class:`KeypointDetector`).
    max_point_std : float, "auto" or None, default="auto"
        Drops faces whose points the keypoint model expects to be this far
        off, as a share of the box's side, or more ("auto": the model's own
        limit; see :class:`KeypointDetector`).
    max_faces : int or None, default=None
        At most this many faces, the surest.
    rotations : {"upright", "all"} or None, default=None
        ``"all"`` also finds faces turned beyond 45 degrees (upside down,
        sideways), at about four times the face detector's time.
    face_detector : {"hog", "lbp"}, detector or callable, default="hog"
        Finds the faces: a name, a detector object, or any function taking
        a float grayscale photo in [0, 1] and returning ``(x, y, w, h)``
        boxes (see :class:`CallableFaceDetector` for dlib's).
    detector : detector or callable, optional
        The same as ``face_detector`` (give one or the other).
    analysers : sequence of analysers, default=()
        Run on every face found (see :class:`KeypointDetector`).

    Returns
    -------
    faces : list of Face
        Surest first: ``box`` ``(x, y, width, height)``, ``keypoints`` (a
        dict of name -> ``(x, y)`` in photo pixels, named by the model's
        layout), ``score`` (the verifier's score of the face's crop plus a share of the
        HOG detector's; positive for a face, see :class:`KeypointDetector`),
        ``angle`` (in-plane, degrees counterclockwise).

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.photo import detect_keypoints
    >>> faces = detect_keypoints(data.astronaut(), min_score=1.75)  # only the surest faces
    >>> len(faces), faces[0].keypoints["nose_tip"][0] > faces[0].box[0]
    (1, True)
    """
    if model is None:
        warnings.warn("detect_keypoints(model=None) is deprecated: pass model='default' for the packaged model",
                      FutureWarning, stacklevel=2)
        model = "default"
    if detector is not None:
        if not (isinstance(face_detector, str) and face_detector == "hog"):
            raise ValueError("give the face detector as face_detector= or detector=, not both")
        face_detector = detector
    if isinstance(face_detector, str):
        face_detector = as_face_detector(face_detector, min_size=min_size)
    detector = KeypointDetector(model, face_detector=face_detector, verifier=verifier, refiner=refiner,
                                min_score=min_score, max_point_std=max_point_std, max_faces=max_faces,
                                rotations=rotations, reframe_passes=reframe_passes, analysers=analysers)
    return detector.detect(image)
