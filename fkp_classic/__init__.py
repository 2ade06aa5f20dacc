"""fkp_classic: classical facial keypoint detection as scikit-learn estimators."""

__version__ = "0.1.0"
