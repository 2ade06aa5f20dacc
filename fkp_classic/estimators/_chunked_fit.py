"""Out-of-core fitting of :class:`CascadeRegressor`: one pass over chunks of faces per stage, here or on Dask.

Every stage of the cascade is a ridge regression, so a pass over the
chunks adds up its :class:`RidgeSums` (per cross-fitting fold), and the
client solves the stage once from them. Each pass first moves every
face's starts by the previous stage's held-out model (the fold it is in
never saw it), then describes them for the next stage: the steps of
:class:`._cascade_trainer._CascadeTrainer`, which the in-memory fit runs
on all the faces at once, so the same model. Memory holds one chunk, the
sums and each face's current shapes (a few hundred bytes a face), never
all the images.
"""

import collections.abc

import numpy as np
from sklearn.utils import check_random_state

from ..flip import flip_augment
from ..utils._memory import keep_freed_memory
from ..utils._validation import validate_images
from ._cross_fitting import _held_out, _solve
from ._error_model import ERROR_ALPHA, ErrorModel, LineSums, calibration_line, error_target, scaled
from ._ridge_sums import RidgeSums

__all__ = ["fit_chunked"]


def _is_dask_array(value):
    return type(value).__module__.startswith("dask.array") and hasattr(value, "to_delayed")


def _chunk_faces(trainer, X, y, index):
    """One chunk's checked images and keypoints, their mirrors appended with ``flip``."""
    model = trainer.model
    try:
        X, y = trainer.check_faces(X, y, n_columns=model.mean_shape_.size)
    except ValueError as error:
        raise ValueError(f"chunk {index}: {error}") from None
    if model.flip:
        X, y = flip_augment(X, y, image_shape=model.image_shape_, layout=model.layout_, axis=model.flip_axis_)
    return X, y


def _start_task(X, y, index, fold, draws, shapes, plan):
    """Sums of the initial estimate's ridge on one chunk (``shapes``, ``draws`` unused)."""
    trainer = plan["trainer"]
    X, y = _chunk_faces(trainer, X, y, index)
    G = trainer.start_descriptors(trainer.integrals(X))
    return RidgeSums.of(G, y, fold, into=plan.get("into")), None


def _stage_task(X, y, index, fold, draws, shapes, plan):
    """One chunk through one stage: move its shapes by the previous model, sum the stage's ridge.

    Returns the chunk's :class:`RidgeSums` and its shapes (starts, n, K, 2).
    """

    if plan.get("worker"):
        keep_freed_memory()  # Dask workers run with glibc's mmap threshold pinned low (see keep_freed_memory)
    trainer, stage, previous = plan["trainer"], plan["stage"], plan["previous"]
    X, y = _chunk_faces(trainer, X, y, index)
    n, k = len(X), y.shape[1] // 2
    integrals = trainer.integrals(X)
    if shapes is None:  # the first stage starts from the initial estimate's held-out predictions
        starts = _held_out(previous, trainer.start_descriptors(integrals), fold).reshape(n, k, 2)
        shapes = trainer.starts(starts, draws)
    folds = trainer.row_folds(fold, len(shapes))
    if stage > 0:
        F, frames = trainer.describe_starts(integrals, shapes, stage - 1)
        shapes = trainer.moved(shapes, frames, _held_out(previous, F, folds))
    F, frames = trainer.describe_starts(integrals, shapes, stage)
    return RidgeSums.of(F, trainer.residual(y, shapes, frames), folds, into=plan.get("into")), shapes


def _last_stage(trainer, X, y, index, fold, shapes, plan):
    """A chunk at the last stage: its descriptors there, the last stage's held-out step (in the shapes' frames)
    and the residual it leaves, the rows' folds."""
    X, y = _chunk_faces(trainer, X, y, index)
    folds = trainer.row_folds(fold, len(shapes))
    F, frames = trainer.describe_starts(trainer.integrals(X), shapes, len(trainer.model.cell_sizes) - 1)
    step = _held_out(plan["last"], F, folds)
    return F, step, trainer.residual(y, shapes, frames) - step, folds, len(X)


