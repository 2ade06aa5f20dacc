"""Sufficient statistics of :class:`KeypointRidge`: sums over chunks of rows, solved once.

A ridge regression with an unpenalised intercept needs only ``Z.T @ Z``
and ``Z.T @ y`` of its rows (``Z`` the features with a column of ones).
Both are sums over rows, so chunks of rows seen one at a time, on
different machines, add up to the fit of all of them. Kept per pattern
of labelled keypoints (a keypoint's rows are the patterns that label it)
and per cross-fitting fold (a fold's held-out model is the total minus
the fold).
"""

import numpy as np
from scipy import linalg

from ._reduced_rank import reduce_rank
from ._ridge import KeypointRidge, _coordinate_columns
from ..utils._validation import resolve_layout

__all__ = ["RidgeSums"]


class RidgeSums:
    """``Z.T @ Z`` and ``Z.T @ y`` per (fold, pattern of labelled keypoints), added chunk by chunk.

    Memory is ``(d + 1)**2`` values per fold and per distinct pattern of
    missing keypoints, whatever the number of rows (``d`` features).

    Examples
    --------
    >>> import numpy as np
    >>> from fkp_classic.estimators import KeypointRidge, RidgeSums
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(60, 5)), rng.normal(size=(60, 4))
    >>> sums = RidgeSums.of(X[:25], y[:25]) + RidgeSums.of(X[25:], y[25:])
    >>> whole = KeypointRidge(alpha=2.0).fit(X, y)
    >>> bool(np.allclose(sums.ridge(2.0).predict(X), whole.predict(X)))
    True
    """

    def __init__(self):
        self.parts = {}  # (fold, pattern bytes) -> [ZtZ, Zty, rows]
        self.n_outputs = None

    @classmethod
    def of(cls, F, y, folds=None, into=None):
        """The sums of one chunk of rows.

        Parameters
        ----------
        F : ndarray of shape (n_rows, d)
        y : ndarray of shape (n_rows, 2K), NaN where missing
        folds : ndarray of shape (n_rows,) of int, or None
            Cross-fitting fold of each row (None: one fold, 0).
        into : RidgeSums or None
            Add the chunk's sums into these (no second copy of them) and return them.
        """
        sums = cls() if into is None else into
        sums.n_outputs = y.shape[1]
        labelled = ~np.isnan(y[:, 0::2])
        folds = np.zeros(len(F), np.intp) if folds is None else np.asarray(folds, np.intp)
        keys = np.concatenate([folds[:, None], labelled], axis=1)
        uniques, which = np.unique(keys, axis=0, return_inverse=True)
        which = which.ravel()
        targets = np.nan_to_num(y, nan=0.0)
        for i, key in enumerate(uniques):
            rows = np.flatnonzero(which == i)
            Z = np.empty((len(rows), F.shape[1] + 1))
            Z[:, :-1] = F[rows]
            Z[:, -1] = 1.0
            part = int(key[0]), key[1:].astype(bool).tobytes()
            if part in sums.parts:
                stored = sums.parts[part]
                stored[0] += Z.T @ Z
                stored[1] += Z.T @ targets[rows]
                stored[2] += len(rows)
            else:
                sums.parts[part] = [Z.T @ Z, Z.T @ targets[rows], len(rows)]
        return sums

    def __iadd__(self, other):
        if self.n_outputs is None:
            self.n_outputs = other.n_outputs
        for key, (gram, zy, rows) in other.parts.items():
            if key in self.parts:
                mine = self.parts[key]
                mine[0] += gram
                mine[1] += zy
                mine[2] += rows
            else:
                self.parts[key] = [gram.copy(), zy.copy(), rows]
        return self

    def __add__(self, other):
        total = RidgeSums()
        total += self
        total += other
        return total

    @property
    def folds(self):
        """The folds seen, sorted."""
        return sorted({fold for fold, _ in self.parts})

    def ridge(self, alpha, layout=None, without=None, rank=None):
        """The :class:`KeypointRidge` fitted on these rows (those of fold ``without`` left out).

        Parameters
        ----------
        alpha : float
        layout : KeypointLayout or None
        without : int or None
            A fold whose rows are left out (its held-out model).
        rank : int or None
            Reduced-rank ridge, as ``KeypointRidge(rank=...)`` on the same rows.

        Returns
        -------
        KeypointRidge
        """
        by_pattern = {}
        for (fold, pattern), (gram, zy, rows) in self.parts.items():
            if fold == without:
                continue
            if pattern in by_pattern:
                part = by_pattern[pattern]
                if part[3]:  # still the stored arrays: add into a copy
                    part[:] = [part[0].copy(), part[1].copy(), part[2], False]
                part[0] += gram
                part[1] += zy
                part[2] += rows
            else:
                by_pattern[pattern] = [gram, zy, rows, True]
        if not by_pattern:
            raise ValueError("no rows to fit a ridge on" + (f" outside fold {without}" if without is not None else ""))
        patterns = list(by_pattern)
        labelled = np.array([np.frombuffer(p, dtype=bool) for p in patterns])  # (n_patterns, K)
        n_keypoints = labelled.shape[1]
        d = next(iter(by_pattern.values()))[0].shape[0] - 1
        model = KeypointRidge(alpha=alpha, rank=rank, layout=layout)
        model.coef_ = np.zeros((self.n_outputs, d))
        model.intercept_ = np.zeros(self.n_outputs)
        model.alpha_ = np.full(self.n_outputs, float(alpha))
        rows = np.array([by_pattern[p][2] for p in patterns])
        model.n_labelled_ = rows @ labelled
        if (model.n_labelled_ == 0).any():
            k = int(np.argmax(model.n_labelled_ == 0))
            raise ValueError(f"keypoint {k} is missing (NaN) on every training row")
        sums = np.zeros(self.n_outputs)
        penalty = np.full(d + 1, float(alpha))
        penalty[-1] = 0.0  # the intercept
        # Keypoints labelled by the same patterns share one solve.
        columns = {}
        for k in range(n_keypoints):
            columns.setdefault(labelled[:, k].tobytes(), []).append(k)
        for keypoints in columns.values():
            chosen = [p for p, use in zip(patterns, labelled[:, keypoints[0]]) if use]
            cols = _coordinate_columns(np.array(keypoints))
            first = by_pattern[chosen[0]]
            own = len(chosen) == 1 and len(columns) == 1 and not first[3]  # a sum made here, used once
            gram = first[0] if own else first[0].copy()
            for p in chosen[1:]:
                gram += by_pattern[p][0]
            gram[np.diag_indices_from(gram)] += penalty
            zy = sum(by_pattern[p][1][:, cols] for p in chosen)
            # gram is symmetric: its transpose is the same matrix in Fortran order, solved in place by LAPACK.
            W = linalg.solve(gram.T, zy, assume_a="pos", overwrite_a=True, check_finite=False)
            del gram
            model.coef_[cols], model.intercept_[cols] = W[:-1].T, W[-1]
            sums[cols] = zy[-1]  # the ones column: each coordinate's sum
        model.layout_ = resolve_layout(layout, n_keypoints)
        counts = np.repeat(model.n_labelled_, 2)
        model.mean_shape_ = (sums / counts).reshape(n_keypoints, 2)
        model.n_features_in_ = d
        model.output_basis_ = None
        if rank is not None:
            weights = np.vstack([model.coef_.T, model.intercept_])
            if len(patterns) == 1:
                # Every row labels every point: the normal equations (Z'Z + P) W = Z'y give Z'Z W directly.
                (zy,) = (part[1] for part in by_pattern.values())
                moments = zy - penalty[:, None] * weights
            else:  # the fitted values of all rows, whichever points they label
                moments = sum(part[0] for part in by_pattern.values()) @ weights
            reduce_rank(model, moments, int(rows.sum()), rank)
        return model
