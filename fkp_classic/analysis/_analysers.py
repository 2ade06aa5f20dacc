"""The analysers of :mod:`fkp_classic.photo`'s protocol for pose, eyes, mouth and chips, and a parser for their names.

Each has a ``name`` (the key of its values in ``face.analyses``, readable as
``face.pose``, ``face.eyes``, ``face.mouth``, ``face.chip``) and
``analyse(photo, faces)``, which works on all of a photo's faces of one
layout at once.
"""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._constraints import check_params

from ._chips import chip_transforms
from ._eyes_mouth import eye_measures, mouth_measures
from ._pose import head_pose

__all__ = ["HeadPose", "Eyes", "Mouth", "FaceChips", "make_analysers", "flat_analyses", "ANALYSERS"]


def _by_layout(faces):
    groups = {}
    for i, face in enumerate(faces):
        groups.setdefault(face.layout, []).append(i)
    return groups.items()


class _Analyser:
    _parameter_constraints = {}

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in self._parameter_constraints}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def analyse(self, photo, faces):
        params = tuple(self.get_params().items())
        if getattr(self, "_checked_params", None) != params:  # checked once per setting, not on every video frame
            check_params(self)
            self._checked_params = params
        values = [None] * len(faces)
        for layout, which in _by_layout(faces):
            points = np.stack([faces[i].points for i in which])
            for i, value in zip(which, self._values(photo, [faces[i] for i in which], points, layout)):
                values[i] = value
        return values


class HeadPose(_Analyser):
    """Head pose of each face (:func:`~fkp_classic.analysis.head_pose`): ``face.pose``.

    Parameters
    ----------
    focal_length : float or None, default=None
        Pixels; None: the photo's larger side.

    Faces with ``point_std`` also get ``yaw_std``, ``pitch_std``, ``roll_std`` (degrees, propagated).

    Examples
    --------
    >>> from fkp_classic.analysis import HeadPose
    >>> HeadPose().name
    'pose'
    """

    name = "pose"
    _parameter_constraints = {"focal_length": [Interval(numbers.Real, 0, None, closed="neither"), None]}

    def __init__(self, *, focal_length=None):
        self.focal_length = focal_length

    def _values(self, photo, faces, points, layout):
        stds = [f.point_std_array for f in faces]
        std = np.stack(stds) if all(s is not None for s in stds) else None
        size = None if photo is None else np.shape(photo)[1::-1]
        pose = head_pose(points, layout=layout, point_std=std, image_size=size, focal_length=self.focal_length)
        keys = ["yaw", "pitch", "roll"] + [k for k in ("yaw_std", "pitch_std", "roll_std") if k in pose]
        return [{**{k: float(pose[k][i]) for k in keys}, "scale": float(pose["scale"][i]),
                 "center": pose["center"][i].tolist(), "rotation": pose["rotation"][i].tolist(),
                 **({"translation_mm": pose["translation"][i].tolist()} if "translation" in pose else {})}
                for i in range(len(faces))]


def _records(measures, n):
    return [{k: (None if np.isnan(v[i]) else float(v[i])) for k, v in measures.items()} for i in range(n)]


class Eyes(_Analyser):
    """Eye openness of each eye and brow raise (:func:`~fkp_classic.analysis.eye_measures`): ``face.eyes``.

    Values are None where the layout cannot give them (Kaggle's 15 points have no eyelids).
    The photo path refits the eyes of 68-point faces on crops of each eye
    before any analyser runs (its part refiner,
    :class:`~fkp_classic.photo.PartRefiner`): a face model sees an eye in a
    few pixels, and its eyelids lean towards the mean eye.
    """

    name = "eyes"

    def _values(self, photo, faces, points, layout):
        return _records(eye_measures(points, layout=layout), len(faces))


