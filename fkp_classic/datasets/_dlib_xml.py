"""dlib's training XML (imglab's format): photos, face boxes and their named parts."""

import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

from ..keypoints import KeypointLayout, get_layout
from ._annotated_photos import _assemble, _named_layout, _photo_keys, _subset_of
from ._kaggle import DataError

__all__ = ["load_dlib_xml"]


class _Reader:
    """ElementTree parser target: collects images, boxes and parts with the line each starts on."""

    _PARENT = {"images": "dataset", "image": "images", "box": "image", "part": "box"}

    def __init__(self, label):
        self.label = label
        self.line = 0
        self.stack = []
        self.images = []  # [file, line, [box, ...]]; box: (top, left, width, height, ignore, line, {name: (x, y, line)})

    def _fail(self, message):
        raise DataError(f"{self.label}, line {self.line}: {message}")

    def _number(self, attrs, key, tag):
        if key not in attrs:
            self._fail(f"<{tag}> has no {key}= attribute")
        try:
            value = float(attrs[key])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self._fail(f"<{tag}> {key}={attrs[key]!r} is not a finite number")
        return value

    def doctype(self, name, pubid, system):
        # dlib's files have no DTD; refusing one closes the door on entity expansion of any kind.
        self._fail("a DOCTYPE declaration (dlib's XML has none; refused so no entity is expanded)")

    def start(self, tag, attrs):
        parent = self.stack[-1] if self.stack else None
        self.stack.append(tag)
        if parent is None:
            if tag != "dataset":
                self._fail(f"the root element is <{tag}>; dlib's XML starts with <dataset>")
        elif tag in self._PARENT and parent != self._PARENT[tag]:
            self._fail(f"<{tag}> inside <{parent}>; it belongs inside <{self._PARENT[tag]}>")
        elif tag == "image":
            if not attrs.get("file"):
                self._fail("<image> has no file= attribute")
            self.images.append((attrs["file"], self.line, []))
        elif tag == "box":
            top, left, width, height = (self._number(attrs, k, "box") for k in ("top", "left", "width", "height"))
            ignore = attrs.get("ignore", "0").strip() not in ("0", "", "false")
            self.images[-1][2].append((top, left, width, height, ignore, self.line, {}))
        elif tag == "part":
            name = attrs.get("name")
            if not name:
                self._fail("<part> has no name= attribute")
            parts = self.images[-1][2][-1][6]
            if name in parts:
                self._fail(f"<part name={name!r}> appears twice in one box")
            parts[name] = (self._number(attrs, "x", "part"), self._number(attrs, "y", "part"), self.line)

    def end(self, tag):
        self.stack.pop()

    def data(self, text):
        pass

    def close(self):
        return self.images


