"""Photos without faces, from scikit-image's sample data: negatives for training a face detector."""

import numbers

import numpy as np
from PIL import Image
from skimage import data
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._deprecation import keyword_only_after

__all__ = ["load_backgrounds", "BACKGROUND_NAMES", "HELD_OUT_BACKGROUNDS"]

BACKGROUND_NAMES = (
    "brick", "coins", "clock", "colorwheel", "grass", "gravel", "horse", "hubble_deep_field",
    "immunohistochemistry", "logo", "moon", "page", "retina", "text", "microaneurysms", "checkerboard", "cell",
)
"""scikit-image samples with no face, shipped inside scikit-image (no download)."""

HELD_OUT_BACKGROUNDS = ("coffee", "rocket", "chelsea")
"""Face-free samples never trained on, so that a detector's silence on them is a real test."""


@keyword_only_after
@validate_params(
    {"names": ["array-like"], "max_side": [Interval(numbers.Integral, 1, None, closed="left")]},
    prefer_skip_nested_validation=True,
)
def load_backgrounds(names=BACKGROUND_NAMES, *, max_side=640):
    """Face-free photos as uint8 grayscale, the larger ones shrunk to ``max_side`` pixels.

    Parameters
    ----------
    names : sequence of str, default=BACKGROUND_NAMES
        Names of ``skimage.data`` functions.
    max_side : int, default=640

    Returns
    -------
    photos : list of ndarray
        Also the left and right views of ``stereo_motorcycle`` when the
        default names are used.
    """
    from ..photo import as_gray8

    photos = [getattr(data, name)() for name in names]
    if tuple(names) == BACKGROUND_NAMES:
        photos += list(data.stereo_motorcycle()[:2])
    out = []
    for photo in photos:
        gray = Image.fromarray(as_gray8(photo, name="background"))
        scale = max_side / max(gray.size)
        if scale < 1:
            gray = gray.resize((round(gray.size[0] * scale), round(gray.size[1] * scale)), Image.BILINEAR)
        out.append(np.asarray(gray))
    return out
