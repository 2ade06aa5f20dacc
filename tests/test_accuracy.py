"""Accuracy on real faces, people unseen at fit: fold 0 of the 5-fold GroupKFold by person on faces96,
trained on its first 100 people (conftest.faces96_subset). Pooled RMSE (px).

The benchmark (benchmarks/run.py) measures every estimator on all five folds; these checks keep
the same comparisons on one smaller split. Figures measured on it: mean shape 5.19, KeypointRegressor
2.58, template search from the mean 4.37; on the first 600 training faces, KeypointRegressor 2.74 and
template search from it 2.57.
"""

import pytest

from fkp_classic import KeypointRegressor, MeanKeypoints, MeanPatchTemplateSearch
from fkp_classic.metrics import rmse

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _score(estimator, faces96, split):
    train, test = split
    pred = estimator.fit(faces96.data[train], faces96.target[train]).predict(faces96.data[test])
    return rmse(faces96.target[test], pred)


@pytest.fixture(scope="module")
def mean_score(faces96, faces96_subset):
    return _score(MeanKeypoints(layout="kaggle15"), faces96, faces96_subset)


@pytest.fixture(scope="module")
def regressor_score(faces96, faces96_subset, subset_regressor):
    _, test = faces96_subset
    return rmse(faces96.target[test], subset_regressor.predict(faces96.data[test]))


def test_mean_baseline(mean_score):
    assert 5.0 < mean_score < 5.4


def test_keypoint_regressor_defaults(regressor_score, mean_score):
    assert regressor_score <= 2.65 < 0.55 * mean_score


def test_template_search_from_mean_shape(faces96, faces96_subset, mean_score):
    assert _score(MeanPatchTemplateSearch(layout="kaggle15"), faces96, faces96_subset) < mean_score - 0.5


def test_template_search_refines_regressor(faces96, faces96_subset):
    train, test = faces96_subset
    half = train[:600], test  # its first 50-odd people: the search cross-fits its start, three regressor fits
    start = _score(KeypointRegressor(layout="kaggle15"), faces96, half)
    model = MeanPatchTemplateSearch(init=KeypointRegressor(), search_radius=3, cv=2, layout="kaggle15")
    assert _score(model, faces96, half) < start - 0.1  # 2.57 against 2.74


def test_cascade_refines_far_beyond_its_start(faces96, faces96_subset, subset_cascade):
    _, test = faces96_subset
    staged = [rmse(faces96.target[test], p) for p in subset_cascade.staged_predict(faces96.data[test])]
    assert staged[-1] < staged[0] - 0.6, staged
    assert staged[-1] < 2.0, staged
