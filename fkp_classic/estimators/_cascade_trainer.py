"""The stage arithmetic of fitting a :class:`CascadeRegressor`, for faces in memory or a chunk at a time.

Fitting the cascade is a sequence of ridge regressions: from whole-face
descriptors to the keypoints (the start), then, stage after stage, from
descriptors read around the current shapes to the offset left to the
truth, in each shape's frame. :class:`_CascadeTrainer` holds every step of
that arithmetic once: checking the faces, the reference frame and flip
axis, the cross-fitting folds and start jitter, the descriptors and
residuals of a stage, and the move of the shapes by a stage's held-out
model. :meth:`_CascadeTrainer.fit` runs it on faces in memory, as one
chunk whose descriptors stay there; :mod:`._chunked_fit` runs the same
steps over chunks, adding up each stage's ridge sums.
"""

import sys
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict
from sklearn.utils import check_random_state

from ..features._descriptors import grid_descriptors
from ..flip import flip_images, flip_keypoints
from ..utils._shape_geometry import as_complex, as_points, draw_perturbations, perturb
from ..utils._validation import check_keypoints, resolve_image_shape, set_keypoint_layout, validate_images
from ._cross_fitting import _fit_cross
from ._error_model import ERROR_ALPHA, fit_error_model
from ._ridge import KeypointRidge
from ._shape_indexed import ShapeIndexedDescriptors, face_integrals

__all__ = []


def _annotation_axis(G, G_mirror, y, width, layout, alpha, rank):
    """The x that the annotations ``y`` mirror about, estimated from whole-face descriptors of the faces ``G``
    and of their mirror images ``G_mirror``.

    A ridge fitted on the faces predicts their mirror images; mapped back
    about the image's centre, its points land ``2 * (axis - centre)`` to
    the left of the truth on average (annotations a little to the right of
    what they mark, on the faces, are as far to the left of it on their
    mirror images, where the ridge still puts them to the right).
    """
    ridge = KeypointRidge(alpha=alpha, rank=rank, layout=layout).fit(G, y)
    back = flip_keypoints(ridge.predict(G_mirror), width=width, layout=layout)
    return (width - 1) / 2 - float(np.nanmean(back[:, 0::2] - y[:, 0::2])) / 2


