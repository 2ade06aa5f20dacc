"""Shape-indexed descriptors: what a cascade stage reads around the current keypoints, in their shape's frame."""

import numpy as np

from ..features._descriptors import local_descriptors, orientation_integrals
from ..utils._shape_geometry import similarity
from ..utils._validation import as_images

__all__ = []


def face_integrals(X, image_shape, n_bins, pool, intensity, out=None):
    """One integral image of gradient orientations per face of ``X`` (n, height * width).

    Numeric pixels go straight into the float32 scratch of the integrals,
    without a float64 copy.
    """
    if np.issubdtype(X.dtype, np.number):
        images = X.reshape(len(X), *image_shape)
    else:
        images = as_images(X, image_shape)
    return orientation_integrals(images, n_bins, pool, intensity, block=16, out=out)


class ShapeIndexedDescriptors:
    """Descriptors of shapes in their own frame: cells scaled and turned with the similarity to ``mean_shape``.

    Parameters
    ----------
    mean_shape : ndarray of shape (K, 2)
        The reference frame: a shape of its size, upright, is read at
        ``cell_sizes``.
    cell_sizes : sequence of float
        Cell side per stage.
    grid, pool, intensity
        As :func:`~fkp_classic.features._descriptors.local_descriptors`.
    """

    def __init__(self, mean_shape, cell_sizes, grid, pool, intensity):
        self.mean_shape = mean_shape
        self.cell_sizes = cell_sizes
        self.grid = grid
        self.pool = pool
        self.intensity = intensity

    def describe(self, integrals, shapes, stage, work=None):
        """Descriptors of ``shapes`` (n, K, 2) in their own frame (n, d), and that frame (n,) complex."""
        frame = similarity(shapes, self.mean_shape)
        F = local_descriptors(
            integrals, shapes, self.cell_sizes[stage], np.abs(frame), np.angle(frame),
            self.grid, self.pool, work, self.intensity,
        )
        return F.reshape(len(shapes), -1), frame

    def describe_starts(self, integrals, shapes, stage):
        """Descriptors of every start's shapes (starts, n, K, 2), start after start, in one array; and their
        frames (rows, 1)."""
        F, frames = None, []
        for i, start in enumerate(shapes):
            part, frame = self.describe(integrals, start, stage)
            if F is None:  # written in place: no second copy of the stage's largest array
                F = np.empty((len(shapes) * len(part), part.shape[1]), part.dtype)
            F[i * len(part) : (i + 1) * len(part)] = part
            frames.append(frame)
        return F, np.concatenate(frames)[:, None]
