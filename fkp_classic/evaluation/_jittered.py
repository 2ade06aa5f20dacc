"""Larger training sets from a small one: copies of every face under a random similarity, made chunk by chunk."""

import numpy as np
from scipy import ndimage

from ..utils._validation import resolve_image_shape

__all__ = ["JitteredFaces", "jitter_faces"]


def jitter_faces(X, y, image_shape, random_state=None, shift=3.0, zoom=0.05, turn=6.0):
    """Each face moved by its own random similarity, its keypoints alike.

    Parameters
    ----------
    X : ndarray of shape (n, height * width)
    y : ndarray of shape (n, 2K), NaN where missing
    image_shape : (int, int)
    random_state : int, sequence of int or Generator, optional
    shift : float, default=3.0
        Standard deviation of the translation, in pixels.
    zoom : float, default=0.05
        Standard deviation of the log scale.
    turn : float, default=6.0
        Standard deviation of the rotation about the image centre, in degrees.

    Returns
    -------
    X_new : ndarray of shape (n, height * width), X's dtype
        Bilinear resampling; what comes in from outside repeats the edge.
    y_new : ndarray of shape (n, 2K)
    """
    rng = np.random.default_rng(random_state)
    n = len(X)
    height, width = image_shape
    turn_scale = np.exp(rng.normal(0, zoom, n)) * np.exp(1j * np.deg2rad(rng.normal(0, turn, n)))
    move = rng.normal(0, shift, n) + 1j * rng.normal(0, shift, n)
    centre = (width - 1) / 2 + 1j * (height - 1) / 2
    # Output pixel p shows input pixel centre + (p - centre - move) / turn_scale.
    rows, cols = np.mgrid[:height, :width]
    p = (cols + 1j * rows)[None] - centre - move[:, None, None]
    source = centre + p / turn_scale[:, None, None]
    coords = np.stack([np.broadcast_to(np.arange(n)[:, None, None], source.shape), source.imag, source.real])
    images = np.asarray(X, dtype=np.float32).reshape(n, height, width)
    warped = ndimage.map_coordinates(images, coords, order=1, mode="nearest")
    if np.issubdtype(np.asarray(X).dtype, np.integer):
        warped = np.clip(np.rint(warped), 0, 255)
    points = np.asarray(y, dtype=float).reshape(n, -1, 2)
    z = points[..., 0] + 1j * points[..., 1]
    z = centre + turn_scale[:, None] * (z - centre) + move[:, None]
    return warped.reshape(n, -1).astype(np.asarray(X).dtype), np.stack([z.real, z.imag], axis=-1).reshape(n, -1)


class JitteredFaces:
    """``copies`` times the faces, as ``(X, y)`` chunks, made afresh (and alike) on every pass.

    The first copy is the faces themselves; every further copy moves each
    face by a random similarity (:func:`jitter_faces`), seeded by the copy
    and chunk, so a pass over the chunks gives the same faces every time:
    a training source for :meth:`fkp_classic.CascadeRegressor.fit_chunked`
    far larger than memory needs to hold.

    Parameters
    ----------
    X : ndarray of shape (n, height * width)
    y : ndarray of shape (n, 2K)
    copies : int
    chunk_size : int, default=500
    image_shape : (int, int) or None, default=None
        None: square images of ``X``'s width (96x96 for Kaggle's 9216 pixels).
    random_state : int, default=0
    """

    def __init__(self, X, y, copies, chunk_size=500, image_shape=None, random_state=0):
        self.X, self.y = X, y
        self.copies, self.chunk_size, self.random_state = copies, chunk_size, random_state
        self.image_shape = resolve_image_shape(np.shape(X)[1], image_shape)

    def __len__(self):
        return self.copies * len(self.X)

    def __iter__(self):
        for copy in range(self.copies):
            for chunk, first in enumerate(range(0, len(self.X), self.chunk_size)):
                X, y = self.X[first : first + self.chunk_size], self.y[first : first + self.chunk_size]
                if copy:
                    X, y = jitter_faces(X, y, self.image_shape, (self.random_state, copy, chunk))
                yield X, y
