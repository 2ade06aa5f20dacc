"""Per-face analysers: the step after the keypoints (head pose, eye openness, aligned chips, ...).

An analyser is any object with

- ``name``: a str, the key its values are stored under in
  :attr:`Face.analyses <fkp_classic.photo.Face.analyses>` (and in the
  face's JSON record, beside ``box`` and ``keypoints``; readable as
  ``face.<name>`` too);
- ``analyse(photo, faces) -> values``: one JSON-ready value per face (a
  number, str, list or dict of them; numpy scalars and arrays are turned
  into numbers and lists), from the photo as given (RGB or gray) and the
  faces found in it, which carry their keypoints, layout and
  ``point_std``.

:class:`~fkp_classic.photo.KeypointDetector` and
:class:`~fkp_classic.video.FaceTracker` run the analysers they are given
(``analysers=``) on every face they return, in one call per photo or
frame, so an analyser can work on all of a photo's faces at once.
"""

__all__ = ["check_analysers", "run_analysers", "RESERVED_NAMES"]

RESERVED_NAMES = frozenset({"box", "keypoints", "names", "layout", "score", "point_std", "point_std_array",
                            "expected_nme", "track_id", "analyses", "points"})
"""Names an analyser cannot take: they are the face's own fields and record keys."""


def check_analysers(analysers, what="analysers"):
    """The analysers as a tuple, each checked against the protocol; a clear error for one that does not fit it."""
    if analysers is None:
        return ()
    if hasattr(analysers, "analyse"):
        analysers = (analysers,)
    try:
        analysers = tuple(analysers)
    except TypeError:
        raise TypeError(f"{what} must be a sequence of analysers, got {type(analysers).__name__}") from None
    seen = set()
    for analyser in analysers:
        name = getattr(analyser, "name", None)
        if not callable(getattr(analyser, "analyse", None)) or not isinstance(name, str) or not name.isidentifier():
            raise TypeError(
                f"{what}: {analyser!r} is not an analyser (it needs a name that is an identifier and "
                "analyse(photo, faces) -> one value per face)"
            )
        if name in RESERVED_NAMES:
            raise ValueError(f"{what}: the name {name!r} is taken by the face's own fields")
        if name in seen:
            raise ValueError(f"{what}: two analysers are named {name!r}")
        seen.add(name)
    return analysers


def run_analysers(analysers, photo, faces):
    """Run each analyser on the faces of one photo; its values go to each face's ``analyses[name]``.

    Returns
    -------
    faces : list of Face
        The same faces (changed in place).
    """
    if not faces:
        return faces
    for analyser in analysers:
        values = list(analyser.analyse(photo, faces))
        if len(values) != len(faces):
            raise ValueError(f"analyser {analyser.name!r} gave {len(values)} values for {len(faces)} faces")
        for face, value in zip(faces, values):
            face.analyses[analyser.name] = value
    return faces
