import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from fkp_classic import MeanKeypoints
from fkp_classic.metrics import per_keypoint_rmse, rmse, rmse_scorer


def test_rmse_ignores_missing_targets_hand_computed():
    y_true = np.array([[1.0, 2.0, np.nan, np.nan], [3.0, 4.0, 5.0, 6.0]])
    y_pred = np.array([[2.0, 2.0, 100.0, 100.0], [3.0, 1.0, 5.0, 8.0]])
    # labelled errors: 1, 0, 0, -3, 0, 2 -> mean square 14 / 6
    assert rmse(y_true, y_pred) == pytest.approx(np.sqrt(14 / 6))
    # keypoint 0: errors 1, 0, 0, -3 -> sqrt(10/4); keypoint 1: 0, 2 -> sqrt(4/2)
    np.testing.assert_allclose(per_keypoint_rmse(y_true, y_pred), [np.sqrt(10 / 4), np.sqrt(2)])


def test_rmse_errors():
    with pytest.raises(ValueError, match="shape"):
        rmse(np.zeros((2, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN where y_true is labelled"):
        rmse(np.zeros((1, 2)), np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="no labelled"):
        rmse(np.full((1, 2), np.nan), np.zeros((1, 2)))


def test_scorer_is_negative_rmse(synthetic):
    X, y = synthetic.data[:60], synthetic.target[:60]
    scores = cross_val_score(MeanKeypoints(), X, y, cv=3, scoring=rmse_scorer)
    assert (scores < 0).all()
    model = MeanKeypoints().fit(X[:40], y[:40])
    assert rmse_scorer(model, X[40:], y[40:]) == pytest.approx(-rmse(y[40:], model.predict(X[40:])))
