"""One face found in a photo: its box, named keypoints and whatever scores and analyses came with them."""

import numpy as np

from ..keypoints import KeypointLayout, get_layout

__all__ = ["Face"]

_OWN_KEYS = ("box", "keypoints", "score", "point_std", "expected_nme", "track_id", "angle")
"""The keys of every :meth:`Face.to_dict` record, in order (None when unknown); analysers' values follow."""


def _jsonable(value):
    """A value as plain JSON types (numpy scalars and arrays to numbers and lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


class _ByName(dict):
    """A face's per-point values, name -> ``(x, y)``: a dict that says what to do with a position or an array use."""

    __slots__ = ("_what",)

    def __init__(self, pairs, what):
        super().__init__(pairs)
        self._what = what

    def __missing__(self, key):
        if isinstance(key, (int, np.integer, slice, tuple, np.ndarray)):
            raise KeyError(f"{self._what} is a dict by keypoint name (e.g. [{next(iter(self), 'nose_tip')!r}]), "
                           f"not an array: {_ARRAYS[self._what]} is the (K, 2) array in the layout's order")
        raise KeyError(key)

    def __getattr__(self, name):
        if not name.startswith("__") and hasattr(np.ndarray, name):
            raise AttributeError(f"{self._what} is a dict by keypoint name, not an array: "
                                 f"{_ARRAYS[self._what]} is the (K, 2) array (.{name} is an array's)")
        raise AttributeError(f"'dict' object has no attribute {name!r}")

    def __reduce__(self):  # pickled (and copied) as the plain dict it is
        return dict, (dict(self),)


_ARRAYS = {"keypoints": "face.points", "point_std": "face.point_std_array"}


def _per_point(values, names, what):
    """``values`` (a (K, 2) array-like, or a mapping of every name to a pair) as a (K, 2) float array."""
    if hasattr(values, "keys"):
        missing = [n for n in names if n not in values]
        if missing:
            raise ValueError(f"{what} names no value for {len(missing)} of the layout's keypoints ({missing[0]!r}, ...)")
        values = [values[n] for n in names]
    values = np.asarray(values, dtype=float)
    if values.size != 2 * len(names):
        raise ValueError(f"{what} must give (x, y) for each of the {len(names)} keypoints, got {values.size} numbers")
    return values.reshape(-1, 2)