class _CascadeTrainer:
    """Fits a :class:`CascadeRegressor`: reads its parameters, writes its fitted attributes.

    Parameters
    ----------
    model : CascadeRegressor
        Its parameters are validated already.
    """

    def __init__(self, model):
        self.model = model
        self.clock = time.perf_counter()

    # -- the faces, their frame and the random plan ------------------------------------------------------------

    def check_faces(self, X, y, first=False, n_columns=None):
        """Validated images and keypoints of the faces (or of one chunk of them).

        ``first``: these set ``n_features_in_`` and ``image_shape_``. ``X``
        None checks ``y`` alone (a dask array's block, whose pixels are
        checked as it is read). ``n_columns``: the keypoint columns of the
        first chunk, which every other must have.
        """
        model = self.model
        if X is not None:
            X = validate_images(model, X, reset=first, **({"ensure_min_features": 4} if first else {}))
        y = check_keypoints(y, None if X is None else len(X))
        if n_columns is not None and y.shape[1] != n_columns:
            raise ValueError(f"y has {y.shape[1]} columns, the first chunk {n_columns}")
        if X is not None and first:  # after y, as fit_images: keypoints that are not pairs are named first
            model.image_shape_ = resolve_image_shape(X.shape[1], model.image_shape)
        return X, y

    def set_frame(self, X, y, y_all, integrals=None):
        """Record ``layout_``, ``flip_axis_`` and ``mean_shape_`` (of the mirrors too, with ``flip``); return the
        keypoints ``y_all`` followed by their mirrors with ``flip``.

        ``flip_axis="auto"`` is measured on the faces ``X`` (the first chunk's)
        with keypoints ``y``; ``integrals``: those of ``X`` followed by its
        mirror images, if already made.
        """
        model = self.model
        set_keypoint_layout(model, y_all)
        model.flip_axis_ = self._flip_axis(X, y, integrals)
        if model.flip:  # the mirrors follow the originals
            y_all = np.concatenate([y_all, flip_keypoints(y_all, width=model.image_shape_[1], layout=model.layout_, axis=model.flip_axis_)])
            set_keypoint_layout(model, y_all)  # the mirrors' mean too
        return y_all

    def _flip_axis(self, X, y, integrals=None):
        model = self.model
        if not (model.flip or model.flip_test):
            return None
        width = model.image_shape_[1]
        if model.flip_axis is None:
            return (width - 1) / 2
        if not isinstance(model.flip_axis, str):
            return float(model.flip_axis)
        if integrals is None:
            integrals = self.integrals(np.concatenate([X, flip_images(X, image_shape=model.image_shape_)]))
        G = self.start_descriptors(integrals)
        return _annotation_axis(G[: len(X)], G[len(X) :], y, width, model.layout_, model.init_alpha, model.rank)

    def plan(self, n, rng):
        """The cross-fitting fold of each row (None: no cross-fitting) and the start jitter of every row
        (:func:`draw_perturbations`), for ``n`` faces followed by their mirrors with ``flip``.
        A face and its mirror share a fold."""
        model = self.model
        origin = np.arange(n)
        if model.flip:
            origin = np.tile(origin, 2)
        fold_of = None
        if model.cv >= 2 and n >= 2 * model.cv:
            fold_of = rng.permutation(n)[origin] % model.cv
        draws = draw_perturbations(rng, model.n_perturbations, model.perturbation, len(origin))
        return fold_of, draws

    def alphas(self):
        """Ridge penalty per stage."""
        model = self.model
        n_stages = len(model.cell_sizes)
        if np.ndim(model.alpha) == 0:
            return float(model.alpha) * float(model.alpha_growth) ** np.arange(n_stages)
        alphas = np.asarray(model.alpha, dtype=float)
        if alphas.shape != (n_stages,):
            raise ValueError(f"alpha has {alphas.size} values but cell_sizes has {n_stages} stages")
        return alphas

    # -- what each stage reads and learns -----------------------------------------------------------------------

    def integrals(self, X):
        model = self.model
        return face_integrals(X, model.image_shape_, model.n_bins, model.pool, model.intensity)

    def start_descriptors(self, integrals):
        """Whole-face descriptors, for the default start."""
        return grid_descriptors(integrals, pool=self.model.pool, intensity=self.model.intensity)

    def starts(self, starts, draws):
        """Every start of every face (starts, n, K, 2): the start estimates ``starts`` (n, K, 2), then each
        perturbation of them."""
        return np.stack([starts] + [perturb(starts, d) for d in draws])

    def describe_starts(self, integrals, shapes, stage):
        """Descriptors of every start's ``shapes`` (starts, n, K, 2) at ``stage``, start after start, and their
        frames (rows, 1)."""
        model = self.model
        reader = ShapeIndexedDescriptors(model.mean_shape_, model.cell_sizes, model.grid, model.pool, model.intensity)
        return reader.describe_starts(integrals, shapes, stage)

    @staticmethod
    def residual(y, shapes, frames):
        """Each start's offset to the truth ``y`` (n, 2K), rows start after start as the descriptors, in the
        frame of its shape: what a stage learns."""
        n, k = len(y), y.shape[1] // 2
        target = np.tile(as_complex(y.reshape(n, k, 2)), (len(shapes), 1))
        return as_points((target - as_complex(np.concatenate(shapes))) / frames).reshape(len(target), 2 * k)

    @staticmethod
    def moved(shapes, frames, step):
        """The shapes (starts, n, K, 2) moved by a stage's ``step`` (rows, 2K, in their frames (rows, 1))."""
        shapes = np.asarray(shapes)
        k = shapes.shape[2]
        step = as_points(frames * as_complex(step.reshape(len(step), k, 2)))
        return shapes + step.reshape(shapes.shape)

    @staticmethod
    def row_folds(fold_of, n_starts):
        """The fold of every row of a stage: every start of a face shares its fold."""
        return None if fold_of is None else np.tile(fold_of, n_starts)

    def log(self, text):
        if self.model.verbose > 0:
            print(f"[CascadeRegressor] {text} ({time.perf_counter() - self.clock:.1f} s)", file=sys.stderr, flush=True)

    # -- faces in memory: one chunk, its descriptors kept ------------------------------------------------------

    def fit(self, X, y):
        """Fit the model on the faces ``X`` (n, height * width) with keypoints ``y`` (n, 2K)."""
        model = self.model
        X, y = self.check_faces(X, y, first=True)
        alphas = self.alphas()
        rng = check_random_state(model.random_state)
        n_faces = len(X)
        if model.flip:  # the mirrors follow the originals
            X = np.concatenate([X, flip_images(X, image_shape=model.image_shape_)])
        integrals = self.integrals(X)
        y = self.set_frame(X[:n_faces], y, y, integrals if model.flip else None)
        fold_of, draws = self.plan(n_faces, rng)
        n, k = len(X), y.shape[1] // 2
        starts = self._fit_start(X, y, integrals, fold_of).reshape(n, k, 2)
        self.log(f"start fitted on {n} faces")
        shapes = self.starts(starts, draws)
        row_fold = self.row_folds(fold_of, len(shapes))
        model.stages_ = []
        model.error_model_ = None
        for stage in range(len(model.cell_sizes)):
            F, frames = self.describe_starts(integrals, shapes, stage)
            residual = self.residual(y, shapes, frames)
            ridge, held_out = _fit_cross(F, residual, alphas[stage], row_fold, model.cv, model.rank, model.layout_)
            if stage == len(model.cell_sizes) - 1 and model.uncertainty:
                model.error_model_ = fit_error_model(
                    F, residual - held_out, row_fold, model.cv, ERROR_ALPHA * alphas[stage], step=held_out,
                    scale_rows=slice(0, n), rank=model.rank,  # scaled on the unperturbed starts, as predict's
                )
            del F  # the next stage's descriptors take its place
            shapes = self.moved(shapes, frames, held_out)
            model.stages_.append(ridge)
            self.log(f"stage {stage + 1}/{len(model.cell_sizes)} fitted")
        return model

    def _fit_start(self, X, y, integrals, fold_of):
        """Fit ``init_`` on all faces; return its cross-fitted estimates on them."""
        model = self.model
        if model.init is not None:
            model.init_ = clone(model.init).fit(X, y)
            if fold_of is None:
                return model.init_.predict(X)
            folds = [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(model.cv)]
            return cross_val_predict(clone(model.init), X, y, cv=folds)
        G = self.start_descriptors(integrals)
        model.init_, starts = _fit_cross(G, y, model.init_alpha, fold_of, model.cv, model.rank, model.layout_)
        return starts
