"""Overlap of face boxes ``(x, y, w, h)`` and non-maximum suppression."""

import numpy as np

__all__ = ["box_overlaps", "non_max_suppression", "held_back", "FRONT", "DROPPED"]


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


FRONT = -1
""":func:`held_back`'s mark of a box that suppression keeps."""

DROPPED = -2
""":func:`held_back`'s mark of a box that suppression drops for good (it repeats a better one)."""


def non_max_suppression(boxes, scores, overlap=0.3, cover=0.7):
    """Indices of the boxes kept, best first: each box drops every lower-scoring box it overlaps.

    Two boxes overlap when their intersection over union exceeds
    ``overlap`` or their intersection covers more than ``cover`` of the
    smaller one (a window on part of a face inside the face's window).
    """
    order, repeats, inside = _clashes(boxes, scores, overlap, cover)
    return order[_kept(repeats, inside)]


def held_back(boxes, scores, overlap=0.3, cover=0.7):
    """What :func:`non_max_suppression` does with each box, keeping the boxes it drops only for lying inside a
    better one: a second look's candidates.

    A face whose window lies inside a larger, better-scored false window is
    dropped by suppression; held back, the photo path looks at it when the
    larger one proves no face. Boxes that overlap a kept box by more than
    ``overlap`` (intersection over union) repeat it and are dropped; a held
    box overlapping a better held box so repeats it, and is dropped alike.

    Returns
    -------
    behind : ndarray of shape (n_boxes,)
        For each box, :data:`FRONT` (-1) if suppression keeps it, the
        index of the kept box it is held back behind, or :data:`DROPPED`
        (-2).
    """
    order, repeats, inside = _clashes(boxes, scores, overlap, cover)
    front = np.zeros(len(order), dtype=bool)
    front[_kept(repeats, inside)] = True
    # dropped only for lying inside a kept box: held behind the first (best) kept box that holds it
    held = ~front & ~repeats[front].any(axis=0) & inside[front].any(axis=0)
    for i in np.flatnonzero(held):  # of held boxes repeating each other, the best stays
        if held[i]:
            held[i + 1:] &= ~repeats[i, i + 1:]
    behind = np.full(len(order), DROPPED, dtype=np.intp)
    behind[front] = FRONT
    if held.any():
        behind[held] = order[np.flatnonzero(front)[np.argmax(inside[front][:, held], axis=0)]]
    out = np.empty(len(order), dtype=np.intp)
    out[order] = behind
    return out


def _clashes(boxes, scores, overlap, cover):
    """The boxes' order, best scored first, and which pairs (in that order) repeat each other (intersection over
    union above ``overlap``) and which lie inside the other (above ``cover`` of the smaller one)."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    order = np.argsort(-np.asarray(scores), kind="stable")
    iou, covered = box_overlaps(boxes[order], boxes[order])
    return order, iou > overlap, covered > cover


def _kept(repeats, inside):
    """Positions (in the best-first order) of the boxes suppression keeps: each drops the later boxes it clashes with."""
    alive = np.ones(len(repeats), dtype=bool)
    kept = []
    for i in range(len(repeats)):  # one pass per kept box, not per box
        if alive[i]:
            kept.append(i)
            alive &= ~(repeats[i] | inside[i])
    return np.array(kept, dtype=np.intp)
