"""A frontal face detector of HOG and a linear classifier, scanned over an image pyramid.

The classical recipe of Dalal & Triggs (2005), as dlib's HOG face detector
uses it: every level of an image pyramid gets one dense HOG map
(:func:`fkp_classic.features.hog_map`), linear filters score every window
of the map at once (a correlation with the map, as in Felzenszwalb et al.
2010), and non-maximum suppression keeps the best of each group of
overlapping windows. Training mines hard negatives over rounds: the
windows of the training photos that hold no face but score highest are
added to the negatives, and the classifier is fitted again.

The window is the 96x96 keypoint crop's square itself (a face framed as
the training crops are), so the detector's boxes need no framing fit:
``framing`` is ``(1, 0, 0)``.

Faces turned in the photo's plane are found as dlib finds them: filters
trained on faces turned by set angles scan the same HOG maps, and each box
says which angle's filter found it. On request the photo is also scanned
turned by 90, 180 and 270 degrees (exact turns of the pixel grid), which
finds faces at any angle.
"""

import numbers

import numpy as np
from PIL import Image
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from ..features._hog import hog_map
from ..utils._constraints import NumberSequence
from ..utils._deprecation import keyword_only_after
from ..utils._plain_state import pack_plain_state, unpack_plain_state
from ..utils._threads import one_blas_thread
from ..utils._validation import is_real_number
from ._boxes import DROPPED, FRONT, box_overlaps, held_back
from ._image import as_gray8

__all__ = ["HOGFaceDetector"]

# Parameters that only change how photos are scanned, not what was learned: settable on a fitted detector.
SCAN_PARAMS = ("min_size", "max_size", "scale_factor", "threshold", "overlap", "cover", "rotations")