class Mouth(_Analyser):
    """Mouth openness, smile width, lip corner height (:func:`~fkp_classic.analysis.mouth_measures`): ``face.mouth``.

    Values are None where the layout cannot give them (Kaggle's 15 points have no inner lips).
    """

    name = "mouth"

    def _values(self, photo, faces, points, layout):
        return _records(mouth_measures(points, layout=layout), len(faces))


class FaceChips(_Analyser):
    """The alignment of each face's chip (:func:`~fkp_classic.analysis.chip_transforms`): ``face.chip``.

    Stores the 2 x 3 similarity from photo pixels to chip pixels (the chips
    themselves are arrays: :func:`~fkp_classic.analysis.face_chips`).

    Parameters
    ----------
    size : int, default=150
    padding : float, default=0.25
    template : {"dlib", "arcface"}, default="dlib"
    """

    name = "chip"
    _parameter_constraints = {"size": [Interval(numbers.Integral, 8, None, closed="left")],
                              "padding": [Interval(numbers.Real, 0, None, closed="left")],
                              "template": [StrOptions({"dlib", "arcface"})]}

    def __init__(self, *, size=150, padding=0.25, template="dlib"):
        self.size = size
        self.padding = padding
        self.template = template

    def _values(self, photo, faces, points, layout):
        transforms = chip_transforms(points, layout=layout, size=self.size, padding=self.padding,
                                     template=self.template)
        return [{"template": self.template, "size": self.size, "transform": t[:2].tolist()} for t in transforms]


ANALYSERS = {"pose": HeadPose, "eyes": Eyes, "mouth": Mouth, "chip": FaceChips}
"""The analysers :func:`make_analysers` knows, by name."""


def make_analysers(names):
    """Analysers from a comma-separated list of names (``"pose,eyes,mouth"``), as the command line takes them.

    Parameters
    ----------
    names : str or sequence of str
        Among ``pose``, ``eyes``, ``mouth``, ``chip``; repeats are dropped.

    Returns
    -------
    analysers : list
        Default-parameter analysers, in the order given.

    Examples
    --------
    >>> from fkp_classic.analysis import make_analysers
    >>> [a.name for a in make_analysers("pose, eyes,mouth")]
    ['pose', 'eyes', 'mouth']
    """
    if isinstance(names, str):
        names = names.split(",")
    wanted = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in wanted if n not in ANALYSERS]
    if unknown:
        raise ValueError(f"unknown analyser {unknown[0]!r}: choose among {', '.join(ANALYSERS)} "
                         "(comma-separated, e.g. 'pose,eyes,mouth')")
    if not wanted:
        raise ValueError(f"no analyser named: choose among {', '.join(ANALYSERS)}")
    return [ANALYSERS[n]() for n in dict.fromkeys(wanted)]


def flat_analyses(face, names=None):
    """A face's analysed numbers as flat ``<analyser>_<value>`` columns, for a CSV row (lists such as the rotation
    matrix are left out; None stays None).

    Parameters
    ----------
    face : Face
    names : sequence of str or None, default=None
        The analysers' names, in column order; None: all the face has.

    Returns
    -------
    columns : dict

    Examples
    --------
    >>> from fkp_classic.analysis import flat_analyses, make_analysers, project_mean_face
    >>> from fkp_classic.photo import Face
    >>> face = Face((0, 0, 1, 1), project_mean_face(10, 0, 0)[0], layout="ibug68")
    >>> for analyser in make_analysers("pose,eyes"):
    ...     face.analyses[analyser.name] = analyser.analyse(None, [face])[0]
    >>> sorted(flat_analyses(face))[:4]
    ['eyes_brow_raise', 'eyes_left', 'eyes_openness', 'eyes_right']
    """
    out = {}
    for name in face.analyses if names is None else names:
        value = face.analyses.get(name)
        if isinstance(value, dict):
            for key, v in value.items():
                if v is None or isinstance(v, (numbers.Real, str)):
                    out[f"{name}_{key}"] = v
        elif value is None or isinstance(value, (numbers.Real, str)):
            out[name] = value
    return out
