"""Is a 96x96 crop a whole face, framed like the training faces? The photo path's last check.

A face detector sometimes fires on part of a face (the forehead and eyes, an ear) or on texture and
text; the keypoint models then place a whole face there. The crop framed around those keypoints
does not look like a training crop. :func:`make_face_verifier` (the packaged verifier: an RBF
support vector machine on HOG) learns this from well and badly framed crops
(:func:`fkp_classic.evaluation.framing_examples`) and from a detector's own false alarms
(:func:`fkp_classic.evaluation.detection_examples`); :func:`make_framing_verifier` is the lighter
linear check of fkp_classic 0.3.
"""

import numbers

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils._param_validation import Interval, validate_params

from ..features import HOGFeatures
from ..features._hog import hog_batch
from ..utils._deprecation import keyword_only_after

__all__ = ["make_framing_verifier", "make_face_verifier", "fused_verifier"]


@keyword_only_after
@validate_params(
    {
        "C": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_face_verifier(*, C=10.0, n_components=100, random_state=0):
    """Unfitted classifier: HOG of a crop -> a whole, well framed face (1) or not (0).

    HOG, standardised, reduced to ``n_components`` by PCA, then an RBF
    support vector machine: it tells faces from ears, text and part-faces
    that a linear filter confuses, and costs well under a millisecond per
    crop.

    Parameters
    ----------
    C : float, default=10.0
        SVM penalty.
    n_components : int, default=100
        PCA dimensions kept.
    random_state : int, RandomState or None, default=0
        Seeds the PCA's solver.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``decision_function`` is positive for faces.
    """
    return make_pipeline(
        HOGFeatures(), StandardScaler(), PCA(n_components, random_state=random_state), SVC(C=C, gamma="scale")
    )


@keyword_only_after
@validate_params({"C": [Interval(numbers.Real, 0, None, closed="neither")]}, prefer_skip_nested_validation=True)
def make_framing_verifier(*, C=0.01):
    """Unfitted classifier: HOG of a crop -> framed like the training faces (1) or not (0).

    Parameters
    ----------
    C : float, default=0.01
        Inverse L2 penalty of the logistic regression.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``decision_function`` gives the log-odds that a crop is well framed.
    """
    return make_pipeline(HOGFeatures(), StandardScaler(), LogisticRegression(C=C, max_iter=2000))


class _FusedFaceVerifier:
    """The decision function of a fitted :func:`make_face_verifier` pipeline, its steps fused for single photos.

    Standardising and PCA are one affine map, applied to the HOG of the crops; the RBF kernel is
    evaluated against the support vectors directly. The scores equal the pipeline's to rounding,
    without its per-step validation (most of its cost for the few crops of one photo).
    """

    def __init__(self, hog, scaler, pca, svc):
        scale = scaler.scale_ if scaler.with_std and scaler.scale_ is not None else 1.0
        shift = scaler.mean_ if scaler.with_mean and scaler.mean_ is not None else 0.0
        components = np.asarray(pca.components_, dtype=float)
        if pca.whiten:
            components = components / np.sqrt(pca.explained_variance_)[:, None]
        self._weights = (components / scale).T  # (n_hog, n_components)
        self._offset = -(shift / scale + pca.mean_) @ components.T
        self._support = np.asarray(svc.support_vectors_, dtype=float)
        self._support_sq = (self._support**2).sum(axis=1)
        self._dual = np.asarray(svc.dual_coef_, dtype=float)[0]
        self._intercept = float(svc.intercept_[0])
        self._gamma = _rbf_gamma(svc, pca)
        self._hog, self._hog_params = hog, hog._hog_params()

    def decision_function(self, crops):
        """The pipeline's ``decision_function`` of flattened crops ``(n, height * width)``."""
        images = np.asarray(crops).reshape(len(crops), *self._hog.image_shape_)
        z = hog_batch(images, **self._hog_params) @ self._weights + self._offset
        distance = np.maximum((z**2).sum(axis=1)[:, None] - 2 * z @ self._support.T + self._support_sq, 0.0)
        return np.exp(-self._gamma * distance) @ self._dual + self._intercept


def _rbf_gamma(svc, pca):
    """The ``gamma`` a fitted RBF ``svc`` uses on the ``pca`` scores it was fitted on, from public attributes.

    A number is itself; ``"auto"`` is ``1 / n_features``; ``"scale"`` is, as
    scikit-learn documents it, ``1 / (n_features * X.var())`` of the
    training input: PCA scores, whose columns have zero mean and variance
    ``explained_variance_ * (n - 1) / n`` (1 each when whitened). Weights
    stored at lower precision (the packaged verifier's) move that a little
    from what the SVC uses: a few Newton steps on the SVC's own
    ``decision_function`` at its first support vectors then match it.
    """
    if not isinstance(svc.gamma, str):
        return float(svc.gamma)
    n_features = svc.support_vectors_.shape[1]
    if svc.gamma == "auto":
        return 1.0 / n_features
    n = pca.n_samples_
    variance = np.asarray(pca.explained_variance_, dtype=float)
    total = n_features * (n - 1) / n if pca.whiten else variance.sum() * (n - 1) / n
    gamma = 1.0 / total
    probes = np.asarray(svc.support_vectors_[:16], dtype=float)
    support = np.asarray(svc.support_vectors_, dtype=float)
    try:
        target = svc.decision_function(svc.support_vectors_[:16])
    except ValueError:  # support vectors kept in float32 (compact storage, not widened): the SVC cannot score
        return float(gamma)
    d2 = np.maximum((probes**2).sum(1)[:, None] - 2 * probes @ support.T + (support**2).sum(1), 0.0)
    dual, intercept = np.asarray(svc.dual_coef_, dtype=float)[0], float(svc.intercept_[0])
    for _ in range(4):
        kernel = np.exp(-gamma * d2)
        residual = kernel @ dual + intercept - target
        slope = (-d2 * kernel) @ dual
        if not (slope @ slope > 0):
            break
        gamma -= (slope @ residual) / (slope @ slope)
    return float(gamma)


def fused_verifier(verifier):
    """A fast stand-in for a fitted :func:`make_face_verifier` pipeline (same scores), else the verifier itself."""
    steps = [step for _, step in getattr(verifier, "steps", [])]
    kinds = (HOGFeatures, StandardScaler, PCA, SVC)
    if (
        len(steps) != 4
        or not all(type(step) is kind for step, kind in zip(steps, kinds))
        or steps[3].kernel != "rbf"
        or len(getattr(steps[3], "classes_", ())) != 2
        or not hasattr(steps[0], "image_shape_")
    ):
        return verifier
    return _FusedFaceVerifier(*steps)
