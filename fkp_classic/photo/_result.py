"""One face found in a photo: its box, named keypoints and whatever scores and analyses came with them."""

from dataclasses import KW_ONLY, dataclass, field

import numpy as np

from ..keypoints import KeypointLayout, get_layout

__all__ = ["Face"]


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


@dataclass(eq=False, repr=False)
class Face:
    """A face in a photo, in photo pixels.

    Parameters
    ----------
    box : (float, float, float, float)
        ``(x, y, width, height)``.
    points : ndarray of shape (K, 2)
        Keypoints ``(x, y)``, in the layout's order.
    layout : KeypointLayout, str or sequence of str
        The model's keypoint layout (or a registered layout's name, or the
        points' names: a registered layout with exactly these names is
        used, else a plain one).
    score : float or None, default=None
        How sure the photo path is that this is a whole, well-framed face:
        the verifier's score of its crop plus a share of the HOG detector's
        score (see :class:`KeypointDetector`); None without a verifier.
    point_std : ndarray of shape (K, 2) or None, default=None
        Predicted standard deviation of each coordinate's error, in photo
        pixels, when the model gives one (``predict(X, return_std=True)``).
    track_id : int or None, default=None
        Identity of the face across the frames of a video, when tracked.
    analyses : dict, optional
        Values added by per-face analysers (:mod:`fkp_classic.photo`'s
        analyser protocol), by the analyser's name; also readable as
        attributes (``face.pose``).
    """

    box: tuple
    points: np.ndarray
    _: KW_ONLY
    layout: KeypointLayout
    score: float = None
    point_std: np.ndarray = None
    track_id: int = None
    analyses: dict = field(default_factory=dict)

    def __post_init__(self):
        self.box = tuple(float(v) for v in self.box)
        if len(self.box) != 4:
            raise ValueError(f"box must be (x, y, width, height), got {len(self.box)} numbers")
        self.points = np.asarray(self.points, dtype=float).reshape(-1, 2)
        if isinstance(self.layout, (KeypointLayout, str)):
            self.layout = get_layout(self.layout)
        else:
            self.layout = KeypointLayout.from_names(self.layout)
        if self.point_std is not None:
            self.point_std = np.asarray(self.point_std, dtype=float).reshape(-1, 2)
            if len(self.point_std) != len(self.points):
                raise ValueError(f"{len(self.points)} points but {len(self.point_std)} point_std rows")
        if self.layout.n_keypoints != len(self.points):
            raise ValueError(f"{len(self.points)} points but the layout has {self.layout.n_keypoints} names")
        self.analyses = dict(self.analyses or {})

    @property
    def names(self):
        """The keypoints' names, in the order of :attr:`points`."""
        return self.layout.names

    @property
    def keypoints(self):
        """Dict of name -> ``(x, y)``."""
        return {name: (float(x), float(y)) for name, (x, y) in zip(self.names, self.points)}

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
        if self.point_std is None or self.layout.eyes is None:
            return None
        left, right = (self.points[list(side)].mean(axis=0) for side in self.layout.eye_indices("inter-ocular"))
        eyes = float(np.linalg.norm(left - right))
        spread = np.sqrt(np.pi / 4 * (self.point_std**2).sum(axis=1)).mean()
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
        if self.point_std is not None:
            parts.append(f"expected_nme={self.expected_nme:.3g}" if self.expected_nme is not None else "point_std")
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
        std = record.get("point_std")
        own = {"box", "keypoints", "score", "point_std", "expected_nme", "track_id"}
        return cls(record["box"], [record["keypoints"][n] for n in names], layout=names if layout is None else layout,
                   score=record.get("score"), point_std=None if std is None else [std[n] for n in names],
                   track_id=record.get("track_id"), analyses={k: v for k, v in record.items() if k not in own})

    def to_dict(self):
        """JSON-ready dict: ``box``, ``keypoints`` and, when known, ``score``, ``point_std`` (with
        ``expected_nme``), ``track_id``, then each analyser's values under its name."""
        out = {"box": list(self.box), "keypoints": {k: list(v) for k, v in self.keypoints.items()}}
        if self.score is not None:
            out["score"] = float(self.score)
        if self.point_std is not None:
            out["point_std"] = {n: [float(a), float(b)] for n, (a, b) in zip(self.names, self.point_std)}
            out["expected_nme"] = self.expected_nme
        if self.track_id is not None:
            out["track_id"] = int(self.track_id)
        out.update(_jsonable(self.analyses))
        return out

    def __getitem__(self, key):
        """``face["box"]`` and ``face["keypoints"]``, as the dicts of fkp_classic 0.2 allowed."""
        if key not in ("box", "keypoints"):
            raise KeyError(key)
        return getattr(self, key)
