"""300-W / iBUG annotation folders: a photo and a ``.pts`` file of its face's points, per face."""

import math
import os
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from ..keypoints import KeypointLayout, get_layout
from ._annotated_photos import _assemble, _photo_keys, _subset_of
from ._kaggle import DataError

__all__ = ["read_pts", "load_300w", "PHOTO_EXTENSIONS", "PTS_PHOTO_PATTERN"]

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
"""Extensions of the photo looked for beside a ``.pts`` file (any case), in order of preference."""

PTS_PHOTO_PATTERN = r"(.+)_([1-9][0-9]?)"
"""300-W's naming of faces: ``<photo>_<k>`` is face ``k`` (1 to 99, no leading zero) of ``<photo>``.

HELEN's ``100040721_2`` and AFW's ``111076519_2`` are faces of photos
``100040721`` and ``111076519``; LFPW's ``image_0001`` (a leading zero)
is a photo of its own.
"""


@validate_params({"path": [str, os.PathLike]}, prefer_skip_nested_validation=True)
def read_pts(path):
    """Read one ``.pts`` file: the points of one face, 0-based.

    The 300-W text format: ``version: 1``, ``n_points: N``, ``{``, N lines
    ``x y``, ``}``. Its coordinates are 1-based (the centre of the top-left
    pixel is ``(1, 1)``), as menpo and the 300-W tools read them; 1 is
    subtracted, so the points are in the library's 0-based pixels.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    points : ndarray of shape (n_points, 2)
        ``x, y`` of each point, 0-based.

    Raises
    ------
    DataError
        Naming the file and line: a missing ``{`` or ``}``, a line that is not
        two finite numbers, a count other than ``n_points``.

    References
    ----------
    .. [1] C. Sagonas, G. Tzimiropoulos, S. Zafeiriou and M. Pantic, "300 Faces
       in-the-Wild Challenge: The first facial landmark localization
       Challenge", ICCV Workshops, 2013.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> pts = pathlib.Path(tempfile.mkdtemp()) / "face.pts"
    >>> _ = pts.write_text("version: 1\\nn_points: 2\\n{\\n1 1\\n10.5 20\\n}\\n")
    >>> read_pts(pts)
    array([[ 0. ,  0. ],
           [ 9.5, 19. ]])
    """
    return _parse_pts(Path(path))


def _parse_pts(path):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text .pts file (not UTF-8/ASCII)") from None
    lines = text.splitlines()
    n_points, opened = None, None
    for number, line in enumerate(lines, 1):
        word = line.strip()
        if word == "{":
            opened = number
            break
        key, _, value = word.partition(":")
        if key.strip().lower() == "n_points":
            try:
                n_points = int(value)
            except ValueError:
                raise DataError(f"{path}, line {number}: n_points is {value.strip()!r}, not a whole number") from None
        elif word and key.strip().lower() != "version":
            raise DataError(f"{path}, line {number}: expected 'version:', 'n_points:' or '{{', got {word[:40]!r}")
    if opened is None:
        raise DataError(f"{path}: no line '{{' opens the points (a .pts file is version:, n_points:, {{, x y lines, }})")
    closed = next((n for n, line in enumerate(lines[opened:], opened + 1) if line.strip() == "}"), None)
    if closed is None:
        raise DataError(f"{path}, line {len(lines)}: the file ends without the '}}' that closes the points (cut off?)")
    extra = next((n for n, line in enumerate(lines[closed:], closed + 1) if line.strip()), None)
    if extra is not None:
        raise DataError(f"{path}, line {extra}: text after the closing '}}'")
    rows = [(n, line.split()) for n, line in enumerate(lines[opened : closed - 1], opened + 1) if line.strip()]
    bad = next(((n, words) for n, words in rows if len(words) != 2), None)
    if bad is not None:
        raise DataError(f"{path}, line {bad[0]}: expected two numbers 'x y', got {' '.join(bad[1])[:40]!r}")
    try:
        values = np.array([words for _, words in rows], dtype=np.float64).reshape(-1, 2)
    except ValueError:
        values = None
    finite = None if values is None else np.isfinite(values).all(axis=1)
    if values is None or not finite.all():
        for n, words in rows:
            try:
                ok = all(math.isfinite(float(w)) for w in words)
            except ValueError:
                ok = False
            if not ok:
                raise DataError(f"{path}, line {n}: {' '.join(words)[:40]!r} is not two finite numbers")
    if n_points is not None and len(values) != n_points:
        raise DataError(f"{path}, line {closed}: {len(values)} points between '{{' and '}}', but n_points is {n_points}")
    return values - 1.0


