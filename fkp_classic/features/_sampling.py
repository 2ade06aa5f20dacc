"""Bilinear sampling of image patches around many points in many images at once."""

import numpy as np

__all__ = ["sample_patches", "normalize_patches"]


def sample_patches(images, centers, size, spacing=1.0):
    """Sample square patches centred on sub-pixel points, bilinearly.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)
    centers : ndarray of shape (n_images, n_points, 2)
        ``(x, y)`` patch centres in pixels (x = column, y = row).
    size : int
        Patch side in samples.
    spacing : float or ndarray of shape (n_images,), default=1.0
        Distance in pixels between neighbouring samples (>1 samples a wider
        area more coarsely; one value per image allows per-face scale).

    Returns
    -------
    patches : ndarray of shape (n_images, n_points, size, size)
        Samples outside the image take the value of the nearest edge pixel.
    """
    images = np.asarray(images, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    n, height, width = images.shape
    offsets = (np.arange(size) - (size - 1) / 2.0)
    spacing = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (n,))[:, None, None]
    # Sample coordinates: (n, points, size) for x (columns) and y (rows).
    xs = centers[:, :, 0, None] + spacing * offsets
    ys = centers[:, :, 1, None] + spacing * offsets
    xs = np.clip(xs, 0, width - 1)
    ys = np.clip(ys, 0, height - 1)
    x0 = np.minimum(np.floor(xs).astype(np.intp), width - 2)
    y0 = np.minimum(np.floor(ys).astype(np.intp), height - 2)
    fx = (xs - x0)[:, :, None, :]
    fy = (ys - y0)[:, :, :, None]
    flat = images.reshape(n, -1)
    base = (y0[:, :, :, None] * width + x0[:, :, None, :]).reshape(n, -1)
    take = lambda offset: np.take_along_axis(flat, base + offset, axis=1).reshape(fx.shape[:2] + (size, size))  # noqa: E731
    top = take(0) * (1 - fx) + take(1) * fx
    bottom = take(width) * (1 - fx) + take(width + 1) * fx
    return top * (1 - fy) + bottom * fy


def normalize_patches(patches, eps=1e-8):
    """Zero-mean, unit-norm each patch over its last two axes (for correlation)."""
    centred = patches - patches.mean(axis=(-2, -1), keepdims=True)
    norm = np.sqrt((centred**2).sum(axis=(-2, -1), keepdims=True))
    return centred / (norm + eps)
