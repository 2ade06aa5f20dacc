"""Faces pasted into larger canvases: a photo-path test bed with exactly known keypoints."""

import numpy as np
from skimage.transform import resize

from ..photo import CROP_SIZE, KeypointDetector, LBPFaceDetector, to_crop

__all__ = ["paste_faces", "nearest_box", "pasted_face_errors"]


def paste_faces(images, random_state=0, scale_range=(1.5, 3.0), canvas=360):
    """Paste 96x96 faces, upscaled at random, at random places of larger canvases.

    The canvas around each face is its own border reflected, so the
    detector sees a face in context.

    Returns
    -------
    canvases : list of ndarray of shape (canvas, canvas)
        Float grayscale in [0, 1].
    frames : ndarray of shape (n_faces, 3)
        Each face's crop frame ``(x0, y0, side)`` in its canvas.
    """
    rng = np.random.default_rng(random_state)
    canvases, frames = [], []
    for image in np.asarray(images).reshape(-1, CROP_SIZE, CROP_SIZE):
        side = int(round(CROP_SIZE * rng.uniform(*scale_range)))
        face = resize(image / 255.0, (side, side), preserve_range=True)
        x0, y0 = rng.integers(0, canvas - side + 1, size=2)
        big = np.pad(face, ((y0, canvas - side - y0), (x0, canvas - side - x0)), mode="symmetric")
        canvases.append(big)
        frames.append((x0, y0, side))
    return canvases, np.array(frames, dtype=float)


def nearest_box(boxes, frame):
    """The box whose centre is nearest the centre of ``frame`` ``(x0, y0, side)``, if within it.

    The canvases of :func:`paste_faces` mirror the face around its border,
    so mirrored copies may be detected too: only the one on the pasted face counts.
    """
    if len(boxes) == 0:
        return None
    x0, y0, side = frame
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    dist = np.hypot(*(centres - (x0 + side / 2, y0 + side / 2)).T)
    best = int(np.argmin(dist))
    return boxes[best] if dist[best] < side / 2 else None


def pasted_face_errors(images, target, model, random_state=3, reframe_passes=2, verifier=None, min_score=0.0, mirror_check=True,
                       face_detector=None):
    """RMSE of the photo pipeline on pasted faces against predicting their crops directly.

    Each face is pasted into a canvas (:func:`paste_faces`); the pipeline
    (:class:`fkp_classic.photo.KeypointDetector` with the LBP detector:
    detect, frame, crop, predict, map back) runs on the canvas, and its
    keypoints are scored in the face's own 96x96 frame. With a
    ``verifier``, faces whose final crop scores below ``min_score`` count as
    not found; ``mirror_check`` goes to :class:`LBPFaceDetector`, the
    detector unless ``face_detector`` names another (one with ``framing``;
    an ``LBPFaceDetector(min_size=...)`` above the smallest pasted face
    skips the scales no face has).

    Returns
    -------
    photo_rmse, direct_rmse : float
        Over the faces the detector found.
    n_detected : int
    """
    from ..metrics import rmse

    target = np.asarray(target)
    if face_detector is None:
        face_detector = LBPFaceDetector(mirror_check=mirror_check)
    pipeline = KeypointDetector(model, face_detector=face_detector, verifier=verifier, min_score=min_score,
                                reframe_passes=reframe_passes)
    canvases, frames = paste_faces(images, random_state)
    photo, found_rows = [], []
    for row, (canvas, frame) in enumerate(zip(canvases, frames)):
        box = nearest_box(face_detector(canvas), frame)
        faces = [] if box is None else pipeline.from_boxes(canvas, box[None])
        if faces:
            photo.append(to_crop(faces[0].points.reshape(1, -1), frame[None])[0])
            found_rows.append(row)
    rows = np.array(found_rows)
    direct = model.predict(np.asarray(images)[rows])
    return rmse(target[rows], np.array(photo)), rmse(target[rows], direct), len(rows)
