"""Overlap of face boxes ``(x, y, w, h)`` and non-maximum suppression."""

import numpy as np

__all__ = ["box_overlaps", "non_max_suppression"]


def box_overlaps(boxes, others):
    """Intersection over union, and intersection over the smaller box, of every pair ``(x, y, w, h)``.

    Returns
    -------
    iou, cover : ndarray of shape (len(boxes), len(others))
    """
    boxes, others = np.asarray(boxes, dtype=float).reshape(-1, 4), np.asarray(others, dtype=float).reshape(-1, 4)
    low = np.maximum(boxes[:, None, :2], others[None, :, :2])
    high = np.minimum(boxes[:, None, :2] + boxes[:, None, 2:], others[None, :, :2] + others[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=2)
    area, other_area = np.prod(boxes[:, 2:], axis=1)[:, None], np.prod(others[:, 2:], axis=1)[None, :]
    return inter / (area + other_area - inter), inter / np.minimum(area, other_area)


def non_max_suppression(boxes, scores, overlap=0.3, cover=0.7):
    """Indices of the boxes kept, best first: each box drops every lower-scoring box it overlaps.

    Two boxes overlap when their intersection over union exceeds
    ``overlap`` or their intersection covers more than ``cover`` of the
    smaller one (a window on part of a face inside the face's window).
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    iou, covered = box_overlaps(boxes[order], boxes[order])
    clash = (iou > overlap) | (covered > cover)
    alive = np.ones(len(order), dtype=bool)
    kept = []
    for i in range(len(order)):  # one pass per kept face, not per window
        if alive[i]:
            kept.append(order[i])
            alive &= ~clash[i]
    return np.array(kept, dtype=np.intp)


def covered_by(boxes, scores, cover=0.7):
    """For each box, the better box it lies inside (-1 for none): a second look's candidates.

    Boxes are taken best first; a box whose intersection with a better box
    not itself held back covers more than ``cover`` of its area is held back
    behind it, as :func:`non_max_suppression` would drop it. A face whose
    window lies inside a larger, better-scored false window is held back,
    not lost: the photo path looks at it when the larger one proves no face.

    Returns
    -------
    covering : ndarray of shape (n_boxes,)
        Index of the box each is held back behind, or -1.
    """
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores), kind="stable")
    _, covered = box_overlaps(boxes[order], boxes[order])
    behind = np.full(len(order), -1, dtype=np.intp)
    for i in range(len(order)):  # one pass per box kept in front
        if behind[i] < 0:
            inside = (covered[i] > cover) & (behind < 0)
            inside[: i + 1] = False
            behind[inside] = order[i]
    out = np.empty(len(order), dtype=np.intp)
    out[order] = behind
    return out
