"""Keypoint layouts: everything about a landmark scheme, in one object.

A layout is data, not code: every estimator works on ``y`` of shape
``(n_samples, 2 * K)`` holding ``x1, y1, x2, y2, ...`` for any ``K``, and
whatever depends on the scheme (which points mirror which, which define
the eyes for NME, the face region of each point, the lines to draw) is
read from its :class:`KeypointLayout`, never guessed from ``K``. Kaggle's
15 points and iBUG's 68 are registered (:func:`get_layout`); a user's
scheme is one ``KeypointLayout``.

"Left" always means the subject's left, which is on the image's right.
"""

import json
from dataclasses import KW_ONLY, dataclass, fields

import numpy as np

__all__ = [
    "KeypointLayout",
    "KAGGLE_15",
    "IBUG_68",
    "KAGGLE_NAMES",
    "KAGGLE_COLUMNS",
    "KAGGLE_IMAGE_SIZE",
    "REGIONS",
    "LAYOUT_NAMES",
    "get_layout",
    "ibug68_to_kaggle15",
    "keypoint_regions",
]

REGIONS = ("eyes", "eyebrows", "nose", "mouth", "jaw", "other")
"""The face regions a keypoint can belong to (for colours and per-region analyses)."""

_NAME_REGIONS = (("eyebrow", "eyebrows"), ("brow", "eyebrows"), ("eye", "eyes"), ("pupil", "eyes"), ("nose", "nose"),
                 ("mouth", "mouth"), ("lip", "mouth"), ("jaw", "jaw"), ("chin", "jaw"))


def _regions_from_names(names):
    return tuple(next((region for word, region in _NAME_REGIONS if word in name.lower()), "other") for name in names)