def _photo_beside(pts, siblings):
    """The photo with the stem of ``pts`` in its folder; a DataError naming ``pts`` when there is none or several."""
    found = siblings.get(pts.stem, [])
    if not found:
        raise DataError(f"{pts}: no photo beside it ({pts.stem} with one of {', '.join(PHOTO_EXTENSIONS[:4])}, ...)")
    if len(found) > 1:
        raise DataError(f"{pts}: several photos beside it ({', '.join(p.name for p in found)}); keep one")
    return found[0]


@validate_params(
    {
        "path": [str, os.PathLike],
        "layout": [StrOptions({"ibug68", "kaggle15"}), KeypointLayout],
        "photo_pattern": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def load_300w(path, *, layout="ibug68", photo_pattern=PTS_PHOTO_PATTERN):
    """Load a 300-W / iBUG annotation folder: every ``.pts`` file under it and the photo beside each.

    Each face is a photo and a ``.pts`` file of the same name (read by
    :func:`read_pts`: 1-based coordinates made 0-based), in the pixels of
    that photo. Subfolders (``lfpw_trainset``, ``helen_trainset``, ``afw``)
    become the faces' :attr:`~AnnotatedPhotos.subset`. A photo with several
    faces is several files ``<photo>_1``, ``<photo>_2``, ... (300-W's naming,
    ``photo_pattern``): their faces share a group, and byte-identical copies
    (AFW's) are one photo.

    Parameters
    ----------
    path : str or Path
        The folder (searched recursively).
    layout : {"ibug68", "kaggle15"} or KeypointLayout, default="ibug68"
        The points' scheme. 300-W's files are iBUG's 68 points in dlib's
        numbering, the default; give another for ``.pts`` files of another
        scheme. Every file must hold its number of points.
    photo_pattern : str or None, default=PTS_PHOTO_PATTERN
        Regular expression matched against a file's stem; its group 1 names
        the photo (so ``<photo>_<k>`` files are faces of one photo). None: each
        file is a photo of its own.

    Returns
    -------
    photos : AnnotatedPhotos
        ``files``, ``shapes``, ``points`` ``(n_faces, 2K)``, ``layout``,
        ``photo_index``, ``groups`` (``"<subset>/<photo>"``), ``subset``,
        ``sources`` (the ``.pts`` files); no boxes.

    Raises
    ------
    DataError
        Naming the file and line: a malformed ``.pts`` file, a point count
        other than the layout's, a missing or unreadable photo, a point far
        outside its photo.

    References
    ----------
    .. [1] C. Sagonas, G. Tzimiropoulos, S. Zafeiriou and M. Pantic, "300 Faces
       in-the-Wild Challenge: The first facial landmark localization
       Challenge", ICCV Workshops, 2013.
    .. [2] C. Sagonas, E. Antonakos, G. Tzimiropoulos, S. Zafeiriou and M.
       Pantic, "300 Faces In-the-Wild Challenge: database and results",
       Image and Vision Computing 47, 2016.

    Examples
    --------
    >>> from sklearn.model_selection import GroupKFold
    >>> photos = load_300w("../shared/data/300w")  # doctest: +SKIP
    >>> folds = GroupKFold(5).split(photos.points, groups=photos.groups)  # doctest: +SKIP
    """
    root = Path(path)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder (a 300-W folder holds photos and a .pts file beside each)")
    layout = get_layout(layout)
    files = sorted(root.rglob("*.pts"))
    if not files:
        raise DataError(f"{root} holds no .pts files")
    photo_paths, points, subset, siblings = [], [], [], {}
    for pts in files:
        folder = pts.parent
        if folder not in siblings:
            siblings[folder] = {}
            for entry in sorted(folder.iterdir()):
                if entry.suffix.lower() in PHOTO_EXTENSIONS and entry.is_file():
                    siblings[folder].setdefault(entry.stem, []).append(entry)
        face = _parse_pts(pts)
        if len(face) != layout.n_keypoints:
            raise DataError(f"{pts}: {len(face)} points, but the {layout.name or 'given'} layout has "
                            f"{layout.n_keypoints}")
        photo_paths.append(_photo_beside(pts, siblings[folder]))
        points.append(face.ravel())
        subset.append(_subset_of(pts, root))
    keys = _photo_keys(photo_paths, photo_pattern, prefixes=subset)
    return _assemble(photo_paths, np.array(points), layout, [str(f) for f in files], subset=subset, groups=keys)

