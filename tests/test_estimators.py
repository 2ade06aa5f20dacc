"""scikit-learn conventions: the common checks, and the same ideas on real image-shaped data."""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import estimator_checks_generator

from fkp_classic import (
    CascadeRegressor,
    HOGFeatures,
    KeypointRegressor,
    KeypointRidge,
    MeanKeypoints,
    MeanPatchTemplateSearch,
    PatchFeatures,
)
from fkp_classic.keypoints import IBUG_68, KAGGLE_NAMES, KeypointLayout
from fkp_classic.metrics import rmse_scorer

# sklearn's common checks feed tiny random data: X with 1 to 10 columns and y with 1 column (or
# 5 for the multi-output check). Our image estimators need X to be flattened images (h * w
# pixels) and every estimator needs y as (x, y) pairs, and both refuse other shapes with a clear
# ValueError by design (see test_bad_input_is_refused_clearly). The checks that can only run on
# such data are expected to fail for exactly that reason, named per check below; every convention
# they cover is tested again below on real image-shaped data. The expectations are strict: a listed
# check that passes, or fails for any other reason, fails the suite.
_SHAPE_CHECKS = {
    "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_estimators_dtypes",
    "check_dtype_object", "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_methods_sample_order_invariance",
    "check_methods_subset_invariance", "check_fit2d_1sample", "check_dict_unchanged", "check_fit_idempotent",
    "check_fit_check_is_fitted", "check_n_features_in", "check_fit2d_predict1d",
    "check_positive_only_tag_during_fit",
}
_TRANSFORMER_CHECKS = {"check_transformer_data_not_an_array", "check_transformer_general", "check_transformer_preserve_dtypes"}
_REGRESSOR_CHECKS = {
    "check_regressors_train", "check_regressor_data_not_an_array", "check_regressor_multioutput",
    "check_regressors_no_decision_function", "check_regressors_int", "check_n_features_in_after_fitting",
}
# Of the checks above, those whose data reaches an image-and-keypoint estimator as X of a square number
# of columns (or of at least 4), so that it is y's single column that is refused.
_Y_FIRST_CHECKS = {
    "check_dtype_object", "check_estimators_dtypes", "check_fit2d_1sample", "check_positive_only_tag_during_fit",
    "check_n_features_in_after_fitting", "check_regressor_data_not_an_array", "check_regressor_multioutput",
    "check_regressors_int", "check_regressors_no_decision_function", "check_regressors_train",
}
_IMAGES = "X of 1-10 columns is not a flattened image; image estimators raise ValueError"
_PAIRS = "y of 1 or 5 columns is not (x, y) keypoint pairs; keypoint estimators raise ValueError"
# What each reason's ValueError says (the estimators' own messages, see utils/_validation.py).
_REFUSALS = {
    _IMAGES: ("is not a square image", "while a minimum of 4 is required", "hold no whole block"),
    _PAIRS: ("keypoint targets y must have an even number of columns",),
}


class RefusedShape(Exception):
    """A common check failed because the estimator refused the check's X or y, for the reason listed."""


def _expected_failures(estimator):
    name = type(estimator).__name__
    if name in ("HOGFeatures", "PatchFeatures"):
        failures = dict.fromkeys(_SHAPE_CHECKS | _TRANSFORMER_CHECKS, _IMAGES)
        if name == "HOGFeatures":  # whole 2x2 blocks of 8x8 cells need at least 16x16 pixels
            failures["check_n_features_in_after_fitting"] = _IMAGES
        else:  # PatchFeatures refuses the negative X here anyway (not an image), as the check wants
            del failures["check_positive_only_tag_during_fit"]
        return failures
    if name in ("KeypointRidge", "MeanKeypoints"):
        failures = dict.fromkeys(_SHAPE_CHECKS | _REGRESSOR_CHECKS, _PAIRS)
        failures["check_fit2d_1feature"] = _PAIRS
        return failures
    failures = {check: _PAIRS if check in _Y_FIRST_CHECKS else _IMAGES for check in _SHAPE_CHECKS | _REGRESSOR_CHECKS}
    failures["check_requires_y_none"] = _IMAGES  # X is refused before y is looked at
    return failures


