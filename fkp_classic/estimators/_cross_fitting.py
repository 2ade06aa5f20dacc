"""Cross-fitted ridges: each training row predicted by a ridge fitted without its fold."""

import numpy as np
from sklearn.base import clone

from ._ridge import KeypointRidge
from ._ridge_sums import RidgeSums
from ..utils._validation import plain_layout

__all__ = []


def _cross_fit(ridge, F, y, folds):
    """Held-out predictions of clones of the fitted ``ridge`` on each fold (its own predictions without folds)."""
    if folds is None:
        return ridge.predict(F)
    out = np.empty_like(y)
    for train, test in folds:
        out[test] = clone(ridge).fit(F[train], y[train]).predict(F[test])
    return out


def _held_out(weights, F, fold):
    """``F``'s predictions, each row by the model of its fold (``weights[f]``), or by ``weights[0]`` without folds."""
    if fold is None:
        return _linear(weights[0], F)
    out = np.empty((len(F), len(weights[0][1])))  # one column per intercept
    for f, w in enumerate(weights):
        rows = fold == f
        out[rows] = _linear(w, F[rows])
    return out


def _solve(sums, alpha, n_folds, rank=None, layout=None):
    """The ridge of all the rows in ``sums``, and the :func:`_weights` of each fold's held-out ridge (or its own).

    ``layout`` is the ridges' (None: :func:`~fkp_classic.utils.plain_layout`, for targets of no scheme)."""
    layout = plain_layout(sums.n_outputs // 2) if layout is None else layout
    full = sums.ridge(alpha, layout=layout, rank=rank)
    held = [full] if n_folds is None else [sums.ridge(alpha, layout=layout, without=f, rank=rank)
                                           for f in range(n_folds)]
    return full, [_weights(model) for model in held]


def _fit_cross(F, y, alpha, fold, n_folds, rank=None, layout=None):
    """A :class:`KeypointRidge` on all rows, and each row's prediction by the ridge fitted without its fold.

    With more rows than features, from the rows' :class:`RidgeSums`: each
    fold's ridge is the total minus the fold, one solve each instead of a
    refit. Otherwise by refitting (the dual solves of few rows are cheaper).
    Each held-out ridge of a reduced-rank fit (``rank``) takes the output
    basis of its own rows.
    """
    if fold is not None and len(F) > F.shape[1]:
        ridge, weights = _solve(RidgeSums.of(F, y, fold), alpha, n_folds, rank, layout)
        return ridge, _held_out(weights, F, fold)
    layout = plain_layout(y.shape[1] // 2) if layout is None else layout
    ridge = KeypointRidge(alpha=alpha, rank=rank, layout=layout).fit(F, y)
    folds = None if fold is None else [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(n_folds)]
    return ridge, _cross_fit(ridge, F, y, folds)


def _weights(ridge):
    """A fitted ridge's ``(coef.T, intercept)``: views, not copies (a copy per predict call costs more than
    the product for one face). A reduced-rank ridge gives ``((scores.T, basis.T), intercept)`` instead: two
    thin products in place of one wide one."""
    basis = getattr(ridge, "output_basis_", None)
    if basis is None:
        return ridge.coef_.T, ridge.intercept_
    cached = getattr(ridge, "_factored", None)  # (the coef_ it was made from, its factors)
    if cached is None or cached[0] is not ridge.coef_:
        cached = ridge._factored = ridge.coef_, ((basis.T @ ridge.coef_).T.astype(np.float64), basis.T.copy())
    return cached[1], ridge.intercept_


def _linear(weights, F):
    """``F @ coef.T + intercept`` from :func:`_weights` (the predict path's inner loop).

    In float64: float32 products would round differently for different batch
    sizes, and a face's keypoints must not depend on its batch.
    """
    coef_t, intercept = weights
    if isinstance(coef_t, tuple):
        scores_t, basis_t = coef_t
        return (F.astype(np.float64) @ scores_t) @ basis_t + intercept
    return F.astype(np.float64) @ coef_t + intercept
