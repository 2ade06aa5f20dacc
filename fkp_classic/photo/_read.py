"""Reading photo files: one loader for the command line and the API, whatever Pillow can open."""

import io
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._deprecation import keyword_only_after
from ..utils._stdin import piped_stdin

__all__ = ["PhotoError", "read_photo", "MAX_PIXELS"]

MAX_PIXELS = 200_000_000
"""Largest photo read by default: a 200-megapixel frame (48-megapixel phone photos fit four times)."""

STDIN = "-"  # the path that names standard input
_BOMB_PIXELS = 16_000_000  # above this many pixels, a photo must hold at least a byte per _PIXELS_PER_BYTE
_PIXELS_PER_BYTE = 100  # camera photos hold a byte per 2-10 pixels; a decompression bomb one per thousands


class PhotoError(ValueError):
    """A photo file that cannot be read, or holds no picture the photo path can use."""


def _pixels(image, path):
    """The decoded frame as uint8 gray / RGB or uint16 gray, alpha dropped (composited on nothing)."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image, dtype=np.uint16)
    if mode == "I":  # 32-bit integer gray: 16-bit PNGs often open this way
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 65535:
            raise PhotoError(f"{path}: 32-bit integer pixels outside 0..65535; save the photo as 8 or 16 bits")
        return values.astype(np.uint16)
    if mode == "F":
        raise PhotoError(f"{path}: floating-point (mode F) photos have no fixed white level; save as 8 or 16 bits")
    if mode in ("1", "L", "LA", "La"):
        return np.asarray(image.convert("L"))
    if mode in ("P", "PA", "RGBA", "RGBa"):  # a palette may carry transparency: through RGBA, then drop alpha
        return np.asarray(image.convert("RGBA"))[..., :3]
    return np.asarray(image.convert("RGB"))  # RGB, CMYK, YCbCr, LAB, HSV


def _standard_input():
    """The bytes piped to standard input, refused when there are none (no stream, a terminal, nothing piped)."""
    stream = piped_stdin(PhotoError, "a photo from standard input", "pipe one in (e.g. fkp detect - < photo.jpg)")
    data = stream.read()
    if not data:
        raise PhotoError("standard input is empty: pipe a photo in (e.g. fkp detect - < photo.jpg)")
    return data


@keyword_only_after
@validate_params(
    {"path": [str, os.PathLike], "max_pixels": [Interval(numbers.Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def read_photo(path, *, max_pixels=MAX_PIXELS):
    """Read a photo file as the array the photo path takes.

    Any format Pillow reads: 8-bit and 16-bit gray, palette, RGB(A),
    gray+alpha, CMYK and YCbCr (converted to RGB), with the EXIF
    orientation applied; alpha is dropped. An animation (GIF, APNG, WebP,
    multi-page TIFF) gives its first frame.

    Parameters
    ----------
    path : str or Path
        The photo file, or ``"-"`` for standard input (the photo's bytes,
        piped in).
    max_pixels : int, default=MAX_PIXELS
        Refuse larger photos before decoding them (a guard against
        decompression bombs and runaway memory).

    Returns
    -------
    photo : ndarray of shape (h, w) or (h, w, 3)
        uint8, or uint16 for 16-bit gray photos.
    n_frames : int
        Frames in the file (above 1 for an animation, of which only the first is returned).

    Raises
    ------
    PhotoError
        Naming the file, for a missing, unreadable, truncated, too large or
        unsupported photo.
    """
    if isinstance(path, str) and path == STDIN:
        source = io.BytesIO(_standard_input())
        path, n_bytes = "standard input", len(source.getvalue())
    else:
        path = source = Path(path)
        if path.is_dir():
            raise PhotoError(f"cannot read photo {path}: it is a folder")
        if not path.is_file():
            raise PhotoError(f"cannot read photo {path}: no such file")
        n_bytes = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            warnings.filterwarnings("ignore", module="PIL")  # "Truncated File Read", "Corrupt EXIF data": errors follow
            with Image.open(source) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PhotoError(
                        f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, above the limit of "
                        f"{max_pixels / 1e6:.0f} (max_pixels); downscale it first"
                    )
                if width == 0 or height == 0:
                    raise PhotoError(f"{path}: the photo is empty ({width}x{height})")
                n_bytes = path.stat().st_size if n_bytes is None else n_bytes
                if width * height > max(_BOMB_PIXELS, _PIXELS_PER_BYTE * n_bytes):  # before a byte is decoded
                    raise PhotoError(
                        f"{path}: claims {width}x{height} pixels from only {n_bytes} bytes (a decompression bomb, "
                        f"or a damaged header); not decoded"
                    )
                n_frames = getattr(image, "n_frames", 1)
                image.seek(0)
                image = ImageOps.exif_transpose(image)
                pixels = _pixels(image, path)
    except PhotoError:
        raise
    except UnidentifiedImageError:
        raise PhotoError(f"{path} is not a photo Pillow can read (unknown or corrupt format)") from None
    except MemoryError:
        raise PhotoError(f"cannot read photo {path}: not enough memory to decode it") from None
    except Exception as exc:  # noqa: BLE001 - Pillow's decoders raise many kinds (TypeError, KeyError, struct.error...)
        raise PhotoError(f"cannot read photo {path}: {exc or type(exc).__name__}") from None
    if pixels.ndim not in (2, 3) or pixels.size == 0:  # e.g. a damaged header naming an impossible mode
        raise PhotoError(f"cannot read photo {path}: it decodes to no picture (shape {pixels.shape})")
    return np.ascontiguousarray(pixels), n_frames
