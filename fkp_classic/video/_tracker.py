"""Faces tracked through the frames of a video: detect once, refine from the last frame's points, smooth."""

import numbers

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..photo._analysis import check_analysers, run_analysers
from ..photo._boxes import box_overlaps
from ..photo._crop import point_angles, point_spread
from ..photo._face_detectors import as_face_detector
from ..photo._image import as_gray8
from ..photo._pipeline import KeypointDetector
from ..photo._result import Face
from ..utils._constraints import check_params
from ..utils._deprecation import keyword_only_after
from ..utils._threads import one_blas_thread
from ._face_smoother import AlphaBetaFilter, FaceSmoother
from ._one_euro import OneEuroFilter

__all__ = ["FaceTracker", "track_video"]


class _Track:
    """One followed face: its id, last raw points and their error scales, smoothing state, last verifier score."""

    def __init__(self, track_id, points, score, checked_at, smoother, std=None):
        self.id = track_id
        self.points = points
        self.std = std
        self.score = score
        self.checked_at = checked_at
        self.smoother = smoother
        self.look = None


def _looks(crops, size):
    """Each ``size`` x ``size`` crop as a zero-mean, unit-norm thumbnail of about 24x24 (block means, the edge
    rows and columns past the last whole block left out): what the face looks like, cheaply."""
    block = max(1, size // 24)
    n = size // block
    images = crops.reshape(len(crops), size, size)[:, : n * block, : n * block]
    thumbs = images.reshape(len(crops), n, block, n, block).mean(axis=(2, 4)).reshape(len(crops), -1)
    thumbs = thumbs - thumbs.mean(axis=1, keepdims=True)
    return thumbs / np.maximum(np.linalg.norm(thumbs, axis=1, keepdims=True), 1e-9)


class FaceTracker:
    """Faces and their keypoints through a video, each with a stable track id.

    The first frame (and any frame with no face followed) goes through the
    photo pipeline (:class:`fkp_classic.photo.KeypointDetector`: face
    detector, crops, keypoints, verifier). On the next frames each face's
    crop is framed around its previous keypoints (:func:`reframe`, turned
    with the face, so a head that tilts stays upright in its crop) and the
    keypoint model refines from there, one model call for all faces: no
    face detector. A face is lost when its keypoints jump in size or leave
    the frame, or when the verifier, run on it every ``check_every``
    frames or at once when its crop stops looking like the last one (a
    cut, an occlusion), scores it below ``min_score``; the face detector
    then runs at once, and every ``detect_every`` frames anyway for faces that came in.
    The points given out are smoothed over time per face by a
    :class:`FaceSmoother` (the head's pose through a constant-velocity
    filter, the shape through a One Euro filter); the next frame's crop
    follows the raw points, so smoothing never delays tracking.

    Parameters
    ----------
    model, face_detector, verifier, refiner
        As for :class:`fkp_classic.photo.KeypointDetector` (the packaged
        parts by default).
    min_score : float, default=0.3
        The face score a new face needs: the photo path's default, so that
        a video of a photo finds the faces the photo does.
    max_point_std : float, "auto" or None, default="auto"
        A new face is not followed when the keypoint model expects its
        points to be this far off, as a share of its box's side, or more
        (see :class:`~fkp_classic.photo.KeypointDetector`; "auto": the
        model's own limit, for the HOG detector's faces with a verifier).
    keep_score : float, optional
        A followed face is dropped when the verifier scores it below this;
        default ``min_score - 0.5``: a face followed from frame to frame
        needs less evidence than a new one (hysteresis), so a borderline
        face (large, turned, half out of the frame) is not dropped and
        found again by turns.
    min_size : int, default=40
        Smallest face searched, in pixels (for a face detector given by name).
    detect_every : int, default=60
        Frames between two runs of the face detector while faces are
        followed (it also runs on every frame with none followed, and
        whenever a face is lost).
    check_every : int, default=10
        Frames between two verifier checks of a followed face.
    smooth : bool, default=True
        Smooth the points over time; False gives the raw tracked points.
    min_cutoff : float, default=0.5
        One Euro cutoff (Hz) of the face's shape when still: lower is smoother.
    beta : float, default=1.0
        One Euro speed coefficient of the shape (per face size per second):
        higher follows fast expressions with less lag.
    pose_alpha, pose_beta : float, default=0.6, 0.2
        Gains of the pose's constant-velocity filter, per frame
        (:class:`AlphaBetaFilter`): lower is smoother.
    max_faces : int or None, default=None
        Follow at most this many faces (the surest new ones first).
    rotations : {"upright", "all"} or None, default=None
        The in-plane angles the face detector searches (see
        :class:`~fkp_classic.photo.KeypointDetector`); a followed face is
        followed at any angle it turns to.
    fps : float, default=30.0
        Frame rate assumed for frames that come without times.
    analysers : sequence of analysers, default=()
        Run on the faces given out for every frame (on the smoothed points),
        as :class:`~fkp_classic.photo.KeypointDetector` runs them.

    Attributes
    ----------
    n_detections : int
        Frames on which the face detector ran since the last :meth:`reset`.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from fkp_classic.video import FaceTracker
    >>> photo = data.astronaut()
    >>> frames = [np.roll(photo, shift, axis=1) for shift in range(0, 10, 2)]   # the camera pans
    >>> tracker = FaceTracker(min_score=1.75)
    >>> tracks = [faces for _, _, faces in tracker.track(frames)]
    >>> [len(faces) for faces in tracks], {face.track_id for faces in tracks for face in faces}
    ([1, 1, 1, 1, 1], {0})
    """

    _parameter_constraints = {
        "model": [StrOptions({"default"}), HasMethods(["predict"])],
        "face_detector": [StrOptions({"hog", "lbp"}), callable],
        "verifier": [StrOptions({"default"}), HasMethods(["decision_function"]), None],
        "refiner": [StrOptions({"default"}), HasMethods(["refine"]), None],
        "min_score": [Interval(numbers.Real, None, None, closed="both")],
        "keep_score": [Interval(numbers.Real, None, None, closed="both"), None],
        "max_point_std": [Interval(numbers.Real, 0, None, closed="neither"), StrOptions({"auto"}), None],
        "min_size": [Interval(numbers.Integral, 8, None, closed="left")],
        "detect_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "check_every": [Interval(numbers.Integral, 1, None, closed="left")],
        "smooth": ["boolean"],
        "min_cutoff": [Interval(numbers.Real, 0, None, closed="neither")],
        "beta": [Interval(numbers.Real, 0, None, closed="left")],
        "pose_alpha": [Interval(numbers.Real, 0, 1, closed="right")],
        "pose_beta": [Interval(numbers.Real, 0, 2, closed="left")],
        "max_faces": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "rotations": [StrOptions({"upright", "all"}), None],
        "fps": [Interval(numbers.Real, 0, None, closed="neither")],
        "analysers": "no_validation",  # check_analysers names what is wrong with one
    }

    @keyword_only_after
    def __init__(
        self, model="default", *, face_detector="hog", verifier="default", refiner="default", min_score=0.3,
        keep_score=None, max_point_std="auto", min_size=40, detect_every=60, check_every=10, smooth=True,
        min_cutoff=0.5, beta=1.0, pose_alpha=0.6, pose_beta=0.2, max_faces=None, rotations=None, fps=30.0,
        analysers=(),
    ):
        check_params(self, model=model, face_detector=face_detector, verifier=verifier, refiner=refiner,
                     min_score=min_score, keep_score=keep_score, max_point_std=max_point_std, min_size=min_size,
                     detect_every=detect_every, check_every=check_every,
                     smooth=smooth, min_cutoff=min_cutoff, beta=beta, pose_alpha=pose_alpha, pose_beta=pose_beta,
                     max_faces=max_faces, rotations=rotations, fps=fps, analysers=analysers)
        OneEuroFilter(min_cutoff, beta), AlphaBetaFilter(pose_alpha, pose_beta)  # their own checks (beta < 4 - 2 alpha)
        if isinstance(face_detector, str):
            face_detector = as_face_detector(face_detector, min_size=min_size)
        self.analysers = check_analysers(analysers)
        self.detector = KeypointDetector(model, face_detector=face_detector, verifier=verifier, refiner=refiner,
                                         min_score=min_score, max_point_std=max_point_std, rotations=rotations)
        self.detect_every, self.check_every = int(detect_every), int(check_every)
        self.keep_score = float(min_score) - 0.5 if keep_score is None else float(keep_score)
        self.smooth, self.min_cutoff, self.beta = bool(smooth), float(min_cutoff), float(beta)
        self.pose_alpha, self.pose_beta = float(pose_alpha), float(pose_beta)
        self.max_faces, self.fps = max_faces, float(fps)
        self.reset()

    def reset(self):
        """Forget every face: the next frame starts afresh (a new video, a cut)."""
        self._tracks = []
        self._next_id = 0
        self._index = 0
        self._detected_at = None
        self.n_detections = 0

    @property
    def layout(self):
        """The keypoint layout every face carries (the model's)."""
        return self.detector.layout

    def track(self, frames, fps=None):
        """Follow faces through ``frames``; yields ``(index, time_s, faces)`` per frame.

        Parameters
        ----------
        frames : iterable of array-like
            Frames as :meth:`update` takes them: a :class:`Video`, a list,
            a webcam loop, photos of a folder.
        fps : float, optional
            Frame rate for the times; default: ``frames.fps`` if it has
            one (a :class:`Video` does), else the tracker's ``fps``.
        """
        fps = float(fps or getattr(frames, "fps", None) or self.fps)
        for index, frame in enumerate(frames):
            time_s = index / fps
            yield index, time_s, self.update(frame, time_s, name=f"frame {index}")

    def update(self, frame, time_s=None, name="frame"):
        """The faces of the next frame, in track id order.

        Parameters
        ----------
        frame : array-like of shape (h, w) or (h, w, 3)
            Gray or RGB: uint8, uint16, or float in [0, 1].
        time_s : float, optional
            The frame's time in seconds (must increase); default: its index / ``fps``.
        name : str, default="frame"
            Names the frame in error messages.

        Returns
        -------
        faces : list of Face
            Each with ``track_id``, ``box`` and ``points`` in frame pixels,
            the raw points' ``point_std`` (when the model gives it) and the
            verifier's last ``score`` of that face.
        """
        time_s = self._index / self.fps if time_s is None else float(time_s)
        gray = as_gray8(frame, name)
        with one_blas_thread():  # small products: BLAS's threads cost more than they save
            lost = self._follow(gray)
            due = self._detected_at is None or self._index - self._detected_at >= self.detect_every
            if not self._tracks or lost or due:
                self._detect(gray)
            faces = [self._output(track, time_s) for track in self._tracks]
        self._index += 1
        return run_analysers(self.analysers, frame, faces)

    def _follow(self, gray):
        """Refine every followed face from its last points; drop the lost ones. Returns whether any was lost."""
        if not self._tracks:
            return False
        kd = self.detector
        before = np.stack([t.points for t in self._tracks])
        frames = kd.face_frames(before)
        fitted, crops = kd.fit_faces(gray, frames, passes=0, verify=False, return_crops=True)
        after = np.stack([face.points.ravel() for face in fitted])
        looks = _looks(crops, kd.crop_size)
        alike = np.array([1.0 if t.look is None else float(t.look @ look) for t, look in zip(self._tracks, looks)])
        ratio = point_spread(after) / np.maximum(point_spread(before), 1e-9)
        centre = after.reshape(len(after), -1, 2).mean(axis=1)
        height, width = gray.shape
        suspect = (ratio < 0.67) | (ratio > 1.5) | (centre < 0).any(axis=1) | (centre[:, 0] > width) | (centre[:, 1] > height)
        suspect |= alike < 0.7  # consecutive frames of a followed face: 0.97 and above on the real clip
        due = np.array([self._index - t.checked_at >= self.check_every for t in self._tracks]) | suspect
        keep = ~suspect
        if kd.verifier is not None and due.any():
            scores = kd.verify(gray, after[due])
            for i, score in zip(np.flatnonzero(due), scores):
                self._tracks[i].score, self._tracks[i].checked_at = float(score), self._index
                keep[i] = score >= self.keep_score
        for track, face, points, look in zip(self._tracks, fitted, after, looks):
            track.points, track.look, track.std = points, look, face.point_std_array
        self._tracks = [t for t, k in zip(self._tracks, keep) if k]
        self._drop_duplicates()
        return not keep.all()

    def _detect(self, gray):
        """Run the photo pipeline on the frame; start a track for every face not already followed."""
        kd = self.detector
        self._detected_at = self._index
        self.n_detections += 1
        found = kd.detect_gray(gray)
        if not found:
            return
        new = np.stack([face.points.ravel() for face in found])
        if self._tracks:
            followed = np.stack([t.points for t in self._tracks])
            iou, _ = box_overlaps(self._boxes(new), self._boxes(followed))
            new_faces = [f for f, overlap in zip(found, iou.max(axis=1)) if overlap <= 0.3]
        else:
            new_faces = found
        for face in new_faces:  # surest first, as the pipeline gives them
            if self.max_faces is not None and len(self._tracks) >= self.max_faces:
                break
            smoother = FaceSmoother(kd.mean_shape, self.min_cutoff, self.beta, self.pose_alpha, self.pose_beta) \
                if self.smooth else None
            self._tracks.append(_Track(self._next_id, face.points.ravel(), face.score, self._index, smoother,
                                       face.point_std_array))
            self._next_id += 1

    def _drop_duplicates(self):
        """Two tracks that converged on one face: keep the older."""
        if len(self._tracks) < 2:
            return
        boxes = self._boxes(np.stack([t.points for t in self._tracks]))
        iou, _ = box_overlaps(boxes, boxes)
        np.fill_diagonal(iou, 0)
        keep = [i for i in range(len(self._tracks)) if not (iou[i, :i] > 0.5).any()]
        self._tracks = [self._tracks[i] for i in keep]

    def _boxes(self, points):
        """Square boxes ``(x, y, w, h)`` of faces from their points (the face detector's framing)."""
        return self.detector.face_boxes(points)

    def _output(self, track, time_s):
        points = track.points.reshape(-1, 2)
        if track.smoother is not None:
            points = track.smoother(time_s, points)
        box = self._boxes(points.ravel()[None])[0]
        angle = point_angles(points.ravel()[None], self.detector.mean_shape)[0]
        return Face(box, points, layout=self.layout, score=track.score, point_std=track.std, track_id=track.id,
                    angle=angle)


def track_video(path, **params):
    """Follow the faces of a video file: ``(index, time_s, faces)`` per frame.

    ``params`` go to :class:`FaceTracker`; the file is read by :func:`read_video`.
    """
    from ._io import read_video

    video = read_video(path)
    return FaceTracker(**params).track(video)
