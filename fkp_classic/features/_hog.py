"""Histogram of oriented gradients for a whole batch of images at once."""

import functools
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..utils._constraints import IMAGE_SHAPE, NumberSequence
from ..utils._validation import as_images, fit_images, validate_images

__all__ = ["hog_batch", "hog_map", "HOGFeatures", "central_gradients"]

_BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")


def _normalize_blocks(blocks, method, eps=1e-5, energy=None):
    """Normalise contiguous blocks ``(..., b_row, b_col, orientations)`` over their last three axes, in place.

    ``energy``, each block's sum of squares if already known, spares the L2 norms their first pass.
    """
    axes = (-3, -2, -1)
    if method == "L1":
        blocks /= np.abs(blocks).sum(axis=axes, keepdims=True) + eps
        return blocks
    if method == "L1-sqrt":
        blocks /= np.abs(blocks).sum(axis=axes, keepdims=True) + eps
        return np.sqrt(blocks, out=blocks)
    _scale_to_unit(blocks, eps, energy)
    if method == "L2-Hys":
        np.minimum(blocks, 0.2, out=blocks)
        _scale_to_unit(blocks, eps)
    return blocks


def _scale_to_unit(blocks, eps, energy=None):
    """Divide each block (last three axes) by its L2 norm, in place."""
    if energy is None:
        energy = np.einsum("...ijk,...ijk->...", blocks, blocks)
    blocks /= np.sqrt(energy + eps**2)[..., None, None, None]


def central_gradients(images, out=None):
    """Row and column central differences of ``(n, h, w)`` images, zero on the border (as skimage's HOG).

    ``out`` may give two arrays to fill, whose borders must already be zero
    (only the inside is written: scratch arrays reused between batches keep
    their zero border).
    """
    if out is None:
        out = np.zeros_like(images), np.zeros_like(images)
    g_row, g_col = out
    np.subtract(images[:, 2:, :], images[:, :-2, :], out=g_row[:, 1:-1, :])
    np.subtract(images[:, :, 2:], images[:, :, :-2], out=g_col[:, :, 1:-1])
    return g_row, g_col


def _magnitude_and_bins(g_row, g_col, orientations):
    """Gradient magnitude and orientation bin, computed as skimage does."""
    magnitude = np.hypot(g_col, g_row)
    orientation = np.rad2deg(np.arctan2(g_row, g_col)) % 180
    # Bin i holds orientations in [180 * i / B, 180 * (i + 1) / B).
    bins = np.minimum((orientation * (orientations / 180.0)).astype(np.intp), orientations - 1)
    return magnitude, bins


@functools.lru_cache(maxsize=8)
def _gradient_tables(orientations):
    """Magnitude (float32) and bin (uint8) of every integer gradient pair in [-255, 255]^2, flattened row-major."""
    g_row, g_col = np.mgrid[-255:256, -255:256].astype(np.float64)
    magnitude, bins = _magnitude_and_bins(g_row, g_col, orientations)
    return magnitude.ravel().astype(np.float32), bins.ravel().astype(np.uint8)


def _is_8bit(images):
    """True if every pixel is an integer in 0..255 (so gradients are small integers)."""
    if images.dtype == np.uint8:
        return True
    if images.size == 0 or images.min() < 0 or images.max() > 255:
        return False
    return np.issubdtype(images.dtype, np.integer) or bool(np.all(images == np.round(images)))


