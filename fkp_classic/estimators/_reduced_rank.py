"""Reduced-rank ridge: a multi-output ridge's fit kept to its leading output directions.

The 2K outputs of a keypoint regression move together: a face's points
shift, scale and deform along a few shape modes. Projecting a ridge's
predictions onto the ``rank`` leading principal directions of its own
fitted values (reduced-rank ridge regression; Mukherjee & Zhu 2011)
drops the output directions that the features only fit by chance. The
weights become ``basis @ scores`` with ``scores`` of shape
``(rank, n_features)``, which is also how they are stored.
"""

import numpy as np

__all__ = []


def reduce_rank(model, moments, n_rows, rank):
    """Project a fitted ridge's outputs onto the ``rank`` leading directions of its fitted values, in place.

    Parameters
    ----------
    model : KeypointRidge
        Fitted, with ``coef_`` (2K, d) and ``intercept_`` (2K,).
    moments : ndarray of shape (d + 1, 2K)
        ``Z.T @ fitted`` over the training rows, ``Z`` the features with a
        column of ones last and ``fitted`` the model's predictions on them
        (so its last row is the fitted values' sum).
    n_rows : int
        Training rows behind ``moments``.
    rank : int
        Output directions kept; ``rank >= 2K`` leaves the model as it is.

    Returns
    -------
    model : KeypointRidge
        With ``output_basis_`` (2K, rank) set (None when nothing was cut).
    """
    n_outputs = model.coef_.shape[0]
    if rank >= n_outputs:
        model.output_basis_ = None
        return model
    weights = np.vstack([model.coef_.T, model.intercept_])  # (d + 1, 2K): fitted = Z @ weights
    mean = moments[-1] / n_rows
    covariance = weights.T @ moments / n_rows - np.outer(mean, mean)
    _, vectors = np.linalg.eigh((covariance + covariance.T) / 2)  # ascending eigenvalues
    basis = np.ascontiguousarray(vectors[:, ::-1][:, :rank])
    # prediction -> mean + (prediction - mean) @ P, P = basis @ basis.T
    scores = basis.T @ model.coef_
    model.coef_ = (basis @ scores).astype(scores.dtype)  # as loading rebuilds it from the stored scores
    model._scores_of = (model.coef_, scores)  # saved as they are: the model round-trips bit for bit
    model.intercept_ = basis @ (basis.T @ (model.intercept_ - mean)) + mean
    model.output_basis_ = basis
    return model
