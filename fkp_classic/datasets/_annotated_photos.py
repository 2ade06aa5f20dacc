"""Annotated photos: the one result every photo-annotation loader gives (300-W folders, dlib XML, a CSV of points)."""

import hashlib
import re
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..keypoints import KeypointLayout, get_layout
from ._kaggle import CONTOUR_MARGIN, DataError
from ._landmarks import layout_from_columns

__all__ = ["AnnotatedPhotos"]

_MAX_PIXELS = 200_000_000  # as the photo path's read_photo: refuse a decompression bomb before decoding it


@dataclass(frozen=True, eq=False)
class AnnotatedPhotos:
    """Faces annotated on photos: paths to the photos and the points of each face, read on request.

    Every photo loader (:func:`load_300w`, :func:`load_dlib_xml`,
    :func:`load_photo_points`) returns one. Only the photos' headers are
    read when loading; :meth:`read_photo` and :meth:`iter_photos` decode
    photos one at a time, so thousands of photos never sit in memory at
    once. Photos are read as stored (no EXIF rotation), the frame the
    annotation tools (imglab, the 300-W tools) show and annotate.

    Attributes
    ----------
    files : ndarray of str, shape (n_photos,)
        Absolute path of each photo. Byte-identical copies of one photo within a group
        (300-W's AFW stores a photo with k faces as k identical files) are one photo.
    shapes : ndarray of int, shape (n_photos, 2)
        Height and width of each photo, from its header.
    points : ndarray of float, shape (n_faces, 2 * K)
        ``x1, y1, x2, y2, ...`` of each face in its photo's pixels, 0-based
        (the centre of the top-left pixel is ``(0, 0)``); NaN where a point is not given.
    layout : KeypointLayout
        The points' scheme.
    photo_index : ndarray of int, shape (n_faces,)
        The photo (index into ``files``) each face is on.
    groups : ndarray of str, shape (n_faces,)
        The photo each face comes from, for ``GroupKFold``: faces of one photo
        share it, whether they are on one file or on copies of it.
    subset : ndarray of str, shape (n_faces,)
        The part of the data set each face comes from (a 300-W subfolder such as
        ``"afw"``), to stratify by.
    sources : ndarray of str, shape (n_faces,)
        Where each face's annotation was read (a file, or a file and line), for messages.
    boxes : ndarray of float, shape (n_faces, 4), or None
        Each face's box ``(x, y, w, h)`` where the format has boxes (dlib XML), else None.
    ignored_boxes : ndarray of float, shape (n_ignored, 4)
        Boxes marked to be ignored (dlib's ``ignore='1'``): neither faces nor background.
    ignored_photo_index : ndarray of int, shape (n_ignored,)
        The photo of each ignored box.

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.datasets import AnnotatedPhotos
    >>> photos = AnnotatedPhotos(files=np.array(["a.jpg"]), shapes=np.array([[48, 64]]),
    ...                          points=np.zeros((2, 4)), layout=KeypointLayout(("l", "r")),
    ...                          photo_index=np.array([0, 0]), groups=np.array(["a", "a"]),
    ...                          subset=np.array(["", ""]), sources=np.array(["a.csv", "a.csv"]))
    >>> photos.n_photos, photos.n_faces
    (1, 2)
    """

    files: np.ndarray
    shapes: np.ndarray
    points: np.ndarray
    layout: KeypointLayout
    photo_index: np.ndarray
    groups: np.ndarray
    subset: np.ndarray
    sources: np.ndarray
    boxes: np.ndarray = None
    ignored_boxes: np.ndarray = None
    ignored_photo_index: np.ndarray = None

    def __post_init__(self):
        if self.ignored_boxes is None:
            object.__setattr__(self, "ignored_boxes", np.empty((0, 4)))
        if self.ignored_photo_index is None:
            object.__setattr__(self, "ignored_photo_index", np.empty(0, dtype=np.intp))

    @property
    def n_faces(self):
        """Number of annotated faces."""
        return len(self.points)

    @property
    def n_photos(self):
        """Number of distinct photos (some may hold no annotated face)."""
        return len(self.files)

    def read_photo(self, i, *, gray=True):
        """Decode photo ``i``: ``(h, w)`` uint8 grayscale, or ``(h, w, 3)`` uint8 RGB with ``gray=False``.

        Raises
        ------
        DataError
            Naming the file, if it cannot be read.
        """
        return _decode(self.files[i], gray)

    def faces_of(self, i):
        """Indices of the faces on photo ``i``."""
        return np.flatnonzero(self.photo_index == i)

    def iter_photos(self, *, gray=True):
        """Each photo holding at least one face, decoded in turn: ``(i, photo, faces)``.

        ``faces`` are the indices (rows of :attr:`points`) of the faces on
        photo ``i``. One photo is in memory at a time.
        """
        order = np.argsort(self.photo_index, kind="stable")
        cuts = np.flatnonzero(np.diff(self.photo_index[order])) + 1
        for faces in np.split(order, cuts) if len(order) else []:
            i = int(self.photo_index[faces[0]])
            yield i, self.read_photo(i, gray=gray), faces

    def take(self, faces):
        """The faces ``faces`` (indices or a boolean mask) and the photos they are on, renumbered.

        For a cross-validation fold: ``photos.take(train)`` with ``train``
        from ``GroupKFold().split(photos.points, groups=photos.groups)``.
        """
        faces = np.arange(self.n_faces)[np.asarray(faces)]
        kept, photo_index = np.unique(self.photo_index[faces], return_inverse=True)
        on_kept = np.isin(self.ignored_photo_index, kept)
        return replace(
            self, files=self.files[kept], shapes=self.shapes[kept], points=self.points[faces],
            photo_index=photo_index.astype(np.intp), groups=self.groups[faces], subset=self.subset[faces],
            sources=self.sources[faces], boxes=None if self.boxes is None else self.boxes[faces],
            ignored_boxes=self.ignored_boxes[on_kept],
            ignored_photo_index=np.searchsorted(kept, self.ignored_photo_index[on_kept]).astype(np.intp),
        )

    def in_layout(self, layout):
        """The same faces with their points in ``layout``: as they are, or iBUG's 68 mapped to Kaggle's 15.

        Parameters
        ----------
        layout : {"kaggle15", "ibug68"} or KeypointLayout

        Raises
        ------
        DataError
            When the points cannot be mapped to ``layout``.
        """
        target = get_layout(layout)
        if self.layout.names == target.names:
            return self
        if self.layout.names == get_layout("ibug68").names and target.name == "kaggle15":
            from ..keypoints import ibug68_to_kaggle15

            return replace(self, points=ibug68_to_kaggle15(self.points), layout=target)
        raise DataError(f"the faces are annotated with {self.layout.n_keypoints} points "
                        f"({self.layout.name or 'their own names'}), which do not map to "
                        f"{target.name or f'the {target.n_keypoints}-point layout'}")

    def __repr__(self):
        return (f"AnnotatedPhotos({self.n_faces} face{'s' * (self.n_faces != 1)} on {self.n_photos} "
                f"photo{'s' * (self.n_photos != 1)}, layout "
                f"{self.layout.name or f'{self.layout.n_keypoints}-point'}, subsets {sorted(set(self.subset))})")