class HOGFaceDetector(BaseEstimator):
    """Frontal faces found by a linear classifier on HOG, scanned over an image pyramid.

    Each window is a face's 96x96 keypoint crop square shrunk to ``window``
    pixels, described by HOG with ``cell``-pixel cells and 2x2-cell blocks.
    The photo is scanned at scales from ``min_size`` up, ``scale_factor``
    apart, one cell apart in position.

    Parameters
    ----------
    window : int, default=40
        Side in pixels of the scanned window (a multiple of ``cell``).
    cell : int, default=4
        HOG cell side in pixels: also the scanning step.
    orientations : int, default=9
        HOG orientation bins.
    C : float, default=0.01
        Inverse regularisation of the linear SVMs (:class:`sklearn.svm.LinearSVC`).
    n_components : int, default=3
        Linear filters per angle, each trained on one group of faces (e.g.
        turned left, frontal, turned right; see ``poses`` in :meth:`fit`);
        a window's score is its best filter's.
    angles : sequence of float, default=(0,)
        In-plane angles (degrees, counterclockwise as seen) of the faces
        the filters are trained for: each angle gets ``n_components``
        filters, trained on the training faces turned by it. Symmetric
        about 0 (mirroring a face turned by ``a`` turns it by ``-a``), e.g.
        ``(-30, 0, 30)``: a filter finds faces within about 15 degrees of
        its angle.
    tilted_components : int or None, default=None
        Filters per angle other than 0; None: ``n_components``. 1 pools
        every pose of a tilted face in one filter, as dlib's tilted filters
        do (a third of the scan's cost of three).
    angle_jitter : float, default=0
        The ``n_jitter`` copies of each face are also turned by up to this
        many degrees, so that each angle's filters cover the angles between
        them.
    tilted_jitter : float or None, default=None
        ``angle_jitter`` for the angles other than 0; None: ``angle_jitter``.
        Tilted filters can cover a wide band while the upright ones stay
        sharp.
    mining_rounds : int, default=3
        Rounds of hard-negative mining after the first fit.
    negatives_per_photo : int, default=10
        Random negative windows per training photo in the first round, and
        most hard negatives added per photo in each later round.
    n_jitter : int, default=2
        Extra copies of each training face, shifted by up to half a cell
        and scaled by up to half a pyramid step, so that faces between two
        scanned windows still score high. Each copy is also mirrored.
    min_size : float, default=40
        Smallest face square found, in photo pixels.
    max_size : float or None, default=None
        Largest face square found; None is the photo's shorter side.
    scale_factor : float, default=1.2
        Ratio between successive pyramid levels.
    threshold : float, default=0.25
        Lowest classifier score reported as a face. The photo path's
        verifier then removes most remaining false alarms.
    overlap : float, default=0.3
        Non-maximum suppression: windows whose intersection over union with
        a better one exceeds this are dropped.
    cover : float, default=0.7
        Non-maximum suppression too: windows lying inside a better one (their
        intersection more than this share of the smaller window) are dropped,
        such as a window on part of a face inside the face's window (the
        photo path holds them back for a second look instead:
        ``detect(return_held=True)``). 1 drops none this way.
    rotations : {"upright", "all"}, default="upright"
        ``"upright"`` scans the photo as it is (faces within about 15
        degrees of one of ``angles``); ``"all"`` also scans it turned by 90,
        180 and 270 degrees, for faces at any angle (four times the time).
    random_state : int, RandomState or None, default=0
        Seeds the jitter and the random negatives.

    Attributes
    ----------
    coef_ : ndarray of shape (n_filters, n_blocks, n_blocks, 4 * orientations)
        Each filter's weights, one vector per HOG block of the window
        (``n_components`` for angle 0, ``tilted_components`` for each other).
    intercept_ : ndarray of shape (n_filters,)
    filter_angles_ : ndarray of shape (n_filters,)
        The angle each filter was trained for.
    root_coef_ : ndarray of shape (n_angles, n_blocks, n_blocks, 4 * orientations)
        The first stage of the scan: per angle, one filter trained on every
        face turned by it.
    root_intercept_ : ndarray of shape (n_angles,)
    root_margin_ : ndarray of shape (n_angles,)
        Windows whose root scores are all below ``threshold - root_margin_``
        are not scored further: on 99.5% of an angle's training faces found,
        the full score exceeds its root's score by less.
    n_positives_ : int
        Face windows trained on (with jitter and mirrors).
    n_negatives_ : int
        Non-face windows trained on, after mining.
    mining_log_ : list of dict
        Per round: negatives, hard negatives added, training recall.

    See Also
    --------
    fkp_classic.photo.LBPFaceDetector : scikit-image's LBP cascade.

    Notes
    -----
    Dalal & Triggs' detector [1]_ with two elements of Felzenszwalb et
    al.'s [2]_: a mixture of ``n_components`` filters, one per group of
    faces, with mirrored faces trained into the mirrored component (their
    bilaterally symmetric components; there are no parts here), and a
    cheap first stage whose threshold is set from the training faces'
    scores so that (nearly) no face it would find is dropped, the idea of
    their cascade [3]_ applied to one root filter. The filters are linear
    SVMs fitted on windows (not dlib's max-margin object detection).

    References
    ----------
    .. [1] N. Dalal and B. Triggs, "Histograms of oriented gradients for human
           detection", CVPR 2005, pp. 886-893. https://doi.org/10.1109/CVPR.2005.177
    .. [2] P. F. Felzenszwalb, R. B. Girshick, D. McAllester and D. Ramanan,
           "Object detection with discriminatively trained part-based models",
           IEEE TPAMI 32(9), 2010, pp. 1627-1645. https://doi.org/10.1109/TPAMI.2009.167
    .. [3] P. F. Felzenszwalb, R. B. Girshick and D. McAllester, "Cascade object
           detection with deformable part models", CVPR 2010, pp. 2241-2248.
           https://doi.org/10.1109/CVPR.2010.5539906

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from fkp_classic.photo import as_face_detector, as_gray
    >>> detector = as_face_detector("hog")  # the packaged detector
    >>> boxes = detector(as_gray(data.astronaut()))  # squares (x, y, side, side), best scored first
    >>> boxes.shape[1], bool(np.allclose(boxes[:, 2], boxes[:, 3], rtol=0.02))
    (4, True)
    """

    _parameter_constraints = {
        "window": [Interval(numbers.Integral, 16, None, closed="left")],
        "cell": [Interval(numbers.Integral, 2, None, closed="left")],
        "orientations": [Interval(numbers.Integral, 2, None, closed="left")],
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "angles": [NumberSequence(Interval(numbers.Real, -90, 90, closed="neither"))],
        "tilted_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "angle_jitter": [Interval(numbers.Real, 0, 45, closed="both")],
        "tilted_jitter": [Interval(numbers.Real, 0, 45, closed="both"), None],
        "mining_rounds": [Interval(numbers.Integral, 0, None, closed="left")],
        "negatives_per_photo": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_jitter": [Interval(numbers.Integral, 0, None, closed="left")],
        "min_size": [Interval(numbers.Real, 8, None, closed="left")],
        "max_size": [Interval(numbers.Real, 8, None, closed="left"), None],
        "scale_factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "threshold": [Interval(numbers.Real, None, None, closed="neither")],
        "overlap": [Interval(numbers.Real, 0, 1, closed="neither")],
        "cover": [Interval(numbers.Real, 0, 1, closed="right")],
        "rotations": [StrOptions({"upright", "all"})],
        "random_state": ["random_state"],
    }

    framing = (1.0, 0.0, 0.0)
    """Box-to-crop transform: the boxes are the crop squares themselves."""

    scores_faces = True
    """Declares ``detect(gray8, return_scores=True, threshold=)`` on 8-bit photos: the photo path adds its scores."""

    finds_angles = True
    """Declares ``detect(..., return_angles=True)``: the photo path turns each face's first crop by its angle."""

    holds_back = True
    """Declares ``detect(..., return_held=True)``: the photo path gives the windows inside better ones a second look."""

    @keyword_only_after
    def __init__(
        self,
        *,
        window=40,
        cell=4,
        orientations=9,
        C=0.01,
        n_components=3,
        angles=(0,),
        tilted_components=None,
        angle_jitter=0.0,
        tilted_jitter=None,
        mining_rounds=3,
        negatives_per_photo=10,
        n_jitter=2,
        min_size=40,
        max_size=None,
        scale_factor=1.2,
        threshold=0.25,
        overlap=0.3,
        cover=0.7,
        rotations="upright",
        random_state=0,
    ):
        self.window = window
        self.cell = cell
        self.orientations = orientations
        self.C = C
        self.n_components = n_components
        self.angles = angles
        self.tilted_components = tilted_components
        self.angle_jitter = angle_jitter
        self.tilted_jitter = tilted_jitter
        self.mining_rounds = mining_rounds
        self.negatives_per_photo = negatives_per_photo
        self.n_jitter = n_jitter
        self.min_size = min_size
        self.max_size = max_size
        self.scale_factor = scale_factor
        self.threshold = threshold
        self.overlap = overlap
        self.cover = cover
        self.rotations = rotations
        self.random_state = random_state

    def __getstate__(self):
        # a hundred small values: one JSON entry in a safe model file, which rebuilds each object one by one
        return pack_plain_state(super().__getstate__())

    def __setstate__(self, state):
        state = unpack_plain_state(state)
        # detectors saved before angles and rotations existed scan as they did then
        state = {"angles": (0,), "tilted_components": None, "angle_jitter": 0.0, "tilted_jitter": None,
                 "rotations": "upright", "cover": 0.7, **state}
        super().__setstate__(state)

    # ------------------------------------------------------------------ scanning

    def _check_scan(self):
        self._validate_params()
        if self.window % self.cell:
            raise ValueError(f"window={self.window} must be a multiple of cell={self.cell}")

    def _angles(self):
        """The training angles, ascending; refused unless symmetric about 0 and distinct."""
        angles = np.sort(np.asarray(self.angles, dtype=float).reshape(-1))
        if len(np.unique(angles)) != len(angles) or not np.allclose(angles, -angles[::-1]):
            raise ValueError(f"angles must be distinct and symmetric about 0 (a mirrored face turns the other way), "
                             f"got {tuple(self.angles)!r}")
        return angles

    def _filters(self):
        """The fitted filters as the scan uses them (float32), with each filter's angle and the roots per angle.

        Detectors fitted before angles existed (one root, no ``filter_angles_``) read as one angle, 0.
        """
        coef = self.coef_.astype(np.float32)
        angles = np.asarray(getattr(self, "filter_angles_", np.zeros(len(coef))), dtype=float)
        roots = None
        if hasattr(self, "root_coef_"):
            roots = (np.asarray(self.root_coef_, dtype=np.float32).reshape((-1,) + coef.shape[1:]),
                     np.atleast_1d(np.asarray(self.root_intercept_, dtype=float)),
                     np.atleast_1d(np.asarray(self.root_margin_, dtype=float)))
        return coef, np.asarray(self.intercept_, dtype=float), angles, roots

    def _levels(self, height, width):
        """Scales ``s`` (level = photo resized by ``s``) from the smallest face searched to the largest."""
        side = min(height, width)
        largest = side if self.max_size is None else min(self.max_size, side)
        scale = self.window / self.min_size
        scales = []
        while self.window / scale <= largest * (1 + 1e-9) and side * scale >= self.window:
            scales.append(scale)
            scale /= self.scale_factor
        return scales

    def _hog(self, image):
        return hog_map(image, self.orientations, (self.cell, self.cell))

    def _windows(self, gray8, threshold=None):
        """Every window of every pyramid level (or those scoring at least ``threshold``): boxes ``(x, y, w, h)``
        in photo pixels, scores, and where they are.

        One dense HOG map per level; all windows of a level are scored by one
        matrix product and one strided sum (zero scores before fitting).

        Returns
        -------
        boxes : ndarray of shape (n_windows, 4)
        scores : ndarray of shape (n_windows,)
        levels : list of ndarray
            Each level's HOG block map.
        where : ndarray of shape (n_windows, 3)
            Level, block row and block column of each window.
        angles : ndarray of shape (n_windows,)
            The angle of each window's best filter.
        """
        height, width = gray8.shape
        photo = Image.fromarray(gray8)
        # The filters in float32, as the HOG maps; the root filters screen the windows when only those above
        # a threshold are wanted.
        filters = self._filters() if hasattr(self, "coef_") else None
        if filters is not None and threshold is None:
            filters = filters[:3] + (None,)
        levels = [self._scan_level(photo, scale, filters, threshold) for scale in self._levels(height, width)]
        levels = [level for level in levels if level is not None]
        if not levels:
            return np.zeros((0, 4)), np.zeros(0), [], np.zeros((0, 3), dtype=np.intp), np.zeros(0)
        boxes, scores, blocks, where, angles = zip(*levels)
        where = [np.column_stack([np.full(len(w), i), w]) for i, w in enumerate(where)]
        return np.concatenate(boxes), np.concatenate(scores), list(blocks), np.concatenate(where), np.concatenate(angles)

    def _scan_level(self, photo, scale, filters, threshold):
        """One pyramid level: its windows' boxes, scores and angles (those at least ``threshold``), HOG map,
        (row, col)."""
        width, height = photo.size
        size = (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1))
        blocks = self._hog(np.asarray(photo.resize(size, Image.BILINEAR)))
        n_blocks = self.window // self.cell - 1
        rows, cols = blocks.shape[0] - n_blocks + 1, blocks.shape[1] - n_blocks + 1
        if rows <= 0 or cols <= 0:
            return None
        if filters is None:
            index, scores, angles = np.arange(rows * cols), np.zeros(rows * cols), np.zeros(rows * cols)
        elif filters[3] is not None:
            index, scores, angles = self._two_stage_scores(blocks, filters, threshold)
        else:
            coef, intercept, filter_angles, _ = filters
            all_scores = _correlate(blocks, coef).reshape(len(coef), rows * cols).T + intercept
            best = all_scores.argmax(axis=1)
            scores = all_scores[np.arange(len(best)), best]
            index = np.arange(rows * cols) if threshold is None else np.flatnonzero(scores >= threshold)
            scores, angles = scores[index], filter_angles[best[index]]
        r, c = np.divmod(index, cols)
        sx, sy = size[0] / width, size[1] / height
        boxes = np.empty((len(index), 4))
        boxes[:, 0], boxes[:, 1] = c * (self.cell / sx), r * (self.cell / sy)
        boxes[:, 2], boxes[:, 3] = self.window / sx, self.window / sy
        return boxes, scores, blocks, np.column_stack([r, c]), angles

    def _two_stage_scores(self, blocks, filters, threshold):
        """Windows scoring at least ``threshold``, their scores and angles, the root filters first.

        The root filters (per angle, one filter for every pose) score every
        window at a fraction of the cost of all the filters; only windows
        some root scores at least ``threshold - root_margin_`` get the full
        score, which is exact.
        """
        coef, intercept, filter_angles, (root, root_intercept, root_margin) = filters
        n = coef.shape[1]
        root = _correlate(blocks, root)
        cols = root.shape[2]
        lowest = threshold - root_margin - root_intercept  # each root's lowest product that passes
        candidates = np.flatnonzero((root >= lowest[:, None, None]).any(axis=0))
        if len(candidates) == 0:
            return candidates, np.zeros(0), np.zeros(0)
        features = _gather_windows(blocks, *np.divmod(candidates, cols), n)
        all_scores = features @ coef.reshape(len(coef), -1).T + intercept
        best = all_scores.argmax(axis=1)
        scores = all_scores[np.arange(len(best)), best]
        keep = scores >= threshold
        return candidates[keep], scores[keep], filter_angles[best[keep]]

    def _window_features(self, levels, where):
        """HOG descriptors of the windows at ``where`` (rows of level, block row, block column)."""
        n = self.window // self.cell - 1
        out = np.empty((len(where), self._n_features()))
        for level in np.unique(where[:, 0]):  # one gather per pyramid level
            rows = where[:, 0] == level
            out[rows] = _gather_windows(levels[level], where[rows, 1], where[rows, 2], n)
        return out

    def _n_features(self):
        n = self.window // self.cell - 1
        return n * n * 4 * self.orientations

    @keyword_only_after
    def detect(self, gray, *, return_scores=False, threshold=None, return_angles=False, return_held=False):
        """Face squares ``(x, y, w, h)`` in a photo, best scored first.

        Parameters
        ----------
        gray : array-like of shape (h, w), (h, w, 3) or (h, w, 4)
            A photo: uint8 grayscale as the photo path gives (scanned as it
            is), gray float in [0, 1] as the detector protocol gives, or any
            photo :func:`fkp_classic.photo.as_gray8` takes (converted by it).
        return_scores : bool, default=False
            Also return each box's classifier score.
        threshold : float, optional
            Lowest score reported for this call instead of ``threshold``
            (e.g. lower, to propose candidates that a verifier then judges).
        return_angles : bool, default=False
            Also return each face's angle in the photo (degrees,
            counterclockwise as seen): the angle its best filter was trained
            for, plus the turn of the photo it was found in.
        return_held : bool, default=False
            Also return the windows that suppression drops only for lying
            inside a better one (``cover``), and for each box the index of
            the box it is held back behind (-1 for the faces found): a
            second look's candidates (:func:`fkp_classic.photo.held_back`).

        Returns
        -------
        boxes : ndarray of shape (n_faces, 4)
        scores : ndarray of shape (n_faces,)
            Only when ``return_scores``.
        angles : ndarray of shape (n_faces,)
            Only when ``return_angles``.
        behind : ndarray of shape (n_faces,)
            Only when ``return_held`` (the boxes and their values then
            include the held windows).

        Notes
        -----
        The scan keeps BLAS to one thread, as the photo path does: its
        products are small, and the scores then do not depend on how many
        threads BLAS would take.
        """
        check_is_fitted(self, "coef_")
        self._check_scan()
        self._angles()
        if threshold is None:
            threshold = self.threshold
        elif not is_real_number(threshold):
            raise ValueError(f"threshold must be a finite number, got {threshold!r}")
        gray8 = as_gray8(gray)
        turns = (0, 1, 2, 3) if self.rotations == "all" else (0,)
        found, start = [], 0
        with one_blas_thread():  # small products (a level's windows against a few filters), as on the photo path
            for k in turns:  # each turn's windows suppressed among themselves: a turn's false alarm hides no face
                boxes, scores, _, _, angles = self._windows(np.ascontiguousarray(np.rot90(gray8, k)), float(threshold))
                behind = held_back(boxes, scores, self.overlap, self.cover)
                keep = np.flatnonzero(behind == FRONT if not return_held else behind != DROPPED)
                # indices of the boxes held behind, among the boxes this turn keeps, then among all turns'
                behind = np.where(behind[keep] >= 0, np.searchsorted(keep, behind[keep]) + start, FRONT)
                found.append((*_unturned(boxes[keep], angles[keep], k, gray8.shape), scores[keep], behind))
                start += len(keep)
        boxes, angles, scores, behind = (np.concatenate(parts) for parts in zip(*found))
        order = np.argsort(-scores, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        behind = np.where(behind[order] >= 0, rank[np.maximum(behind[order], 0)], FRONT)
        out = ((boxes[order],) + ((scores[order],) if return_scores else ()) + ((angles[order],) if return_angles else ())
               + ((behind,) if return_held else ()))
        return out if len(out) > 1 else out[0]

    def __call__(self, gray):
        """Face squares ``(x, y, w, h)`` in a photo (float grayscale, as the protocol gives): :meth:`detect`."""
        return self.detect(gray)

    # ------------------------------------------------------------------ training

    @keyword_only_after
    def fit(self, photos, boxes, *, negative_photos=(), poses=None, ignored=None):
        """Learn faces from photos with every face boxed, mining hard negatives from the rest of each photo.

        Parameters
        ----------
        photos : sequence of array-like
            Photos (any form :func:`fkp_classic.photo.as_gray8` takes).
        boxes : sequence of array-like of shape (n_faces, 4)
            Per photo, every face's crop square ``(x, y, side, side)`` (e.g.
            :func:`fkp_classic.photo.reframe` of annotated keypoints). Windows
            overlapping none of them are negatives, so unboxed faces are
            learnt as non-faces.
        negative_photos : sequence of array-like, default=()
            Photos without any face: all their windows are negatives.
        poses : sequence of array-like of int, optional
            Per photo, each face's component in ``0 .. n_components - 1``,
            ordered so that mirroring a face of component ``k`` gives one of
            ``n_components - 1 - k`` (e.g. turned left, frontal, turned right:
            :func:`fkp_classic.evaluation.turn_components`). By default the
            faces are grouped by k-means on their HOG.
        ignored : sequence of array-like of shape (n_ignored, 4), optional
            Per photo, boxes that are neither faces nor background (faces
            the annotation leaves out, as dlib's ``ignore`` boxes): no
            window overlapping one is taken as a negative.

        Returns
        -------
        self : HOGFaceDetector
        """
        self._check_scan()
        angles = self._angles()
        if len(photos) != len(boxes):
            raise ValueError(f"got {len(photos)} photos but {len(boxes)} box lists")
        if len(photos) == 0:
            raise ValueError("fit needs at least one photo with a face")
        rng = check_random_state(self.random_state)
        grays = [as_gray8(p, f"photo {i}") for i, p in enumerate(photos)]
        faces = [_checked_boxes(b, f"boxes of photo {i}") for i, b in enumerate(boxes)]
        backgrounds = [as_gray8(p, f"negative photo {i}") for i, p in enumerate(negative_photos)]
        if ignored is not None:
            if len(ignored) != len(faces):
                raise ValueError(f"ignored must give a list of boxes per photo: {len(ignored)} lists for "
                                 f"{len(faces)} photos")
            ignored = [_checked_boxes(b, f"ignored boxes of photo {i}") for i, b in enumerate(ignored)]
        # negatives stay away from the faces and from the ignored boxes
        kept_out = faces if ignored is None else [np.concatenate([f, i]) for f, i in zip(faces, ignored)]
        for attr in ("coef_", "intercept_", "filter_angles_", "root_coef_", "root_intercept_", "root_margin_"):
            self.__dict__.pop(attr, None)
        if poses is not None:
            poses = [np.asarray(p, dtype=int).reshape(-1) for p in poses]
            if len(poses) != len(faces) or any(len(p) != len(f) for p, f in zip(poses, faces)):
                raise ValueError("poses must give one component per box of every photo")
            if any(((p < 0) | (p >= self.n_components)).any() for p in poses):
                raise ValueError(f"poses must lie in 0..{self.n_components - 1} (n_components={self.n_components})")
        positives, poses, turns = self._positives(grays, faces, rng, poses, angles)
        if len(positives) == 0:
            raise ValueError("no training face is at least 8 pixels wide")
        components = self._components(positives, poses, turns, rng)
        self.filter_angles_ = np.repeat(angles, self._filters_per_angle(angles))
        negatives = self._random_negatives(grays + backgrounds, kept_out + [np.zeros((0, 4))] * len(backgrounds), rng)
        self.mining_log_ = []
        for round_ in range(self.mining_rounds + 1):
            self._fit_linear(positives, components, negatives)
            recall = float(np.mean(self._score_features(positives) >= self.threshold))
            entry = {"round": round_, "negatives": len(negatives), "train_recall": recall}
            if round_ < self.mining_rounds:
                hard = self._hard_negatives(grays + backgrounds, kept_out + [np.zeros((0, 4))] * len(backgrounds))
                entry["hard_negatives_added"] = len(hard)
                if len(hard) == 0:
                    self.mining_log_.append(entry)
                    break
                negatives = np.concatenate([negatives, hard])
            self.mining_log_.append(entry)
        self._fit_root(positives, turns, negatives)
        self.n_positives_, self.n_negatives_ = len(positives), len(negatives)
        return self

    def _fit_root(self, positives, turns, negatives):
        """The scan's cheap first stage: per angle, one linear SVM for all the faces turned by it, and how far
        below the full score it may fall on such a face (the 99.5th percentile of its shortfall over the
        training faces found)."""
        final = self._score_features(positives)
        coef, intercept, margin = [], [], []
        for a in range(int(turns.max()) + 1):
            mine = positives[turns == a]
            svm = self._svm().fit(np.concatenate([mine, negatives]), np.r_[np.ones(len(mine)), np.zeros(len(negatives))])
            root = mine @ svm.coef_[0] + svm.intercept_[0]
            found = final[turns == a] >= self.threshold
            shortfall = (final[turns == a] - root)[found if found.any() else slice(None)]
            coef.append(svm.coef_[0].reshape(self.coef_.shape[1:]))
            intercept.append(svm.intercept_[0])
            margin.append(np.percentile(shortfall, 99.5))
        self.root_coef_ = np.stack(coef)
        self.root_intercept_ = np.array(intercept, dtype=float)
        self.root_margin_ = np.array(margin, dtype=float)

    def _fit_linear(self, positives, components, negatives):
        """One linear SVM per component and angle: its faces against all the negatives."""
        n = self.window // self.cell - 1
        coef, intercept = [], []
        for k in range(len(self.filter_angles_)):
            mine = positives[components == k]
            X = np.concatenate([mine, negatives])
            y = np.r_[np.ones(len(mine)), np.zeros(len(negatives))]
            svm = self._svm().fit(X, y)
            coef.append(svm.coef_[0].reshape(n, n, -1))
            intercept.append(svm.intercept_[0])
        self.coef_ = np.stack(coef)
        self.intercept_ = np.array(intercept)

    def _svm(self):
        """The linear SVM of every filter (the root and each component's): solved in the dual, which with so
        small a ``C`` converges in a few passes (the same filter as the primal, in about half the time)."""
        return LinearSVC(C=self.C, class_weight="balanced", intercept_scaling=10, dual=True, max_iter=5000)

    def _score_features(self, features):
        """Best component's score of each window descriptor."""
        return (features @ self.coef_.reshape(len(self.coef_), -1).T + self.intercept_).max(axis=1)

    def _filters_per_angle(self, angles):
        tilted = self.n_components if self.tilted_components is None else self.tilted_components
        return np.where(np.asarray(angles) == 0, self.n_components, tilted)

    def _components(self, positives, poses, turns, rng):
        """Filter of each positive: its angle's, and within it ``poses`` if given (and the angle has
        ``n_components`` filters), else k-means clusters of the descriptors."""
        counts = self._filters_per_angle(self._angles())
        pose = np.zeros(len(positives), dtype=np.intp)
        for a in np.unique(turns):
            mine = turns == a
            if counts[a] == 1:
                continue
            if poses is not None and counts[a] == self.n_components:
                pose[mine] = poses[mine]
            else:
                kmeans = KMeans(int(counts[a]), n_init=4, random_state=rng.randint(2**31 - 1))
                pose[mine] = kmeans.fit_predict(positives[mine])
        return (np.cumsum(counts) - counts)[turns] + pose

    def _positives(self, grays, faces, rng, poses=None, angles=(0.0,)):
        """HOG of every face window turned by each of ``angles``, mirrored, plus ``n_jitter`` shifted and scaled
        copies of each; and each window's angle (index into ``angles``).

        With ``poses`` (per photo, a component per face), also each copy's
        component: a mirrored face takes component ``n_components - 1 - k``
        and the opposite angle.
        """
        out, components, turns = [], [], []
        n_blocks = self.window // self.cell - 1
        n_angles = len(angles)
        tilted = self.angle_jitter if self.tilted_jitter is None else self.tilted_jitter
        jitter = np.where(np.asarray(angles) == 0, self.angle_jitter, tilted)  # each angle's largest extra turn
        for p, (gray, face_boxes) in enumerate(zip(grays, faces)):
            for f, (x, y, w, h) in enumerate(face_boxes):  # one crop per training face
                if w < 8:
                    continue
                shifts = [(0.0, 0.0, 1.0, 0.0)] + [  # the turn as a share of each angle's jitter
                    (*rng.uniform(-0.5, 0.5, 2) * self.cell / self.window,
                     self.scale_factor ** rng.uniform(-0.5, 0.5),
                     rng.uniform(-1.0, 1.0) if jitter.any() else 0.0)
                    for _ in range(self.n_jitter)
                ]
                for (dx, dy, scale, turn), (a, angle) in ((s, t) for s in shifts for t in enumerate(angles)):
                    side = w * scale
                    cx, cy = x + w / 2 + dx * w, y + h / 2 + dy * w
                    patch = _resample(gray, cx - side / 2, cy - side / 2, side, self.window, self.cell,
                                      angle + turn * jitter[a])
                    for mirrored, image in enumerate((patch, patch[:, ::-1])):
                        blocks = self._hog(np.ascontiguousarray(image))
                        out.append(blocks[1:1 + n_blocks, 1:1 + n_blocks].ravel())
                        turns.append(n_angles - 1 - a if mirrored else a)
                        if poses is not None:
                            k = int(poses[p][f])
                            components.append(self.n_components - 1 - k if mirrored else k)
        features = np.array(out).reshape(-1, self._n_features())
        return (features, (np.array(components, dtype=np.intp) if poses is not None else None),
                np.array(turns, dtype=np.intp))

    def _random_negatives(self, grays, faces, rng):
        out = []
        for gray, face_boxes in zip(grays, faces):
            boxes, _, levels, where, _ = self._windows(gray)
            free = np.flatnonzero(_away_from(boxes, face_boxes))
            if len(free):
                pick = rng.choice(free, min(self.negatives_per_photo, len(free)), replace=False)
                out.append(self._window_features(levels, where[pick]))
        return np.concatenate(out) if out else np.zeros((0, self._n_features()))

    def _hard_negatives(self, grays, faces):
        """Per photo, the highest-scoring windows away from every face that score above -1 (the margin)."""
        out = []
        for gray, face_boxes in zip(grays, faces):
            boxes, scores, levels, where, _ = self._windows(gray)
            hard = np.flatnonzero(_away_from(boxes, face_boxes) & (scores > -1))
            if len(hard):
                hard = hard[np.argsort(-scores[hard])[: self.negatives_per_photo]]
                out.append(self._window_features(levels, where[hard]))
        return np.concatenate(out) if out else np.zeros((0, self._n_features()))


def _correlate(blocks, coef):
    """Score of every filter at every window position: ``sum_ij blocks[r + i, c + j] . coef[k, i, j]``.

    Returns an array of shape ``(n_filters, rows, cols)``.
    """
    n_filters, n, _, depth = coef.shape
    height, width = blocks.shape[:2]
    rows, cols = height - n + 1, width - n + 1
    # Every filter weight against every block at once (one matrix product), laid out as maps of the block
    # grid: parts[k, i, j] holds each block's product with part (i, j) of filter k. A window's score adds
    # up its parts: first down the filter rows, for all the filter columns at once, then along the columns
    # (each a sum of shifted maps, contiguous rows of the grid).
    parts = (coef.reshape(-1, depth) @ blocks.reshape(-1, depth).T).reshape(n_filters, n, n, height, width)
    down = parts[:, 0, :, :rows].copy()
    for i in range(1, n):
        down += parts[:, i, :, i : i + rows]
    out = down[:, 0, :, :cols].copy()
    for j in range(1, n):
        out += down[:, j, :, j : j + cols]
    return out


def _gather_windows(blocks, r, c, n):
    """Descriptors of the ``n x n``-block windows starting at block ``(r, c)`` of a HOG map: ``(m, n * n * depth)``,
    in the filters' (row, column, depth) order, gathered in one copy."""
    blocks = np.ascontiguousarray(blocks)
    height, width, depth = blocks.shape
    # A window's n blocks of one row lie side by side in the map: row r + i of the window starting at (r, c)
    # is spans[r + i, c], n * depth numbers (a view, nothing copied until the windows are gathered).
    spans = np.lib.stride_tricks.as_strided(blocks, (height, width - n + 1, n * depth),
                                            (blocks.strides[0], blocks.strides[1], blocks.strides[2]), writeable=False)
    windows = spans[np.asarray(r)[:, None] + np.arange(n), np.asarray(c)[:, None]]
    return windows.reshape(len(windows), -1)


def _unturned(boxes, angles, k, shape):
    """Boxes and angles found in ``np.rot90(photo, k)`` (the photo turned counterclockwise by ``90 k`` degrees),
    in the photo of ``shape``: each box's centre mapped back, its angle turned back by ``90 k``."""
    if k == 0:
        return boxes, angles
    height, width = shape
    widths = [width, height] * 2  # the width of rot90(photo, j) for j = 0, 1, 2, 3
    x = boxes[:, 0] + boxes[:, 2] / 2 - 0.5
    y = boxes[:, 1] + boxes[:, 3] / 2 - 0.5
    for j in range(k, 0, -1):  # a point of rot90(photo, j) in rot90(photo, j - 1)
        x, y = widths[j - 1] - 1 - y, x
    out = boxes.copy()
    out[:, 0], out[:, 1] = x - boxes[:, 2] / 2 + 0.5, y - boxes[:, 3] / 2 + 0.5
    return out, (angles - 90.0 * k + 180.0) % 360.0 - 180.0


def _checked_boxes(boxes, name):
    boxes = np.asarray(boxes, dtype=float)
    if boxes.size == 0:
        return np.zeros((0, 4))
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] != 4 or not np.isfinite(boxes).all():
        raise ValueError(f"{name}: expected finite (n_faces, 4) boxes (x, y, w, h), got shape {boxes.shape}")
    return boxes