def _error_task(X, y, index, fold, draws, shapes, plan):
    """Sums of the error ridge on one chunk (its shapes: where the last stage described them)."""
    if plan.get("worker"):
        keep_freed_memory()
    F, _, residual, folds, _ = _last_stage(plan["trainer"], X, y, index, fold, shapes, plan)
    return RidgeSums.of(F, error_target(residual), folds, into=plan.get("into")), shapes


def _calibration_task(X, y, index, fold, draws, shapes, plan):
    """The calibration lines' sums of one chunk, and what its unperturbed starts need for the scale."""
    if plan.get("worker"):
        keep_freed_memory()
    F, step, residual, folds, n = _last_stage(plan["trainer"], X, y, index, fold, shapes, plan)
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


def fit_chunked(trainer, X, y=None, client=None):
    """Fit ``trainer.model`` (a :class:`CascadeRegressor`) one chunk of faces at a time; see ``fit_chunked`` there."""
    model = trainer.model
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
            if index == 0 and Xc is None:  # of a dask array, its shape alone: its pixels are checked chunk by chunk
                trainer.check_faces(np.zeros((1, X.shape[1]), dtype=X.dtype), yc[:1], first=True)
            Xc, yc = trainer.check_faces(Xc, yc, first=index == 0 and Xc is not None,
                                         n_columns=ys[0].shape[1] if ys else None)
        except ValueError as error:
            raise ValueError(f"chunk {index}: {error}") from None
        sizes.append(len(yc))
        ys.append(yc)
        if index == 0:
            first_images = Xc
    if not ys:
        raise ValueError("no chunks to fit on")
    if first_images is None and (model.flip or model.flip_test) and model.flip_axis == "auto":
        first_images = validate_images(model, X.to_delayed().ravel()[0].compute(), reset=False)  # a dask array's
    n = sum(sizes)
    y_all = trainer.set_frame(first_images, ys[0], np.concatenate(ys))  # "auto" flip_axis: on the first chunk
    fold_of, draws = trainer.plan(n, check_random_state(model.random_state))
    bounds = np.cumsum([0] + sizes)
    rows = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        r = np.arange(a, b)
        rows.append(np.concatenate([r, r + n]) if model.flip else r)
    trainer.log(f"{n} faces in {len(sizes)} chunks")

    def per_chunk(states):
        return [
            (size, None if fold_of is None else fold_of[r], draws[:, :, r], state)
            for size, r, state in zip(sizes, rows, states)
        ]

    n_folds = None if fold_of is None else model.cv
    alphas = trainer.alphas()
    states = [None] * len(sizes)
    sums, _ = runner.run(_start_task, per_chunk(states), {"trainer": trainer})
    model.init_, previous = _solve(sums, model.init_alpha, n_folds, model.rank, model.layout_)
    trainer.log(f"start fitted on {len(y_all)} faces")
    model.stages_ = []
    for stage, alpha in enumerate(alphas):
        plan = {"trainer": trainer, "stage": stage, "previous": previous}
        sums, states = runner.run(_stage_task, per_chunk(states), plan)
        ridge, previous = _solve(sums, alpha, n_folds, model.rank, model.layout_)
        model.stages_.append(ridge)
        trainer.log(f"stage {stage + 1}/{len(model.cell_sizes)} fitted")
    model.error_model_ = None
    if model.uncertainty and model.stages_:
        # Two more passes, as fit's error model: the error ridge's sums, then its held-out calibration.
        plan = {"trainer": trainer, "last": previous}
        sums, _ = runner.run(_error_task, per_chunk(states), plan)
        error, held_out = _solve(sums, ERROR_ALPHA * alphas[-1], n_folds, model.rank)
        lines, parts = runner.run(_calibration_task, per_chunk(states), dict(plan, error=held_out),
                                  total=LineSums(0.0, 0.0))
        held, residual, step = (np.concatenate(part) for part in zip(*runner.gather(parts)))
        model.error_model_ = scaled(ErrorModel(error, calibration_line(lines)), held, residual, step)
        trainer.log("error model fitted")
    return model