def _check_name(check):
    return getattr(check, "func", check).__name__


def _common_checks():
    """Every common check of every estimator; those listed in _expected_failures as strict expected failures
    that must raise RefusedShape (see test_sklearn_common_checks)."""
    for estimator in ESTIMATORS:
        expected = _expected_failures(estimator)
        for est, check in estimator_checks_generator(estimator, legacy=True, mark=None):
            name = _check_name(check)
            keywords = getattr(check, "keywords", None)
            test_id = f"{type(est).__name__}-{name}" + (f"({keywords})" if keywords else "")
            marks = [pytest.mark.xfail(reason=expected[name], raises=RefusedShape, strict=True)] if name in expected else []
            yield pytest.param(est, check, marks=marks, id=test_id)


def _refused(error, reason):
    """Whether ``error`` or an exception it was raised from says the estimator refused, for ``reason``."""
    while error is not None:
        if any(text in str(error) for text in _REFUSALS[reason]):
            return True
        error = error.__cause__ or error.__context__
    return False


ESTIMATORS = [
    HOGFeatures(),
    PatchFeatures(),
    KeypointRidge(),
    KeypointRegressor(),
    MeanKeypoints(),
    MeanPatchTemplateSearch(),
    CascadeRegressor(),
]


@pytest.mark.parametrize("estimator, check", list(_common_checks()))
def test_sklearn_common_checks(estimator, check):
    reason = _expected_failures(estimator).get(_check_name(check))
    try:
        check(estimator)
    except Exception as error:
        if reason is not None and _refused(error, reason):
            # Not chained: pytest would format the check's whole traceback for each of the 200 expected
            # failures, parsing scikit-learn's sources again for every frame (two minutes of a busy machine).
            raise RefusedShape(f"{reason}: {type(error).__name__}: {error}") from None
        raise


def test_common_check_expectations_name_checks_that_exist():
    names = {_check_name(check) for estimator in ESTIMATORS
             for _, check in estimator_checks_generator(estimator, legacy=True, mark=None)}
    for estimator in ESTIMATORS:
        assert set(_expected_failures(estimator)) <= names, type(estimator).__name__


def _small(est):
    """Settings that keep the tests fast without changing what is exercised; a keypoint estimator is told the
    faces' layout (Kaggle's 15 points)."""
    est = clone(est)
    if "layout" in est.get_params():
        est.set_params(layout="kaggle15")
    if isinstance(est, MeanPatchTemplateSearch):
        return est.set_params(search_radius=3)
    if isinstance(est, CascadeRegressor):
        return est.set_params(cell_sizes=(8, 5), n_perturbations=1)
    return est


def _outputs(est, X):
    return est.transform(X) if hasattr(est, "transform") else est.predict(X)


@pytest.fixture(scope="module")
def faces(synthetic):
    X, y = synthetic.data[:120], synthetic.target[:120]
    return X, y, X[:, :400].astype(float) / 255  # also plain features for KeypointRidge


def _data_for(est, faces):
    X, y, F = faces
    return (F, y) if isinstance(est, KeypointRidge) else (X, y)


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_conventions_on_images(est, faces):
    X, y = _data_for(est, faces)
    est = _small(est)
    params = est.get_params()
    with pytest.raises(NotFittedError):
        _outputs(est, X[:2])
    assert est.fit(X, y) is est
    assert est.get_params() == params  # fit changes no parameter
    assert est.n_features_in_ == X.shape[1]
    first = _outputs(est, X[:30])
    # Idempotent fit, order invariance, subset invariance.
    np.testing.assert_allclose(_outputs(clone(est).fit(X, y), X[:30]), first)
    perm = np.random.default_rng(0).permutation(30)
    np.testing.assert_allclose(_outputs(est, X[:30][perm]), first[perm], atol=1e-9)
    np.testing.assert_allclose(np.vstack([_outputs(est, X[i : i + 1]) for i in range(5)]), first[:5], atol=1e-9)
    # Read-only input, float input, pickle round trip.
    X_ro = X.copy()
    X_ro.setflags(write=False)
    np.testing.assert_allclose(_outputs(est, X_ro[:30]), first)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_outputs(restored, X[:30]), first)
    with pytest.raises(ValueError, match="features"):
        _outputs(est, X[:3, :-1])
    if not hasattr(est, "transform"):  # every keypoint estimator owns its layout and mean shape
        assert est.layout_.names == KAGGLE_NAMES
        np.testing.assert_allclose(est.mean_shape_.ravel(), np.nanmean(y, axis=0))


