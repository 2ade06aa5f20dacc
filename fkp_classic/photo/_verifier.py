"""Is a 96x96 crop framed like the training faces? A HOG + logistic check for the photo pipeline.

The LBP face detector sometimes fires on part of a face (the forehead and eyes, one half); the
keypoint models then place a whole face on that part. A crop framed there does not look like a
training crop, which a linear classifier on HOG tells apart well. Its training crops come from
:func:`fkp_classic.evaluation.framing_examples`.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..features import HOGFeatures

__all__ = ["make_framing_verifier"]


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