def _cell_histograms(images, orientations, pixels_per_cell, transform_sqrt=False):
    """Per-cell orientation histograms ``(n, n_cells_row, n_cells_col, orientations)`` of ``(n, h, w)`` images."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be (n_images, height, width), got shape {images.shape}")
    integer_pixels = not transform_sqrt and _is_8bit(images)
    if integer_pixels:
        # Gradients are integers in [-255, 255]: int16 arithmetic, then magnitude and bin looked up.
        images = images.astype(np.int16, copy=False)
    else:
        images = images.astype(np.float64, copy=False)
    if transform_sqrt:
        if (images < 0).any():
            raise ValueError("transform_sqrt needs non-negative images")
        images = np.sqrt(images)
    n, height, width = images.shape
    c_row, c_col = pixels_per_cell
    n_cells_row, n_cells_col = height // c_row, width // c_col
    # Only the pixels inside whole cells contribute.
    h, w = n_cells_row * c_row, n_cells_col * c_col
    g_row, g_col = central_gradients(images)
    g_row, g_col = g_row[:, :h, :w], g_col[:, :h, :w]
    if integer_pixels:
        # One small table lookup per pixel (int32 indices, float32 magnitudes, uint8 bins: they stay in cache)
        table = g_row.astype(np.int32)
        table *= 511
        table += g_col
        table += 255 * 511 + 255
        magnitude_lut, bins_lut = _gradient_tables(orientations)
        magnitude, bins = magnitude_lut.take(table), bins_lut.take(table)
    else:
        magnitude, bins = _magnitude_and_bins(g_row, g_col, orientations)
    index = _cell_bin_base(h, w, c_row, c_col, orientations) + bins  # (n, h, w): the cell's first bin, plus the bin
    if n > 1:
        index += (np.arange(n, dtype=np.int32) * (n_cells_row * n_cells_col * orientations))[:, None, None]
    hist = np.bincount(index.ravel(), weights=magnitude.ravel(), minlength=n * n_cells_row * n_cells_col * orientations)
    return hist.reshape(n, n_cells_row, n_cells_col, orientations) / (c_row * c_col)


@functools.lru_cache(maxsize=32)
def _cell_bin_base(h, w, c_row, c_col, orientations):
    """Index of the first histogram bin of each pixel's cell, ``(h, w)`` int32 (kept: pyramid levels repeat)."""
    cell = (np.arange(h, dtype=np.int32)[:, None] // c_row) * (w // c_col) + (np.arange(w, dtype=np.int32)[None, :] // c_col)
    cell *= orientations
    cell.flags.writeable = False
    return cell


def _blocks(hist, cells_per_block, block_norm):
    """Normalised overlapping blocks ``(n, n_blocks_row, n_blocks_col, b_row, b_col, orientations)`` of cell histograms.

    One contiguous array in the histograms' dtype, normalised in place (a dense map of a large photo is big).
    """
    b_row, b_col = cells_per_block
    if hist.shape[1] < b_row or hist.shape[2] < b_col:
        raise ValueError(f"{hist.shape[1]}x{hist.shape[2]} cells hold no whole block of {cells_per_block} cells")
    n, rows, cols = len(hist), hist.shape[1] - b_row + 1, hist.shape[2] - b_col + 1
    blocks = np.empty((n, rows, cols, b_row, b_col, hist.shape[3]), dtype=hist.dtype)
    for i in range(b_row):
        for j in range(b_col):
            blocks[:, :, :, i, j] = hist[:, i : i + rows, j : j + cols]
    energy = None
    if block_norm in ("L2", "L2-Hys"):  # a block's sum of squares from its cells': a quarter of the work
        cells = np.einsum("...i,...i->...", hist, hist)
        energy = sum(cells[:, i : i + rows, j : j + cols] for i in range(b_row) for j in range(b_col))
    return _normalize_blocks(blocks, block_norm, energy=energy)


def _check_block_norm(block_norm):
    if block_norm not in _BLOCK_NORMS:
        raise ValueError(f"block_norm must be one of {_BLOCK_NORMS}, got {block_norm!r}")


def hog_batch(
    images,
    orientations=9,
    pixels_per_cell=(8, 8),
    cells_per_block=(2, 2),
    block_norm="L2-Hys",
    transform_sqrt=False,
):
    """HOG descriptors of a batch of grayscale images.

    Computes, for every image at once, exactly what
    :func:`skimage.feature.hog` computes for one image with the same
    settings (``feature_vector=True``): central-difference gradients (zero
    on the border rows/columns), unsigned orientations in ``[0, 180)``
    binned without interpolation, magnitude averaged per cell, then
    overlapping blocks normalised.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)
    orientations : int, default=9
        Number of orientation bins.
    pixels_per_cell : (int, int), default=(8, 8)
        Cell size (rows, columns).
    cells_per_block : (int, int), default=(2, 2)
        Block size in cells (rows, columns).
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'}, default='L2-Hys'
    transform_sqrt : bool, default=False
        Apply power-law compression (square root) before gradients.

    Returns
    -------
    features : ndarray of shape (n_images, n_features)
        Ordered like skimage: ``(block_row, block_col, cell_row, cell_col,
        orientation)``.

    Notes
    -----
    Rows and columns beyond the last whole cell are ignored, as in skimage.
    Unlike skimage, the result is float64 whatever the input type.

    References
    ----------
    .. [1] Dalal, N. and Triggs, B., "Histograms of Oriented Gradients for
           Human Detection", IEEE Conference on Computer Vision and Pattern
           Recognition (CVPR), 2005. :DOI:`10.1109/CVPR.2005.177`
    """
    _check_block_norm(block_norm)
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be (n_images, height, width), got shape {images.shape}")
    height, width = images.shape[1:]
    c_row, c_col = pixels_per_cell
    b_row, b_col = cells_per_block
    if height // c_row < b_row or width // c_col < b_col:
        raise ValueError(
            f"{height}x{width} images hold no whole block of {cells_per_block} cells of "
            f"{pixels_per_cell} pixels"
        )
    hist = _cell_histograms(images, orientations, pixels_per_cell, transform_sqrt)
    return _blocks(hist, cells_per_block, block_norm).reshape(len(images), -1)


def hog_map(image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys"):
    """Dense HOG of one image: every block at every cell position, for sliding-window detection.

    The descriptor :func:`hog_batch` gives for a window that starts at cell
    ``(r, c)`` and spans ``(R, C)`` cells is
    ``hog_map(image)[r:r + R - b_row + 1, c:c + C - b_col + 1].ravel()``,
    except on the window's own border pixels, whose gradients here see the
    pixels around the window.

    Parameters
    ----------
    image : ndarray of shape (height, width)
        Grayscale image; uint8 (or integers in 0..255) takes a fast path.
    orientations, pixels_per_cell, cells_per_block, block_norm
        As in :func:`hog_batch`.

    Returns
    -------
    blocks : ndarray of shape (n_blocks_row, n_blocks_col, b_row * b_col * orientations), float32
        Single precision: a dense map holds some 36 numbers per 16 pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.features import hog_map
    >>> hog_map(np.zeros((64, 48), dtype=np.uint8)).shape
    (7, 5, 36)
    """
    _check_block_norm(block_norm)
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be (height, width), got shape {image.shape}")
    hist = _cell_histograms(image[None], orientations, pixels_per_cell).astype(np.float32)
    blocks = _blocks(hist, cells_per_block, block_norm)[0]
    return blocks.reshape(*blocks.shape[:2], -1)


class HOGFeatures(TransformerMixin, BaseEstimator):
    """Histogram-of-oriented-gradients features of flattened face images.

    A batch version of :func:`skimage.feature.hog` (same values, see
    :func:`hog_batch`), vectorised over all images and processed in chunks
    to bound memory.

    Parameters
    ----------
    orientations : int, default=9
        Number of orientation bins.
    pixels_per_cell : (int, int), default=(8, 8)
        Cell size in pixels.
    cells_per_block : (int, int), default=(2, 2)
        Block size in cells.
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'}, default='L2-Hys'
        Block normalisation.
    transform_sqrt : bool, default=False
        Square-root (gamma) compression before gradients.
    image_shape : (int, int) or None, default=None
        ``(height, width)`` of the images; None infers a square.
    chunk_size : int, default=512
        Images processed at once.

    Attributes
    ----------
    n_features_in_ : int
        Number of pixels per image seen in ``fit``.
    image_shape_ : (int, int)
        Resolved image shape.
    n_features_out_ : int
        Length of each HOG descriptor.

    References
    ----------
    .. [1] Dalal, N. and Triggs, B., "Histograms of Oriented Gradients for
           Human Detection", IEEE Conference on Computer Vision and Pattern
           Recognition (CVPR), 2005. :DOI:`10.1109/CVPR.2005.177`

    Examples
    --------
    >>> from fkp_classic import HOGFeatures
    >>> from fkp_classic.datasets import make_faces
    >>> X, y = make_faces(4, random_state=0, return_X_y=True)
    >>> HOGFeatures().fit_transform(X).shape
    (4, 4356)
    """

    _parameter_constraints = {
        "orientations": [Interval(numbers.Integral, 1, None, closed="left")],
        "pixels_per_cell": [NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)],
        "cells_per_block": [NumberSequence(Interval(numbers.Integral, 1, None, closed="left"), length=2)],
        "block_norm": [StrOptions(set(_BLOCK_NORMS))],
        "transform_sqrt": ["boolean"],
        "image_shape": [IMAGE_SHAPE, None],
        "chunk_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(8, 8),
        cells_per_block=(2, 2),
        block_norm="L2-Hys",
        transform_sqrt=False,
        image_shape=None,
        chunk_size=512,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_norm = block_norm
        self.transform_sqrt = transform_sqrt
        self.image_shape = image_shape
        self.chunk_size = chunk_size

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the images and record their shape.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)
        y : ignored

        Returns
        -------
        self : HOGFeatures
        """
        X = fit_images(self, X, needs_y=False)
        self.n_features_out_ = hog_batch(
            np.zeros((1, *self.image_shape_)), **self._hog_params()
        ).shape[1]
        return self

    def _hog_params(self):
        return dict(
            orientations=self.orientations,
            pixels_per_cell=tuple(self.pixels_per_cell),
            cells_per_block=tuple(self.cells_per_block),
            block_norm=self.block_norm,
            transform_sqrt=self.transform_sqrt,
        )

    def transform(self, X):
        """HOG descriptor of each image.

        Parameters
        ----------
        X : array-like of shape (n_samples, height * width)

        Returns
        -------
        ndarray of shape (n_samples, ``n_features_out_``)
        """
        check_is_fitted(self, "n_features_out_")
        X = validate_images(self, X, reset=False)
        images = as_images(X, self.image_shape_)
        out = np.empty((len(images), self.n_features_out_))
        for start in range(0, len(images), self.chunk_size):
            stop = start + self.chunk_size
            out[start:stop] = hog_batch(images[start:stop], **self._hog_params())
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = self.transform_sqrt
        return tags