@pytest.mark.parametrize("est", ESTIMATORS[2:], ids=lambda e: type(e).__name__)
def test_joblib_round_trip_identical_predictions(est, faces, tmp_path):
    X, y = _data_for(est, faces)
    est = _small(est).fit(X, y)
    joblib.dump(est, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X[:20]), est.predict(X[:20]))


def test_bad_input_is_refused_clearly(faces):
    X, y, _ = faces
    model = KeypointRegressor(layout="kaggle15")
    with pytest.raises(ValueError, match="9215 columns, which is not a square image"):
        model.fit(X[:, :-1], y)
    with pytest.raises(ValueError, match="image_shape=\\(90, 90\\) needs 8100"):
        KeypointRegressor(layout="kaggle15", image_shape=(90, 90)).fit(X, y)
    X_nan = X.astype(float)
    X_nan[3, 10] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X_nan, y)
    with pytest.raises(ValueError, match="even number of columns"):
        model.fit(X, y[:, :-1])
    with pytest.raises(ValueError, match="y has 119 rows but X has 120"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError, match="only one of its x/y"):
        bad = y.copy()
        bad[0, 0] = np.nan
        model.fit(X, bad)
    with pytest.raises(ValueError, match="missing \\(NaN\\) on every training row"):
        bad = y.copy()
        bad[:, 4:6] = np.nan
        model.fit(X, bad)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(X)
    model.fit(X, y)
    with pytest.raises(ValueError, match="X has 9215 features, but KeypointRegressor is expecting 9216"):
        model.predict(X[:, :-1])
    with pytest.raises(ValueError, match="X row 0 column 0 is 'a'; pixels must be finite numbers"):
        model.predict(np.array([["a"] * 9216], dtype=object))
    with_none = X[:2].astype(object)
    with_none[1, 7] = None
    for est in (model, CascadeRegressor(layout="kaggle15", cell_sizes=(8,), n_perturbations=0)):
        with pytest.raises(ValueError, match="X row 1 column 7 is None; pixels must be finite numbers"):
            est.predict(with_none) if est is model else est.fit(with_none, y[:2])
    with pytest.raises(ValueError, match="'features' parameter of KeypointRegressor must be a str among"):
        KeypointRegressor(layout="kaggle15", features="sift").fit(X, y)


@pytest.mark.parametrize("est, param, value, accepted", [
    (KeypointRegressor(), "alpha", "abc", "a float in the range \\(0.0, inf\\)"),
    (KeypointRegressor(), "orientations", -2, "an int in the range \\[1, inf\\)"),
    (KeypointRegressor(), "pixels_per_cell", 8, "an instance of 'a tuple of 2 numbers, each an int"),
    (HOGFeatures(), "cells_per_block", (2, 0), "an instance of 'a tuple of 2 numbers, each an int in the range \\[1, inf\\)"),
    (KeypointRegressor(features="patch"), "patch_size", 0, "an int in the range \\[1, inf\\)"),
    (CascadeRegressor(), "cell_sizes", "abc", "an instance of 'a tuple of at least 1 numbers"),
    (CascadeRegressor(), "alpha", [30, -1], "a float in the range"),
    (CascadeRegressor(), "perturbation", (2.0, 0.04), "an instance of 'a tuple of 3 numbers"),
    (CascadeRegressor(), "n_jobs", "abc", "an instance of 'int' or None"),
    (CascadeRegressor(), "image_shape", (96,), "an instance of 'a tuple of 2 numbers"),
    (MeanPatchTemplateSearch(), "init", "mean", "an object implementing 'fit' and 'predict'"),
    (MeanKeypoints(), "layout", "kaggle", "an instance of 'fkp_classic.keypoints.KeypointLayout', a str among"),
    (KeypointRidge(), "alpha", 0, "a float in the range \\(0.0, inf\\)"),
])
def test_bad_parameters_are_refused_by_name_before_any_work(faces, est, param, value, accepted):
    X, y, _ = faces
    with pytest.raises(ValueError, match=f"The '{param}' parameter of {type(est).__name__} must be {accepted}.* Got"):
        clone(est).set_params(**{param: value}).fit(X[:, :10] if isinstance(est, KeypointRidge) else X, y)