@dataclass(frozen=True, repr=False)
class KeypointLayout:
    """A landmark scheme: named keypoints and what is known about them.

    Parameters
    ----------
    names : tuple of str
        Keypoint names, in column order.
    flip_pairs : tuple of (str, str), default=()
        Pairs of names exchanged by a horizontal flip. Names in no pair map
        to themselves (e.g. the nose tip).
    name : str or None, default=None
        The scheme's registered name (``"kaggle15"``, ``"ibug68"``), for
        :func:`get_layout` and messages.
    eyes : ((str, ...), (str, ...)) or None, default=None
        The two groups of points whose means are the eyes for NME's
        ``"inter-ocular"`` normalisation (300-W: the outer eye corners;
        Kaggle: the eye centres). None: NME by the eyes is refused for
        this scheme, with a message saying so.
    pupils : ((str, ...), (str, ...)) or None, default=None
        The groups whose means are the pupils (``"inter-pupil"``); None
        means the same as ``eyes``.
    regions : tuple of str or None, default=None
        The face region (one of :data:`REGIONS`) of each keypoint; None
        takes it from words in the names ("eye", "brow", "nose", "lip", ...).
    contours : tuple of (tuple of str, bool), default=()
        Lines to draw through the points: each a run of names and whether
        it closes on itself (an eye, the lips).

    Examples
    --------
    >>> from fkp_classic.keypoints import KeypointLayout
    >>> mine = KeypointLayout(("left_pupil", "right_pupil", "chin"), flip_pairs=(("left_pupil", "right_pupil"),),
    ...                       eyes=(("right_pupil",), ("left_pupil",)))
    >>> mine.eye_indices(), mine.regions
    (((1,), (0,)), ('eyes', 'eyes', 'jaw'))
    """

    names: tuple
    flip_pairs: tuple = ()
    _: KW_ONLY
    name: str = None
    eyes: tuple = None
    pupils: tuple = None
    regions: tuple = None
    contours: tuple = ()

    def __post_init__(self):
        names = tuple(self.names)
        object.__setattr__(self, "names", names)
        if not all(isinstance(n, str) for n in names):
            raise ValueError("keypoint names must be strings")
        if len(set(names)) != len(names):
            raise ValueError("keypoint names must be unique")
        known = set(names)
        pairs = tuple(tuple(pair) for pair in self.flip_pairs)
        object.__setattr__(self, "flip_pairs", pairs)
        seen = set()
        for pair in pairs:
            if len(pair) != 2:
                raise ValueError(f"a flip pair is two names, got {pair!r}")
            for n in pair:
                if n not in known:
                    raise ValueError(f"flip pair names unknown keypoint {n!r}")
                if n in seen:
                    raise ValueError(f"keypoint {n!r} is in more than one flip pair")
                seen.add(n)
        for field in ("eyes", "pupils"):
            value = getattr(self, field)
            if value is None:
                continue
            groups = tuple((g,) if isinstance(g, str) else tuple(g) for g in value)
            if len(groups) != 2 or not all(groups):
                raise ValueError(f"{field} must be two groups of keypoint names, got {value!r}")
            for n in (n for g in groups for n in g):
                if n not in known:
                    raise ValueError(f"{field} names unknown keypoint {n!r}")
            object.__setattr__(self, field, groups)
        regions = _regions_from_names(names) if self.regions is None else tuple(self.regions)
        if len(regions) != len(names):
            raise ValueError(f"regions gives {len(regions)} regions for {len(names)} keypoints")
        unknown = set(regions) - set(REGIONS)
        if unknown:
            raise ValueError(f"regions must be among {REGIONS}, got {sorted(unknown)}")
        object.__setattr__(self, "regions", regions)
        contours = tuple((tuple(run), bool(closed)) for run, closed in self.contours)
        for run, _ in contours:
            if len(run) < 2 or not set(run) <= known:
                raise ValueError(f"a contour is a run of at least two of the layout's names, got {run!r}")
        object.__setattr__(self, "contours", contours)

    def __getstate__(self):
        # A registered scheme is stored by its name: its fields are hundreds of strings at 68 points, written again
        # for every estimator of a model that holds it (a cascade's stages), and decoded one by one on loading.
        # The state is one JSON string, not a dict: a safe model file rebuilds each object (a dict, its keys'
        # types, each value) one by one, and a cascade holds two layouts per stage.
        registered = _REGISTRY.get(self.name)
        if registered is not None and registered == self:
            return json.dumps({"registered": self.name})
        # Any other scheme by its fields.
        return json.dumps({"fields_json": json.dumps({field.name: getattr(self, field.name) for field in fields(self)})})

    def __setstate__(self, state):
        if isinstance(state, str):
            state = json.loads(state)
        if "registered" in state:
            if state["registered"] not in _REGISTRY:
                raise ValueError(f"a saved layout names the scheme {state['registered']!r}, which this version of "
                                 f"fkp_classic does not know (it knows {', '.join(sorted(_REGISTRY))})")
            object.__setattr__(self, "__dict__", dict(_REGISTRY[state["registered"]].__dict__))
            return
        if "fields_json" in state:  # JSON's lists become the fields' tuples again in the constructor's checks
            object.__setattr__(self, "__dict__", dict(type(self)(**json.loads(state["fields_json"])).__dict__))
            return
        # A layout pickled before a field existed gains it: from the registered scheme of the same names, if any.
        names, pairs = tuple(state.get("names", ())), tuple(state.get("flip_pairs", ()))
        registered = next((known for known in _REGISTRY.values() if known.names == names), None)
        source = registered if registered is not None else type(self)(names, pairs)
        for field in fields(self):
            if field.name not in state:
                state[field.name] = getattr(source, field.name)
        object.__setattr__(self, "__dict__", state)

    def __repr__(self):
        if self.name is not None:
            return f"KeypointLayout({self.name!r}: {self.n_keypoints} points)"
        shown = ", ".join(repr(n) for n in self.names[:4]) + (", ..." if self.n_keypoints > 4 else "")
        return f"KeypointLayout(({shown}), {self.n_keypoints} points, eyes={'yes' if self.eyes else 'none'})"

    @classmethod
    def from_names(cls, names):
        """The registered layout with exactly these names, in this order, else a plain layout of them."""
        names = tuple(names)
        registered = next((known for known in _REGISTRY.values() if known.names == names), None)
        return registered if registered is not None else cls(names)

    @property
    def n_keypoints(self):
        """Number of keypoints ``K``."""
        return len(self.names)

    @property
    def columns(self):
        """The ``2 * K`` column names ``<name>_x, <name>_y, ...``."""
        return tuple(f"{n}_{axis}" for n in self.names for axis in ("x", "y"))

    @property
    def flip_permutation(self):
        """Index array ``p`` such that keypoint ``k`` becomes keypoint ``p[k]``'s mirror."""
        perm = np.arange(self.n_keypoints)
        index = self._index
        for a, b in self.flip_pairs:
            perm[index[a]], perm[index[b]] = index[b], index[a]
        return perm

    @property
    def _index(self):
        return {n: i for i, n in enumerate(self.names)}

    def indices(self, names):
        """Column-order indices of keypoint ``names``; a clear error for a name the scheme lacks."""
        index = self._index
        missing = [n for n in names if n not in index]
        if missing:
            raise ValueError(f"the {self._title} layout has no keypoint {missing[0]!r}")
        return tuple(index[n] for n in names)

    @property
    def _title(self):
        return self.name or f"{self.n_keypoints}-point"

    def eye_indices(self, normalization="inter-ocular"):
        """The two groups of keypoint indices whose means are the eyes for an NME normalisation.

        Parameters
        ----------
        normalization : {"inter-ocular", "inter-pupil"}, default="inter-ocular"

        Raises
        ------
        ValueError
            If the scheme declares no eyes.
        """
        if normalization not in ("inter-ocular", "inter-pupil"):
            raise ValueError(f"normalization must be 'inter-ocular' or 'inter-pupil', got {normalization!r}")
        groups = self.pupils if normalization == "inter-pupil" and self.pupils is not None else self.eyes
        if groups is None:
            raise ValueError(
                f"the {self._title} layout declares no eyes, so NME cannot be normalised by them: give the layout "
                "eyes=(right_eye_names, left_eye_names), or pass eyes= or normalization='diagonal'"
            )
        return tuple(self.indices(group) for group in groups)

    def contour_indices(self):
        """The :attr:`contours` as ``(indices, closed)`` pairs."""
        return tuple((self.indices(run), closed) for run, closed in self.contours)

    def region_indices(self, region):
        """Indices of the keypoints in ``region`` (one of :data:`REGIONS`)."""
        if region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
        return tuple(i for i, r in enumerate(self.regions) if r == region)


