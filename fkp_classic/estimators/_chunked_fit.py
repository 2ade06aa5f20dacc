"""Out-of-core fitting of :class:`CascadeRegressor`: one pass over chunks of faces per stage, here or on Dask.

Every stage of the cascade is a ridge regression, so a pass over the
chunks adds up its :class:`RidgeSums` (per cross-fitting fold), and the
client solves the stage once from them. Each pass first moves every
face's starts by the previous stage's held-out model (the fold it is in
never saw it), then describes them for the next stage: the same
arithmetic as the in-memory fit, so the same model. Memory holds one
chunk, the sums and each face's current shapes (a few hundred bytes a
face), never all the images.
"""

import collections.abc
import time

import numpy as np
from sklearn.utils import check_random_state

from ..features._descriptors import grid_descriptors
from ..flip import flip_augment, flip_keypoints
from ..utils._memory import keep_freed_memory
from ..utils._validation import (
    check_keypoints,
    resolve_image_shape,
    resolve_layout,
    set_keypoint_layout,
    validate_images,
)
from ._cascade import _as_complex, _as_points
from ._cross_fitting import _held_out, _solve
from ._error_model import ERROR_ALPHA, ErrorModel, LineSums, calibration_line, error_target, scaled
from ._ridge_sums import RidgeSums

__all__ = ["fit_chunked"]


def _is_dask_array(value):
    return type(value).__module__.startswith("dask.array") and hasattr(value, "to_delayed")


def _chunk_faces(model, X, y, index):
    """One chunk's checked images and keypoints, their mirrors appended with ``flip``."""
    try:
        X = validate_images(model, X, reset=False)
        y = check_keypoints(y, len(X))
        if y.shape[1] != model.mean_shape_.size:
            raise ValueError(f"y has {y.shape[1]} columns, the first chunk {model.mean_shape_.size}")
    except ValueError as error:
        raise ValueError(f"chunk {index}: {error}") from None
    if model.flip:
        X, y = flip_augment(X, y, image_shape=model.image_shape_, layout=model.layout_, axis=model.flip_axis_)
    return X, y


def _start_task(X, y, index, fold, draws, shapes, plan):
    """Sums of the initial estimate's ridge on one chunk (``shapes``, ``draws`` unused)."""
    model = plan["model"]
    X, y = _chunk_faces(model, X, y, index)
    G = grid_descriptors(model._integrals(X), pool=model.pool, intensity=model.intensity)
    return RidgeSums.of(G, y, fold, into=plan.get("into")), None


def _stage_task(X, y, index, fold, draws, shapes, plan):
    """One chunk through one stage: move its shapes by the previous model, sum the stage's ridge.

    Returns the chunk's :class:`RidgeSums` and its shapes (starts, n, K, 2).
    """

    if plan.get("worker"):
        keep_freed_memory()  # Dask workers run with glibc's mmap threshold pinned low (see keep_freed_memory)
    model, stage, previous = plan["model"], plan["stage"], plan["previous"]
    X, y = _chunk_faces(model, X, y, index)
    n, k = len(X), y.shape[1] // 2
    integrals = model._integrals(X)
    if shapes is None:  # the first stage starts from the initial estimate's held-out predictions
        G = grid_descriptors(integrals, pool=model.pool, intensity=model.intensity)
        starts = _held_out(previous, G, fold).reshape(n, k, 2)
        shapes = np.stack([starts] + [model._perturb(starts, d) for d in draws])
    rep = len(shapes)
    folds = None if fold is None else np.tile(fold, rep)
    if stage > 0:
        F, frames = model._describe_starts(integrals, shapes, stage - 1)
        step = _as_points(frames * _as_complex(_held_out(previous, F, folds).reshape(len(F), k, 2)))
        shapes = shapes + step.reshape(shapes.shape)
    F, frames = model._describe_starts(integrals, shapes, stage)
    return RidgeSums.of(F, _residual(y, shapes, frames), folds, into=plan.get("into")), shapes


def _residual(y, shapes, frames):
    """Each start's offset to the truth ``y`` (rows start after start, as the descriptors), in the frame of its
    shape: what a stage learns."""
    n, k = len(y), y.shape[1] // 2
    target = np.tile(_as_complex(y.reshape(n, k, 2)), (len(shapes), 1))
    return _as_points((target - _as_complex(shapes.reshape(-1, k, 2))) / frames).reshape(len(target), 2 * k)


def _last_stage(model, X, y, index, fold, shapes, plan):
    """A chunk at the last stage: its descriptors there, the last stage's held-out step (in the shapes' frames)
    and the residual it leaves, the rows' folds."""
    X, y = _chunk_faces(model, X, y, index)
    folds = None if fold is None else np.tile(fold, len(shapes))
    F, frames = model._describe_starts(model._integrals(X), shapes, len(model.cell_sizes) - 1)
    step = _held_out(plan["last"], F, folds)
    return F, step, _residual(y, shapes, frames) - step, folds, len(X)