def test_flip_option_trains_on_mirrors(faces):
    X, y, _ = faces
    plain = KeypointRegressor(layout="kaggle15").fit(X, y)
    flipped = KeypointRegressor(layout="kaggle15", flip=True).fit(X, y)
    assert not np.allclose(plain.ridge_.coef_, flipped.ridge_.coef_)
    mean = MeanKeypoints(layout="kaggle15", flip=True).fit(X, y).mean_.reshape(15, 2)
    # A mirrored-and-averaged mean shape is symmetric about x = 47.5.
    np.testing.assert_allclose(mean[0, 0] + mean[1, 0], 95.0)
    np.testing.assert_allclose(mean[0, 1], mean[1, 1])


def test_pipeline_grid_search_with_groups(synthetic):
    X, y = synthetic.data[:150], synthetic.target[:150]
    groups = np.arange(150) // 10
    pipe = make_pipeline(HOGFeatures(pixels_per_cell=(12, 12)), KeypointRidge(layout="kaggle15"))
    search = GridSearchCV(pipe, {"keypointridge__alpha": [1.0, 100.0]}, cv=GroupKFold(5), scoring=rmse_scorer)
    search.fit(X, y, groups=groups)
    assert search.best_params_["keypointridge__alpha"] in (1.0, 100.0)
    assert search.best_score_ < 0
    search = GridSearchCV(KeypointRegressor(layout="kaggle15"), {"alpha": [30.0, 300.0], "pixels_per_cell": [(8, 8), (12, 12)]},
                          cv=GroupKFold(3), scoring=rmse_scorer)
    search.fit(X, y, groups=groups)
    assert set(search.cv_results_["params"][0]) == {"alpha", "pixels_per_cell"}
    scores = cross_val_score(KeypointRegressor(layout="kaggle15", features="patch", alpha=10.0), X, y, groups=groups,
                             cv=GroupKFold(3), scoring=rmse_scorer)
    assert np.isfinite(scores).all()


def test_template_search_moves_towards_truth(synthetic):
    X, y = synthetic.data, synthetic.target
    from fkp_classic.metrics import rmse

    model = MeanPatchTemplateSearch(layout="kaggle15").fit(X[:240], y[:240])
    start = model.init_.predict(X[240:])
    assert ((model.step_ > 0) & (model.step_ <= 1)).all()
    assert rmse(y[240:], model.predict(X[240:])) < 0.8 * rmse(y[240:], start)


def test_cascade_stages_improve_on_synthetic_faces(synthetic):
    from fkp_classic.metrics import rmse

    X, y = synthetic.data, synthetic.target
    model = CascadeRegressor(layout="kaggle15", cell_sizes=(8, 6, 4), n_perturbations=2).fit(X[:240], y[:240])
    staged = [rmse(y[240:], p) for p in model.staged_predict(X[240:])]
    assert len(staged) == 4
    assert staged[1] < 0.7 * staged[0] and staged[-1] < staged[1]
    np.testing.assert_array_equal(model.predict(X[240:]), model.staged_predict(X[240:])[-1])
    mirrored = clone(model).set_params(flip_test=True).fit(X[:240], y[:240])
    assert rmse(y[240:], mirrored.predict(X[240:])) < staged[0]


def test_cascade_trains_on_partial_labels(synthetic):
    from fkp_classic.datasets import make_faces

    X, y = make_faces(200, random_state=5, missing=0.7, return_X_y=True)
    model = CascadeRegressor(layout="kaggle15", cell_sizes=(8,), n_perturbations=1).fit(X, y)
    assert np.isfinite(model.predict(X[:5])).all()
    assert (model.stages_[0].n_labelled_[[0, 1, 10, 14]] == 200 * 2).all()  # every row, both starts


