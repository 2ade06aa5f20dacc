"""Keypoint layouts: names, column names and left/right flip pairs.

A layout is data, not code: every estimator works on ``y`` of shape
``(n_samples, 2 * K)`` holding ``x1, y1, x2, y2, ...`` for any ``K``. The
15-point Kaggle layout and the 68-point iBUG layout are provided, together
with the iBUG-68 -> Kaggle-15 mapping used to build ``faces96``.

"Left" always means the subject's left, which is on the image's right.
"""

from dataclasses import dataclass

import numpy as np

__all__ = [
    "KeypointLayout",
    "KAGGLE_15",
    "IBUG_68",
    "KAGGLE_NAMES",
    "KAGGLE_COLUMNS",
    "ibug68_to_kaggle15",
    "keypoint_regions",
]


@dataclass(frozen=True)
class KeypointLayout:
    """Named keypoints and the pairs that swap under a horizontal flip.

    Parameters
    ----------
    names : tuple of str
        Keypoint names, in column order.
    flip_pairs : tuple of (str, str)
        Pairs of names exchanged by a horizontal flip. Names in no pair map
        to themselves (e.g. the nose tip).
    """

    names: tuple
    flip_pairs: tuple = ()

    def __post_init__(self):
        names = tuple(self.names)
        object.__setattr__(self, "names", names)
        if len(set(names)) != len(names):
            raise ValueError("keypoint names must be unique")
        seen = set()
        for a, b in self.flip_pairs:
            for name in (a, b):
                if name not in names:
                    raise ValueError(f"flip pair names unknown keypoint {name!r}")
                if name in seen:
                    raise ValueError(f"keypoint {name!r} is in more than one flip pair")
                seen.add(name)

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
        index = {n: i for i, n in enumerate(self.names)}
        for a, b in self.flip_pairs:
            perm[index[a]], perm[index[b]] = index[b], index[a]
        return perm


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
)
"""The 15 keypoints of the Kaggle "Facial Keypoints Detection" competition."""

KAGGLE_COLUMNS = KAGGLE_15.columns


def _ibug_flip_pairs():
    # Mirror pairs of the 68-point iBUG markup (0-based indices).
    pairs = [(i, 16 - i) for i in range(8)]  # jaw line
    pairs += [(17 + i, 26 - i) for i in range(5)]  # brows
    pairs += [(31, 35), (32, 34)]  # nostrils
    pairs += [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]  # eyes
    pairs += [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58)]  # outer lip
    pairs += [(60, 64), (61, 63), (65, 67)]  # inner lip
    return tuple((f"p{a}", f"p{b}") for a, b in pairs)


IBUG_68 = KeypointLayout(names=tuple(f"p{i}" for i in range(68)), flip_pairs=_ibug_flip_pairs())
"""The 68-point iBUG / 300-W markup, named ``p0 .. p67`` as in ``training_meta.csv``."""

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


_IBUG_REGIONS = (("jaw", 0, 17), ("eyebrows", 17, 27), ("nose", 27, 36), ("eyes", 36, 48), ("mouth", 48, 68))
_NAME_REGIONS = (("eyebrow", "eyebrows"), ("eye", "eyes"), ("nose", "nose"), ("mouth", "mouth"), ("lip", "mouth"),
                 ("jaw", "jaw"), ("chin", "jaw"))


def keypoint_regions(layout):
    """The face region of each keypoint of a layout: "eyes", "eyebrows", "nose", "mouth", "jaw" or "other".

    iBUG's 68 points go by their index ranges, other layouts by the words in their names.

    Examples
    --------
    >>> keypoint_regions(KAGGLE_15)[:3], keypoint_regions(IBUG_68)[16:18]
    (('eyes', 'eyes', 'eyes'), ('jaw', 'eyebrows'))
    """
    if layout.names == IBUG_68.names:
        return tuple(region for region, lo, hi in _IBUG_REGIONS for _ in range(lo, hi))
    return tuple(next((region for word, region in _NAME_REGIONS if word in name.lower()), "other") for name in layout.names)
