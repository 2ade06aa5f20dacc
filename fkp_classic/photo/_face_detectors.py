"""Face detectors for the photo path: a small protocol, the named detectors, and any callable.

A face detector is any object with

- ``__call__(gray) -> boxes``: ``(n, 4)`` boxes ``(x, y, w, h)`` in photo
  pixels, from a float grayscale photo in [0, 1];
- ``framing``: ``(scale, dx, dy)``, the transform from its box to the
  96x96 crop the keypoint models were trained on (see
  :func:`fkp_classic.photo.box_frames`). Each detector boxes faces its own
  way, so each carries its own framing.
- optionally ``scores_faces = True`` with a ``threshold`` and
  ``detect(gray8, return_scores=True, threshold=t) -> (boxes, scores)`` on
  an 8-bit grayscale photo: the photo path then proposes windows scored
  down to ``threshold - candidate_margin`` and adds each face's score above
  ``threshold`` to the verifier's;
- optionally ``finds_angles = True`` and ``detect(..., return_angles=True)``
  giving each face's in-plane angle too: the photo path turns each face's
  first crop by it;
- optionally, with ``scores_faces``, ``holds_back = True`` and
  ``detect(..., return_held=True)`` also giving the windows suppression
  drops only for lying inside a better one, and the window each is held
  back behind (:func:`fkp_classic.photo.held_back`): the photo path fits
  them when the better window's face proves no face.

The order of the boxes does not matter: the photo path orders its faces.

:func:`as_face_detector` turns a name (``"hog"``, the packaged
:class:`~fkp_classic.photo.HOGFaceDetector`; ``"lbp"``, scikit-image's LBP
cascade) or a plain callable into one.
"""

import copy
import functools
import numbers

import numpy as np
from skimage import data
from skimage.feature import Cascade
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._constraints import NumberSequence, check_params
from ..utils._deprecation import keyword_only_after
from ._boxes import box_overlaps

__all__ = ["LBPFaceDetector", "CallableFaceDetector", "as_face_detector", "DLIB_FRAMING"]

DLIB_FRAMING = (1.122, 0.025, -0.06)
"""Framing of the boxes of dlib's HOG face detector (``dlib.get_frontal_face_detector``): the one
faces96's crops were cut with."""


@functools.cache
def _lbp_cascade():
    return Cascade(data.lbp_frontal_face_cascade_filename())