def _error_task(X, y, index, fold, draws, shapes, plan):
    """Sums of the error ridge on one chunk (its shapes: where the last stage described them)."""
    if plan.get("worker"):
        keep_freed_memory()
    F, _, residual, folds, _ = _last_stage(plan["model"], X, y, index, fold, shapes, plan)
    return RidgeSums.of(F, error_target(residual), folds, into=plan.get("into")), shapes


def _calibration_task(X, y, index, fold, draws, shapes, plan):
    """The calibration lines' sums of one chunk, and what its unperturbed starts need for the scale."""
    if plan.get("worker"):
        keep_freed_memory()
    F, step, residual, folds, n = _last_stage(plan["model"], X, y, index, fold, shapes, plan)
    held = _held_out(plan["error"], F, folds)
    sums = LineSums.of(held, residual, step)
    if plan.get("into") is not None:
        plan["into"] += sums
    return sums, (held[:n], residual[:n], step[:n])


def _add(a, b):
    a += b
    return a


class _Here:
    """Runs each pass on this process, one chunk at a time: chunks are read again on every pass."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def chunks(self):
        if self.y is not None:  # dask arrays: one block at a time
            for xb, yb in zip(self.X.to_delayed().ravel(), self.y.to_delayed().ravel()):
                yield xb.compute(scheduler="sync"), yb.compute(scheduler="sync")
        else:
            yield from self.X

    def gather(self, states):
        return states

    def first_pass(self):
        """Each chunk's keypoints (the images are only looked at)."""
        for index, chunk in enumerate(self.chunks()):
            yield _pair(chunk, index)

    def run(self, task, per_chunk, plan, total=None):
        total, states, index = RidgeSums() if total is None else total, [], -1
        plan = dict(plan, into=total)  # each chunk's sums are added in place
        for index, chunk in enumerate(self.chunks()):
            if index >= len(per_chunk):
                raise ValueError(f"the chunks changed between passes: there are now more than {len(per_chunk)}")
            X, y = _pair(chunk, index)
            if len(X) != per_chunk[index][0]:
                raise ValueError(
                    f"the chunks changed between passes: chunk {index} had {per_chunk[index][0]} faces, now {len(X)}"
                )
            _, state = task(X, y, index, *per_chunk[index][1:], plan)
            states.append(state)
        if index + 1 != len(per_chunk):
            raise ValueError(f"the chunks changed between passes: {len(per_chunk)} chunks, now {index + 1}")
        return total, states


class _OnCluster:
    """Runs each pass on a Dask cluster: a task per chunk, the sums added up on the workers in a tree."""

    def __init__(self, client, X, y):
        self.client, self.X, self.y = client, X, y
        self.blocks = None

    def first_pass(self):
        if self.y is not None:
            self.blocks = list(zip(self.X.to_delayed().ravel(), self.y.to_delayed().ravel()))
            y = self.client.compute(self.y).result()
            rows = np.cumsum((0,) + self.X.chunks[0])
            for index in range(len(self.blocks)):
                yield None, y[rows[index] : rows[index + 1]], self.X.chunks[0][index]
            return
        self.blocks = []
        for index, chunk in enumerate(self.X):
            X, y = _pair(chunk, index)
            # Sent to the cluster once; the client keeps only a reference.
            self.blocks.append((self.client.scatter(X, hash=False), y))
            yield X, y

    def run(self, task, per_chunk, plan, total=None):
        import dask

        plan = dict(plan, worker=True)
        [shared] = self.client.scatter([plan], broadcast=True, hash=False)
        call = dask.delayed(task, pure=False, nout=2)
        outs = [call(X, y, index, *args[1:], shared) for index, ((X, y), args) in enumerate(zip(self.blocks, per_chunk))]
        add = dask.delayed(_add, pure=False)
        sums = [out[0] for out in outs]
        while len(sums) > 1:  # a tree in the same graph: chunks' sums are added as soon as two are done
            sums = [add(a, b) for a, b in zip(sums[::2], sums[1::2])] + sums[len(sums) - len(sums) % 2 :]
        futures = self.client.compute([sums[0]] + [out[1] for out in outs])
        return futures[0].result(), futures[1:]

    def gather(self, states):
        return self.client.gather(states)


def _pair(chunk, index):
    try:
        X, y = chunk
    except (TypeError, ValueError):
        raise ValueError(
            f"chunk {index} is not an (X, y) pair: fit_chunked takes an iterable of (images, keypoints) pairs"
        ) from None
    return X, y


