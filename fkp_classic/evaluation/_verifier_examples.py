"""Training crops for the verifier: well and badly framed faces from pasted canvases, and the final crops
of a face detector's true faces and false alarms on annotated photos."""

import numpy as np

from ..photo import CROP_SIZE, KeypointDetector, as_gray, crop_frames, reframe
from ._detection import match_faces
from ._pasted import paste_faces

__all__ = ["framing_examples", "detection_examples"]


def framing_examples(images, n_negative=2, random_state=0, edge_cut=0.25):
    """Well and badly framed 96x96 crops cut from faces pasted into canvases.

    Each face is pasted into a canvas (:func:`paste_faces`). The positive is
    its own frame, jittered by 3% in place and size; a share ``edge_cut`` of
    them have the canvas cut across the face's frame (up to a fifth of it)
    on one side, as a face at a photo's edge is. Each
    negative is a square of 0.35-0.7 times the face's side centred on a
    random part of it, as the detector's partial-face false alarms are.

    Parameters
    ----------
    images : array-like of shape (n_faces, 9216)
        Training crops.
    n_negative : int, default=2
        Badly framed crops per face.
    random_state : int, default=0
    edge_cut : float, default=0.25
        Share of the positives cut by the canvas's edge.

    Returns
    -------
    crops : ndarray of shape (n_faces * (1 + n_negative), 9216) uint8
    labels : ndarray of shape (n_faces * (1 + n_negative),)
        1 for well framed, 0 for not.
    """
    rng = np.random.default_rng(random_state)
    images = np.asarray(images)
    chunks = []
    for start in range(0, len(images), 256):  # canvases are 1 MB each: a few hundred at a time
        canvases, frames = paste_faces(images[start : start + 256], rng)
        chunks.append(_cut(canvases, frames, n_negative, rng, edge_cut))
    return np.concatenate([c for c, _ in chunks]), np.concatenate([l for _, l in chunks])


def _cut(canvases, frames, n_negative, rng, edge_cut):
    """The well framed crop (on a canvas cut across it, for a share ``edge_cut``), then ``n_negative`` part-face
    crops, of each canvas."""
    crops, labels = [], []
    for canvas, (x0, y0, side) in zip(canvases, frames):
        jitter = rng.normal(0.0, 0.03, 3)
        positive = np.array([x0 + jitter[0] * side, y0 + jitter[1] * side, side * (1 + jitter[2])])
        wanted = []
        for _ in range(n_negative):
            part = rng.uniform(0.35, 0.7) * side
            cx, cy = x0 + side * rng.uniform(0.2, 0.8), y0 + side * rng.uniform(0.15, 0.7)
            wanted.append([cx - part / 2, cy - part / 2, part])
        if rng.random() < edge_cut:
            edged, positive = _edge_cut(canvas, positive, rng)
            crops.append(crop_frames(edged, positive[None])[0])
        else:
            crops.append(crop_frames(canvas, positive[None])[0])
        crops.append(crop_frames(canvas, wanted)[0])
        labels.append([1] + [0] * n_negative)
    return np.concatenate(crops), np.concatenate(labels)


def _edge_cut(canvas, frame, rng):
    """The canvas cut on a random side at up to a fifth of ``frame`` inside it, and the frame in the cut canvas."""
    x0, y0, side = frame
    depth = rng.uniform(0.0, 0.2) * side
    height, width = canvas.shape
    edge = rng.integers(4)
    if edge == 0:  # the top
        top = int(np.clip(round(y0 + depth), 0, height - 1))
        return canvas[top:], np.array([x0, y0 - top, side])
    if edge == 1:  # the bottom
        return canvas[: max(1, int(round(y0 + side - depth)))], frame
    if edge == 2:  # the left
        left = int(np.clip(round(x0 + depth), 0, width - 1))
        return canvas[:, left:], np.array([x0 - left, y0, side])
    return canvas[:, : max(1, int(round(x0 + side - depth)))], frame


def detection_examples(model, face_detector, photos, squares, size=CROP_SIZE, ignored=None):
    """The final crops of the photo path on annotated photos: true faces (1) and false alarms (0).

    Each photo goes through :class:`fkp_classic.photo.KeypointDetector`
    without a verifier; every face's crop around its predicted keypoints
    (what the verifier will judge) is labelled by whether the face matches
    the photo's annotated face (:func:`match_faces`). Run the detector at a
    lowered ``threshold`` to collect more false alarms: ears, text, part of
    a face.

    Parameters
    ----------
    model : fitted keypoint estimator
    face_detector : detector
    photos : sequence of array-like
    squares : array-like of shape (n_photos, 4) or sequence of (n_faces, 4)
        Every annotated face's crop square per photo.
    size : int, default=CROP_SIZE
        The crops' side: the verifier's input (Kaggle's 96 by default),
        whatever the keypoint model's own crop size.
    ignored : sequence of (n_ignored, 4) arrays, optional
        Per photo, crop squares of faces the annotation leaves out: a found
        face matching one is neither a face nor a false alarm, and is left out.

    Returns
    -------
    crops : ndarray of shape (n_crops, size * size) uint8
    labels : ndarray of shape (n_crops,)
    """
    # the detector's own threshold proposes the candidates: the caller sets how low to mine; every candidate,
    # doubted by the keypoint model or not, is an example
    pipeline = KeypointDetector(model, face_detector=face_detector, verifier=None, candidate_margin=0,
                                max_point_std=None)
    crops, labels = [], []
    for i, (photo, truth) in enumerate(zip(photos, squares)):
        gray = as_gray(photo)
        faces = pipeline.detect(gray)
        if not faces:
            continue
        boxes = np.array([face.box for face in faces])
        match = match_faces(boxes, pipeline.face_detector.framing, np.asarray(truth, dtype=float).reshape(-1, 4))
        label = np.zeros(len(faces), dtype=int)
        label[match[match >= 0]] = 1
        keep = np.ones(len(faces), dtype=bool)
        if ignored is not None and len(ignored[i]):
            left_out = match_faces(boxes, pipeline.face_detector.framing, np.asarray(ignored[i], dtype=float).reshape(-1, 4))
            keep[left_out[left_out >= 0]] = label[left_out[left_out >= 0]] == 1
        points = np.array([face.points.ravel() for face in faces])[keep]
        frames = reframe(points, pipeline.mean_shape, size=pipeline.crop_size, turn=True)  # as the photo path crops
        crops.append(crop_frames(gray, frames, size=size)[0])
        labels.append(label[keep])
    if not crops:
        return np.zeros((0, size * size), dtype=np.uint8), np.zeros(0, dtype=int)
    return np.concatenate(crops), np.concatenate(labels)
