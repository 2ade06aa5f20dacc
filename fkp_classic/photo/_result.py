"""One face found in a photo: its box, named keypoints and whatever scores came with them."""

from dataclasses import dataclass

import numpy as np

from ..metrics import _eye_points

__all__ = ["Face"]


@dataclass(eq=False)
class Face:
    """A face in a photo, in photo pixels.

    Parameters
    ----------
    box : (float, float, float, float)
        ``(x, y, width, height)``.
    points : ndarray of shape (K, 2)
        Keypoints ``(x, y)``, in the model's layout order.
    names : tuple of str
        The model's keypoint names, one per row of ``points``.
    score : float or None, default=None
        How sure the photo path is that this is a whole, well-framed face:
        the verifier's score of its crop plus a share of the HOG detector's
        score (see :class:`KeypointDetector`); None without a verifier.
    point_std : ndarray of shape (K, 2) or None, default=None
        Predicted standard deviation of each coordinate's error, in photo
        pixels, when the model gives one (``predict(X, return_std=True)``).
    track_id : int or None, default=None
        Identity of the face across the frames of a video, when tracked.
    """

    box: tuple
    points: np.ndarray
    names: tuple
    score: float = None
    point_std: np.ndarray = None
    track_id: int = None

    def __post_init__(self):
        self.box = tuple(float(v) for v in self.box)
        self.points = np.asarray(self.points, dtype=float).reshape(-1, 2)
        self.names = tuple(self.names)
        if self.point_std is not None:
            self.point_std = np.asarray(self.point_std, dtype=float).reshape(-1, 2)
        if len(self.names) != len(self.points):
            raise ValueError(f"{len(self.points)} points but {len(self.names)} names")

    @property
    def keypoints(self):
        """Dict of name -> ``(x, y)``."""
        return {name: (float(x), float(y)) for name, (x, y) in zip(self.names, self.points)}

    @property
    def expected_nme(self):
        """The error this face's points are expected to have, as an NME; None without ``point_std``.

        The mean over points of the expected distance error of a Gaussian
        with ``point_std``, ``sqrt(pi / 4 * (std_x**2 + std_y**2))``, over the
        distance between the eyes (as :func:`fkp_classic.metrics.nme`'s
        inter-ocular normalisation, from the predicted points). A face-level
        failure flag: faces far above the usual 0.05-0.07 are likely wrong.
        """
        if self.point_std is None:
            return None
        left, right = (self.points[list(side)].mean(axis=0) for side in _eye_points(len(self.points), "inter-ocular"))
        eyes = float(np.linalg.norm(left - right))
        spread = np.sqrt(np.pi / 4 * (self.point_std**2).sum(axis=1)).mean()
        return float(spread / eyes) if eyes > 0 else float("inf")

    @classmethod
    def from_dict(cls, record):
        """The face a :meth:`to_dict` record describes (points in its keypoints' order)."""
        names = list(record["keypoints"])
        std = record.get("point_std")
        return cls(record["box"], [record["keypoints"][n] for n in names], names, record.get("score"),
                   None if std is None else [std[n] for n in names], record.get("track_id"))

    def to_dict(self):
        """JSON-ready dict: ``box``, ``keypoints`` and, when known, ``score``, ``point_std`` (with
        ``expected_nme``), ``track_id``."""
        out = {"box": list(self.box), "keypoints": {k: list(v) for k, v in self.keypoints.items()}}
        if self.score is not None:
            out["score"] = float(self.score)
        if self.point_std is not None:
            out["point_std"] = {n: [float(a), float(b)] for n, (a, b) in zip(self.names, self.point_std)}
            out["expected_nme"] = self.expected_nme
        if self.track_id is not None:
            out["track_id"] = int(self.track_id)
        return out

    def __getitem__(self, key):
        """``face["box"]`` and ``face["keypoints"]``, as the dicts of fkp_classic 0.2 allowed."""
        if key not in ("box", "keypoints"):
            raise KeyError(key)
        return getattr(self, key)