def test_layout_follows_the_number_of_keypoints(faces):
    X, y, _ = faces
    y68 = np.tile(y, (1, 5))[:, :136]
    with pytest.warns(FutureWarning, match="Pass layout='ibug68'"):  # the guess by count: deprecated
        assert MeanKeypoints().fit(X, y68).layout_ is IBUG_68
    assert MeanKeypoints().fit(X, y[:, :8]).layout_.names == ("k0", "k1", "k2", "k3")
    with pytest.raises(ValueError, match="layout 'ibug68' has 68 keypoints but y has 15"):
        KeypointRegressor(layout=IBUG_68).fit(X, y)


@pytest.mark.parametrize("est", ESTIMATORS[2:], ids=lambda e: type(e).__name__)
def test_every_keypoint_estimator_is_told_its_layout_without_a_warning(est, faces):
    import warnings

    X, y, _ = faces
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # no guess by the number of keypoints
        fitted = _small(est).fit(X, y)
    assert fitted.layout_.names == KAGGLE_NAMES


def test_template_search_tells_its_start_the_layout(faces):
    import warnings

    X, y, _ = faces
    start = KeypointRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        model = MeanPatchTemplateSearch(init=start, search_radius=2, cv=2, layout="kaggle15").fit(X, y)
    assert model.init_.layout_.names == KAGGLE_NAMES and start.layout is None  # the given start is left as it is
    mine = KeypointLayout(tuple(f"p{i}" for i in range(15)))
    model = MeanPatchTemplateSearch(init=KeypointRegressor(layout=mine), search_radius=2, cv=2, layout="kaggle15")
    assert model.fit(X, y).init_.layout_.names == mine.names  # a start's own layout is kept


def test_template_search_folds_follow_random_state(faces):
    X, y, _ = faces
    fitted = [MeanPatchTemplateSearch(layout="kaggle15", init=MeanKeypoints(layout="kaggle15", flip=True), search_radius=2, random_state=seed).fit(X, y).step_
              for seed in (0, 0, 1)]
    np.testing.assert_array_equal(fitted[0], fitted[1])
    assert not np.array_equal(fitted[0], fitted[2])


def test_keypoint_regressor_takes_a_list_of_alphas_as_documented(faces):
    X, y, _ = faces
    model = KeypointRegressor(layout="kaggle15", alpha=[1.0, 1e4], uncertainty=True).fit(X, y)  # each coordinate takes the better
    assert set(np.unique(model.ridge_.alpha_)) <= {1.0, 1e4}
    assert model.predict(X[:5], return_std=True)[1].shape == (5, y.shape[1])
    with pytest.raises(ValueError, match="alpha"):
        KeypointRegressor(layout="kaggle15", alpha=[1.0, -1.0]).fit(X, y)


def _docstrings(package):
    """Every docstring (and attribute docstring: a string on its own line) in the modules of ``package``."""
    import ast
    from pathlib import Path

    for path in sorted(Path(package.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                yield path.name, node.value.value


def test_docstrings_point_to_the_benchmarks_instead_of_quoting_figures():
    import re

    import fkp_classic.estimators
    import fkp_classic.features

    figure = re.compile(r"\d\.\d+ ?px|\bNME \d|\d(\.\d+)? ?x (faster|the fit)|\d\.\d+ times|\d+-\d+ ms|faces96's [^.]*\d\.\d")
    for package in (fkp_classic.estimators, fkp_classic.features):
        for module, doc in _docstrings(package):
            assert not figure.search(doc), f"{module}: {figure.search(doc).group()!r} in {doc[:60]!r}"


def test_estimators_built_from_papers_cite_them():
    import inspect

    from fkp_classic.estimators import ncc_search
    from fkp_classic.features import hog_batch, orientation_integrals

    for obj in (CascadeRegressor, HOGFeatures, hog_batch, KeypointRidge, MeanPatchTemplateSearch, ncc_search,
                orientation_integrals):
        assert "\nReferences\n----------\n" in inspect.getdoc(obj), obj.__name__
