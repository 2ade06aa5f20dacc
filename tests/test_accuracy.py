"""Accuracy targets on real faces: 5-fold GroupKFold by person on faces96, pooled RMSE (px)."""

import numpy as np
import pytest
from sklearn.base import clone

from fkp_classic import KeypointRegressor, MeanKeypoints, MeanPatchTemplateSearch
from fkp_classic.metrics import rmse

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _cv_predict(estimator, data, folds):
    pred = np.full_like(data.target, np.nan)
    for train, test in folds:
        pred[test] = clone(estimator).fit(data.data[train], data.target[train]).predict(data.data[test])
    return pred


def test_mean_baseline(faces96, faces96_folds):
    score = rmse(faces96.target, _cv_predict(MeanKeypoints(), faces96, faces96_folds))
    assert 5.1 < score < 5.5


@pytest.fixture(scope="module")
def regressor_predictions(faces96, faces96_folds):
    return _cv_predict(KeypointRegressor(), faces96, faces96_folds)


def test_keypoint_regressor_defaults(faces96, regressor_predictions):
    assert rmse(faces96.target, regressor_predictions) <= 2.55


def test_template_search_from_mean_shape(faces96, faces96_folds):
    score = rmse(faces96.target, _cv_predict(MeanPatchTemplateSearch(), faces96, faces96_folds))
    assert score < 5.3 - 0.5


def test_template_search_refines_regressor(faces96, faces96_folds, regressor_predictions):
    model = MeanPatchTemplateSearch(init=KeypointRegressor(), search_radius=3, cv=2)
    refined = _cv_predict(model, faces96, faces96_folds)
    assert rmse(faces96.target, refined) <= rmse(faces96.target, regressor_predictions)


def test_cascade_refines_far_beyond_its_start(faces96, faces96_folds):
    from fkp_classic import CascadeRegressor

    train, test = faces96_folds[0]
    model = CascadeRegressor(cell_sizes=(10, 8), n_perturbations=1).fit(faces96.data[train], faces96.target[train])
    staged = [rmse(faces96.target[test], p) for p in model.staged_predict(faces96.data[test])]
    assert staged[-1] < staged[0] - 0.4, staged