class LBPFaceDetector:
    """Frontal faces found by scikit-image's LBP cascade.

    Overlapping detections are merged, and detections narrower than
    ``min_relative_size`` times the widest are dropped: the LBP cascade's
    false alarms (badges, helmets) are mostly much smaller than the real
    faces of a photo. Set it to 0 to keep every detection.

    Parameters
    ----------
    min_size : int, default=40
        Smallest face side searched, in photo pixels.
    scale_factor : float, default=1.1
        Ratio between successive window sizes. Coarser steps (1.2) miss
        more faces: the cascade then fires on a part of the face instead.
    min_neighbors : int, default=4
        Detections a window needs around it to count.
    min_relative_size : float, default=0.75
        Drop detections narrower than this fraction of the widest.
    mirror_check : bool, default=True
        Keep only the faces also found in the mirrored photo, with the mean
        of the two boxes. The cascade is not symmetric, so its false alarms
        on part of a face (the forehead, one eye and cheek) rarely survive
        the mirror, and averaging halves the box's jitter; it costs a second
        detection pass and drops some hard faces.

    Attributes
    ----------
    framing : (float, float, float)
        Box-to-crop transform, fitted by ``tools/fit_framing.py`` so that
        this detector's crops of faces96 faces match the training crops.

    Notes
    -----
    The cascade is scikit-image's :class:`skimage.feature.Cascade` with its
    packaged frontal-face model: a Viola-Jones boosted cascade [1]_ of
    multi-block LBP features [2]_, [3]_: local binary patterns [4]_
    compared between blocks of pixels rather than single pixels.

    References
    ----------
    .. [1] P. Viola and M. J. Jones, "Robust real-time face detection",
           International Journal of Computer Vision 57, 2004, pp. 137-154.
           https://doi.org/10.1023/B:VISI.0000013087.49260.fb
    .. [2] L. Zhang, R. Chu, S. Xiang, S. Liao and S. Z. Li, "Face detection based
           on multi-block LBP representation", ICB 2007, LNCS 4642, pp. 11-18.
           https://doi.org/10.1007/978-3-540-74549-5_2
    .. [3] S. Liao, X. Zhu, Z. Lei, L. Zhang and S. Z. Li, "Learning multi-scale
           block local binary patterns for face recognition", ICB 2007, LNCS 4642,
           pp. 828-837. https://doi.org/10.1007/978-3-540-74549-5_87
    .. [4] T. Ojala, M. Pietikainen and T. Maenpaa, "Multiresolution gray-scale and
           rotation invariant texture classification with local binary patterns",
           IEEE TPAMI 24(7), 2002, pp. 971-987. https://doi.org/10.1109/TPAMI.2002.1017623

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.photo import LBPFaceDetector, as_gray
    >>> LBPFaceDetector()(as_gray(data.astronaut())).shape
    (1, 4)
    """

    framing = (1.1473, 0.0091, 0.0145)

    _parameter_constraints = {
        "min_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "scale_factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "min_neighbors": [Interval(numbers.Integral, 0, None, closed="left")],
        "min_relative_size": [Interval(numbers.Real, 0, 1, closed="both")],
        "mirror_check": ["boolean"],
    }

    @keyword_only_after
    def __init__(self, *, min_size=40, scale_factor=1.1, min_neighbors=4, min_relative_size=0.75, mirror_check=True):
        self.min_size = min_size
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_relative_size = min_relative_size
        self.mirror_check = mirror_check
        check_params(self)  # called, never fitted: checked when made

    def __repr__(self):
        return (f"LBPFaceDetector(min_size={self.min_size}, scale_factor={self.scale_factor}, "
                f"min_neighbors={self.min_neighbors}, min_relative_size={self.min_relative_size}, "
                f"mirror_check={self.mirror_check})")

    def __call__(self, gray):
        """Boxes ``(x, y, w, h)`` of the faces in a float grayscale photo in [0, 1] ``(h, w)``, largest first."""
        if min(gray.shape) < self.min_size:
            return np.zeros((0, 4))
        boxes = self._boxes(gray)
        if self.mirror_check and len(boxes):
            mirrored = self._boxes(gray[:, ::-1])
            mirrored[:, 0] = gray.shape[1] - mirrored[:, 0] - mirrored[:, 2]
            boxes = confirmed_boxes(boxes, mirrored)
        if len(boxes):
            boxes = boxes[boxes[:, 2] >= self.min_relative_size * boxes[:, 2].max()]
        return boxes

    def _boxes(self, gray):
        """Merged cascade detections ``(x, y, w, h)``, largest first."""
        side = min(gray.shape)
        found = _lbp_cascade().detect_multi_scale(
            img=np.ascontiguousarray(gray), scale_factor=self.scale_factor, step_ratio=1,
            min_size=(self.min_size, self.min_size), max_size=(side, side), min_neighbor_number=self.min_neighbors,
        )
        return _merge(np.array([[d["c"], d["r"], d["width"], d["height"]] for d in found], dtype=float).reshape(-1, 4))


def confirmed_boxes(boxes, others, min_overlap=0.4):
    """Mean of each box and its best-overlapping box in ``others``; boxes without one (IoU below ``min_overlap``) go.

    Returns the kept means, largest first.
    """
    if len(others) == 0:
        return np.zeros((0, 4))
    iou, _ = box_overlaps(boxes, others)
    best = iou.argmax(axis=1)
    keep = iou[np.arange(len(boxes)), best] >= min_overlap
    mean = (boxes[keep] + others[best[keep]]) / 2
    return mean[np.argsort(-mean[:, 2], kind="stable")]


def _merge(boxes):
    """Keep the largest of each group of boxes whose centres fall inside one another."""
    boxes = boxes[np.argsort(-boxes[:, 2])]
    kept = []
    for box in boxes:  # a handful of merged detections per photo
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k in kept):
            kept.append(box)
    return np.array(kept).reshape(-1, 4)