def _decode(path, gray):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.size[0] * image.size[1] > _MAX_PIXELS:
                    raise DataError(f"{path}: {image.size[0]}x{image.size[1]} is too large a photo to read")
                return np.asarray(image.convert("L" if gray else "RGB"))
    except FileNotFoundError:
        raise DataError(f"photo {path} does not exist") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read photo {path}: {exc}") from None


def _header_shape(path, source):
    """``(height, width)`` of the photo at ``path`` from its header, or a DataError naming the annotation ``source``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except FileNotFoundError:
        raise DataError(f"{source}: its photo {path} does not exist") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise DataError(f"{source}: cannot read its photo {path} ({exc})") from None
    if width == 0 or height == 0:
        raise DataError(f"{source}: its photo {path} is empty ({width}x{height})")
    return height, width


def _digest(path):
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def _photo_keys(paths, photo_pattern, prefixes=None):
    """The photo each file shows, ``"<prefix>/<photo>"``: the photo is the file's stem, or its part that group 1 of
    the regular expression ``photo_pattern`` matches; the prefix is the file's folder unless given."""
    pattern = None
    if photo_pattern is not None:
        try:
            pattern = re.compile(photo_pattern)
        except re.error as exc:
            raise ValueError(f"photo_pattern {photo_pattern!r} is not a regular expression: {exc}") from None
        if pattern.groups < 1:
            raise ValueError(f"photo_pattern {photo_pattern!r} must capture the photo's name in group 1")
    keys = []
    for i, path in enumerate(map(Path, paths)):
        match = None if pattern is None else pattern.fullmatch(path.stem)
        prefix = path.parent.as_posix() if prefixes is None else prefixes[i]
        keys.append(f"{prefix}/{match.group(1) if match else path.stem}")
    return keys