KAGGLE_NAMES = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)

KAGGLE_15 = KeypointLayout(
    names=KAGGLE_NAMES,
    flip_pairs=(
        ("left_eye_center", "right_eye_center"),
        ("left_eye_inner_corner", "right_eye_inner_corner"),
        ("left_eye_outer_corner", "right_eye_outer_corner"),
        ("left_eyebrow_inner_end", "right_eyebrow_inner_end"),
        ("left_eyebrow_outer_end", "right_eyebrow_outer_end"),
        ("mouth_left_corner", "mouth_right_corner"),
    ),
    name="kaggle15",
    eyes=(("left_eye_center",), ("right_eye_center",)),  # Kaggle has no pupils apart from the eye centres
    contours=(
        (("right_eyebrow_outer_end", "right_eyebrow_inner_end"), False),
        (("left_eyebrow_inner_end", "left_eyebrow_outer_end"), False),
        (("right_eye_outer_corner", "right_eye_center", "right_eye_inner_corner"), False),
        (("left_eye_inner_corner", "left_eye_center", "left_eye_outer_corner"), False),
        (("mouth_right_corner", "mouth_center_top_lip", "mouth_left_corner", "mouth_center_bottom_lip"), True),
    ),
)
"""The 15 keypoints of the Kaggle "Facial Keypoints Detection" competition (NME by the eye centres)."""

KAGGLE_COLUMNS = KAGGLE_15.columns

KAGGLE_IMAGE_SIZE = 96
"""The side of the Kaggle format's face crops (9216 pixels a row): the one definition the loaders, the synthetic faces
and the photo path's default crop size share."""


def _p(*indices):
    return tuple(f"p{i}" for i in indices)


def _ibug_flip_pairs():
    # Mirror pairs of the 68-point iBUG markup (0-based indices).
    pairs = [(i, 16 - i) for i in range(8)]  # jaw line
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lip
    return tuple((f"p{a}", f"p{b}") for a, b in pairs)


_IBUG_REGIONS = (("jaw", 0, 17), ("eyebrows", 17, 27), ("nose", 27, 36), ("eyes", 36, 48), ("mouth", 48, 68))