def _away_from(boxes, faces, overlap=0.3):
    """Windows that hold none of the faces: intersection over union at most ``overlap`` with each."""
    if len(faces) == 0:
        return np.ones(len(boxes), dtype=bool)
    iou, _ = box_overlaps(boxes, faces)
    return (iou <= overlap).all(axis=1)


def _resample(gray8, x0, y0, side, window, cell, angle=0.0):
    """The square ``(x0, y0, side)`` of a photo and one cell of margin around it, resized to ``window + 2 cell``;
    with an ``angle``, the photo is first turned by it (counterclockwise as seen) about the square's centre."""
    if angle:
        # a square half as wide again, resized at the same scale, turned, and its middle kept
        size = window + 2 * cell
        pad = int(np.ceil(size / 4))
        big = side * (window + 2 * pad) / window  # resized to window + 2 pad pixels: the same scale
        wide = _resample(gray8, x0 + side / 2 - big / 2, y0 + side / 2 - big / 2, big, window + 2 * pad, cell)
        turned = np.asarray(Image.fromarray(wide).rotate(angle, Image.BILINEAR))
        return turned[pad:pad + size, pad:pad + size]
    margin = side * cell / window
    left, top, right, bottom = x0 - margin, y0 - margin, x0 + side + margin, y0 + side + margin
    pad = int(np.ceil(max(0.0, -left, -top, right - gray8.shape[1], bottom - gray8.shape[0]))) + 1
    padded = np.pad(gray8, pad, mode="edge") if pad > 1 else gray8
    offset = pad if pad > 1 else 0
    box = (left + offset, top + offset, right + offset, bottom + offset)
    size = window + 2 * cell
    return np.asarray(Image.fromarray(padded).resize((size, size), Image.BILINEAR, box=box))
