"""Face parts refitted at their own resolution: a keypoint model per part, on crops cut from the photo around it.

A face model sees the whole face in its 96 x 96 crop, so an eye is a few
pixels wide there and its lids lean towards the mean eye; the mouth, brows
and nose fare alike at a lower rate. :class:`PartRefiner` cuts each part of
each face from the photo itself into its own square crop, centred on the
part's points, scaled so that the part spans the same share of every crop,
and turned so that the eyes lie level, and a keypoint model of the part's
points refits them there, as part-based refinements of face alignment do
(the local models of Zhu & Ramanan 2012, the coarse-to-fine cascades of
Xiong & De la Torre 2013 and Zhu et al. 2015).

The parts are the regions of the faces' layout (its ``regions`` and
``contours``: never guessed from a number of points). A region whose
contours come in mirror pairs (two eyes, two brows) is one model of one
side: the other side is cut from the mirrored photo and mapped by the
layout's flip pairs. A region that is its own mirror image (the mouth, the
nose, the jaw) is fitted on both the photo and its mirror image, and refitted
as the mean of the two. Each refitted point then moves a share of the way
from the face model's point to the refit (:data:`PART_SHARES`): the two
models' errors are partly independent. The jaw's crop shows it at less than
the face crop's resolution, yet its refit, moved 0.3 of the way, still helps.

References
----------
.. [1] Zhu, X. and Ramanan, D. "Face detection, pose estimation, and landmark
   localization in the wild", CVPR 2012.
.. [2] Xiong, X. and De la Torre, F. "Supervised descent method and its
   applications to face alignment", CVPR 2013.
.. [3] Zhu, S., Li, C., Loy, C. C. and Tang, X. "Face alignment by
   coarse-to-fine shape searching", CVPR 2015.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, check_random_state

from ..estimators._capabilities import STAGED_PREDICT, keypoint_capabilities
from ..keypoints import REGIONS, KeypointLayout
from ..utils._constraints import NumberSequence
from ..utils._plain_state import pack_plain_state, unpack_plain_state
from ._crop import crop_frames, to_crop, to_photo
from ._image import as_gray8

__all__ = ["PartRefiner", "PART_SPANS", "PART_SHARES"]

PART_SPANS = {"eyes": 2.0, "eyebrows": 1.6, "nose": 1.6, "mouth": 1.6, "jaw": 1.3, "other": 1.6}
"""A part's crop side over the part's width (the largest distance between two of its points), by region."""

PART_SHARES = {"eyes": 0.9, "eyebrows": 0.7, "nose": 0.7, "mouth": 0.65, "jaw": 0.3, "other": 1.0}
"""The refit's share of a refitted point, by region; the rest is the face model's point.