def fit_chunked(model, X, y=None, client=None):
    """Fit ``model`` (a :class:`CascadeRegressor`) one chunk of faces at a time; see ``fit_chunked`` there."""
    clock = time.perf_counter()
    if model.init is not None:
        raise ValueError("fit_chunked needs init=None (the cascade's own ridge start); fit a custom init with fit")
    if y is not None:
        if not (_is_dask_array(X) and _is_dask_array(y)):
            raise ValueError("with y, X and y must be dask arrays (for arrays in memory, use fit)")
        if X.ndim != 2 or y.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ValueError(f"X {X.shape} and y {y.shape} must be 2-d with the same number of rows")
        X = X.rechunk({1: -1})
        y = y.rechunk({0: X.chunks[0], 1: -1})
    elif isinstance(X, collections.abc.Iterator) or not isinstance(X, collections.abc.Iterable):
        raise ValueError(
            "fit_chunked reads the chunks once per stage: give a list of (X, y) pairs, an object whose "
            f"__iter__ starts afresh each time, or dask arrays, not a one-off iterator or generator ({type(X).__name__})"
        )
    runner = _Here(X, y) if client is None else _OnCluster(client, X, y)
    sizes, ys, first_images = [], [], None
    for index, (Xc, yc, *size) in enumerate(runner.first_pass()):
        try:
            yc = check_keypoints(yc)
            if index == 0:  # of a dask array, its shape alone: its pixels are checked chunk by chunk
                first = np.zeros((1, X.shape[1]), dtype=X.dtype) if Xc is None else Xc
                validate_images(model, first, ensure_min_features=4)
                model.image_shape_ = resolve_image_shape(model.n_features_in_, model.image_shape)
            if Xc is not None:
                Xc = validate_images(model, Xc, reset=False)
                if len(Xc) != len(yc):
                    raise ValueError(f"X has {len(Xc)} rows but y has {len(yc)}")
            if ys and yc.shape[1] != ys[0].shape[1]:
                raise ValueError(f"y has {yc.shape[1]} columns, the first chunk {ys[0].shape[1]}")
        except ValueError as error:
            raise ValueError(f"chunk {index}: {error}") from None
        sizes.append(len(yc) if Xc is None else len(Xc))
        ys.append(yc)
        if index == 0:
            first_images = Xc
    if not ys:
        raise ValueError("no chunks to fit on")
    y_all = np.concatenate(ys)
    n = len(y_all)
    origin = np.arange(n)
    model.layout_ = resolve_layout(model.layout, y_all.shape[1] // 2)
    model.flip_axis_ = None
    if model.flip or model.flip_test:  # measured on the first chunk ("auto")
        if first_images is None and model.flip_axis == "auto":  # a dask array's first block
            first_images = validate_images(model, X.to_delayed().ravel()[0].compute(), reset=False)
        model.flip_axis_ = model._fit_flip_axis(first_images, ys[0])
    if model.flip:  # the mirrors follow the originals, as in fit
        y_all = np.concatenate(
            [y_all, flip_keypoints(y_all, width=model.image_shape_[1], layout=model.layout_, axis=model.flip_axis_)]
        )
        origin = np.tile(origin, 2)
    set_keypoint_layout(model, y_all)
    rng = check_random_state(model.random_state)
    fold_of = model._fold_of(origin, rng)
    draws = model._draws(len(origin), rng)
    bounds = np.cumsum([0] + sizes)
    rows = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        r = np.arange(a, b)
        rows.append(np.concatenate([r, r + n]) if model.flip else r)
    model._log(f"{n} faces in {len(sizes)} chunks", clock)

    def per_chunk(states):
        return [
            (size, None if fold_of is None else fold_of[r], draws[:, :, r], state)
            for size, r, state in zip(sizes, rows, states)
        ]

    states = [None] * len(sizes)
    sums, _ = runner.run(_start_task, per_chunk(states), {"model": model})
    model.init_, previous = _solve(
        sums, model.init_alpha, None if fold_of is None else model.cv, model.rank, model.layout_
    )
    model._log(f"start fitted on {len(origin)} faces", clock)
    model.stages_ = []
    for stage, alpha in enumerate(model._alphas()):
        plan = {"model": model, "stage": stage, "previous": previous}
        sums, states = runner.run(_stage_task, per_chunk(states), plan)
        ridge, previous = _solve(sums, alpha, None if fold_of is None else model.cv, model.rank, model.layout_)
        model.stages_.append(ridge)
        model._log(f"stage {stage + 1}/{len(model.cell_sizes)} fitted", clock)
    model.error_model_ = None
    if model.uncertainty and model.stages_:
        # Two more passes, as fit's error model: the error ridge's sums, then its held-out calibration.
        n_folds = None if fold_of is None else model.cv
        plan = {"model": model, "last": previous}
        sums, _ = runner.run(_error_task, per_chunk(states), plan)
        error, held_out = _solve(sums, ERROR_ALPHA * model._alphas()[-1], n_folds, model.rank)
        lines, parts = runner.run(_calibration_task, per_chunk(states), dict(plan, error=held_out),
                                  total=LineSums(0.0, 0.0))
        held, residual, step = (np.concatenate(part) for part in zip(*runner.gather(parts)))
        model.error_model_ = scaled(ErrorModel(error, calibration_line(lines)), held, residual, step)
        model._log("error model fitted", clock)
    return model

