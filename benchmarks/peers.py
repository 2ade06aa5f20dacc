"""Outside peers for the benchmark: dlib's regression-tree shape predictor, a skimage HOG loop.

They are wrapped with the same fit/predict interface as the library's estimators so the
benchmark scores them on exactly the same folds. dlib is optional (``pip install -e ".[peers]"``).
"""

import numpy as np
from skimage.feature import hog
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

UPSCALE = 4  # dlib parts are integer pixels: train on x4 images, then map back


def dlib_status():
    """``(available, reason)``: whether dlib can be imported, and why not."""
    try:
        import dlib  # noqa: F401
    except ImportError as exc:
        return False, f"dlib is not installed ({exc}); pip install -e '.[peers]' adds it"
    return True, ""


class DlibShapePredictor(RegressorMixin, BaseEstimator):
    """dlib's ensemble of regression trees (Kazemi & Sullivan 2014) with Python-default options.

    Faces are upscaled x4 (nearest neighbour: each pixel becomes a 4x4 block, so the point
    ``x`` maps to ``4 x + 1.5``) because dlib stores parts as integers; the whole upscaled
    image is the face box. Missing keypoints are passed as dlib's "part not present".

    Parameters
    ----------
    num_threads : int, default=2
    oversampling_amount : int, default=20
        dlib's default.
    """

    def __init__(self, num_threads=2, oversampling_amount=20):
        self.num_threads = num_threads
        self.oversampling_amount = oversampling_amount

    @staticmethod
    def _upscale(images):
        return [np.ascontiguousarray(np.repeat(np.repeat(im, UPSCALE, 0), UPSCALE, 1)) for im in images]

    def fit(self, X, y):
        import dlib

        n = len(X)
        side = int(round(np.sqrt(X.shape[1])))
        images = self._upscale(np.asarray(X, dtype=np.uint8).reshape(n, side, side))
        self.rect_ = dlib.rectangle(0, 0, side * UPSCALE - 1, side * UPSCALE - 1)
        self.side_ = side
        missing = dlib.point(-0x7FFFFFFF, -0x7FFFFFFF)
        objects = []
        for row in np.asarray(y, dtype=float).reshape(n, -1, 2):
            parts = [
                missing if np.isnan(px) else dlib.point(int(round(UPSCALE * px + 1.5)), int(round(UPSCALE * py + 1.5)))
                for px, py in row
            ]
            objects.append([dlib.full_object_detection(self.rect_, parts)])
        options = dlib.shape_predictor_training_options()
        options.num_threads = self.num_threads
        options.oversampling_amount = self.oversampling_amount
        self.predictor_ = dlib.train_shape_predictor(images, objects, options)
        self.n_keypoints_ = np.asarray(y).shape[1] // 2
        return self

    def predict(self, X):
        images = self._upscale(np.asarray(X, dtype=np.uint8).reshape(len(X), self.side_, self.side_))
        out = np.empty((len(X), self.n_keypoints_, 2))
        for i, image in enumerate(images):  # dlib predicts one face at a time
            shape = self.predictor_(image, self.rect_)
            out[i] = [(shape.part(k).x, shape.part(k).y) for k in range(self.n_keypoints_)]
        return ((out - 1.5) / UPSCALE).reshape(len(X), -1)

    def __getstate__(self):  # dlib predictors do not pickle; the benchmark never needs to
        raise TypeError("DlibShapePredictor is not picklable")


class SkimageHOGLoop(TransformerMixin, BaseEstimator):
    """``skimage.feature.hog`` called once per face: the reference the batch HOG is timed against."""

    def __init__(self, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), transform_sqrt=False):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.transform_sqrt = transform_sqrt

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        side = int(round(np.sqrt(X.shape[1])))
        return np.array(
            [
                hog(
                    image,
                    orientations=self.orientations,
                    pixels_per_cell=self.pixels_per_cell,
                    cells_per_block=self.cells_per_block,
                    block_norm="L2-Hys",
                    transform_sqrt=self.transform_sqrt,
                )
                for image in np.asarray(X).reshape(len(X), side, side)
            ]
        )
