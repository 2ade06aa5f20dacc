"""Features of batches of face images: HOG, normalised pixels and patches, shape-indexed descriptors.

Every function works on a whole batch at once; the transformers are scikit-learn estimators.
"""

from ._descriptors import box_integrals, grid_descriptors, local_descriptors, orientation_integrals
from ._hog import HOGFeatures, central_gradients, hog_batch, hog_map
from ._patch import PatchFeatures
from ._sampling import normalize_patches, sample_patches

__all__ = [
    "HOGFeatures",
    "PatchFeatures",
    "hog_batch",
    "hog_map",
    "central_gradients",
    "orientation_integrals",
    "box_integrals",
    "local_descriptors",
    "grid_descriptors",
    "sample_patches",
    "normalize_patches",
]
