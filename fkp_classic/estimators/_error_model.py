"""Predicted error of each keypoint coordinate: a ridge on the log squared residual, calibrated held out.

A keypoint regressor's error on a face is larger where the face is
blurred, turned, occluded or unlike the training faces, and the
descriptors the regressor reads show it. So a second ridge, on the same
descriptors, learns ``log(residual**2)`` from the residuals the regressor
leaves on training faces it did not see (cross-fitted). Its held-out
predictions are then calibrated per coordinate (a line, plus how far the
regressor's last step moved the point), and scaled so that 90% of the
held-out errors lie within 1.645 predicted standard deviations, as for a
Gaussian: ``exp`` of the result is the predicted variance.

Regressing the log squared residuals on the inputs is Harvey's estimate of
a multiplicative heteroscedasticity (Harvey, A. C., "Estimating Regression
Models with Multiplicative Heteroscedasticity", Econometrica 44(3),
461-465, 1976), here with a ridge, held-out residuals and a calibration.
"""

import numpy as np

from ._cross_fitting import _fit_cross, _linear, _weights

__all__ = []

ERROR_ALPHA = 1.0  # the error ridge's penalty, times the regressor's
_FLOOR = 1e-2  # squared pixels added to each residual**2 (and step**2), so that logs stay finite at zero


class ErrorModel:
    """A fitted error model: predicted variance of each coordinate's error from descriptors.

    Attributes
    ----------
    ridge : KeypointRidge
        From descriptors to ``log(residual**2 + floor)`` per coordinate.
    coef : ndarray of shape (3, 2K)
        Per coordinate, the calibration ``log variance = c0 + c1 * ridge
        prediction + c2 * log(step**2 + floor)``, ``c0`` including the
        scale that puts 90% of held-out errors within 1.645 standard deviations.
    """

    def __init__(self, ridge, coef):
        self.ridge = ridge
        self.coef = coef

    def log_variance(self, F, step=None):
        """Predicted log variance of each coordinate's error, shape (n, 2K), from descriptors ``F`` (n, d)
        and the regressor's last move of each coordinate ``step`` (n, 2K; None for none)."""
        raw = _linear(_weights(self.ridge), F)
        out = self.coef[0] + self.coef[1] * raw
        if step is not None:
            out += self.coef[2] * np.log(step**2 + _FLOOR)
        return out


def fit_error_model(F, residual, fold, n_folds, alpha, step=None, scale_rows=None, rank=None):
    """Fit an :class:`ErrorModel` on the regressor's held-out residuals.

    Parameters
    ----------
    F : ndarray of shape (n, d)
        Descriptors the regressor read on each row.
    residual : ndarray of shape (n, 2K)
        Truth minus the regressor's held-out prediction (NaN where missing).
    fold : ndarray of shape (n,) or None
        Cross-fitting fold of each row (None: no cross-fitting; the
        calibration then sees in-sample predictions and is optimistic).
    n_folds : int
    alpha : float
        Ridge penalty.
    step : ndarray of shape (n, 2K) or None
        How far the regressor's last step moved each coordinate.
    scale_rows : slice, ndarray or None
        Rows like the ones to be predicted (say, not the perturbed training
        starts, which end further off) that the final scale is set on; None
        for all.
    rank : int or None
        A reduced-rank error ridge (:class:`KeypointRidge`'s ``rank``): the
        log variances of many close points rise and fall together, along a
        few modes (a blurred face, a turned one, an open mouth).

    Returns
    -------
    ErrorModel
    """
    ridge, held = _fit_cross(F, error_target(residual), alpha, fold, n_folds, rank)
    rows = slice(None) if scale_rows is None else scale_rows
    model = ErrorModel(ridge, calibration_line(LineSums.of(held, residual, step)))
    return scaled(model, held[rows], residual[rows], None if step is None else step[rows])


def error_target(residual):
    """What the error ridge learns: ``log(residual**2 + floor)`` (NaN where missing)."""
    return np.log(residual**2 + _FLOOR)


class LineSums:
    """Normal equations of the per-coordinate calibration lines, added up over chunks of rows.

    ``gram`` (2K, p, p) and ``rhs`` (2K, p) of ``target ~ c0 + c1 * held + c2 * log(step**2 + floor)``
    over the labelled rows of each coordinate (``p`` is 2 without steps, 3 with).
    """

    def __init__(self, gram, rhs):
        self.gram, self.rhs = gram, rhs

    @classmethod
    def of(cls, held, residual, step=None):
        """The sums of one chunk: the error ridge's held-out predictions ``held``, the residuals, the steps."""
        target = error_target(residual)
        columns = [np.ones_like(held), held] + ([] if step is None else [np.log(step**2 + _FLOOR)])
        labelled = ~np.isnan(target)
        design = np.stack(columns) * labelled  # (p, n, 2K)
        y = np.where(labelled, target, 0.0)
        return cls(np.einsum("inc,jnc->cij", design, design), np.einsum("inc,nc->ci", design, y))

    def __iadd__(self, other):
        self.gram += other.gram
        self.rhs += other.rhs
        return self


def calibration_line(sums):
    """The per-coordinate lines (3, 2K) of :class:`LineSums` (a zero third row without steps)."""
    p = sums.rhs.shape[1]
    coef = np.linalg.solve(sums.gram + 1e-9 * np.eye(p), sums.rhs[..., None])[..., 0].T  # (p, 2K)
    return coef if p == 3 else np.vstack([coef, np.zeros(coef.shape[1])])


def scaled(model, held, residual, step=None):
    """``model`` with its scale set so that 90% of the held-out ``residual`` lie within 1.645 predicted
    standard deviations, as for a Gaussian (a quantile, not the mean square, which a few gross failures
    would inflate for every face). ``held``: the error ridge's held-out predictions on those rows."""
    fitted = model.coef[0] + model.coef[1] * held
    if step is not None:
        fitted = fitted + model.coef[2] * np.log(step**2 + _FLOOR)
    ratio = np.abs(residual) / np.exp(fitted / 2)  # NaN where missing
    model.coef[0] += 2 * np.log(np.nanquantile(ratio, 0.9, axis=0) / 1.645)
    return model