def _parse(path):
    reader = _Reader(str(path))
    parser = ET.XMLParser(target=reader)
    try:
        with open(path, "rb") as fh:
            for reader.line, line in enumerate(fh, 1):
                parser.feed(line)
            reader.line += 1
            return parser.close()
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else reader.line
        raise DataError(f"{path}, line {line}: not well-formed XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None


def _part_index(layout):
    """Part name -> keypoint index: the layout's names, and numbers as dlib numbers parts (``'00'`` is the first)."""
    index = {name: k for k, name in enumerate(layout.names)}

    def find(name):
        if name in index:
            return index[name]
        if name.isdigit() and int(name) < layout.n_keypoints:
            return int(name)
        return None

    return find


@validate_params(
    {
        "path": [str, os.PathLike],
        "layout": [StrOptions({"ibug68", "kaggle15"}), KeypointLayout, None],
        "photo_pattern": [str, None],
    },
    prefer_skip_nested_validation=True,
)
def load_dlib_xml(path, *, layout=None, photo_pattern=None):
    """Load a dlib training XML (imglab's format): photos, face boxes and each box's named parts.

    ``<dataset><images><image file='...'><box top= left= width= height=>``
    ``<part name='00' x= y=/>...</box></image></images></dataset>``: each
    ``<box>`` is a face; its parts are its points in 0-based pixels of the
    photo, a part a box lacks is NaN. Boxes marked ``ignore='1'`` are not
    faces (kept in ``ignored_boxes``); photos without a box are kept (no
    face: background for a detector). Photo paths are relative to the XML's
    folder, as dlib reads them.

    Parameters
    ----------
    path : str or Path
        The XML file.
    layout : {"ibug68", "kaggle15"}, KeypointLayout or None, default=None
        The points' scheme. A part is the layout's keypoint of the same
        name, or, named by a number, the keypoint of that index (dlib numbers
        parts ``'00'``, ``'01'``, ...: with ``layout="ibug68"``, dlib's 68-point
        files map ``'00'..'67'`` to iBUG's ``p0..p67``). None: the part names
        found, in dlib's order (sorted as text), make the layout (a registered
        one if they are its names, else with flip pairs from left/right names,
        as :func:`layout_from_columns`).
    photo_pattern : str or None, default=None
        Regular expression whose group 1 names the photo a file shows, for
        ``groups`` (``PTS_PHOTO_PATTERN`` for 300-W's ``<photo>_<k>`` files).
        None: each photo file is its own group.

    Returns
    -------
    photos : AnnotatedPhotos
        ``files``, ``shapes``, ``points``, ``layout``, ``photo_index``,
        ``groups``, ``subset`` (each photo's folder relative to the XML's),
        ``sources`` (the XML and the line of each box), ``boxes``
        ``(n_faces, 4)`` as ``(x, y, w, h)``, ``ignored_boxes`` and
        ``ignored_photo_index``.

    Raises
    ------
    DataError
        Naming the file and line: XML that is not well formed (the parser's
        line), a root other than ``<dataset>``, a box or part without its
        attributes or with a non-numeric one, a part name twice in a box or
        outside the layout, a missing or unreadable photo, a point far outside
        its photo. A DOCTYPE is refused (none is needed; no entity is expanded).

    Notes
    -----
    The standard library's parser is safe for these files, and ``defusedxml``
    is not needed: of the attacks Python's documentation lists, ElementTree
    never fetches external entities or DTDs, expat 2.4.1 and later refuse
    exponential and quadratic entity expansion themselves, and a DOCTYPE,
    which any entity attack needs, is refused here as it starts, before an
    entity can be declared (so older expat is covered too). Left is
    expat's slow parsing of huge tokens before 2.6.0: time, not safety.

    References
    ----------
    .. [1] D. E. King, "Dlib-ml: A Machine Learning Toolkit", Journal of
       Machine Learning Research 10, 2009.

    Examples
    --------
    >>> photos = load_dlib_xml("labels_ibug_300W_train.xml", layout="ibug68")  # doctest: +SKIP
    >>> photos.boxes[:1]  # doctest: +SKIP
    array([[ 49.,  92., 213., 213.]])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist or is not a file")
    images = _parse(path)
    if layout is None:
        names = sorted({name for _, _, boxes in images for box in boxes if not box[4] for name in box[6]})
        if not names:
            raise DataError(f"{path}: no <part> in any box, so no points; give layout= to load its boxes alone")
        layout = _named_layout([f"{n}_{axis}" for n in names for axis in "xy"])
    else:
        layout = get_layout(layout)
    find = _part_index(layout)
    root = path.parent
    paths, points, boxes, sources, photo_files, ignored = [], [], [], [], [], []
    for file, image_line, image_boxes in images:
        photo = root / file
        photo_files.append((photo, f"{path}, line {image_line}"))
        for top, left, width, height, ignore, line, parts in image_boxes:
            if ignore:
                ignored.append((photo, (left, top, width, height)))
                continue
            face = np.full((layout.n_keypoints, 2), np.nan)
            for name, (x, y, part_line) in parts.items():
                k = find(name)
                if k is None:
                    raise DataError(
                        f"{path}, line {part_line}: part {name!r} is not in the {layout.name or 'given'} layout (its "
                        f"names are {layout.names[0]}..{layout.names[-1]}, or numbers 0..{layout.n_keypoints - 1})"
                    )
                if not np.isnan(face[k, 0]):
                    raise DataError(f"{path}, line {part_line}: part {name!r} is keypoint {layout.names[k]}, which "
                                    "another part of this box already gave")
                face[k] = x, y
            paths.append(photo)
            points.append(face.ravel())
            boxes.append((left, top, width, height))
            sources.append(f"{path}, line {line}")
    subset = [_subset_of(p, root) for p in paths]
    groups = _photo_keys(paths, photo_pattern, prefixes=subset)
    return _assemble(paths, np.array(points).reshape(len(paths), 2 * layout.n_keypoints), layout, sources, subset=subset, groups=groups,
                     boxes=np.array(boxes).reshape(-1, 4), photo_files=photo_files, ignored=ignored)
