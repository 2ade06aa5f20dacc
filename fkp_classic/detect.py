"""Keypoints on photos of any size: LBP face detection, crop framing, prediction, mapping back."""

import numpy as np
from skimage import color, data
from skimage.feature import Cascade
from skimage.transform import resize

from .keypoints import KAGGLE_NAMES

__all__ = ["FRAMING", "detect_faces", "crop_faces", "detect_keypoints", "paste_faces", "fit_framing", "framed_mean_offset", "nearest_box", "pasted_face_errors", "crop_frames", "reframe", "MEAN_SHAPE"]

FRAMING = (1.1473, 0.0091, 0.0145)
"""Box-to-crop transform ``(scale, dx, dy)``: the 96x96 crop of a detection ``(x, y, w, h)`` is the
square of side ``scale * w`` centred at ``(x + w/2 + dx*w, y + h/2 + dy*w)``. Fitted once by
``benchmarks/fit_framing.py`` so that detector-framed faces96 crops match the training crops."""

_CROP = 96
_DETECTOR = None

MEAN_SHAPE = np.array([65.05, 38.19, 30.65, 38.44, 58.27, 38.52, 71.46, 37.87, 37.31, 38.7, 24.2, 38.15, 57.7, 27.02,
                       78.59, 29.16, 37.73, 27.22, 16.31, 29.57, 48.86, 58.82, 62.26, 76.36, 34.37, 76.59, 48.8, 72.25,
                       48.95, 83.61])
"""Mean Kaggle keypoints of the faces96 training crops (x1, y1, ...), the framing :func:`reframe` aims at."""


def _detector():
    global _DETECTOR
    if _DETECTOR is None:
        _DETECTOR = Cascade(data.lbp_frontal_face_cascade_filename())
    return _DETECTOR