The two models' errors are partly independent, so a weighted mean of the
two beats either. The shares are the best of a grid by 5-fold cross-validation
grouped by photo on the 300-W training part, for the packaged 68-point face
model and part refiner (``benchmarks/results/wild/README.md``); every fold
chose within 0.05 of them.
"""


def _part_cascade():
    from ..estimators import CascadeRegressor

    # a few close points on a small crop: a fine grid of small cells, no error model
    return CascadeRegressor(grid=4, n_bins=4, cell_sizes=(8, 6, 4), alpha=40.0, n_perturbations=2,
                            uncertainty=False)


def layout_parts(layout, region):
    """The points of ``region`` that one part model refits, and whether the other side comes from the mirror image.

    Returns ``(indices, sided)``: with ``sided``, ``indices`` are one side's
    points (the region's contours that have a mirror-image contour, the
    first of each pair), the other side's being their flip partners;
    otherwise they are the whole region, its own mirror image.
    """
    points = layout.region_indices(region)
    if not points:
        raise ValueError(f"the {layout._title} layout has no point in the region {region!r}")
    perm = layout.flip_permutation
    contours = [set(c) for c, _ in layout.contour_indices() if set(c) <= set(points)]
    own = []
    for c in contours:
        mirror = {int(perm[i]) for i in c}
        if mirror != c and mirror in contours and not (c & set(own)) and not (mirror & set(own)):
            own.extend(i for i in points if i in c)
    if own:
        rest = set(points) - set(own) - {int(perm[i]) for i in own}
        if rest:
            raise ValueError(f"the {layout._title} layout's {region!r} region has points on neither side of its "
                             f"mirror-image contours ({[layout.names[i] for i in sorted(rest)]})")
        return np.array(own), True
    if {int(perm[i]) for i in points} != set(points):
        raise ValueError(f"the {layout._title} layout's flip pairs map its {region!r} region outside itself")
    return np.array(points), False


class PartRefiner(BaseEstimator):
    """Keypoints of face parts (eyes, brows, mouth, nose, jaw) refitted on crops of each part cut from the photo.

    For each part: a square crop of the photo centred on the part's points,
    ``span`` times the part's width wide, turned so that the eyes lie level,
    resampled to ``size`` pixels; a keypoint model of the part's points
    predicts them there. Training crops are framed from the true points and
    ``n_perturbations`` times more with random shifts, scales and turns
    (``framing_noise``), since at use the crop is framed from a face
    model's points. Parts are refitted in the order of ``regions``.

    Parameters
    ----------
    regions : sequence of str, default=("eyes", "eyebrows", "mouth", "nose", "jaw")
        Regions of the faces' layout to refit (of :data:`~fkp_classic.keypoints.REGIONS`).
    size : int, default=48
        Side of the part crops in pixels.
    span : float, dict or None, default=None
        A crop's side over its part's width: one number for every part, or
        by region; None (or a missing region) takes :data:`PART_SPANS`.
    share : float, dict or None, default=None
        How far each refitted point moves from the face model's point to the
        part model's: 1 takes the refit, 0 keeps the face model's point. One
        number for every part, or by region; None (or a missing region)
        takes :data:`PART_SHARES`. Used by :meth:`refine` only.
    n_perturbations : int, default=4
        Perturbed training crops per part and face, besides the true one.
    framing_noise : (float, float, float), default=(0.03, 0.09, 1.2)
        Standard deviations of the perturbed crops' centre shift (over the
        side), log scale and turn (degrees): about what a 68-point face
        model's points give (measured on 300-W by cross-validation:
        ``benchmarks/results/wild/README.md``).
    min_scale : float, default=0.75
        A part whose crop would show it at less than this share of the
        crop's resolution (its side in the photo under ``min_scale * size``
        pixels) keeps its points: a small face's 96-pixel crop already
        shows its parts at the photo's resolution.
    estimator : estimator or None, default=None
        The keypoint model cloned for each part (any with ``fit(X, y)`` on
        flattened crops and ``predict``); None: a
        :class:`~fkp_classic.CascadeRegressor` of small cells.
    random_state : int, RandomState or None, default=None
        Draws the perturbations; passed to the part models.

    Attributes
    ----------
    layout_ : KeypointLayout
        The faces' layout.
    parts_ : list of dict
        Per part: its ``"region"``, the ``"points"`` (indices) its model
        refits, and whether the other side of the face is refitted from the
        mirrored photo (``"sided"``).
    spans_ : list of float
    estimators_ : list of estimators
        The part models, in the order of ``parts_``.

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic import detect_keypoints, load_default_model
    >>> from fkp_classic.persistence import load_part_refiner
    >>> photo = data.astronaut()
    >>> face = detect_keypoints(photo, model=load_default_model(layout="ibug68"), refiner=None, max_faces=1)[0]
    >>> load_part_refiner().refine(photo, face.points[None]).shape
    (1, 68, 2)
    """

    _parameter_constraints = {
        "regions": [list, tuple],
        "size": [Interval(numbers.Integral, 8, None, closed="left")],
        "span": [Interval(numbers.Real, 0, None, closed="neither"), dict, None],
        "share": [Interval(numbers.Real, 0, 1, closed="both"), dict, None],
        "n_perturbations": [Interval(numbers.Integral, 0, None, closed="left")],
        "framing_noise": [NumberSequence(Interval(numbers.Real, 0, None, closed="left"), length=3)],
        "min_scale": [Interval(numbers.Real, 0, None, closed="left")],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "random_state": ["random_state"],
    }

    def __init__(self, regions=("eyes", "eyebrows", "mouth", "nose", "jaw"), *, size=48, span=None, share=None,
                 n_perturbations=4, framing_noise=(0.03, 0.09, 1.2), min_scale=0.75, estimator=None,
                 random_state=None):
        self.regions = regions
        self.size = size
        self.span = span
        self.share = share
        self.n_perturbations = n_perturbations
        self.framing_noise = framing_noise
        self.min_scale = min_scale
        self.estimator = estimator
        self.random_state = random_state

    def __getstate__(self):
        # its parameters and parts as one JSON entry in a safe model file, which rebuilds each object one by one
        return pack_plain_state(super().__getstate__())

    def __setstate__(self, state):
        state = unpack_plain_state(state)
        state.setdefault("share", 1.0)  # refiners saved before ``share`` existed took the refit whole
        super().__setstate__(state)

    def widen_weights(self):
        """Undo compact storage of the part models' weights (:func:`~fkp_classic.persistence.widen_model` of each);
        returns self."""
        from ..persistence import widen_model

        for est in getattr(self, "estimators_", ()):
            widen_model(est)
        return self

    def _spans(self):
        return _by_region(self.span, "span", PART_SPANS, self.regions)

    def _shares(self):
        shares = _by_region(self.share, "share", PART_SHARES, [part["region"] for part in self.parts_])
        bad = [s for s in shares if not 0 <= s <= 1]
        if bad:
            raise ValueError(f"share must lie between 0 and 1 for every region, got {self.share!r}")
        return shares

    def fit(self, photos):
        """Fit a keypoint model for each part on crops of the annotated photos' faces.

        Parameters
        ----------
        photos : AnnotatedPhotos
            From :func:`~fkp_classic.datasets.load_300w` (or another photo
            reader); faces lacking a part's points are left out of its crops.

        Returns
        -------
        self : PartRefiner
        """
        self._validate_params()
        bad = [r for r in self.regions if r not in REGIONS]
        if bad or not len(self.regions):
            raise ValueError(f"regions must name some of {REGIONS}, got {list(self.regions)!r}")
        layout = photos.layout
        parts = [(region, *layout_parts(layout, region)) for region in self.regions]
        spans = self._spans()
        rng = check_random_state(self.random_state)
        perm, eyes = layout.flip_permutation, _eyes(layout)
        data = [[] for _ in parts]
        target = [[] for _ in parts]
        for _, gray, faces in photos.iter_photos():
            points = photos.points[faces].reshape(len(faces), -1, 2)
            for image, view in _views(gray, points, perm):
                for p, ((_, own, _), span) in enumerate(zip(parts, spans)):
                    ok = ~np.isnan(view[:, np.r_[own, eyes[0], eyes[1]]]).any(axis=(1, 2))
                    if not ok.any():
                        continue
                    complete = view[ok]
                    part_points = complete[:, own].reshape(len(complete), -1)
                    for k in range(1 + self.n_perturbations):
                        frames = _part_frames(complete, own, eyes, span,
                                              rng=rng if k else None, noise=self.framing_noise if k else None)
                        crops, rounded = crop_frames(image, frames, size=self.size)
                        data[p].append(crops)
                        target[p].append(to_crop(part_points, rounded, size=self.size))
        template = _part_cascade() if self.estimator is None else self.estimator
        estimators = []
        for (region, own, _), X, y in zip(parts, data, target):
            if not X:
                raise ValueError(f"no face of the photos has every point of the {region!r} region")
            est = clone(template)
            names = [layout.names[i] for i in own]
            if "layout" in est.get_params():
                est.set_params(layout=KeypointLayout(tuple(names)))
            if "random_state" in est.get_params():
                est.set_params(random_state=rng.randint(2**31 - 1))
            estimators.append(est.fit(np.concatenate(X), np.concatenate(y)))
        self.layout_ = layout
        self.parts_ = [{"region": region, "points": [int(i) for i in own], "sided": bool(sided)}
                       for region, own, sided in parts]
        self.spans_ = spans
        self.estimators_ = estimators
        return self

    def refine(self, photo, points):
        """Faces' keypoints with their parts refitted.

        Parameters
        ----------
        photo : array-like
            The photo the points are in (any form
            :func:`~fkp_classic.photo.as_gray8` takes; an 8-bit gray photo
            is used as it is).
        points : array-like of shape (n_faces, K, 2) or (n_faces, 2K)
            The faces' keypoints in photo pixels, in the layout the refiner
            was fitted on.

        Returns
        -------
        points : ndarray of shape (n_faces, K, 2)
            A copy, each part large enough (``min_scale``) moved its
            ``share`` of the way to its refit.
        """
        check_is_fitted(self, "estimators_")
        shares = self._shares()
        layout = self.layout_
        pts = np.array(points, dtype=float)
        if pts.size % (2 * layout.n_keypoints) or (pts.ndim == 3 and pts.shape[1:] != (layout.n_keypoints, 2)):
            raise ValueError(f"points must be (n_faces, {layout.n_keypoints}, 2) in the {layout._title} layout the "
                             f"part refiner was fitted on, got shape {pts.shape}")
        pts = pts.reshape(-1, layout.n_keypoints, 2)
        out = pts.copy()
        usable = np.isfinite(pts).all(axis=(1, 2))
        if not usable.any():
            return out
        image = np.asarray(photo)
        # only the part of the photo around the faces is made gray and mirrored (a video frame dwarfs its faces)
        faces = pts[usable]
        reach = max(self.spans_) * np.ptp(faces, axis=1).max()
        low = np.floor(faces.min(axis=(0, 1)) - reach).astype(int).clip(0)
        high = np.ceil(faces.max(axis=(0, 1)) + reach).astype(int) + 1
        if (high <= low).any() or (low >= image.shape[1::-1]).any():
            low, high = np.zeros(2, dtype=int), np.array(image.shape[1::-1])
        gray = image[low[1]:high[1], low[0]:high[0]]
        gray = gray if gray.dtype == np.uint8 and gray.ndim == 2 else as_gray8(gray)
        perm, eyes = layout.flip_permutation, _eyes(layout)
        current = start = faces - low
        width = gray.shape[1]
        images = (gray, np.ascontiguousarray(gray[:, ::-1]))  # the photo and its mirror image, for every part
        for part, span, est in zip(self.parts_, self.spans_, self.estimators_):
            own, sided = np.array(part["points"]), part["sided"]
            cut, where = [], []
            for image_view, view in zip(images, (current, _mirrored(current, perm, width))):
                frames = _part_frames(view, own, eyes, span)
                large = frames[:, 2] >= self.min_scale * self.size
                crops, rounded = crop_frames(image_view, frames[large], size=self.size)
                cut.append((crops, rounded))
                where.append(large)
            crops = np.concatenate([c for c, _ in cut])
            if not len(crops):
                continue
            fitted = _predict(est, crops)  # both views in one call
            split = np.split(fitted, [len(cut[0][0])])
            refitted = []
            for (_, rounded), fit, large, mirrored in zip(cut, split, where, (False, True)):
                if not large.any():  # this side of every face is too small
                    continue
                q = to_photo(fit, rounded, size=self.size).reshape(large.sum(), len(own), 2)
                if mirrored:
                    q[..., 0] = width - 1 - q[..., 0]
                refitted.append((large, perm[own] if mirrored else own, q))
            new = current.copy()
            if sided:
                for large, index, q in refitted:
                    new[np.ix_(large, index)] = q
            else:  # the part is its own mirror image: the mean of its two fits, where both were made
                (large, index, q), (_, index_m, q_m) = refitted
                other = np.empty_like(current[large])
                other[:, index_m] = q_m
                new[np.ix_(large, index)] = 0.5 * (q + other[:, index])
            current = new
        for part, share in zip(self.parts_, shares):  # each part moved its share of the way to its refit
            own = np.array(part["points"])
            index = np.r_[own, perm[own]] if part["sided"] else own
            current[:, index] = start[:, index] + share * (current[:, index] - start[:, index])
        out[usable] = current + low
        return out


def _by_region(value, name, defaults, regions):
    """A per-region parameter (one number, a dict by region, or None) as a list in the order of ``regions``."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(REGIONS))
        if unknown:
            raise ValueError(f"{name} names regions {unknown}, which are not of {REGIONS}")
        return [float(value.get(r, defaults[r])) for r in regions]
    return [defaults[r] if value is None else float(value) for r in regions]