IBUG_68 = KeypointLayout(
    names=_p(*range(68)),
    flip_pairs=_ibug_flip_pairs(),
    name="ibug68",
    eyes=(_p(36), _p(45)),  # the outer eye corners, as 300-W reports NME
    pupils=(_p(*range(36, 42)), _p(*range(42, 48))),  # the means of each eye's six points
    regions=tuple(region for region, lo, hi in _IBUG_REGIONS for _ in range(lo, hi)),
    contours=(
        (_p(*range(0, 17)), False),  # jaw
        (_p(*range(17, 22)), False),  # right brow
        (_p(*range(22, 27)), False),  # left brow
        (_p(*range(27, 31)), False),  # nose bridge
        (_p(*range(30, 36)), True),  # nose tip and nostrils
        (_p(*range(36, 42)), True),  # right eye
        (_p(*range(42, 48)), True),  # left eye
        (_p(*range(48, 60)), True),  # outer lip
        (_p(*range(60, 68)), True),  # inner lip
    ),
)
"""The 68-point iBUG / 300-W markup (dlib's numbering), named ``p0 .. p67`` as in ``training_meta.csv``."""

_REGISTRY = {layout.name: layout for layout in (KAGGLE_15, IBUG_68)}

LAYOUT_NAMES = tuple(_REGISTRY)
"""The registered layouts' names, which :func:`get_layout` and every ``layout=`` parameter accept."""


def get_layout(layout):
    """A registered layout by name (``"kaggle15"``, ``"ibug68"``), or ``layout`` itself if it is one.

    Parameters
    ----------
    layout : str or KeypointLayout

    Returns
    -------
    KeypointLayout

    Examples
    --------
    >>> from fkp_classic.keypoints import get_layout
    >>> get_layout("ibug68").n_keypoints, get_layout("kaggle15").eye_indices()
    (68, ((0,), (1,)))
    """
    if isinstance(layout, KeypointLayout):
        return layout
    if isinstance(layout, str) and layout in _REGISTRY:
        return _REGISTRY[layout]
    raise ValueError(f"layout must be a KeypointLayout or one of {sorted(_REGISTRY)}, got {layout!r}")


# Kaggle keypoint -> iBUG indices averaged to produce it (subject's left = image right).
_IBUG_TO_KAGGLE = {
    "left_eye_center": range(42, 48),
    "right_eye_center": range(36, 42),
    "left_eye_inner_corner": (42,),
    "left_eye_outer_corner": (45,),
    "right_eye_inner_corner": (39,),
    "right_eye_outer_corner": (36,),
    "left_eyebrow_inner_end": (22,),
    "left_eyebrow_outer_end": (26,),
    "right_eyebrow_inner_end": (21,),
    "right_eyebrow_outer_end": (17,),
    "nose_tip": (30,),
    "mouth_left_corner": (54,),
    "mouth_right_corner": (48,),
    "mouth_center_top_lip": (51,),
    "mouth_center_bottom_lip": (57,),
}


def ibug68_to_kaggle15(points):
    """Map iBUG 68-point coordinates to the 15 Kaggle keypoints.

    Parameters
    ----------
    points : ndarray of shape (n_samples, 136)
        ``p0_x, p0_y, ..., p67_x, p67_y``.

    Returns
    -------
    keypoints : ndarray of shape (n_samples, 30)
        In Kaggle column order. Eye centres are the mean of the six eye
        points; every other keypoint is one iBUG point.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 136:
        raise ValueError(f"expected iBUG points of shape (n_samples, 136), got {points.shape}")
    pts = points.reshape(len(points), 68, 2)
    out = np.stack([pts[:, list(_IBUG_TO_KAGGLE[name])].mean(axis=1) for name in KAGGLE_NAMES], axis=1)
    return out.reshape(len(points), 30)


def keypoint_regions(layout):
    """The face region of each keypoint of a layout (its :attr:`KeypointLayout.regions`).

    Examples
    --------
    >>> keypoint_regions(KAGGLE_15)[:3], keypoint_regions(IBUG_68)[16:18]
    (('eyes', 'eyes', 'eyes'), ('jaw', 'eyebrows'))
    """
    return get_layout(layout).regions