def _gray(image):
    """Float grayscale in [0, 1] from a uint8/float, gray/RGB/RGBA photo."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if image.ndim == 3 and image.shape[-1] == 3:
        image = color.rgb2gray(image)
    elif image.ndim != 2:
        raise ValueError(f"expected a grayscale (h, w) or RGB (h, w, 3) photo, got shape {image.shape}")
    image = image.astype(np.float64)
    if image.max(initial=0) > 1.0:
        image = image / 255.0
    return image


def detect_faces(image, min_size=40, scale_factor=1.1, min_neighbors=4, min_relative_size=0.75, mirror_check=True):
    """Frontal faces found by scikit-image's LBP cascade.

    Overlapping detections are merged, and detections narrower than
    ``min_relative_size`` times the widest are dropped: the LBP cascade's
    false alarms (badges, helmets) are mostly much smaller than the real
    faces of a photo. Set it to 0 to keep every detection.

    Parameters
    ----------
    image : ndarray
        Grayscale (h, w) or RGB(A) (h, w, 3 or 4) photo, uint8 or float in [0, 1].
    min_size : int, default=40
        Smallest face side searched, in photo pixels.
    scale_factor : float, default=1.1
        Ratio between successive window sizes. Coarser steps (1.2) miss
        more faces: the cascade then fires on a part of the face instead.
    min_neighbors : int, default=4
        Detections a window needs around it to count.
    min_relative_size : float, default=0.75
        Drop detections narrower than this fraction of the widest.
    mirror_check : bool, default=True
        Keep only the faces also found in the mirrored photo, with the mean
        of the two boxes. The cascade is not symmetric, so its false alarms
        on part of a face (the forehead, one eye and cheek) rarely survive
        the mirror, and averaging halves the box's jitter; it costs a second
        detection pass and drops about 5-10% of hard faces.

    Returns
    -------
    boxes : ndarray of shape (n_faces, 4)
        ``(x, y, width, height)`` in photo pixels, largest first.
    """
    gray = _gray(image)
    if min(gray.shape) < min_size:
        return np.zeros((0, 4))
    boxes = _cascade_boxes(gray, min_size, scale_factor, min_neighbors)
    if mirror_check and len(boxes):
        mirrored = _cascade_boxes(gray[:, ::-1], min_size, scale_factor, min_neighbors)
        mirrored[:, 0] = gray.shape[1] - mirrored[:, 0] - mirrored[:, 2]
        boxes = _confirmed(boxes, mirrored)
    if len(boxes):
        boxes = boxes[boxes[:, 2] >= min_relative_size * boxes[:, 2].max()]
    return boxes


def _cascade_boxes(gray, min_size, scale_factor, min_neighbors):
    """Merged LBP cascade detections ``(x, y, w, h)``, largest first."""
    side = min(gray.shape)
    found = _detector().detect_multi_scale(
        img=np.ascontiguousarray(gray), scale_factor=scale_factor, step_ratio=1, min_size=(min_size, min_size),
        max_size=(side, side), min_neighbor_number=min_neighbors,
    )
    return _merge(np.array([[d["c"], d["r"], d["width"], d["height"]] for d in found], dtype=float).reshape(-1, 4))


def _confirmed(boxes, others, min_overlap=0.4):
    """Mean of each box and its best-overlapping box in ``others``; boxes without one (IoU below ``min_overlap``) go."""
    if len(others) == 0:
        return np.zeros((0, 4))
    low = np.maximum(boxes[:, None, :2], others[None, :, :2])
    high = np.minimum(boxes[:, None, :2] + boxes[:, None, 2:], others[None, :, :2] + others[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=2)
    union = np.prod(boxes[:, 2:], axis=1)[:, None] + np.prod(others[:, 2:], axis=1)[None, :] - inter
    iou = inter / union
    best = iou.argmax(axis=1)
    keep = iou[np.arange(len(boxes)), best] >= min_overlap
    mean = (boxes[keep] + others[best[keep]]) / 2
    return mean[np.argsort(-mean[:, 2], kind="stable")]


def _merge(boxes):
    """Keep the largest of each group of boxes whose centres fall inside one another."""
    boxes = boxes[np.argsort(-boxes[:, 2])]
    kept = []
    for box in boxes:
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k in kept):
            kept.append(box)
    return np.array(kept).reshape(-1, 4)


def crop_faces(image, boxes, framing=FRAMING):
    """Cut the 96x96 crop framed by each detection box.

    Returns
    -------
    crops : ndarray of shape (n_faces, 9216) uint8
    frames : ndarray of shape (n_faces, 3)
        ``(x0, y0, side)`` of each crop in photo pixels.
    """
    scale, dx, dy = framing
    x, y, w, h = np.asarray(boxes, dtype=float).reshape(-1, 4).T
    side = scale * w
    frames = np.stack([x + w / 2 + dx * w - side / 2, y + h / 2 + dy * w - side / 2, side], axis=1)
    return crop_frames(image, frames)


def crop_frames(image, frames):
    """Resample the square ``(x0, y0, side)`` photo regions to 96x96 uint8 crops.

    Returns the crops ``(n, 9216)`` and the frames rounded to whole pixels.
    """
    frames = np.asarray(frames, dtype=float).reshape(-1, 3)
    sides = np.maximum(np.round(frames[:, 2]).astype(int), 8)
    pad = int(sides.max(initial=0)) + 1  # crops reaching past the photo edge repeat its border
    padded = np.pad(_gray(image), pad, mode="edge")  # once for all the frames
    crops, out = [], []
    for (x0, y0, _), n in zip(frames, sides):
        n = int(n)
        c0, r0 = int(round(x0)), int(round(y0))
        region = padded[r0 + pad : r0 + pad + n, c0 + pad : c0 + pad + n]
        crop = resize(region, (_CROP, _CROP), anti_aliasing=n > _CROP, preserve_range=True)
        crops.append(np.clip(np.round(crop * 255), 0, 255).astype(np.uint8).ravel())
        out.append((c0, r0, n))
    return np.array(crops, dtype=np.uint8).reshape(-1, _CROP * _CROP), np.array(out, dtype=float).reshape(-1, 3)


def reframe(points, mean_shape=MEAN_SHAPE):
    """Crop frames that put predicted photo keypoints where the training crops have them.

    The frame's scale matches the points' spread (RMS distance to their
    centroid) to the mean shape's, and its position matches the centroids:
    a second crop made this way is framed like the training faces whatever
    the detector's box did.

    Parameters
    ----------
    points : ndarray of shape (n_faces, 2K)
        Keypoints in photo pixels.
    mean_shape : ndarray of shape (2K,)
        Mean keypoints of the training crops.

    Returns
    -------
    frames : ndarray of shape (n_faces, 3)
    """
    pts = points.reshape(len(points), -1, 2)
    mean = np.asarray(mean_shape, dtype=float).reshape(-1, 2)
    centre, mean_centre = pts.mean(axis=1), mean.mean(axis=0)
    spread = np.sqrt(((pts - centre[:, None]) ** 2).sum(axis=2).mean(axis=1))
    mean_spread = np.sqrt(((mean - mean_centre) ** 2).sum(axis=1).mean())
    side = _CROP * spread / mean_spread
    corner = centre - (mean_centre + 0.5) * (side / _CROP)[:, None] + 0.5
    return np.c_[corner, side]


def _predict_photo(image, model, boxes, reframe_passes):
    """Keypoints in photo pixels for detection boxes, re-cropping around them ``reframe_passes`` times."""
    crops, frames = crop_faces(image, boxes)
    points = _to_photo(model.predict(crops), frames)
    for _ in range(reframe_passes):
        crops, frames = crop_frames(image, reframe(points))
        points = _to_photo(model.predict(crops), frames)
    return points


def _to_photo(points, frames):
    """Map crop keypoints (n, 2K) back to photo pixels."""
    pts = points.reshape(len(points), -1, 2)
    scale = frames[:, 2] / _CROP
    out = frames[:, None, :2] + (pts + 0.5) * scale[:, None, None] - 0.5
    return out.reshape(len(points), -1)


def _framing_scores(image, points, verifier):
    """Log-odds that the crops framed around photo keypoints look like training crops."""
    crops, _ = crop_frames(image, reframe(points))
    return verifier.decision_function(crops)


def detect_keypoints(image, model=None, min_size=40, reframe_passes=2, verifier="default", min_score=0.0):
    """Find faces in a photo and their 15 keypoints.

    Parameters
    ----------
    image : ndarray of shape (h, w) or (h, w, 3)
        Grayscale or RGB photo of any size, uint8 or float in [0, 1].
    model : fitted estimator, optional
        Predicts 30 Kaggle coordinates from 96x96 crops; defaults to
        :func:`fkp_classic.load_default_model`.
    min_size : int, default=40
        Smallest face searched for, in pixels.
    reframe_passes : int, default=2
        Times to re-crop each face around its predicted keypoints
        (:func:`reframe`) and predict again, which removes most of the
        detector box's jitter.
    verifier : classifier, "default" or None, default="default"
        Scores the crop framed around each face's keypoints
        (:mod:`fkp_classic.verify`); faces scoring below ``min_score`` are
        dropped, which removes the detector's false alarms on part of a
        face. "default" loads the packaged one; None keeps every face.
    min_score : float, default=0.0
        Lowest log-odds of a well-framed crop that is kept.

    Returns
    -------
    faces : list of dict
        One per face, largest first: ``box`` ``(x, y, width, height)`` and
        ``keypoints``, a dict of name -> ``(x, y)`` in photo pixels.

    Examples
    --------
    >>> from skimage import data
    >>> from fkp_classic.detect import detect_keypoints
    >>> faces = detect_keypoints(data.astronaut())
    >>> len(faces), sorted(faces[0])
    (1, ['box', 'keypoints'])
    """
    if model is None:
        from .persistence import load_default_model

        model = load_default_model()
    image = _gray(image)  # once: detection, every crop and the verifier read the same gray photo
    if isinstance(verifier, str) and verifier == "default":
        from .persistence import load_default_verifier

        verifier = load_default_verifier()
    boxes = detect_faces(image, min_size=min_size)
    if len(boxes) == 0:
        return []
    points = _predict_photo(image, model, boxes, reframe_passes)
    if verifier is not None:
        keep = _framing_scores(image, points, verifier) >= min_score
        boxes, points = boxes[keep], points[keep]
    return [
        {
            "box": tuple(float(v) for v in box),
            "keypoints": {name: (float(p[2 * k]), float(p[2 * k + 1])) for k, name in enumerate(KAGGLE_NAMES)},
        }
        for box, p in zip(boxes, points)
    ]


def paste_faces(images, random_state=0, scale_range=(1.5, 3.0), canvas=360):
    """Paste 96x96 faces, upscaled at random, at random places of larger canvases.

    The canvas around each face is its own border reflected, so the
    detector sees a face in context. Returns the canvases (list of float
    arrays in [0, 1]) and each face's crop frame ``(x0, y0, side)``.
    """
    rng = np.random.default_rng(random_state)
    canvases, frames = [], []
    for image in np.asarray(images).reshape(-1, _CROP, _CROP):
        side = int(round(_CROP * rng.uniform(*scale_range)))
        face = resize(image / 255.0, (side, side), preserve_range=True)
        x0, y0 = rng.integers(0, canvas - side + 1, size=2)
        big = np.pad(face, ((y0, canvas - side - y0), (x0, canvas - side - x0)), mode="symmetric")
        canvases.append(big)
        frames.append((x0, y0, side))
    return canvases, np.array(frames, dtype=float)


def _framed_points(boxes, points, framing):
    """Photo keypoints (n, K, 2) in the 96x96 crop framed by each box (n, 4)."""
    scale, dx, dy = framing
    x, y, w, h = boxes.T
    side = scale * w
    x0 = x + w / 2 + dx * w - side / 2
    y0 = y + h / 2 + dy * w - side / 2
    corner = np.stack([x0, y0], axis=1)[:, None, :]
    return (points - corner + 0.5) * (_CROP / side)[:, None, None] - 0.5


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


def fit_framing(images, target, random_state=0):
    """Fit :data:`FRAMING` so that detector-framed crops match the training crops.

    Each face is pasted into a canvas (:func:`paste_faces`) and the detector
    runs; the transform ``(scale, dx, dy)`` is chosen by least squares so
    that the mean keypoints of the detector-framed crops equal the mean of
    ``target`` (the faces' keypoints in their own 96x96 crops).

    Returns
    -------
    framing : (float, float, float)
    n_detected : int
    """
    from scipy.optimize import least_squares

    canvases, frames = paste_faces(images, random_state)
    boxes, points = [], []
    for canvas, frame, y in zip(canvases, frames, np.asarray(target)):
        x0, y0, side = frame
        found = nearest_box(detect_faces(canvas), frame)
        if found is None:
            continue
        boxes.append(found)
        points.append(np.c_[x0, y0] + (y.reshape(-1, 2) + 0.5) * side / _CROP - 0.5)
    boxes, points = np.array(boxes), np.array(points)
    goal = np.asarray(target).reshape(len(target), -1, 2).mean(axis=0)
    fit = least_squares(lambda f: (_framed_points(boxes, points, f).mean(axis=0) - goal).ravel(), x0=(1.2, 0.0, 0.0))
    return tuple(float(v) for v in fit.x), len(boxes)


def framed_mean_offset(images, target, framing=FRAMING, random_state=1):
    """Mean keypoints of detector-framed crops minus the mean of ``target`` (px, per coordinate).

    Returns the offsets (2K,) and the number of faces the detector found.
    """
    canvases, frames = paste_faces(images, random_state)
    mapped = []
    for canvas, frame, y in zip(canvases, frames, np.asarray(target)):
        x0, y0, side = frame
        found = nearest_box(detect_faces(canvas), frame)
        if found is None:
            continue
        photo = np.c_[x0, y0] + (y.reshape(-1, 2) + 0.5) * side / _CROP - 0.5
        mapped.append(_framed_points(found[None], photo[None], framing)[0].ravel())
    return np.mean(mapped, axis=0) - np.asarray(target).mean(axis=0), len(mapped)


def pasted_face_errors(images, target, model, random_state=3, reframe_passes=2, verifier=None, min_score=0.0, mirror_check=True):
    """RMSE of the photo pipeline on pasted faces against predicting their crops directly.

    Each face is pasted into a canvas (:func:`paste_faces`); the pipeline
    (detect, frame, crop, predict, map back) runs on the canvas, and its
    keypoints are scored in the face's own 96x96 frame. With a ``verifier``,
    faces whose final crop scores below ``min_score`` count as not found,
    as :func:`detect_keypoints` drops them; ``mirror_check`` goes to
    :func:`detect_faces`.

    Returns
    -------
    photo_rmse, direct_rmse : float
        Over the faces the detector found.
    n_detected : int
    """
    from .metrics import rmse

    target = np.asarray(target)
    canvases, frames = paste_faces(images, random_state)
    photo, found_rows = [], []
    for row, (canvas, frame) in enumerate(zip(canvases, frames)):
        box = nearest_box(detect_faces(canvas, mirror_check=mirror_check), frame)
        if box is None:
            continue
        points = _predict_photo(canvas, model, box[None], reframe_passes)
        if verifier is not None and _framing_scores(canvas, points, verifier)[0] < min_score:
            continue
        points = points[0].reshape(-1, 2)
        x0, y0, side = frame
        photo.append(((points - (x0, y0) + 0.5) * _CROP / side - 0.5).ravel())
        found_rows.append(row)
    rows = np.array(found_rows)
    direct = model.predict(np.asarray(images)[rows])
    return rmse(target[rows], np.array(photo)), rmse(target[rows], direct), len(rows)