class Face:
    """A face in a photo, in photo pixels.

    Every per-point value is given two ways: by name, as a dict of
    ``name -> (x, y)`` (:attr:`keypoints`, :attr:`point_std`), and as a
    (K, 2) array in the layout's order (:attr:`points`,
    :attr:`point_std_array`).

    Parameters
    ----------
    box : (float, float, float, float)
        ``(x, y, width, height)``.
    points : array-like of shape (K, 2)
        Keypoints ``(x, y)``, in the layout's order.
    layout : KeypointLayout, str or sequence of str
        The model's keypoint layout (or a registered layout's name, or the
        points' names: a registered layout with exactly these names is
        used, else a plain one).
    score : float or None, default=None
        How sure the photo path is that this is a whole, well-framed face:
        the verifier's score of its crop plus a share of the HOG detector's
        score (see :class:`KeypointDetector`); None without a verifier.
    point_std : array-like of shape (K, 2), dict or None, default=None
        Predicted standard deviation of each coordinate's error, in photo
        pixels, when the model gives one (``predict(X, return_std=True)``):
        in the layout's order, or a dict of every keypoint's name ->
        ``(std_x, std_y)``.
    track_id : int or None, default=None
        Identity of the face across the frames of a video, when tracked.
    angle : float or None, default=None
        The face's in-plane angle in the photo, in degrees, counterclockwise
        as seen (a face turned as :func:`skimage.transform.rotate` turns a
        photo): the turn of its final crop, which shows it upright
        (:func:`fkp_classic.photo.point_angles` of its points against the
        model's mean shape). None when unknown.
    analyses : dict or None, default=None
        Values added by per-face analysers (:mod:`fkp_classic.photo`'s
        analyser protocol), by the analyser's name; also readable as
        attributes (``face.pose``).

    Attributes
    ----------
    points : ndarray of shape (K, 2)
        The keypoints in the layout's order (:attr:`keypoints` by name).
    keypoints : dict
        Name -> ``(x, y)``.
    point_std : dict or None
        Name -> ``(std_x, std_y)``; None without an error model. (Before
        0.5 this was the array; ``face.point_std[10]`` now says where the
        array is.)
    point_std_array : ndarray of shape (K, 2) or None
        :attr:`point_std` in the layout's order.

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.analysis import project_mean_face
    >>> face = Face((10, 20, 100, 100), project_mean_face(0, 0, 0)[0], layout="ibug68",
    ...             point_std=np.full((68, 2), 1.5))
    >>> face.point_std["p30"], face.point_std_array.shape
    ((1.5, 1.5), (68, 2))
    >>> face
    Face(box=(10.0, 20.0, 100.0, 100.0), 68 points (ibug68), expected_nme=0.0188)
    """

    def __init__(self, box, points, *, layout, score=None, point_std=None, track_id=None, angle=None, analyses=None):
        self.box = tuple(float(v) for v in box)
        if len(self.box) != 4:
            raise ValueError(f"box must be (x, y, width, height), got {len(self.box)} numbers")
        self.points = np.asarray(points, dtype=float).reshape(-1, 2)
        if isinstance(layout, (KeypointLayout, str)):
            self.layout = get_layout(layout)
        else:
            self.layout = KeypointLayout.from_names(layout)
        if self.layout.n_keypoints != len(self.points):
            raise ValueError(f"{len(self.points)} points but the layout has {self.layout.n_keypoints} names")
        self.score = score
        self.point_std = point_std
        self.track_id = track_id
        self.angle = None if angle is None else float(angle)
        self.analyses = dict(analyses or {})

    def __setstate__(self, state):
        # a Face pickled before 0.5 (a dataclass) kept point_std's array in the instance dict
        if "point_std" in state:
            state = dict(state)
            std = state.pop("point_std")
            state["_point_std"] = None if std is None else np.asarray(std, dtype=float).reshape(-1, 2)
        self.__dict__.update({"angle": None, **state})

    @property
    def names(self):
        """The keypoints' names, in the order of :attr:`points`."""
        return self.layout.names

    @property
    def keypoints(self):
        """Dict of name -> ``(x, y)`` (:attr:`points` is the same as a (K, 2) array)."""
        return _ByName(((name, (float(x), float(y))) for name, (x, y) in zip(self.names, self.points)), "keypoints")

    @property
    def point_std(self):
        """Dict of name -> ``(std_x, std_y)``, each coordinate's predicted error scale in photo pixels; None
        without an error model (:attr:`point_std_array` is the same as a (K, 2) array)."""
        std = self._point_std
        if std is None:
            return None
        return _ByName(((name, (float(a), float(b))) for name, (a, b) in zip(self.names, std)), "point_std")

    @point_std.setter
    def point_std(self, value):
        self._point_std = None if value is None else _per_point(value, self.names, "point_std")

    @property
    def point_std_array(self):
        """ndarray of shape (K, 2) or None: :attr:`point_std` in the order of :attr:`points`."""
        return self._point_std

    @property
    def expected_nme(self):
        """The error this face's points are expected to have, as an NME; None without ``point_std``.

        The mean over points of the expected distance error of a Gaussian
        with ``point_std``, ``sqrt(pi / 4 * (std_x**2 + std_y**2))``, over the
        distance between the eyes the layout declares (as
        :func:`fkp_classic.metrics.nme`'s inter-ocular normalisation, from
        the predicted points); None too for a layout that declares no eyes.
        A face-level failure flag: faces far above the usual 0.05-0.07 are
        likely wrong.
        """
        std = self._point_std
        if std is None or self.layout.eyes is None:
            return None
        left, right = (self.points[list(side)].mean(axis=0) for side in self.layout.eye_indices("inter-ocular"))
        eyes = float(np.linalg.norm(left - right))
        spread = np.sqrt(np.pi / 4 * (std**2).sum(axis=1)).mean()
        return float(spread / eyes) if eyes > 0 else float("inf")

    def __getattr__(self, name):
        # an analyser's values read as attributes: face.pose is face.analyses["pose"]
        analyses = self.__dict__.get("analyses")
        if analyses is not None and name in analyses:
            return analyses[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self):
        x, y, w, h = self.box
        parts = [f"box=({x:.1f}, {y:.1f}, {w:.1f}, {h:.1f})", f"{len(self.points)} points ({self.layout._title})"]
        if self.score is not None:
            parts.append(f"score={self.score:.3g}")
        if self._point_std is not None:
            parts.append(f"expected_nme={self.expected_nme:.3g}" if self.expected_nme is not None else "point_std")
        if self.angle is not None and abs(self.angle) >= 0.05:
            parts.append(f"angle={self.angle:.1f}")
        if self.track_id is not None:
            parts.append(f"track_id={self.track_id}")
        if self.analyses:
            parts.append(f"analyses={sorted(self.analyses)}")
        return f"Face({', '.join(parts)})"

    @classmethod
    def from_dict(cls, record, layout=None):
        """The face a :meth:`to_dict` record describes (points in its keypoints' order).

        ``layout`` names the scheme (a :class:`KeypointLayout` or registered
        name); by default the registered layout with the record's keypoint
        names, else a plain one. Keys other than the face's own fields are
        the analysers' values.
        """
        names = list(record["keypoints"])
        return cls(record["box"], [record["keypoints"][n] for n in names], layout=names if layout is None else layout,
                   score=record.get("score"), point_std=record.get("point_std"), track_id=record.get("track_id"),
                   angle=record.get("angle"),
                   analyses={k: v for k, v in record.items() if k not in _OWN_KEYS})

    def to_dict(self):
        """JSON-ready dict with the same keys whatever is known about the face.

        ``box`` ``[x, y, width, height]``; ``keypoints``, name -> ``[x, y]``;
        ``score``; ``point_std``, name -> ``[std_x, std_y]``;
        ``expected_nme``; ``track_id``; ``angle``, each None when unknown (no
        verifier, no error model, not tracked, no angle); then each
        analyser's values under its name.
        """
        std = self.point_std
        return {
            "box": list(self.box),
            "keypoints": {k: list(v) for k, v in self.keypoints.items()},
            "score": None if self.score is None else float(self.score),
            "point_std": None if std is None else {k: list(v) for k, v in std.items()},
            "expected_nme": self.expected_nme,
            "track_id": None if self.track_id is None else int(self.track_id),
            "angle": self.angle,
            **_jsonable(self.analyses),
        }

    def __getitem__(self, key):
        """``face["box"]`` and ``face["keypoints"]``, as the dicts of fkp_classic 0.2 allowed."""
        if key not in ("box", "keypoints"):
            raise KeyError(key)
        return getattr(self, key)