class CallableFaceDetector:
    """A plain function ``gray -> boxes`` as a face detector, with the framing of its boxes.

    Parameters
    ----------
    function : callable
        Takes a float grayscale photo in [0, 1] and returns ``(x, y, w, h)``
        boxes (any sequence of 4 numbers each).
    framing : (float, float, float), default=DLIB_FRAMING
        Box-to-crop transform for this detector's boxes. The default suits
        tight square boxes around eyebrows to chin, as dlib's HOG detector
        gives; fit another with ``tools/fit_framing.py``.

    Examples
    --------
    Plug in dlib's HOG detector (when dlib is installed)::

        import dlib
        hog = dlib.get_frontal_face_detector()

        def dlib_boxes(gray):
            rects = hog((gray * 255).astype("uint8"), 1)
            return [(r.left(), r.top(), r.width(), r.height()) for r in rects]

        detect_keypoints(photo, face_detector=dlib_boxes)
    """

    _parameter_constraints = {
        "function": [callable],
        "framing": [NumberSequence(Interval(numbers.Real, None, None, closed="neither"), length=3)],
    }

    @keyword_only_after
    def __init__(self, function, *, framing=DLIB_FRAMING):
        self.function = function
        self.framing = framing
        check_params(self)
        self.framing = tuple(float(v) for v in framing)

    def __repr__(self):
        return f"CallableFaceDetector({self.function!r}, framing={self.framing})"

    def __call__(self, gray):
        boxes = np.asarray(self.function(gray), dtype=float)
        if boxes.size == 0:
            return np.zeros((0, 4))
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"face detector {self.function!r} returned boxes of shape {boxes.shape}; expected (n, 4)")
        return boxes[np.argsort(-boxes[:, 2], kind="stable")]


@functools.cache
def _packaged_hog():
    from ..persistence import load_default_face_detector

    return load_default_face_detector()


def _hog(**params):
    """The packaged HOG detector with its scanning parameters (``min_size``, ``threshold``, ...) set."""
    from ._hog_face_detector import SCAN_PARAMS

    unknown = sorted(set(params) - set(SCAN_PARAMS))
    if unknown:
        raise ValueError(
            f"the packaged 'hog' face detector takes only {', '.join(SCAN_PARAMS)}; {', '.join(unknown)} "
            f"are fixed by its training (fit a HOGFaceDetector to change them)"
        )
    detector = copy.copy(_packaged_hog()).set_params(**params)  # shares the read-only weights
    detector._check_scan()
    return detector


_NAMED = {"hog": _hog, "lbp": LBPFaceDetector}


@validate_params({"detector": [str, callable]}, prefer_skip_nested_validation=False)
def as_face_detector(detector, /, **params):
    """A face detector from a name, a detector object, or a plain callable.

    Parameters
    ----------
    detector : {"hog", "lbp"}, detector or callable
        ``"hog"`` is the packaged :class:`HOGFaceDetector` (``params`` may
        set its scanning parameters: ``min_size``, ``max_size``,
        ``scale_factor``, ``threshold``, ``overlap``, ``cover``,
        ``rotations``); ``"lbp"`` is :class:`LBPFaceDetector` made with
        ``params``. An object with a ``framing`` is used as it is; a plain
        function ``gray -> boxes`` is wrapped in :class:`CallableFaceDetector`.

    Raises
    ------
    ValueError
        For an unknown name or parameter.
    TypeError
        For anything that is neither a name nor callable (an
        ``InvalidParameterError``, also a ``ValueError``).
    """
    if isinstance(detector, str):
        if detector not in _NAMED:
            raise ValueError(f"face_detector must be one of {sorted(_NAMED)} or a callable, got {detector!r}")
        try:
            return _NAMED[detector](**params)
        except TypeError as exc:  # an unknown keyword of LBPFaceDetector (not a refused value: that says so itself)
            if isinstance(exc, ValueError):
                raise
            raise ValueError(f"face detector {detector!r}: {exc}") from None
    if hasattr(detector, "framing"):
        return detector
    return CallableFaceDetector(detector)
