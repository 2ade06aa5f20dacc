"""Photos as the float grayscale the photo path works on, converted once per photo by dtype."""

import numpy as np
from skimage import color

__all__ = ["as_gray", "as_gray8", "as_rgb8"]

_INTEGER_RANGES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


def _checked(image, name):
    """The photo without alpha, as (h, w) or (h, w, 3) of dtype uint8, uint16 or float in [0, 1].

    Raises ValueError, naming the photo, for another shape, a non-numeric
    dtype or values outside the dtype's range.
    """
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * np.uint8(255)
    if not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise ValueError(f"{name}: pixels must be numbers, got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[-1] in (2, 4):
        image = image[..., :-1]  # drop alpha
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[-1] in (1, 3))):
        raise ValueError(f"{name}: expected a gray (h, w) or RGB(A) (h, w, 3 or 4) photo, got shape {image.shape}")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if min(image.shape[:2]) == 0:
        raise ValueError(f"{name}: the photo is empty (shape {image.shape})")
    if np.issubdtype(image.dtype, np.integer) and image.dtype not in _INTEGER_RANGES:
        if image.min() < 0 or image.max() > 255:
            raise ValueError(f"{name}: integer pixels of dtype {image.dtype} must lie in 0..255 (or use uint16)")
        image = image.astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        if not np.isfinite(image).all():
            raise ValueError(f"{name}: the photo has NaN or infinite pixels")
        low, high = image.min(), image.max()
        if low < 0 or high > 1:
            raise ValueError(
                f"{name}: float pixels must lie in [0, 1], got {low:g}..{high:g} (divide 8-bit values by 255)"
            )
    return image


def as_gray(image, name="photo"):
    """Float64 grayscale in [0, 1] of a gray, gray+alpha, RGB or RGBA photo.

    The scale comes from the dtype, never from the pixel values: uint8 is
    divided by 255, uint16 by 65535; other integer arrays must hold 0..255
    and floats must lie in [0, 1]. An alpha channel is dropped.

    Parameters
    ----------
    image : array-like of shape (h, w), (h, w, 2), (h, w, 3) or (h, w, 4)
    name : str, default="photo"
        Names the photo in error messages (e.g. its path).

    Returns
    -------
    gray : ndarray of shape (h, w), float64

    Raises
    ------
    ValueError
        For another shape, a non-numeric dtype or values outside the dtype's range.
    """
    image = _checked(image, name)
    if image.ndim == 3:
        return color.rgb2gray(image)  # scales integers by their dtype's range
    if image.dtype in _INTEGER_RANGES:
        return image.astype(np.float64) / _INTEGER_RANGES[image.dtype]
    return image.astype(np.float64)


_RGB_WEIGHTS = np.array([0.2125, 0.7154, 0.0721], dtype=np.float32)  # skimage.color.rgb2gray's


def as_gray8(image, name="photo", rows=512):
    """8-bit grayscale of a photo, converted ``rows`` rows at a time: one byte per pixel, for photos of any size.

    The same conversion as :func:`as_gray` (by dtype, alpha dropped), rounded
    to 0..255 (in float32: a pixel may round one level away from
    ``round(as_gray(image) * 255)``), without a full-size floating-point
    copy: a 100-megapixel photo needs 100 MB here against 800 MB (and 2.4
    GB in passing) there. The library's one 8-bit conversion: the photo
    path, the HOG face detector and the face-free backgrounds all use it.

    Returns
    -------
    gray : ndarray of shape (h, w), uint8
    """
    image = _checked(image, name)
    if image.dtype == np.uint8 and image.ndim == 2:
        return image
    scale = 255.0 / _INTEGER_RANGES.get(image.dtype, 1.0)
    out = np.empty(image.shape[:2], dtype=np.uint8)
    for top in range(0, len(image), rows):
        block = image[top:top + rows].astype(np.float32)
        if block.ndim == 3:
            block = block @ _RGB_WEIGHTS
        out[top:top + rows] = np.clip(np.rint(block * np.float32(scale)), 0, 255)
    return out


def as_rgb8(image, name="photo"):
    """The photo as 8-bit RGB ``(h, w, 3)``, for drawing on; scaled by dtype and checked as :func:`as_gray` is."""
    image = _checked(image, name)
    if image.dtype != np.uint8:
        scale = _INTEGER_RANGES.get(image.dtype, 1.0)
        image = np.clip(np.round(image / scale * 255), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2))
