"""Scoring face detection on photos with known faces, and multi-face canvases to score it on."""

import numpy as np
from PIL import Image

from ..datasets import face_squares
from ..photo import CROP_SIZE, box_frames, box_overlaps, to_photo

__all__ = ["match_faces", "multi_face_canvas", "multi_face_canvases"]


def match_faces(boxes, framing, truth, min_iou=0.5):
    """Which detections are the true faces: each true face takes its best-overlapping free detection.

    Detections are compared as crop squares (their ``framing`` maps boxes to
    the squares), so detectors that box faces differently are scored alike.

    Parameters
    ----------
    boxes : array-like of shape (n_detections, 4)
        Detected boxes ``(x, y, w, h)``.
    framing : (float, float, float)
        The detector's box-to-crop transform (``(1, 0, 0)`` for squares).
    truth : array-like of shape (n_faces, 4)
        True crop squares ``(x, y, side, side)``.
    min_iou : float, default=0.5
        Least intersection over union for a match.

    Returns
    -------
    match : ndarray of shape (n_faces,)
        Index of each true face's detection, -1 for a missed face. The
        detections matched by no face are false alarms.
    """
    truth = np.asarray(truth, dtype=float).reshape(-1, 4)
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    match = np.full(len(truth), -1)
    if len(boxes) == 0 or len(truth) == 0:
        return match
    frames = box_frames(boxes, framing)
    iou, _ = box_overlaps(truth, np.c_[frames, frames[:, 2]])
    taken = np.zeros(len(boxes), dtype=bool)
    for face in np.argsort(-iou.max(axis=1)):  # a handful of faces per photo
        best = np.where(taken, -1, iou[face]).argmax()
        if iou[face, best] >= min_iou and not taken[best]:
            match[face], taken[best] = best, True
    return match


def multi_face_canvas(photo, faces, sizes, random_state=0, canvas=(640, 480), avoid=None):
    """Paste faces of given sizes at random free places of a photo enlarged to a canvas.

    Parameters
    ----------
    photo : ndarray of shape (h, w), uint8
        Grayscale background, resized to fill ``canvas``.
    faces : ndarray of shape (n_faces, 96, 96) or (n_faces, 9216), uint8
        96x96 face crops (Kaggle format): each is pasted as its own square.
    sizes : sequence of int
        Side in pixels of each pasted face.
    random_state : int or Generator, default=0
    canvas : (int, int), default=(640, 480)
        Width and height.
    avoid : array-like of shape (4,), optional
        A square ``(x, y, w, h)`` of ``photo`` to keep free (its own face),
        in the photo's pixels.

    Returns
    -------
    image : ndarray of shape (canvas[1], canvas[0]), uint8
    squares : ndarray of shape (n_faces, 4)
        Each pasted face's crop square ``(x, y, side, side)``.
    kept : ndarray of shape (4,) or None
        ``avoid`` in canvas pixels.

    Raises
    ------
    ValueError
        If the faces cannot be placed without overlapping (after many tries).
    """
    rng = np.random.default_rng(random_state)
    width, height = canvas
    sx, sy = width / photo.shape[1], height / photo.shape[0]
    image = np.array(Image.fromarray(photo).resize((width, height), Image.BILINEAR))
    placed = []
    kept = None
    if avoid is not None:
        x, y, w, h = np.asarray(avoid, dtype=float)
        kept = np.array([x * sx, y * sy, w * sx, h * sy])
        placed.append(kept)
    squares = []
    faces = np.asarray(faces, dtype=np.uint8).reshape(-1, CROP_SIZE, CROP_SIZE)
    for face, side in zip(faces, sizes):
        side = int(side)
        for _ in range(500):  # rejection sampling of a free place
            x, y = rng.integers(0, width - side + 1), rng.integers(0, height - side + 1)
            box = np.array([x, y, side, side], dtype=float)
            margin = box + [-side * 0.1, -side * 0.1, side * 0.2, side * 0.2]
            if not placed or box_overlaps(margin, np.array(placed))[0].max() == 0:
                break
        else:
            raise ValueError(f"no free place for a {side}-pixel face on a {width}x{height} canvas")
        image[y:y + side, x:x + side] = np.asarray(Image.fromarray(face).resize((side, side), Image.BILINEAR))
        placed.append(box)
        squares.append(box)
    return image, np.array(squares).reshape(-1, 4), kept


def multi_face_canvases(photos, squares, faces, keypoints, n, n_faces=(3, 6), canvas=(960, 720), random_state=0):
    """``n`` canvases of :func:`multi_face_canvas`: random photos, each with ``n_faces`` random faces of 40-200 px.

    Parameters
    ----------
    photos : sequence of ndarray of shape (h, w), uint8
        Grayscale photos, each with one known face.
    squares : array-like of shape (n_photos, 4)
        Each photo's own face square ``(x, y, w, h)``, kept free.
    faces : ndarray of shape (n_crops, 9216), uint8
        96x96 face crops to paste.
    keypoints : ndarray of shape (n_crops, 2K)
        The crops' keypoints, which frame each pasted face's true square.
    n : int
        Canvases made.
    n_faces : (int, int), default=(3, 6)
        Fewest and most faces pasted into a canvas.
    canvas : (int, int), default=(960, 720)
        Width and height.
    random_state : int or Generator, default=0

    Returns
    -------
    list of (image, squares, n_pasted)
        Each canvas, its faces' squares and how many were pasted: first the
        pasted faces' squares, framed from their keypoints as the photos'
        faces are (:func:`fkp_classic.datasets.face_squares`: a face small in
        its crop gets a square larger than the pasted one), then the photo's
        own face in canvas pixels.
    """
    rng = np.random.default_rng(random_state)
    out = []
    while len(out) < n:
        photo = int(rng.integers(len(photos)))
        count = int(rng.integers(n_faces[0], n_faces[1] + 1))
        sizes = np.sort(rng.integers(40, 201, size=count))[::-1]  # the largest placed first
        chosen = rng.choice(len(faces), count, replace=False)
        try:
            image, pasted, own = multi_face_canvas(photos[photo], faces[chosen], sizes, rng, canvas=canvas,
                                                   avoid=squares[photo])
        except ValueError:  # this photo's own face leaves too little room: take another photo
            continue
        truth = face_squares(to_photo(keypoints[chosen], pasted[:, :3]))
        out.append((image, np.vstack([truth, own[None]]), len(pasted)))
    return out
