"""Is a 96x96 crop a whole face, framed like the training faces? The photo path's last check.

A face detector sometimes fires on part of a face (the forehead and eyes, an ear) or on texture and
text; the keypoint models then place a whole face there. The crop framed around those keypoints
does not look like a training crop. :func:`make_face_verifier` (the packaged verifier: an RBF
support vector machine on HOG) learns this from well and badly framed crops
(:func:`fkp_classic.evaluation.framing_examples`) and from a detector's own false alarms
(:func:`fkp_classic.evaluation.detection_examples`); :func:`make_framing_verifier` is the lighter
linear check of fkp_classic 0.3.
"""

from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..features import HOGFeatures

__all__ = ["make_framing_verifier", "make_face_verifier"]


def make_face_verifier(C=10.0, n_components=100, random_state=0):
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
    random_state : int, default=0

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``decision_function`` is positive for faces.
    """
    return make_pipeline(
        HOGFeatures(), StandardScaler(), PCA(n_components, random_state=random_state), SVC(C=C, gamma="scale")
    )


def make_framing_verifier(C=0.01):
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