def _eyes(layout):
    """Index arrays of the layout's two eyes (their means level a part's crop)."""
    return tuple(np.array(e) for e in layout.eye_indices("inter-pupil"))


def _predict(estimator, crops):
    """The estimator's points on crops cut here (valid by construction: unchecked where it can skip checks)."""
    if STAGED_PREDICT in keypoint_capabilities(estimator):
        return estimator.staged_predict(crops, check_input=False)[-1]
    return estimator.predict(crops)


def _mirrored(points, perm, width):
    """Faces ``(n, K, 2)`` as they are in the mirror image of a photo ``width`` wide, in layout order."""
    mirrored = points[:, perm].copy()
    mirrored[..., 0] = width - 1 - mirrored[..., 0]
    return mirrored


def _views(gray, points, perm):
    """The photo with faces ``(n, K, 2)`` in it, then its mirror image with the mirrored faces (in layout order)."""
    return (gray, points), (np.ascontiguousarray(gray[:, ::-1]), _mirrored(points, perm, gray.shape[1]))


def _part_frames(points, own, eyes, span, rng=None, noise=None):
    """Turned square frames ``(x0, y0, side, angle)`` around the part ``own`` of faces ``(n, K, 2)``, level with
    the line between the means of the two ``eyes`` (index arrays)."""
    part = points[:, own]
    centre = part.mean(axis=1)
    width = np.sqrt(((part[:, :, None] - part[:, None]) ** 2).sum(axis=-1).max(axis=(1, 2)))
    left, right = eyes
    eyes = points[:, right].mean(axis=1) - points[:, left].mean(axis=1)
    tilt = np.degrees(np.arctan2(eyes[:, 1], eyes[:, 0]))
    side = span * width
    if noise is not None:
        shift, log_scale, turn = noise
        centre = centre + rng.normal(0, shift, centre.shape) * side[:, None]
        side = side * np.exp(rng.normal(0, log_scale, len(side)))
        tilt = tilt + rng.normal(0, turn, len(tilt))
    return np.c_[centre - side[:, None] / 2, side, -tilt]