def _subset_of(path, root):
    """The folder of ``path`` relative to ``root`` (``root``'s own name for a file directly in it)."""
    try:
        relative = Path(path).parent.relative_to(root).as_posix()
    except ValueError:
        return Path(path).parent.as_posix()
    return Path(root).resolve().name if relative == "." else relative


def _named_layout(columns):
    """The layout of ``<name>_x, <name>_y`` columns: a registered one when the names are its names, else
    :func:`layout_from_columns` (names, and flip pairs from left/right words)."""
    layout = layout_from_columns(columns)
    for registered in ("ibug68", "kaggle15"):
        if get_layout(registered).names == layout.names:
            return get_layout(registered)
    return layout


def _assemble(paths, points, layout, sources, *, subset, groups, boxes=None, photo_files=(), ignored=()):
    """Build :class:`AnnotatedPhotos` from one row per face.

    ``paths`` are the faces' photo files; ``groups`` their photo ids
    (:func:`_photo_keys`, or the user's). Files of one group that
    are byte-identical become one photo. ``photo_files`` adds photos with no
    face (``[(path, source), ...]``); ``ignored`` is ``[(path, box), ...]``. Each photo's header is read
    for its size and every point is checked to lie near it.
    """
    paths = [Path(p).absolute() for p in paths]  # readable whatever the working folder is later
    keys = np.array([str(g) for g in groups], dtype=object)
    order, first_source = {}, {}
    for p, s in zip([*paths, *(Path(p).absolute() for p, _ in photo_files), *(Path(p).absolute() for p, _ in ignored)],
                    [*sources, *(s for _, s in photo_files), *(str(p) for p, _ in ignored)]):
        if p not in order:
            order[p] = len(order)
            first_source[p] = s
    unique = list(order)
    file_index = np.array([order[p] for p in paths], dtype=np.intp)
    shapes = np.array([_header_shape(p, first_source[p]) for p in unique], dtype=np.intp).reshape(-1, 2)
    # Copies of one photo (300-W's AFW: <photo>_1.jpg, <photo>_2.jpg, one face each): one photo when identical.
    alias = np.arange(len(unique))
    files_of = {}
    for key, f in zip(keys, file_index):
        files_of.setdefault(key, set()).add(int(f))
    for members in files_of.values():
        if len(members) < 2:
            continue
        members = sorted(members)
        sizes = [unique[m].stat().st_size for m in members]
        first = {}
        for m, size in zip(members, sizes):
            if sizes.count(size) > 1:  # same size: compare the bytes
                alias[m] = first.setdefault((size, _digest(unique[m])), m)
    kept = np.flatnonzero(alias == np.arange(len(unique)))
    renumber = np.full(len(unique), -1)
    renumber[kept] = np.arange(len(kept))
    photo_of_file = renumber[alias]
    points = np.asarray(points, dtype=np.float64).reshape(len(paths), 2 * layout.n_keypoints)
    photo_index = photo_of_file[file_index].astype(np.intp)
    _check_inside(points, shapes[file_index], sources, layout)
    ignored_index = np.array([photo_of_file[order[Path(p).absolute()]] for p, _ in ignored], dtype=np.intp)
    return AnnotatedPhotos(
        files=np.array([str(unique[k]) for k in kept], dtype=object), shapes=shapes[kept], points=points,
        layout=layout, photo_index=photo_index, groups=keys,
        subset=np.asarray(subset, dtype=object).reshape(len(paths)), sources=np.asarray(sources, dtype=object),
        boxes=None if boxes is None else np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
        ignored_boxes=np.array([b for _, b in ignored], dtype=np.float64).reshape(-1, 4),
        ignored_photo_index=ignored_index,
    )


def _check_inside(points, shapes, sources, layout):
    """Refuse points further outside their photo than :data:`CONTOUR_MARGIN` of its larger side (a unit or typing error)."""
    if len(points) == 0:
        return
    side = shapes.max(axis=1, keepdims=True).astype(float)
    limit = np.tile(shapes[:, ::-1], (1, layout.n_keypoints))  # width for each x, height for each y
    low, high = -CONTOUR_MARGIN * side, limit - 1 + CONTOUR_MARGIN * side
    with np.errstate(invalid="ignore"):
        outside = (points < low) | (points > high)
    if outside.any():
        face, col = np.argwhere(outside)[0]
        h, w = shapes[face]
        raise DataError(
            f"{sources[face]}: point {layout.names[col // 2]} {'xy'[col % 2]} = {points[face, col]:g} lies outside "
            f"its {w}x{h} photo by more than {CONTOUR_MARGIN:.0%} of its side (a unit or typing error?)"
        )

